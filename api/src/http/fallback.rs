//! Answers for requests no handler takes: 405 with `Allow` when the path exists with
//! other methods, 404 otherwise. The table comes from the OpenAPI document, so it
//! always agrees with the contract. And problems for what parts other than the
//! handlers refuse.

use actix_cors::CorsError;
use actix_web::body::BoxBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, ResponseError, web};
use regex::Regex;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::PathItem;

use crate::http::error::{ApiError, PROBLEM_JSON};

pub struct RouteTable {
    routes: Vec<(Regex, Vec<&'static str>)>,
}

impl RouteTable {
    pub fn from_openapi(openapi: &OpenApi) -> Self {
        let mut routes = openapi
            .paths
            .paths
            .iter()
            .filter_map(|(template, item)| {
                let mut pattern = String::from("^");
                for part in template.split('/').filter(|p| !p.is_empty()) {
                    pattern.push('/');
                    if part.starts_with('{') {
                        pattern.push_str("[^/]+");
                    } else {
                        pattern.push_str(&regex::escape(part));
                    }
                }
                pattern.push('$');
                Regex::new(&pattern)
                    .ok()
                    .map(|regex| (template.matches('{').count(), regex, methods_of(item)))
            })
            .collect::<Vec<_>>();
        // Fewer templated segments first: concrete paths win (OpenAPI's rule).
        routes.sort_by_key(|(templated, _, _)| *templated);
        let routes = routes
            .into_iter()
            .map(|(_, regex, methods)| (regex, methods))
            .collect();
        Self { routes }
    }

    /// The methods of the path `path` matches: a concrete path before a templated one,
    /// as OpenAPI matches them (`/v1/sync/performances/batch` is the batch, not an
    /// external id).
    fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        self.routes
            .iter()
            .find(|(regex, _)| regex.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The methods `item` has operations for, in the order `Allow` lists them.
pub(crate) fn methods_of(item: &PathItem) -> Vec<&'static str> {
    [
        (item.get.is_some(), "GET"),
        (item.post.is_some(), "POST"),
        (item.put.is_some(), "PUT"),
        (item.patch.is_some(), "PATCH"),
        (item.delete.is_some(), "DELETE"),
    ]
    .into_iter()
    .filter_map(|(present, name)| present.then_some(name))
    .collect()
}

pub async fn not_found_or_not_allowed(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match table.allowed(req.path()) {
        Some(methods) => ApiError::MethodNotAllowed {
            allowed: methods.to_vec(),
        },
        None => ApiError::RouteNotFound,
    })
}

/// Turns the bare errors that parts outside the handlers answer with into problems:
/// the CORS middleware's refusal of a preflight (`400 text/plain`) and the docs
/// service's 404 for a file it does not hold (an empty body). Other responses pass
/// unchanged. Runs inside the request's context, so the problem quotes its id.
pub fn as_problem(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let cors = response
        .response()
        .error()
        .and_then(|error| error.as_error::<CorsError>());
    let problem = match (cors, status) {
        (Some(refusal), _) => ApiError::InvalidHeader {
            header: refused_header(refusal),
        },
        (None, StatusCode::NOT_FOUND) => ApiError::RouteNotFound,
        _ => return response,
    };
    let (request, refused) = response.into_parts();
    let mut answer = problem.error_response();
    // The CORS middleware's own headers (`Vary: Origin`…) stay.
    for (name, value) in refused.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    ServiceResponse::new(request, answer)
}

fn is_problem(response: &ServiceResponse<BoxBody>) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
}

/// The request header a CORS refusal is about.
fn refused_header(refusal: &CorsError) -> &'static str {
    match refusal {
        CorsError::MissingRequestMethod
        | CorsError::BadRequestMethod
        | CorsError::MethodNotAllowed => "Access-Control-Request-Method",
        CorsError::BadRequestHeaders | CorsError::HeadersNotAllowed => {
            "Access-Control-Request-Headers"
        }
        _ => "Origin",
    }
}
