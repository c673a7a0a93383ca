//! The one place where errors become `application/problem+json` (RFC 9457).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use domain::{FieldProblem, ValidationError};
use persistence::PersistenceError;

use crate::http::context;
use crate::http::i18n::{self, Lang};
pub use crate::http::problem::{Problem, ProblemField, responses};
use crate::routes::members::MemberProblem;
use crate::routes::programming::ProgrammingProblem;
use crate::routes::structures::StructureProblem;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// What is wrong with one field of a body or one query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    Domain(FieldProblem),
    UnknownField,
    Missing,
    /// Wrong JSON type or unparsable value; serde's own words.
    InvalidValue(String),
    /// A rule of the domain that the whole object breaks (a submission problem): its
    /// own code, and the domain's words.
    Rule {
        code: &'static str,
        message: String,
    },
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
            Issue::Rule { code, .. } => code,
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
            Issue::Rule { message, .. } => message.clone(),
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
    /// The body is not of the media type the operation reads (`expected`).
    #[error("unsupported media type")]
    UnsupportedMediaType { expected: &'static str },
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    RouteNotFound,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<&'static str> },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("idempotency key reused with another request")]
    IdempotencyMismatch,
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid access token")]
    InvalidToken,
    #[error("forbidden")]
    Forbidden,
    /// An OAuth 2.0 token endpoint error (RFC 6749 §5.2): `invalid_grant`…
    #[error("oauth error {}", error.as_str())]
    OAuth { error: OAuthError },
    #[error("rate limited")]
    RateLimited { retry_after: u64, limit: u32 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
    /// A problem of one business area: its status, code and words are the area's own
    /// (`routes/<area>/problems.rs`).
    #[error("{0:?}")]
    Area(Box<dyn AreaProblem>),
}

/// The error codes of the OAuth 2.0 token and revocation endpoints (RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
}

impl OAuthError {
    pub const ALL: [Self; 4] = [
        Self::InvalidRequest,
        Self::InvalidClient,
        Self::InvalidGrant,
        Self::UnsupportedGrantType,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnsupportedGrantType => "unsupported_grant_type",
        }
    }
}

/// A problem that belongs to one business area. Each area lists its problems in its own
/// enum and says here what each one answers.
pub trait AreaProblem: std::any::Any + std::fmt::Debug + Send + Sync {
    fn status(&self) -> StatusCode;
    /// Stable, machine-readable; listed in the contract (`Problem.code`).
    fn code(&self) -> &'static str;
    fn title_and_detail(&self, lang: Lang) -> (String, String);
    /// The fields the problem is about, when it is about some (the `file` whose content
    /// is of a refused type).
    fn field_issues(&self) -> Vec<FieldIssue> {
        Vec::new()
    }
}

impl ApiError {
    /// The area problem of type `P` this error is, if it is one.
    pub fn area<P: AreaProblem>(&self) -> Option<&P> {
        match self {
            Self::Area(problem) => (problem.as_ref() as &dyn std::any::Any).downcast_ref(),
            _ => None,
        }
    }
}

impl<P: AreaProblem> From<P> for ApiError {
    fn from(problem: P) -> Self {
        Self::Area(Box::new(problem))
    }
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
            // Persistence reports these in its own terms; here they become their area's.
            PersistenceError::Archived => StructureProblem::Archived.into(),
            // Unnamed until a handler checks that the caller may see the holder.
            PersistenceError::DuplicateSiret { existing } => StructureProblem::DuplicateSiret {
                existing,
                named: false,
            }
            .into(),
            PersistenceError::VersionMismatch { .. } => Self::PreconditionFailed,
            PersistenceError::LastOwner => MemberProblem::LastOwner.into(),
            PersistenceError::HasPerformances => ProgrammingProblem::HasPerformances.into(),
            PersistenceError::Unavailable(detail) => Self::Unavailable(detail),
            PersistenceError::Deadlock => Self::Unavailable("deadlock detected".into()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    /// The codes of the problems every area may meet (the areas list their own).
    pub const CODES: &'static [&'static str] = &[
        "validation_failed",
        "invalid_parameters",
        "malformed_json",
        "invalid_header",
        "unsupported_media_type",
        "payload_too_large",
        "not_found",
        "route_not_found",
        "method_not_allowed",
        "precondition_failed",
        "idempotency_key_reused",
        "unauthenticated",
        "invalid_token",
        "forbidden",
        "rate_limited",
        "service_unavailable",
        "internal_error",
    ];

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::InvalidParameters(_) => "invalid_parameters",
            Self::MalformedJson(_) => "malformed_json",
            Self::InvalidHeader { .. } => "invalid_header",
            Self::UnsupportedMediaType { .. } => "unsupported_media_type",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::NotFound => "not_found",
            Self::RouteNotFound => "route_not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PreconditionFailed => "precondition_failed",
            Self::IdempotencyMismatch => "idempotency_key_reused",
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidToken => "invalid_token",
            Self::Forbidden => "forbidden",
            Self::OAuth { error } => error.as_str(),
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable(_) => "service_unavailable",
            Self::Internal(_) => "internal_error",
            Self::Area(problem) => problem.code(),
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
            Self::UnsupportedMediaType { expected } => (
                pick(
                    "Type de contenu non pris en charge",
                    "Unsupported media type",
                ),
                lang.pick(
                    format!("Le corps doit être envoyé en {expected}."),
                    format!("The body must be sent as {expected}."),
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
                match error {
                    OAuthError::InvalidGrant => pick(
                        "Identifiants ou jeton de rafraîchissement invalides.",
                        "Invalid credentials or refresh token.",
                    ),
                    OAuthError::UnsupportedGrantType => pick(
                        "grant_type doit valoir password, refresh_token ou client_credentials.",
                        "grant_type must be password, refresh_token or client_credentials.",
                    ),
                    OAuthError::InvalidClient => pick(
                        "Client inconnu, révoqué ou suspendu, ou secret invalide.",
                        "Unknown, revoked or suspended client, or wrong secret.",
                    ),
                    OAuthError::InvalidRequest => pick(
                        "Paramètre manquant ou invalide.",
                        "A parameter is missing or invalid.",
                    ),
                },
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
            Self::Area(problem) => problem.title_and_detail(lang),
        }
    }

    fn issues(&self) -> Vec<FieldIssue> {
        match self {
            Self::Validation(issues) | Self::InvalidParameters(issues) => issues.clone(),
            Self::Area(problem) => problem.field_issues(),
            _ => Vec::new(),
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
                Self::OAuth { error } => Some(error.as_str().to_owned()),
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
            Self::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound | Self::RouteNotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Unauthenticated | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            // RFC 6749 §5.2: a failed client authentication is a 401.
            Self::OAuth {
                error: OAuthError::InvalidClient,
            } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::OAuth { .. } => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Area(problem) => problem.status(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::accounts::AccountProblem;
    use crate::routes::members::MemberProblem;
    use crate::routes::structures::StructureProblem;

    /// Every problem the server can answer, one of each kind.
    fn every_problem() -> Vec<ApiError> {
        let mut all = vec![
            ApiError::Validation(vec![]),
            ApiError::InvalidParameters(vec![]),
            ApiError::MalformedJson(String::new()),
            ApiError::InvalidHeader { header: "If-Match" },
            ApiError::UnsupportedMediaType {
                expected: "application/json",
            },
            ApiError::PayloadTooLarge { limit: 1 },
            ApiError::NotFound,
            ApiError::RouteNotFound,
            ApiError::MethodNotAllowed { allowed: vec![] },
            ApiError::PreconditionFailed,
            ApiError::IdempotencyMismatch,
            ApiError::Unauthenticated,
            ApiError::InvalidToken,
            ApiError::Forbidden,
            ApiError::RateLimited {
                retry_after: 1,
                limit: 1,
            },
            ApiError::Unavailable(String::new()),
            ApiError::Internal(String::new()),
            StructureProblem::Archived.into(),
            StructureProblem::DuplicateSiret {
                existing: String::new(),
                named: false,
            }
            .into(),
            MemberProblem::LastOwner.into(),
            MemberProblem::AlreadyMember.into(),
            AccountProblem::EmailTaken.into(),
            AccountProblem::VerificationTokenInvalid.into(),
            crate::routes::programming::ProgrammingProblem::HasPerformances.into(),
            crate::routes::programming::ProgrammingProblem::NotPublic.into(),
            crate::routes::grants::GrantsProblem::ProgrammeCodeTaken.into(),
            crate::routes::grants::GrantsProblem::CallNotOpen.into(),
            crate::routes::grants::GrantsProblem::DossierNotEditable.into(),
            crate::routes::grants::GrantsProblem::TransitionNotPermitted.into(),
            crate::routes::grants::GrantsProblem::TransitionNotFromStatus.into(),
            crate::routes::grants::GrantsProblem::FinalReportNotAccepted.into(),
            crate::routes::grants::GrantsProblem::PaymentsIncomplete.into(),
            crate::routes::grants::GrantsProblem::AwardAboveEnvelope {
                awarded: 1,
                remaining: 0,
            }
            .into(),
            crate::routes::grants::GrantsProblem::AwardAboveMaximum {
                awarded: 1,
                maximum: 0,
            }
            .into(),
            crate::routes::grants::GrantsProblem::DossierNotApproved.into(),
            crate::routes::grants::GrantsProblem::PaymentAboveAwarded {
                amount: 2,
                paid: 0,
                awarded: 1,
            }
            .into(),
            crate::routes::grants::GrantsProblem::PaymentsRecorded.into(),
            crate::routes::grants::GrantsProblem::FinalReportAccepted.into(),
            crate::routes::grants::GrantsProblem::FinalReportNotSubmitted.into(),
            crate::routes::grants::GrantsProblem::DocumentTypeNotAllowed.into(),
            crate::routes::grants::GrantsProblem::TooManyDocuments { max: 1 }.into(),
            crate::routes::grants::GrantsProblem::ReviewerAlreadyAssigned.into(),
            crate::routes::grants::GrantsProblem::DossierNotReviewable.into(),
            crate::routes::grants::GrantsProblem::ReviewConflicted.into(),
            crate::routes::grants::GrantsProblem::ReviewNotUnassignable.into(),
            crate::routes::grants::GrantsProblem::ReviewChanged.into(),
        ];
        all.extend(OAuthError::ALL.map(|error| ApiError::OAuth { error }));
        all
    }

    #[test]
    fn every_code_the_server_answers_is_listed_in_the_contract() {
        let listed = crate::openapi::problem_code()
            .enum_values
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        for problem in every_problem() {
            let code = problem.code();
            assert!(
                listed.iter().any(|value| value == code),
                "{code} is not in Problem.code"
            );
            assert!(seen.insert(code), "{code} is used twice");
            // Every problem has words in both languages, and a status that is an error.
            assert!(problem.status_code().as_u16() >= 400);
            for lang in [Lang::Fr, Lang::En] {
                let (title, detail) = problem.title_and_detail(lang);
                assert!(!title.is_empty() && !detail.is_empty(), "{code}");
            }
        }
        assert_eq!(
            seen.len(),
            listed.len(),
            "a listed code nothing answers with"
        );
    }
}
