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
                .configure(routes::accounts::configure)
                .configure(routes::auth::configure)
                .configure(routes::structures::configure)
                .configure(routes::members::configure)
                .configure(routes::invitations::configure)
                .configure(routes::api_clients::configure)
                .configure(routes::programming::configure)
                .configure(routes::grants::configure)
                .configure(routes::audit_events::configure)
                .configure(routes::changes::configure)
                .configure(routes::webhooks::configure),
        )
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
