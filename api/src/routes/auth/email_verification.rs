//! `POST /v1/auth/email-verification`: the link mailed at sign-up, redeemed.

use actix_web::{HttpResponse, post, web};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::auth::secrets;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::JsonBody;
use crate::routes::accounts::AccountProblem;

/// The token of the link mailed at sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    pub(crate) token: SecretString,
}

/// Verify an email.
///
/// With the token of the link mailed at sign-up (`{OES_PUBLIC_URL}/email-verification?
/// token=…`): the account's `email_verified` becomes true. The token works once and for 7
/// days; an unknown, spent or expired one is a 400 (`verification_token_invalid`).
/// Whoever holds the link may use it: no access token is needed.
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = VerifyEmail,
    responses(
        (status = 204, description = "Verified."),
        (status = 400, description = "`verification_token_invalid`: unknown, spent or expired; or malformed JSON.",
            body = crate::http::error::Problem, content_type = "application/problem+json"),
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/auth/email-verification")]
pub async fn verify_email(
    pool: web::Data<Db>,
    body: JsonBody<VerifyEmail>,
) -> Result<HttpResponse, ApiError> {
    let VerifyEmail { token } = body.open()?.value;
    let hash = secrets::lookup_hash(&token);
    db::run(&pool, move |conn| {
        persistence::mail::verify_email(conn, &hash)
    })
    .await?
    .ok_or(AccountProblem::VerificationTokenInvalid)?;
    Ok(HttpResponse::NoContent().finish())
}
