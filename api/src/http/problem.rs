//! The problem details document (RFC 9457) every error becomes, and the error
//! responses operations declare.

use serde::Serialize;
use utoipa::ToSchema;

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
    #[schema(schema_with = crate::openapi::problem_code)]
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

/// Error responses, declared once and referenced by every operation; each one points at
/// the `Problem` schema instead of repeating it.
pub mod responses {
    use std::collections::BTreeMap;

    use utoipa::IntoResponses;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

    use crate::http::error::PROBLEM_JSON;

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
        "Conflict with the current state: duplicate SIRET, already a member, last owner, performances still pointing at what is deleted."
    );
    problem_response!(
        EmailConflict,
        409,
        "Conflict: an account already has this e-mail."
    );
    problem_response!(
        NotAcceptable,
        406,
        "The representation asked for in `Accept` does not exist for this resource (schema.org JSON-LD of an unpublished performance)."
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
    problem_response!(
        UnsupportedMediaType,
        415,
        "The body is not JSON: send `application/json` (or, on PATCH, `application/merge-patch+json`)."
    );
    problem_response!(
        UnsupportedFormMediaType,
        415,
        "The body is not form-encoded: send `application/x-www-form-urlencoded`."
    );
    problem_response!(
        UnsupportedDocumentType,
        415,
        "The body is not `multipart/form-data`, or the content of its `file` is not of a type a document may have (`document_type_not_allowed`, naming `file`)."
    );
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
