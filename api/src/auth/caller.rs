//! Who is calling. The extractor only checks the bearer token (signature, audience,
//! expiry) and so costs no database trip; what the caller may do now (its account's
//! status, agency role and session, or its API client's standing) is read by
//! [`Caller::principal`] inside the handler's own database task, so that a request
//! makes one blocking trip and disabling an account, resetting its password or revoking
//! a client still takes effect on the very next request.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use domain::access::{AccountId, AccountStatus, ActorKind, ClientId, ClientStanding, Principal};
use futures_util::future::{Ready, ready};
use persistence::identity::accounts::{self, AccountStanding, WithStanding};
use persistence::identity::api_clients;
use persistence::{DbConnection, PersistenceError};

use crate::auth::tokens::TokenKeys;
use crate::db::{self, Db};
use crate::http::error::ApiError;
use crate::http::limits::Limits;

/// Tokens of API clients name `client:{client_id}` as their subject.
pub const CLIENT_SUBJECT: &str = "client:";

/// Whom a verified token names, before the database says whether they still stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Credentials {
    Anonymous,
    Account { id: AccountId, session_epoch: i64 },
    Client { id: ClientId },
}

/// The caller of a request: anonymous, or the holder of a valid access token.
#[derive(Debug, Clone, Copy)]
pub struct Caller(Credentials);

impl Caller {
    /// A caller with no token.
    pub fn anonymous() -> Self {
        Self(Credentials::Anonymous)
    }

    /// True for a caller with no token: its answers are everyone's (and may be cached
    /// by shared caches where they are public).
    pub fn is_anonymous(&self) -> bool {
        self.0 == Credentials::Anonymous
    }

    /// 401 for an anonymous caller; accounts and API clients go on to the policy.
    pub fn signed_in(&self) -> Result<(), ApiError> {
        match self.0 {
            Credentials::Anonymous => Err(ApiError::Unauthenticated),
            _ => Ok(()),
        }
    }

    /// The account the token names, or 401 for an anonymous caller (403 for an API
    /// client in good standing, 401 for a revoked one: this needs a person). Costs no
    /// database trip for an account: whether it may still act is for
    /// [`Caller::principal`] to say, in the handler's own trip.
    pub async fn account(&self, pool: &Db) -> Result<AccountId, ApiError> {
        match self.0 {
            Credentials::Account { id, .. } => Ok(id),
            Credentials::Anonymous => Err(ApiError::Unauthenticated),
            Credentials::Client { .. } => {
                self.resolve(pool).await?;
                Err(ApiError::Forbidden)
            }
        }
    }

    /// Who acts, as the audit log and idempotency keys name them.
    pub fn actor(&self) -> (ActorKind, Option<String>) {
        match self.0 {
            Credentials::Anonymous => (ActorKind::Anonymous, None),
            Credentials::Account { id, .. } => (ActorKind::Account, Some(id.to_string())),
            Credentials::Client { id } => (ActorKind::Client, Some(id.to_string())),
        }
    }

    /// The caller as the database knows it now, read on `conn` (one read by primary
    /// key for an account; two for an API client, whatever its maker's memberships).
    /// A disabled account, a token issued before the account's last password reset, a
    /// revoked or suspended client: 401, as if the token were bad.
    pub fn principal(&self, conn: &mut DbConnection) -> Result<Principal, ApiError> {
        let gone = |error: PersistenceError| match error {
            PersistenceError::NotFound => ApiError::InvalidToken,
            other => other.into(),
        };
        match self.0 {
            Credentials::Anonymous => Ok(Principal::Anonymous),
            Credentials::Account { id, .. } => {
                let standing = match accounts::standing(conn, id) {
                    Ok(standing) => Some(standing),
                    Err(PersistenceError::NotFound) => None,
                    Err(other) => return Err(other.into()),
                };
                self.standing_principal(standing)
            }
            Credentials::Client { id } => {
                let (client, _) = api_clients::find(conn, id).map_err(gone)?;
                // Revoked, or suspended (its maker disabled or no longer an owner of any
                // of its structures): its tokens stop at once.
                let ClientStanding::Active { acts_for } = client.standing() else {
                    return Err(ApiError::InvalidToken);
                };
                Ok(Principal::Client {
                    id: client.id,
                    structures: acts_for,
                    scopes: client.scopes,
                })
            }
        }
    }

    /// The account the token names, whose standing a read may fetch beside its object
    /// (then [`Caller::judged_with`] judges it): one query instead of two.
    pub fn account_id(&self) -> Option<AccountId> {
        match self.0 {
            Credentials::Account { id, .. } => Some(id),
            _ => None,
        }
    }

    /// The principal of an account caller and the object read in the same query as its
    /// standing ([`WithStanding`]): the caller is judged first (401 when the account is
    /// gone or disabled, or the token predates its last session change, whether or not
    /// the object exists), then a missing object is a 404.
    pub fn judged_with<T>(&self, found: WithStanding<T>) -> Result<(Principal, T), ApiError> {
        let (standing, object) = match found {
            Some((standing, object)) => (Some(standing), object),
            None => (None, None),
        };
        let principal = self.standing_principal(standing)?;
        let object = object.ok_or(ApiError::from(PersistenceError::NotFound))?;
        Ok((principal, object))
    }

    /// The principal of an account caller from its standing read just now (`None`: the
    /// account is gone): 401 when it is disabled or the token predates its last session
    /// change, as [`Caller::principal`] says.
    fn standing_principal(&self, standing: Option<AccountStanding>) -> Result<Principal, ApiError> {
        let Credentials::Account { id, session_epoch } = self.0 else {
            return Err(ApiError::Internal(
                "an account's standing judged for another caller".into(),
            ));
        };
        match standing {
            Some(standing)
                if standing.status == AccountStatus::Active
                    && standing.session_epoch == session_epoch =>
            {
                Ok(Principal::Account {
                    id,
                    agency_role: standing.agency_role,
                })
            }
            _ => Err(ApiError::InvalidToken),
        }
    }

    /// The caller's principal in a database trip of its own, for a refusal that must
    /// come before work done without the database (reading a bad body, hashing).
    pub async fn resolve(&self, pool: &Db) -> Result<Principal, ApiError> {
        let caller = *self;
        db::run(pool, move |conn| caller.principal(conn)).await
    }

    fn from_token(
        keys: &TokenKeys,
        limits: Option<&Limits>,
        token: &str,
    ) -> Result<Self, ApiError> {
        let claims = keys.verify(token).ok_or(ApiError::InvalidToken)?;
        let credentials = match claims.sub.strip_prefix(CLIENT_SUBJECT) {
            Some(client) => Credentials::Client {
                id: client.parse().map_err(|_| ApiError::InvalidToken)?,
            },
            None => Credentials::Account {
                id: claims.sub.parse().map_err(|_| ApiError::InvalidToken)?,
                // Tokens issued before epochs existed count as epoch 0.
                session_epoch: claims.epoch.unwrap_or(0),
            },
        };
        if let Some(limits) = limits {
            Limits::check(&limits.per_caller, &claims.sub)?;
        }
        Ok(Self(credentials))
    }
}

fn bearer(req: &HttpRequest) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::InvalidToken)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::InvalidToken),
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(bearer(req).and_then(|token| {
            let Some(token) = token else {
                return Ok(Self::anonymous());
            };
            let keys = req
                .app_data::<web::Data<TokenKeys>>()
                .ok_or_else(|| ApiError::Internal("token keys missing".into()))?;
            let limits = req.app_data::<web::Data<Limits>>();
            Self::from_token(keys, limits.map(|l| l.get_ref()), token)
        }))
    }
}

/// The account acting, or 401 for an anonymous caller (403 for an API client: this
/// needs a person).
pub fn account_of(principal: &Principal) -> Result<AccountId, ApiError> {
    match principal {
        Principal::Account { id, .. } => Ok(*id),
        Principal::Anonymous => Err(ApiError::Unauthenticated),
        Principal::Client { .. } => Err(ApiError::Forbidden),
    }
}

/// A missing row is a 404; everything else keeps its meaning.
pub fn not_found_as(error: PersistenceError, replacement: ApiError) -> ApiError {
    match error {
        PersistenceError::NotFound => replacement,
        other => other.into(),
    }
}
