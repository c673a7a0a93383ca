//! The handlers of `/v1/auth`, `/v1/me` and the JWKS.

use actix_web::http::header::{CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::Duration;
use domain::access::AccountStatus;
use domain::access::ClientId;
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::identity::accounts;
use persistence::identity::tokens::Refresh;
use secrecy::ExposeSecret;

use super::*;
use crate::auth::Caller;
use crate::auth::tokens::TokenKeys;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, OAuthError, responses};
use crate::http::extract::FormBody;
use crate::http::limits::{self, Limits};
use crate::routes::accounts::AccountView;

/// Get an access token.
///
/// `grant_type=password` signs in with an email and password; `grant_type=refresh_token`
/// exchanges a refresh token for a new pair (the old refresh token is spent; presenting
/// a spent one revokes every token of that sign-in); `grant_type=client_credentials`
/// gives an API client a token for its structures and scopes (no refresh token).
#[utoipa::path(
    tag = "auth",
    security((), ("clientBasic" = [])),
    request_body(content = TokenRequestSchema, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens.", body = TokenResponse),
        (status = 400, description = "`invalid_grant`, `invalid_request` or `unsupported_grant_type` (also in `error`).",
            body = crate::http::error::Problem, content_type = "application/problem+json"),
        (status = 401, description = "`invalid_client`: unknown, revoked or suspended client, or wrong secret.",
            body = crate::http::error::Problem, content_type = "application/problem+json"),
        responses::PayloadTooLarge,
        responses::UnsupportedFormMediaType,
        responses::Unprocessable,
    )
)]
#[post("/auth/token")]
pub async fn issue_token(
    pool: web::Data<Db>,
    keys: web::Data<TokenKeys>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    FormBody(request): FormBody<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let _ = &request.scope;
    Limits::check(&limits.sign_in_per_ip, &limits::client_ip(&req))?;
    match request.grant_type.as_deref() {
        Some("client_credentials") => {
            let refused = || ApiError::OAuth {
                error: OAuthError::InvalidClient,
            };
            let (id, secret) = client_credentials(&req, &request).ok_or_else(refused)?;
            // No Argon2 for an id that cannot exist: the IP limit covers those.
            let id: ClientId = id.parse().map_err(|_| refused())?;
            // The parsed id, so that other spellings of it (case, braces, `urn:uuid:`,
            // no hyphens) share one budget.
            Limits::check(&limits.sign_in_per_account, &format!("client:{id}"))?;
            client_token(&pool, &keys, id, secret).await
        }
        Some("password") => {
            if let Some(username) = &request.username {
                Limits::check(
                    &limits.sign_in_per_account,
                    &format!("account:{}", username.to_lowercase()),
                )?;
            }
            let (Some(username), Some(password)) = (request.username, request.password) else {
                return Err(ApiError::OAuth {
                    error: OAuthError::InvalidRequest,
                });
            };
            let found = db::run(&pool, move |conn| {
                match accounts::find_by_email(conn, &username) {
                    Ok((account, hash)) => Ok(Some((account, hash))),
                    Err(persistence::PersistenceError::NotFound) => Ok(None),
                    Err(other) => Err(other),
                }
            })
            .await?;
            // Argon2 is slow on purpose: verify on a blocking thread.
            let account = web::block(move || match found {
                Some((account, hash)) if passwords::verify(password.expose_secret(), &hash) => {
                    Some(account)
                }
                Some(_) => None,
                None => {
                    passwords::verify_nothing(password.expose_secret());
                    None
                }
            })
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            match account {
                Some(account) if account.status == AccountStatus::Active => {
                    tokens_for(&pool, &keys, &account, None).await
                }
                _ => Err(ApiError::OAuth {
                    error: OAuthError::InvalidGrant,
                }),
            }
        }
        Some("refresh_token") => {
            let Some(presented) = request.refresh_token else {
                return Err(ApiError::OAuth {
                    error: OAuthError::InvalidRequest,
                });
            };
            let successor = secrets::random_secret();
            let (presented_hash, successor_hash) = (
                secrets::lookup_hash(&presented),
                secrets::lookup_hash(&successor),
            );
            let lifetime = Duration::seconds(keys.refresh_ttl_seconds as i64);
            let outcome = db::run(&pool, move |conn| {
                persistence::identity::tokens::rotate_refresh_token(
                    conn,
                    &presented_hash,
                    &successor_hash,
                    lifetime,
                    chrono::Utc::now(),
                )
            })
            .await?;
            match outcome {
                Refresh::Rotated { account } => {
                    if account.status != AccountStatus::Active {
                        return Err(ApiError::OAuth {
                            error: OAuthError::InvalidGrant,
                        });
                    }
                    tokens_for(&pool, &keys, &account, Some(successor)).await
                }
                Refresh::Reused => {
                    tracing::warn!("a spent refresh token was presented: its family is revoked");
                    Err(ApiError::OAuth {
                        error: OAuthError::InvalidGrant,
                    })
                }
                Refresh::Invalid => Err(ApiError::OAuth {
                    error: OAuthError::InvalidGrant,
                }),
            }
        }
        Some(_) => Err(ApiError::OAuth {
            error: OAuthError::UnsupportedGrantType,
        }),
        None => Err(ApiError::OAuth {
            error: OAuthError::InvalidRequest,
        }),
    }
}

/// Revoke a refresh token (RFC 7009).
///
/// Answers 200 whether or not the token was known, so it tells nothing about tokens.
/// Access tokens are short-lived and expire on their own.
#[utoipa::path(
    tag = "auth",
    security(),
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (or unknown)."),
        (status = 400, description = "`invalid_request`: no `token`.",
            body = crate::http::error::Problem, content_type = "application/problem+json"),
        responses::PayloadTooLarge,
        responses::UnsupportedFormMediaType,
        responses::Unprocessable,
    )
)]
#[post("/auth/revoke")]
pub async fn revoke_token(
    pool: web::Data<Db>,
    FormBody(request): FormBody<RevokeRequest>,
) -> Result<HttpResponse, ApiError> {
    // Only refresh tokens are revocable, so the hint never narrows the search (RFC 7009
    // §2.1 says to look further when it is wrong anyway); it is checked, not used.
    let _ = request.token_type_hint;
    let Some(token) = request.token.filter(|t| !t.expose_secret().is_empty()) else {
        return Err(ApiError::OAuth {
            error: OAuthError::InvalidRequest,
        });
    };
    let hash = secrets::lookup_hash(&token);
    db::run(&pool, move |conn| {
        persistence::identity::tokens::revoke_refresh_token(conn, &hash)
    })
    .await?;
    Ok(HttpResponse::Ok().finish())
}

/// The signed-in account.
#[utoipa::path(
    tag = "auth",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "Your account.", body = AccountView),
    )
)]
#[get("/me")]
pub async fn get_me(pool: web::Data<Db>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.account(&pool).await?;
    let account = db::run(&pool, move |conn| {
        caller.principal(conn)?;
        Ok::<_, ApiError>(accounts::find(conn, id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

/// Export your personal data.
#[utoipa::path(
    tag = "auth",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "All personal data held about your account.", body = PersonalDataExport),
        responses::Forbidden,
    )
)]
#[get("/me/export")]
pub async fn export_me(pool: web::Data<Db>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.account(&pool).await?;
    let (data, events) = db::run(&pool, move |conn| {
        caller.principal(conn)?;
        let data = accounts::personal_data(conn, id)?;
        let events = persistence::audit::list(
            conn,
            &persistence::audit::EventQuery {
                actor_id: Some(id.to_string()),
                limit: 1_000,
                ..Default::default()
            },
        )?
        .items;
        Ok::<_, ApiError>((data, events))
    })
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(CacheControl(vec![CacheDirective::NoStore]))
        .json(PersonalDataExport {
            account: data.account.into(),
            memberships: data
                .memberships
                .into_iter()
                .map(|(structure, role, since)| MembershipExport {
                    structure_id: structure.as_uuid(),
                    role: role.as_str().to_owned(),
                    since,
                })
                .collect(),
            join_requests: data
                .join_requests
                .into_iter()
                .map(|(structure, message, created_at)| JoinRequestExport {
                    structure_id: structure.as_uuid(),
                    message,
                    created_at,
                })
                .collect(),
            sign_ins: data
                .refresh_tokens
                .into_iter()
                .map(|(created_at, expires_at, revoked)| SignInExport {
                    created_at,
                    expires_at,
                    revoked,
                })
                .collect(),
            audit_events: events
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_, _>>()?,
        }))
}

/// Erase your account.
///
/// For members of structures. Agency accounts (admin, staff, reviewer) are closed by the
/// agency, not by themselves (403): an administrator must not lock the agency out.
///
/// Your email, name and password are erased, your memberships, requests to join,
/// invitations to your email and sign-ins deleted, your API clients revoked. What the agency must keep stays,
/// pointing at an anonymous account: the audit log of what was done (and, as they
/// arrive, decisions and payments on dossiers). Structures you created stay: they are
/// organisations, not people.
#[utoipa::path(
    tag = "auth",
    security(("oauth2" = [])),
    responses(
        (status = 204, description = "Erased; your tokens no longer work."),
        responses::Forbidden,
    )
)]
#[delete("/me")]
pub async fn erase_me(pool: web::Data<Db>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let id = caller.account(&pool).await?;
    // Checked before hashing (no work for those refused), and again with the write.
    db::run(&pool, move |conn| erasable(conn, &caller)).await?;
    // A hash of random bytes that were never kept: no password verifies against it.
    let unusable = web::block(|| passwords::hash(secrets::random_secret().expose_secret()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let event = crate::audit::event(
        &caller,
        "account.erase",
        "account",
        id,
        &["email", "display_name", "password"],
    );
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            erasable(conn, &caller)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| accounts::erase(conn, id, unusable),
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Agency accounts are closed by the agency, not by themselves: 403.
fn erasable(conn: &mut DbConnection, caller: &Caller) -> Result<(), ApiError> {
    match caller.principal(conn)? {
        domain::access::Principal::Account {
            agency_role: Some(_),
            ..
        } => Err(ApiError::Forbidden),
        _ => Ok(()),
    }
}

/// Set a new password with a reset token.
///
/// The token works once and for one hour. Every sign-in of the account ends: its refresh
/// tokens are revoked and its access tokens stop working at once. Limited per IP address
/// (`OES_PASSWORD_RESET_LIMIT_PER_IP`).
#[utoipa::path(
    tag = "auth",
    security(),
    request_body = ResetPassword,
    responses(
        (status = 204, description = "Password changed; sign in again."),
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/auth/password-reset")]
pub async fn reset_password(
    pool: web::Data<Db>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    body: crate::http::extract::JsonBody<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    Limits::check(&limits.password_reset_per_ip, &limits::client_ip(&req))?;
    let ResetPassword { token, password } = body.open()?.value;
    domain::access::check_password(password.expose_secret())
        .map_err(|problem| domain::ValidationError::single("password", problem))?;
    let refused = || ApiError::OAuth {
        error: OAuthError::InvalidGrant,
    };
    let token_hash = secrets::lookup_hash(&token);
    // The token first: hashing a password (Argon2) for a made-up token is work for nothing.
    let account = {
        let token_hash = token_hash.clone();
        db::run(&pool, move |conn| {
            persistence::identity::tokens::password_reset_account(conn, &token_hash)
        })
        .await?
        .ok_or_else(refused)?
    };
    let hash = web::block(move || passwords::hash(password.expose_secret()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    // Whoever holds the token acts as the account's holder.
    let event = crate::audit::event_by_account(
        account,
        "account.password_change",
        "account",
        account,
        &["password"],
    );
    let changed = db::run(&pool, move |conn| {
        let changed = persistence::audit::recorded(
            conn,
            // Spent meanwhile by a simultaneous request: nothing done, nothing recorded.
            |conn| {
                persistence::identity::tokens::reset_password(conn, &token_hash, hash)?
                    .ok_or(persistence::PersistenceError::NotFound)
            },
            |_| event,
        );
        match changed {
            Err(persistence::PersistenceError::NotFound) => Ok(false),
            other => other.map(|_| true),
        }
    })
    .await?;
    if !changed {
        return Err(refused());
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The public keys that verify access tokens (RFC 7517).
///
/// Published when the server signs with an asymmetric key (`OES_JWT_PRIVATE_KEY_FILE`):
/// other instances and partner systems verify tokens with it. With a shared secret
/// there is nothing public to publish: 404.
#[utoipa::path(
    tag = "auth",
    security(),
    responses(
        (status = 200, description = "A JWK Set.", body = JwkSetView),
        responses::NotFound,
    )
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(keys: web::Data<TokenKeys>) -> Result<HttpResponse, ApiError> {
    match keys.jwks() {
        Some(set) => Ok(HttpResponse::Ok()
            .insert_header(CacheControl(vec![
                CacheDirective::Public,
                CacheDirective::MaxAge(300),
            ]))
            .json(set)),
        None => Err(ApiError::NotFound),
    }
}
