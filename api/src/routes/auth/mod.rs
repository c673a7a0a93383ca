//! `/v1/auth`: OAuth 2.0-style token endpoint (RFC 6749) and revocation (RFC 7009);
//! `/v1/me`.

mod dto;
mod email_verification;
mod handlers;

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use chrono::Duration;
use domain::access::{ClientId, ClientStanding};
use persistence::identity::api_clients;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::CLIENT_SUBJECT;
use crate::auth::tokens::TokenKeys;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, OAuthError};

pub use dto::*;
pub use email_verification::*;
pub use handlers::*;

/// `/v1/auth`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(issue_token)
        .service(revoke_token)
        .service(reset_password)
        .service(verify_email);
}

/// `/v1/me`, the caller's own account (its invitations are
/// [`crate::routes::invitations::configure_me`]'s).
pub fn configure_me(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_me).service(export_me).service(erase_me);
}

/// The JWKS route sits at the root, outside `/v1`, where clients look for it.
pub fn configure_well_known(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(jwks);
}

/// A token answer: never cached (RFC 6749 §5.1).
pub(crate) fn token_response(
    keys: &TokenKeys,
    access_token: SecretString,
    refresh_token: Option<SecretString>,
) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token,
            token_type: "Bearer".into(),
            expires_in: keys.access_ttl_seconds,
            refresh_token,
        })
}

/// An access token for `account` (in its current session epoch) and a refresh token: the
/// rotated one, or the first of a new family.
pub(crate) async fn tokens_for(
    pool: &Db,
    keys: &TokenKeys,
    account: &domain::access::Account,
    family_refresh: Option<SecretString>,
) -> Result<HttpResponse, ApiError> {
    let access_token = keys
        .issue(&account.id.to_string(), Some(account.session_epoch))
        .map_err(ApiError::Internal)?
        .into();
    let account = account.id;
    let refresh_token = match family_refresh {
        Some(rotated) => rotated,
        None => {
            let token = secrets::random_secret();
            let hash = secrets::lookup_hash(&token);
            let lifetime = Duration::seconds(keys.refresh_ttl_seconds as i64);
            db::run(pool, move |conn| {
                persistence::identity::tokens::store_refresh_token(
                    conn, account, &hash, None, lifetime,
                )
            })
            .await?;
            token
        }
    };
    Ok(token_response(keys, access_token, Some(refresh_token)))
}

/// The client id and secret of a client credentials request: HTTP Basic (RFC 6749
/// §2.3.1, each part form-encoded) or the form's own fields.
pub(crate) fn client_credentials(
    req: &HttpRequest,
    request: &TokenRequest,
) -> Option<(String, SecretString)> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|encoded| {
            base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
        })
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |part: &str| {
                form_urlencoded::parse(format!("x={part}").as_bytes())
                    .next()
                    .map(|(_, value)| value.into_owned())
            };
            Some((decode(id)?, decode(secret)?.into()))
        });
    basic.or_else(|| Some((request.client_id.clone()?, request.client_secret.clone()?)))
}

pub(crate) async fn client_token(
    pool: &Db,
    keys: &TokenKeys,
    id: ClientId,
    secret: SecretString,
) -> Result<HttpResponse, ApiError> {
    let refused = || ApiError::OAuth {
        error: OAuthError::InvalidClient,
    };
    let found = db::run(pool, move |conn| match api_clients::find(conn, id) {
        Ok(found) => Ok(Some(found)),
        Err(persistence::PersistenceError::NotFound) => Ok(None),
        Err(other) => Err(other),
    })
    .await?;
    let verified = web::block(move || match found {
        Some((client, hash)) if passwords::verify(secret.expose_secret(), &hash) => Some(client),
        Some(_) => None,
        None => {
            passwords::verify_nothing(secret.expose_secret());
            None
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    let client = match verified {
        Some(client) if matches!(client.standing(), ClientStanding::Active { .. }) => client,
        _ => return Err(refused()),
    };
    db::run(pool, move |conn| api_clients::mark_used(conn, id)).await?;
    let access_token = keys
        .issue(&format!("{CLIENT_SUBJECT}{}", client.id), None)
        .map_err(ApiError::Internal)?
        .into();
    Ok(token_response(keys, access_token, None))
}
