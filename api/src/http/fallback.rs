//! Answers for requests no handler takes: 405 with `Allow` when the path exists with
//! other methods, 404 otherwise. The table comes from the OpenAPI document, so it
//! always agrees with the contract.

use actix_web::{HttpRequest, web};
use regex::Regex;
use utoipa::openapi::OpenApi;

use crate::http::error::ApiError;

pub struct RouteTable {
    routes: Vec<(Regex, Vec<&'static str>)>,
}

impl RouteTable {
    pub fn from_openapi(openapi: &OpenApi) -> Self {
        let routes = openapi
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
                let mut methods = Vec::new();
                for (present, name) in [
                    (item.get.is_some(), "GET"),
                    (item.post.is_some(), "POST"),
                    (item.put.is_some(), "PUT"),
                    (item.patch.is_some(), "PATCH"),
                    (item.delete.is_some(), "DELETE"),
                ] {
                    if present {
                        methods.push(name);
                    }
                }
                Regex::new(&pattern).ok().map(|regex| (regex, methods))
            })
            .collect();
        Self { routes }
    }

    fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        self.routes
            .iter()
            .find(|(regex, _)| regex.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
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
