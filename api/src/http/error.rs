//! The one place where errors become `application/problem+json` (RFC 9457).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::{FieldProblem, ValidationError};
use persistence::PersistenceError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::context;
use crate::http::i18n::{self, Lang};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What is wrong with one field of a body or one query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    Domain(FieldProblem),
    UnknownField,
    Missing,
    /// Wrong JSON type or unparsable value; serde's own words.
    InvalidValue(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldIssue {
    pub field: String,
    pub issue: Issue,
}

impl FieldIssue {
    pub fn new(field: impl Into<String>, issue: Issue) -> Self {
        Self {
            field: field.into(),
            issue,
        }
    }

    fn code(&self) -> &'static str {
        match &self.issue {
            Issue::Domain(problem) => problem.code(),
            Issue::UnknownField => "unknown_field",
            Issue::Missing => "required",
            Issue::InvalidValue(_) => "invalid_value",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match &self.issue {
            Issue::Domain(problem) => i18n::field_problem(problem, lang),
            Issue::UnknownField => lang.pick("champ inconnu", "unknown field"),
            Issue::Missing => lang.pick("est obligatoire", "is required"),
            Issue::InvalidValue(detail) => lang.pick(
                format!("valeur invalide ({detail})"),
                format!("invalid value ({detail})"),
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldIssue>),
    #[error("invalid query parameters")]
    InvalidParameters(Vec<FieldIssue>),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("invalid header {header}")]
    InvalidHeader { header: &'static str },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("not found")]
    NotFound,
    #[error("structure archived")]
    Archived,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<&'static str> },
    #[error("precondition failed")]
    PreconditionFailed,
    /// `named` when the caller may see the holder's private data; otherwise the
    /// answer does not name it.
    #[error("SIRET already registered")]
    DuplicateSiret { existing: String, named: bool },
    #[error("idempotent request still in flight")]
    IdempotencyInFlight,
    #[error("idempotency key reused with another request")]
    IdempotencyMismatch,
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid access token")]
    InvalidToken,
    #[error("forbidden")]
    Forbidden,
    /// An OAuth 2.0 token endpoint error (RFC 6749 §5.2): `invalid_grant`…
    #[error("oauth error {error}")]
    OAuth { error: &'static str },
    #[error("email already registered")]
    EmailTaken,
    #[error("a structure keeps at least one owner")]
    LastOwner,
    #[error("already a member or already asked")]
    AlreadyMember,
    #[error("rate limited")]
    RateLimited { retry_after: u64, limit: u32 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::Validation(
            error
                .errors
                .into_iter()
                .map(|e| FieldIssue::new(e.field, Issue::Domain(e.problem)))
                .collect(),
        )
    }
}

impl ApiError {
    /// The field issues of a validation or parameter problem.
    pub fn into_issues(self) -> Vec<FieldIssue> {
        match self {
            Self::Validation(issues) | Self::InvalidParameters(issues) => issues,
            _ => Vec::new(),
        }
    }
}

impl From<PersistenceError> for ApiError {
    fn from(error: PersistenceError) -> Self {
        match error {
            PersistenceError::NotFound => Self::NotFound,
            PersistenceError::Archived => Self::Archived,
            PersistenceError::DuplicateSiret { existing } => Self::DuplicateSiret {
                existing,
                named: false,
            },
            PersistenceError::VersionMismatch { .. } => Self::PreconditionFailed,
            PersistenceError::LastOwner => Self::LastOwner,
            PersistenceError::Unavailable(detail) => Self::Unavailable(detail),
            other => Self::Internal(other.to_string()),
        }
    }
}

/// A problem details document (RFC 9457) with this API's extensions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:oes:problem:validation_failed",
    "title": "Données invalides",
    "status": 422,
    "detail": "2 champs sont invalides.",
    "instance": "/v1/structures",
    "code": "validation_failed",
    "request_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
    "errors": [
        {"field": "siret", "code": "siret_checksum", "message": "n'est pas un SIRET valide (clé de contrôle)"},
        {"field": "address.postal_code", "code": "postal_code_mismatch", "message": "le code postal 31000 n'est pas celui de Montpellier (attendu : 34000, 34070, 34080, 34090)"}
    ]
}))]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:oes:problem:{code}`.
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The path of the request that failed.
    pub instance: String,
    /// Stable, machine-readable code.
    pub code: String,
    /// The request's `X-Request-Id`, to quote when asking for help.
    pub request_id: String,
    /// The OAuth 2.0 error code (RFC 6749 §5.2), on token endpoint errors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every bad field, for validation problems.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// Path of the field: `name`, `address.postal_code`, `licences[0].number`, or a query parameter.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidParameters(_) => "invalid_parameters",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::NotFound => "not_found",
            Self::Archived => "archived",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::DuplicateSiret { .. } => "duplicate_siret",
            Self::IdempotencyInFlight => "idempotency_key_in_flight",
            Self::IdempotencyMismatch => "idempotency_key_reused",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::Forbidden => "forbidden",
            Self::OAuth { error } => error,
            Self::EmailTaken => "email_taken",
            Self::LastOwner => "last_owner",
            Self::AlreadyMember => "already_member",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn title_and_detail(&self, lang: Lang) -> (String, String) {
        let pick = |fr: &str, en: &str| lang.pick(fr, en);
        match self {
            Self::Validation(issues) | Self::InvalidParameters(issues) => {
                let n = issues.len();
                let title = if matches!(self, Self::Validation(_)) {
                    pick("Données invalides", "Invalid data")
                } else {
                    pick("Paramètres invalides", "Invalid parameters")
                };
                let detail = match (lang, n) {
                    (Lang::Fr, 1) => "1 champ est invalide.".to_owned(),
                    (Lang::Fr, n) => format!("{n} champs sont invalides."),
                    (Lang::En, 1) => "1 field is invalid.".to_owned(),
                    (Lang::En, n) => format!("{n} fields are invalid."),
                };
                (title, detail)
            }
            Self::MalformedJson(detail) => (
                pick("JSON mal formé", "Malformed JSON"),
                lang.pick(
                    format!("Le corps de la requête n'est pas un JSON valide : {detail}"),
                    format!("The request body is not valid JSON: {detail}"),
                ),
            ),
            Self::InvalidHeader { header } => (
                pick("En-tête invalide", "Invalid header"),
                lang.pick(
                    format!("L'en-tête {header} est invalide."),
                    format!("The {header} header is invalid."),
                ),
            ),
            Self::UnsupportedMediaType => (
                pick(
                    "Type de contenu non pris en charge",
                    "Unsupported media type",
                ),
                pick(
                    "Le corps doit être envoyé en application/json.",
                    "The body must be sent as application/json.",
                ),
            ),
            Self::PayloadTooLarge { limit } => (
                pick("Corps trop volumineux", "Payload too large"),
                lang.pick(
                    format!("Le corps dépasse la limite de {limit} octets."),
                    format!("The body exceeds the limit of {limit} bytes."),
                ),
            ),
            Self::NotFound => (
                pick("Introuvable", "Not found"),
                pick(
                    "Aucune ressource ne répond à cet identifiant.",
                    "No resource has this identifier.",
                ),
            ),
            Self::Archived => (
                pick("Archivée", "Archived"),
                pick(
                    "Cette structure est archivée ; elle reste listée avec include_archived=true.",
                    "This structure is archived; it is still listed with include_archived=true.",
                ),
            ),
            Self::RouteNotFound => (
                pick("Route inconnue", "Unknown route"),
                pick(
                    "Aucune route ne correspond à ce chemin.",
                    "No route matches this path.",
                ),
            ),
            Self::MethodNotAllowed { allowed } => (
                pick("Méthode non admise", "Method not allowed"),
                lang.pick(
                    format!("Méthodes admises sur ce chemin : {}.", allowed.join(", ")),
                    format!("Methods allowed on this path: {}.", allowed.join(", ")),
                ),
            ),
            Self::PreconditionFailed => (
                pick("Précondition non remplie", "Precondition failed"),
                pick(
                    "La ressource a changé depuis votre lecture (If-Match) : relisez-la puis réessayez.",
                    "The resource changed since you read it (If-Match): read it again, then retry.",
                ),
            ),
            Self::DuplicateSiret {
                existing,
                named: true,
            } => (
                pick("SIRET déjà enregistré", "SIRET already registered"),
                lang.pick(
                    format!("Ce SIRET est déjà celui de la structure {existing}."),
                    format!("This SIRET already belongs to structure {existing}."),
                ),
            ),
            Self::DuplicateSiret { named: false, .. } => (
                pick("SIRET déjà enregistré", "SIRET already registered"),
                pick(
                    "Ce SIRET est déjà enregistré pour une autre structure. Si vous en faites partie, demandez à ses propriétaires de vous inviter ; sinon, contactez l'agence.",
                    "This SIRET is already registered for another structure. If you belong to it, ask its owners to invite you; otherwise, contact the agency.",
                ),
            ),
            Self::IdempotencyInFlight => (
                pick("Requête en cours", "Request in flight"),
                pick(
                    "Une requête avec cette Idempotency-Key est encore en cours de traitement.",
                    "A request with this Idempotency-Key is still being processed.",
                ),
            ),
            Self::IdempotencyMismatch => (
                pick(
                    "Idempotency-Key déjà utilisée",
                    "Idempotency-Key already used",
                ),
                pick(
                    "Cette Idempotency-Key a déjà servi pour une autre requête.",
                    "This Idempotency-Key was already used for another request.",
                ),
            ),
            Self::Unauthenticated => (
                pick("Authentification requise", "Authentication required"),
                pick(
                    "Envoyez un jeton d'accès : Authorization: Bearer … (POST /v1/auth/token).",
                    "Send an access token: Authorization: Bearer … (POST /v1/auth/token).",
                ),
            ),
            Self::InvalidToken => (
                pick("Jeton invalide", "Invalid token"),
                pick(
                    "Le jeton d'accès est invalide, expiré, ou son compte est désactivé.",
                    "The access token is invalid, expired, or its account is disabled.",
                ),
            ),
            Self::Forbidden => (
                pick("Interdit", "Forbidden"),
                pick(
                    "Votre rôle ne permet pas cette action sur cet objet.",
                    "Your role does not allow this action on this object.",
                ),
            ),
            Self::OAuth { error } => (
                pick("Demande de jeton refusée", "Token request refused"),
                match *error {
                    "invalid_grant" => pick(
                        "Identifiants ou jeton de rafraîchissement invalides.",
                        "Invalid credentials or refresh token.",
                    ),
                    "unsupported_grant_type" => pick(
                        "grant_type doit valoir password, refresh_token ou client_credentials.",
                        "grant_type must be password, refresh_token or client_credentials.",
                    ),
                    "invalid_client" => pick(
                        "Client inconnu, révoqué ou suspendu, ou secret invalide.",
                        "Unknown, revoked or suspended client, or wrong secret.",
                    ),
                    _ => pick(
                        "Paramètre manquant ou invalide.",
                        "A parameter is missing or invalid.",
                    ),
                },
            ),
            Self::EmailTaken => (
                pick("Adresse déjà enregistrée", "Email already registered"),
                pick(
                    "Un compte existe déjà avec cette adresse.",
                    "An account already exists with this email.",
                ),
            ),
            Self::LastOwner => (
                pick("Dernier propriétaire", "Last owner"),
                pick(
                    "Une structure garde au moins un propriétaire : nommez-en un autre d'abord.",
                    "A structure keeps at least one owner: name another one first.",
                ),
            ),
            Self::AlreadyMember => (
                pick("Déjà membre", "Already a member"),
                pick(
                    "Ce compte est déjà membre de la structure, ou sa demande est en attente.",
                    "This account is already a member of the structure, or has a pending request.",
                ),
            ),
            Self::RateLimited { retry_after, .. } => (
                pick("Trop de requêtes", "Too many requests"),
                lang.pick(
                    format!("Limite atteinte : réessayez dans {retry_after} s."),
                    format!("Limit reached: retry in {retry_after} s."),
                ),
            ),
            Self::Unavailable(_) => (
                pick("Service indisponible", "Service unavailable"),
                pick(
                    "La base de données ne répond pas ; réessayez dans un instant.",
                    "The database is not answering; retry in a moment.",
                ),
            ),
            Self::Internal(_) => (
                pick("Erreur interne", "Internal error"),
                pick(
                    "Une erreur inattendue est survenue ; citez le request_id pour obtenir de l'aide.",
                    "An unexpected error occurred; quote the request_id when asking for help.",
                ),
            ),
        }
    }

    fn issues(&self) -> &[FieldIssue] {
        match self {
            Self::Validation(issues) | Self::InvalidParameters(issues) => issues,
            _ => &[],
        }
    }

    pub fn problem(&self) -> Problem {
        let context = context::current();
        let (title, detail) = self.title_and_detail(context.lang);
        Problem {
            problem_type: format!("urn:oes:problem:{}", self.code()),
            title,
            status: self.status_code().as_u16(),
            detail,
            instance: context.path,
            code: self.code().to_owned(),
            request_id: context.request_id,
            error: match self {
                Self::OAuth { error } => Some((*error).to_owned()),
                _ => None,
            },
            errors: self
                .issues()
                .iter()
                .map(|issue| ProblemField {
                    field: issue.field.clone(),
                    code: issue.code().to_owned(),
                    message: issue.message(context.lang),
                })
                .collect(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            Self::InvalidParameters(_) | Self::MalformedJson(_) | Self::InvalidHeader { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound | Self::Archived | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::DuplicateSiret { .. }
            | Self::IdempotencyInFlight
            | Self::EmailTaken
            | Self::LastOwner
            | Self::AlreadyMember => StatusCode::CONFLICT,
            Self::Unauthenticated | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            // RFC 6749 §5.2: a failed client authentication is a 401.
            Self::OAuth {
                error: "invalid_client",
            } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(%cause, "internal error");
        }
        if let Self::Unavailable(cause) = self {
            tracing::warn!(%cause, "database unavailable");
        }
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        if let Self::MethodNotAllowed { allowed } = self
            && let Ok(value) = HeaderValue::from_str(&allowed.join(", "))
        {
            response.insert_header((header::ALLOW, value));
        }
        match self {
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            Self::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"oes\""));
            }
            Self::RateLimited { retry_after, limit } => {
                response.insert_header((header::RETRY_AFTER, retry_after.to_string()));
                response.insert_header(("RateLimit-Policy", format!("{limit};w=60")));
                response.insert_header((
                    "RateLimit",
                    format!("limit={limit}, remaining=0, reset={retry_after}"),
                ));
            }
            Self::InvalidToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"oes\", error=\"invalid_token\"",
                ));
            }
            _ => {}
        }
        response.json(self.problem())
    }
}

/// Error responses, declared once and referenced by every operation; each one points at
/// the `Problem` schema instead of repeating it.
pub mod responses {
    use std::collections::BTreeMap;

    use utoipa::IntoResponses;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

    use super::PROBLEM_JSON;

    fn problem(description: &str) -> RefOr<Response> {
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
            .into()
    }

    macro_rules! problem_response {
        ($name:ident, $status:literal, $description:literal) => {
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    BTreeMap::from([($status.to_string(), problem($description))])
                }
            }
        };
    }

    problem_response!(
        BadRequest,
        400,
        "Malformed JSON, invalid query parameter or header."
    );
    problem_response!(
        Unauthorized,
        401,
        "No valid access token: send `Authorization: Bearer …`."
    );
    problem_response!(
        Forbidden,
        403,
        "Your role does not allow this action on this object."
    );
    problem_response!(NotFound, 404, "No such resource (or archived).");
    problem_response!(
        Conflict,
        409,
        "Conflict: duplicate SIRET, or a request with the same Idempotency-Key still in flight."
    );
    problem_response!(
        EmailConflict,
        409,
        "Conflict: an account already has this e-mail, or a request with the same Idempotency-Key is still in flight."
    );
    problem_response!(
        PreconditionFailed,
        412,
        "If-Match does not match the current version."
    );
    problem_response!(
        PayloadTooLarge,
        413,
        "The body exceeds the configured limit."
    );
    problem_response!(UnsupportedMediaType, 415, "The body is not JSON.");
    problem_response!(
        Unprocessable,
        422,
        "Invalid fields, every one listed in `errors`; or an Idempotency-Key reused with another body."
    );
    problem_response!(
        TooManyRequests,
        429,
        "Rate limit reached: wait `Retry-After` seconds."
    );
    problem_response!(Unavailable, 503, "The database is not answering.");
}
