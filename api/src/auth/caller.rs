//! Who is calling: the bearer token, checked, and its account, read from the database
//! on every request so that disabling an account or resetting its password takes effect
//! at once. An API client is read with its maker's standing (two queries, whatever the
//! maker's memberships), so that it acts only where its maker still may.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use domain::access::{AccountId, AccountStatus, ClientId, ClientStanding, Principal};
use futures_util::future::LocalBoxFuture;
use persistence::PersistenceError;
use persistence::identity::{accounts, api_clients};

use crate::auth::tokens::TokenKeys;
use crate::db::{self, Db};
use crate::http::error::ApiError;
use crate::http::limits::Limits;

/// Tokens of API clients name `client:{client_id}` as their subject.
pub const CLIENT_SUBJECT: &str = "client:";

/// The authenticated principal of a request (anonymous without a token).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// 401 for an anonymous caller; accounts and API clients go on to the policy.
    pub fn signed_in(&self) -> Result<(), ApiError> {
        match self.0 {
            Principal::Anonymous => Err(ApiError::Unauthenticated),
            _ => Ok(()),
        }
    }

    /// The account, or 401 for an anonymous caller (403 for an API client: this needs
    /// a person).
    pub fn account(&self) -> Result<AccountId, ApiError> {
        match &self.0 {
            Principal::Account { id, .. } => Ok(*id),
            Principal::Anonymous => Err(ApiError::Unauthenticated),
            Principal::Client { .. } => Err(ApiError::Forbidden),
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(ApiError::InvalidToken),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let keys = req.app_data::<web::Data<TokenKeys>>().cloned();
        let limits = req.app_data::<web::Data<Limits>>().cloned();
        let pool = req.app_data::<web::Data<Db>>().cloned();
        Box::pin(async move {
            let Some(token) = token? else {
                return Ok(Self(Principal::Anonymous));
            };
            let (Some(keys), Some(pool)) = (keys, pool) else {
                return Err(ApiError::Internal("token keys or pool missing".into()));
            };
            let claims = keys.verify(&token).ok_or(ApiError::InvalidToken)?;
            if let Some(client) = claims.sub.strip_prefix(CLIENT_SUBJECT) {
                let id: ClientId = client.parse().map_err(|_| ApiError::InvalidToken)?;
                let (client, _) = db::run(&pool, move |conn| api_clients::find(conn, id))
                    .await
                    .map_err(|error| match error {
                        ApiError::NotFound => ApiError::InvalidToken,
                        other => other,
                    })?;
                // Revoked, or suspended (its maker disabled or no longer an owner of any
                // of its structures): its tokens stop at once.
                let ClientStanding::Active { acts_for } = client.standing() else {
                    return Err(ApiError::InvalidToken);
                };
                if let Some(limits) = &limits {
                    Limits::check(&limits.per_caller, &claims.sub)?;
                }
                return Ok(Self(Principal::Client {
                    id: client.id,
                    structures: acts_for,
                    scopes: client.scopes,
                }));
            }
            let id: AccountId = claims.sub.parse().map_err(|_| ApiError::InvalidToken)?;
            let account = db::run(&pool, move |conn| accounts::find(conn, id))
                .await
                .map_err(|error| match error {
                    ApiError::NotFound => ApiError::InvalidToken,
                    other => other,
                })?;
            if account.status != AccountStatus::Active {
                return Err(ApiError::InvalidToken);
            }
            // Issued before the account's last password reset: that sign-in has ended.
            if claims.epoch.unwrap_or(0) != account.session_epoch {
                return Err(ApiError::InvalidToken);
            }
            if let Some(limits) = &limits {
                Limits::check(&limits.per_caller, &claims.sub)?;
            }
            Ok(Self(Principal::Account {
                id: account.id,
                agency_role: account.agency_role,
            }))
        })
    }
}

/// A missing row is a 404; everything else keeps its meaning.
pub fn not_found_as(error: PersistenceError, replacement: ApiError) -> ApiError {
    match error {
        PersistenceError::NotFound => replacement,
        other => other.into(),
    }
}
