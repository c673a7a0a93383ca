//! The contract, generated from the handlers.

use utoipa::OpenApi;
use utoipa::openapi::OpenApi as Document;
use utoipa_actix_web::AppExt;

use crate::routes;

mod headers;
mod media;
mod security;
mod text;

pub use headers::{DIGEST_ETAG_PATTERN, ENTITY_TAGS_PATTERN, ETAG_PATTERN, PAGE_ETAG_PATTERN};
use security::SecuritySchemes;
pub use security::{CLIENT_BASIC, OAUTH2};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OES API",
        description = "Headless API of a regional live-performance agency (model: Occitanie en scène): \
structures, productions and tours, grant programmes and dossiers, events, appointments and territorial figures.\n\n\
Conventions: JSON in snake_case; errors are RFC 9457 problem details (`application/problem+json`) with a stable \
`code` and, for validation, every bad field in `errors`; messages follow `Accept-Language` (French by default, English). \
Lists use cursor pagination (`limit`, `cursor`, `next_cursor`, `Link: rel=\"next\"`). Mutable resources carry a `version`, \
sent as `ETag`; writes honour `If-Match`, reads `If-None-Match`. Creating POSTs accept an `Idempotency-Key`. \
Every response carries an `X-Request-Id` (yours if you send one).",
        version = "1.0.0",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    tags(
        (name = "structures", description = "Companies, venues, festivals, networks, local authorities."),
        (name = "members", description = "Who belongs to a structure, and requests to join."),
        (name = "invitations", description = "Owners invite an email into a structure; the person accepts or declines."),
        (name = "api-clients", description = "Credentials for partner systems and scripts (client credentials grant)."),
        (name = "programming", description = "Productions (spectacles), their tours and performances (dates), kept by companies and venues."),
        (name = "sync", description = "Partner sync: an API client with `programming:write` keeps its season here by its own ids (external ids), one performance at a time or in batches of up to 1,000."),
        (name = "grants", description = "Grant programmes (dispositifs d'aide) with their rules, and their calls (appels à candidatures)."),
        (name = "audit", description = "The audit log of every write, for agency staff."),
        (name = "changes", description = "The change feed: every create, update and delete you may see, in commit order, to keep a copy in sync."),
        (name = "webhooks", description = "Subscriptions to events (the change feed's changes, signed per Standard Webhooks) POSTed to your endpoint, with their deliveries."),
        (name = "accounts", description = "Accounts, as agency staff manage them."),
        (name = "auth", description = "Accounts and tokens: sign up, sign in, refresh, revoke."),
        (name = "operations", description = "Health, readiness and metrics."),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(
        crate::http::error::Problem,
        crate::enums::StructureKind,
        crate::enums::Discipline,
        routes::structures::LicenceInputDto,
        routes::structures::StructureSort,
    ))
)]
struct ApiDoc;

/// The error responses every `/v1` operation may give, declared here once instead of on
/// each operation: 400 (a malformed header, query or body), 401 (a token that is
/// invalid, expired or whose account is disabled; sent even to public operations),
/// 429 (sign-in limits on the token endpoint, per-IP limits on sign-ups and password
/// resets, the per-caller limit everywhere a token is accepted) and 503 (the database is
/// not answering).
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut Document) {
        use crate::http::error::responses::{
            BadRequest, TooManyRequests, Unauthorized, Unavailable,
        };
        use utoipa::IntoResponses;

        let common: Vec<_> = [
            BadRequest::responses(),
            Unauthorized::responses(),
            TooManyRequests::responses(),
            Unavailable::responses(),
        ]
        .into_iter()
        .flatten()
        .collect();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/v1/") {
                continue;
            }
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (status, response) in &common {
                    // An operation's own description of a status (e.g. the token
                    // endpoint's OAuth 400) stays.
                    operation
                        .responses
                        .responses
                        .entry(status.clone())
                        .or_insert_with(|| response.clone());
                }
            }
        }
    }
}

/// `Problem.code`: every code the API answers with, so that clients can match on them.
pub fn problem_code() -> utoipa::openapi::schema::Object {
    use crate::http::error::{ApiError, OAuthError};
    use crate::routes::{
        accounts::AccountProblem, members::MemberProblem, structures::StructureProblem,
    };
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};

    let codes: Vec<&str> = ApiError::CODES
        .iter()
        .copied()
        .chain(OAuthError::ALL.iter().map(|error| error.as_str()))
        .chain(StructureProblem::CODES.iter().copied())
        .chain(MemberProblem::CODES.iter().copied())
        .chain(AccountProblem::CODES.iter().copied())
        .chain(crate::routes::grants::GrantsProblem::CODES.iter().copied())
        .chain(
            crate::routes::programming::ProgrammingProblem::CODES
                .iter()
                .copied(),
        )
        .collect();
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .description(Some("Stable, machine-readable code."))
        .enum_values(Some(codes))
        .build()
}

/// Registers every route on `app`; the server and the spec come from this one list.
///
/// Under `/v1` each collection's routes sit behind one guard on the path's first
/// segment: actix-web tries routes in order, matching the pattern of each (a regular
/// expression for any with a parameter), so a dossier's sub-resources were found after
/// a hundred patterns had been tried, 7 % of a dossier read's time. A collection's
/// guard compares one segment. No route depends on the order of collections: none has
/// a path in two.
pub fn register<T>(app: utoipa_actix_web::UtoipaApp<T>) -> utoipa_actix_web::UtoipaApp<T>
where
    T: actix_web::dev::ServiceFactory<
            actix_web::dev::ServiceRequest,
            Config = (),
            Error = actix_web::Error,
            InitError = (),
        >,
{
    app.configure(routes::operations::configure)
        .configure(routes::auth::configure_well_known)
        .service(
            utoipa_actix_web::scope("/v1")
                .service(collection("accounts").configure(routes::accounts::configure))
                .service(collection("auth").configure(routes::auth::configure))
                .service(
                    collection("me")
                        .configure(routes::auth::configure_me)
                        .configure(routes::invitations::configure_me),
                )
                .service(
                    collection("structures")
                        .configure(routes::structures::configure)
                        .configure(routes::members::configure)
                        .configure(routes::invitations::configure),
                )
                .service(collection("api-clients").configure(routes::api_clients::configure))
                .service(
                    collection("productions").configure(routes::programming::configure_productions),
                )
                .service(collection("tours").configure(routes::programming::configure_tours))
                .service(
                    collection("performances")
                        .configure(routes::programming::configure_performances),
                )
                .service(collection("sync").configure(routes::programming::configure_sync))
                .service(collection("programmes").configure(routes::grants::configure_programmes))
                .service(collection("calls").configure(routes::grants::configure_calls))
                .service(collection("dossiers").configure(routes::grants::configure_dossiers))
                .service(collection("audit-events").configure(routes::audit_events::configure))
                .service(collection("changes").configure(routes::changes::configure))
                .service(collection("webhooks").configure(routes::webhooks::configure))
                .configure(routes::programming::configure_exports)
                .configure(routes::grants::configure_exports),
        )
}

/// The routes of `/v1/{segment}` and below: a scope that adds nothing to their paths,
/// taken only by requests whose path has `segment` first. A request it takes that none
/// of its routes matches gets the app's 404 or 405, as before.
fn collection(
    segment: &'static str,
) -> utoipa_actix_web::scope::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse,
        Error = actix_web::Error,
        InitError = (),
    > + 'static,
> {
    utoipa_actix_web::scope::scope(actix_web::web::scope("")).guard(FirstSegment(segment))
}

/// Whether a `/v1` path's first segment is the given one, as the router reads the path:
/// percent-decoded but for `%`, `/` and `+` (`/v1/%64ossiers` is `/v1/dossiers` to the
/// routes, so it must be to their guard).
struct FirstSegment(&'static str);

impl actix_web::guard::Guard for FirstSegment {
    fn check(&self, ctx: &actix_web::guard::GuardContext<'_>) -> bool {
        let uri = &ctx.head().uri;
        if !uri.path().contains('%') {
            return first_segment(uri.path()) == Some(self.0);
        }
        let url = actix_web::dev::Url::new(uri.clone());
        first_segment(url.path()) == Some(self.0)
    }
}

fn first_segment(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v1/")?;
    Some(rest.split_once('/').map_or(rest, |(first, _)| first))
}

/// The OpenAPI document.
pub fn document() -> Document {
    let (_, mut document) = register(
        actix_web::App::new()
            .into_utoipa_app()
            .openapi(ApiDoc::openapi()),
    )
    .split_for_parts();
    // After the routes are in: this one walks the paths.
    utoipa::Modify::modify(&CommonErrors, &mut document);
    // Last: these walk every operation and response, the common ones included.
    utoipa::Modify::modify(&media::MergePatch, &mut document);
    utoipa::Modify::modify(&headers::ResponseHeaders, &mut document);
    utoipa::Modify::modify(&text::NoNul, &mut document);
    document
}

#[cfg(test)]
mod tests {
    use actix_web::http::{Method, StatusCode};
    use actix_web::{App, HttpResponse, test, web};
    use utoipa_actix_web::AppExt;

    use super::{document, register};
    use crate::http::fallback::methods_of;

    /// What the test app answers when no route takes a request.
    const UNROUTED: StatusCode = StatusCode::IM_A_TEAPOT;

    /// The status `app` answers `method path` with.
    macro_rules! status {
        ($app:expr, $method:expr, $path:expr) => {
            test::call_service(
                &$app,
                test::TestRequest::default()
                    .method($method)
                    .uri($path)
                    .to_request(),
            )
            .await
            .status()
        };
    }

    /// The app with every route and no state, answering [`UNROUTED`] when no route
    /// takes a request.
    macro_rules! routes_only {
        () => {
            test::init_service(
                register(App::new().into_utoipa_app())
                    .into_app()
                    .default_service(web::to(|| async { HttpResponse::new(UNROUTED) })),
            )
            .await
        };
    }

    #[actix_web::test]
    async fn every_operation_of_the_contract_reaches_a_handler() {
        // No state: a handler answers (a 500 for its missing app data, a 4xx for the
        // request), which is what tells routing worked.
        let app = routes_only!();
        let spec = document();
        let mut operations = 0;
        for (template, item) in &spec.paths.paths {
            let path = template
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        "01900000-0000-7000-8000-000000000000"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            for method in methods_of(item) {
                operations += 1;
                let got = status!(
                    app,
                    Method::from_bytes(method.as_bytes()).unwrap(),
                    path.as_str()
                );
                assert_ne!(got, UNROUTED, "{method} {path} reached no handler");
            }
        }
        assert!(
            operations > 100,
            "only {operations} operations in the contract"
        );
    }

    #[actix_web::test]
    async fn a_collection_is_known_by_its_whole_first_segment_as_the_router_decodes_it() {
        let app = routes_only!();
        let id = "01900000-0000-7000-8000-000000000000";
        // Percent-encoded letters are the same path to actix-web's router.
        for path in [
            format!("/v1/%64ossiers/{id}"),
            format!("/%76%31/dossiers/{id}/history"),
            "/v1/performances.ics".to_owned(),
        ] {
            assert_ne!(status!(app, Method::GET, path.as_str()), UNROUTED, "{path}");
        }
        for path in [
            format!("/v1/dossiersx/{id}"),
            format!("/v1/dossier/{id}"),
            "/v1/dossiers%2F1".to_owned(),
            "/v1/".to_owned(),
            "/v1".to_owned(),
        ] {
            assert_eq!(status!(app, Method::GET, path.as_str()), UNROUTED, "{path}");
        }
    }
}
