//! `/v1/auth`: OAuth 2.0-style token endpoint (RFC 6749) and revocation (RFC 7009);
//! `/v1/me`.

use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use base64::Engine;
use chrono::Duration;
use domain::access::AccountStatus;
use domain::access::{ClientId, ClientStanding};
use persistence::PersistenceError;
use persistence::identity::accounts;
use persistence::identity::api_clients;
use persistence::identity::tokens::Refresh;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::tokens::TokenKeys;
use crate::auth::{CLIENT_SUBJECT, Caller};
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, OAuthError, responses};
use crate::http::extract::{FormBody, FormFields};
use crate::http::limits::{self, Limits};
use crate::routes::accounts::AccountView;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(issue_token)
        .service(revoke_token)
        .service(get_me)
        .service(export_me)
        .service(erase_me)
        .service(reset_password);
}

/// The JWKS route sits at the root, outside `/v1`, where clients look for it.
pub fn configure_well_known(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(jwks);
}

/// A token request as the server reads it: every field optional, so that what is
/// missing becomes the OAuth 2.0 error RFC 6749 §5.2 names (`invalid_request`…), not a
/// validation problem. The contract states each grant's shape: [`TokenRequestSchema`].
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    refresh_token: Option<SecretString>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    scope: Option<String>,
}

/// A token request, form-encoded as RFC 6749 says: one shape per `grant_type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = TokenRequest, discriminator(property_name = "grant_type", mapping(
    ("password" = "#/components/schemas/PasswordGrant"),
    ("refresh_token" = "#/components/schemas/RefreshTokenGrant"),
    ("client_credentials" = "#/components/schemas/ClientCredentialsGrant"),
)))]
pub enum TokenRequestSchema {
    Password(PasswordGrant),
    RefreshToken(RefreshTokenGrant),
    ClientCredentials(ClientCredentialsGrant),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordGrantType {
    Password,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefreshTokenGrantType {
    RefreshToken,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientCredentialsGrantType {
    ClientCredentials,
}

/// Sign in with an account's email and password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordGrant {
    #[schema(inline)]
    pub grant_type: PasswordGrantType,
    /// The account's email.
    #[schema(min_length = 1, example = "claire@compagnie.example")]
    pub username: String,
    #[schema(min_length = 1, example = "correct horse battery staple")]
    pub password: String,
    /// Accepted and ignored: a token carries its account's roles.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// Exchange a refresh token for a new pair; the one presented is spent.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshTokenGrant {
    #[schema(inline)]
    pub grant_type: RefreshTokenGrantType,
    #[schema(min_length = 1)]
    pub refresh_token: String,
    /// Accepted and ignored.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

/// An API client's token, for its structures and scopes (no refresh token). The
/// client authenticates with `client_id` and `client_secret` here, or with HTTP Basic
/// (then leave them out).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCredentialsGrant {
    #[schema(inline)]
    pub grant_type: ClientCredentialsGrantType,
    /// The client's id (a UUID), unless sent with HTTP Basic.
    #[schema(nullable = false, min_length = 1)]
    pub client_id: Option<String>,
    /// The client's secret, unless sent with HTTP Basic.
    #[schema(nullable = false, min_length = 1)]
    pub client_secret: Option<String>,
    /// Accepted and ignored: a token carries the client's scopes.
    #[schema(nullable = false)]
    pub scope: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    #[serde(serialize_with = "secrets::serialize_exposed")]
    #[schema(value_type = String)]
    pub access_token: SecretString,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Opaque; spent on use: each refresh returns a new one. Absent for API clients,
    /// which ask again with their credentials.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "secrets::serialize_exposed_option"
    )]
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretString>,
}

impl FormFields for TokenRequest {
    const FIELDS: &'static [&'static str] = &[
        "grant_type",
        "username",
        "password",
        "refresh_token",
        "client_id",
        "client_secret",
        "scope",
    ];
}

impl FormFields for RevokeRequest {
    const FIELDS: &'static [&'static str] = &["token", "token_type_hint"];
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// The refresh token to revoke (with every token rotated from the same sign-in).
    #[schema(value_type = Option<String>, required = true, nullable = false, min_length = 1)]
    token: Option<SecretString>,
    /// What the token is; access tokens expire on their own, so revoking one changes
    /// nothing.
    #[schema(nullable = false)]
    token_type_hint: Option<TokenTypeHint>,
}

/// RFC 7009 §2.1: the kind of token presented for revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenTypeHint {
    RefreshToken,
    AccessToken,
}

/// A token answer: never cached (RFC 6749 §5.1).
fn token_response(
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
async fn tokens_for(
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
fn client_credentials(req: &HttpRequest, request: &TokenRequest) -> Option<(String, SecretString)> {
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

async fn client_token(
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
    let id = caller.account()?;
    let account = db::run(&pool, move |conn| accounts::find(conn, id)).await?;
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MembershipExport {
    pub structure_id: uuid::Uuid,
    #[schema(example = "owner")]
    pub role: String,
    pub since: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestExport {
    pub structure_id: uuid::Uuid,
    pub message: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignInExport {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    pub revoked: bool,
}

/// Everything held about you (GDPR, article 15 and 20).
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalDataExport {
    pub account: AccountView,
    pub memberships: Vec<MembershipExport>,
    pub join_requests: Vec<JoinRequestExport>,
    /// Sign-ins (refresh token families and rotations); tokens themselves are never kept.
    pub sign_ins: Vec<SignInExport>,
    /// What you did, from the audit log (the newest 1,000 entries).
    pub audit_events: Vec<crate::routes::audit_events::AuditEventView>,
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
    let id = caller.account()?;
    let (data, events) = db::run(&pool, move |conn| {
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
        Ok::<_, PersistenceError>((data, events))
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
    let id = caller.account()?;
    if matches!(
        caller.0,
        domain::access::Principal::Account {
            agency_role: Some(_),
            ..
        }
    ) {
        return Err(ApiError::Forbidden);
    }
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
        persistence::audit::recorded(conn, |conn| accounts::erase(conn, id, unusable), |_| event)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new password, with the reset token staff made for the account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    #[schema(value_type = String, min_length = 1, max_length = 256)]
    token: SecretString,
    /// 15 to 128 characters.
    #[schema(value_type = String, min_length = 15, max_length = 128)]
    password: SecretString,
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

/// A JSON Web Key Set (RFC 7517 §5): the public keys that verify access tokens.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = JwkSet)]
pub struct JwkSetView {
    pub keys: Vec<JwkView>,
}

/// An EC P-256 public key (RFC 7517, RFC 7518 §6.2) that verifies ES256 tokens: key
/// type `kty` `EC` on curve `crv` `P-256`, for signatures (`use` `sig`) of algorithm
/// `alg` `ES256`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Jwk)]
pub struct JwkView {
    #[schema(inline)]
    pub kty: JwkKeyType,
    #[schema(inline)]
    pub crv: JwkCurve,
    /// The x coordinate, base64url without padding.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{43}$",
        example = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
    )]
    pub x: String,
    /// The y coordinate, base64url without padding.
    #[schema(
        pattern = "^[A-Za-z0-9_-]{43}$",
        example = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
    )]
    pub y: String,
    #[serde(rename = "use")]
    #[schema(inline)]
    pub key_use: JwkUse,
    #[schema(inline)]
    pub alg: JwkAlgorithm,
    /// The key id; tokens name it in their header's `kid`.
    #[schema(min_length = 1, example = "3f1c9a0b7d2e4c58")]
    pub kid: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkKeyType {
    #[serde(rename = "EC")]
    Ec,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkCurve {
    #[serde(rename = "P-256")]
    P256,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JwkUse {
    Sig,
}

#[derive(Debug, Serialize, ToSchema)]
pub enum JwkAlgorithm {
    #[serde(rename = "ES256")]
    Es256,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_of_credentials_shows_no_secret() {
        let request: TokenRequest = serde_urlencoded::from_str(
            "grant_type=password&username=claire%40example.org&password=hunter2-passphrase\
             &refresh_token=refresh-abc123&client_id=c&client_secret=client-secret-xyz",
        )
        .unwrap();
        let reset: ResetPassword = serde_json::from_str(
            r#"{"token": "reset-token-q1w2", "password": "new-pass-e3r4t5y6"}"#,
        )
        .unwrap();
        let response = TokenResponse {
            access_token: "eyJ.access.jwt".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            refresh_token: Some("refresh-next-456".into()),
        };
        let printed = format!("{request:?} {reset:?} {response:?}");
        for secret in [
            "hunter2-passphrase",
            "refresh-abc123",
            "client-secret-xyz",
            "reset-token-q1w2",
            "new-pass-e3r4t5y6",
            "eyJ.access.jwt",
            "refresh-next-456",
        ] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        assert!(printed.contains("claire@example.org"));
        // What goes on the wire still carries them.
        let wire = serde_json::to_string(&response).unwrap();
        assert!(wire.contains("eyJ.access.jwt") && wire.contains("refresh-next-456"));
    }
}
