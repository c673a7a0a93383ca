//! `/v1/accounts`: self-service sign-up for artists and venues.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::access::{
    Account, AccountAction, AccountId, AccountStatus, AgencyRole, NewAccount, may_on_account,
};
use persistence::PersistenceError;
use persistence::identity::accounts;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit;
use crate::auth::Caller;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::enums;
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, PathId, QueryParams};
use crate::http::idempotency;
use crate::http::limits::{self, Limits};
use crate::http::pagination::{self, Page};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_account)
        .service(list_accounts)
        .service(get_account)
        .service(update_account)
        .service(create_password_reset);
}

/// An account, as its holder and the agency see it (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: uuid::Uuid,
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(example = "Claire Dupont")]
    pub display_name: String,
    #[schema(value_type = enums::AccountStatus)]
    pub status: AccountStatus,
    /// The agency role of agency accounts; null otherwise.
    #[schema(value_type = Option<enums::AgencyRole>)]
    pub agency_role: Option<AgencyRole>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<Account> for AccountView {
    fn from(account: Account) -> Self {
        Self {
            id: account.id.as_uuid(),
            email: account.email.as_ref().to_owned(),
            display_name: account.display_name,
            status: account.status,
            agency_role: account.agency_role,
            created_at: account.created_at,
            updated_at: account.updated_at,
            version: account.version,
        }
    }
}

/// A sign-up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccount {
    #[schema(
        pattern = r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
        max_length = 254,
        example = "claire@compagnie.example"
    )]
    email: String,
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100,
        example = "Claire Dupont"
    )]
    display_name: String,
    /// 15 to 128 characters; a passphrase is best.
    #[schema(
        value_type = String,
        min_length = 15,
        max_length = 128,
        example = "correct horse battery staple"
    )]
    password: SecretString,
}

/// Sign up.
///
/// Creates an account for a member of a company, venue or festival. Agency roles are
/// given by administrators only. Then get a token with `POST /v1/auth/token`. Limited
/// per IP address (`OES_SIGN_UP_LIMIT_PER_IP`).
#[utoipa::path(
    tag = "auth",
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateAccount,
    responses(
        (status = 201, description = "Created.", body = AccountView),
        responses::EmailConflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/accounts")]
pub async fn create_account(
    caller: Caller,
    pool: web::Data<Db>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    body: JsonBody<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    Limits::check(&limits.sign_up_per_ip, &limits::client_ip(&req))?;
    let JsonBody { value, raw } = body;
    idempotency::once(&pool, &req, &raw, || async {
        let new = NewAccount::parse(
            &value.email,
            &value.display_name,
            value.password.expose_secret(),
        )?;
        let password = value.password;
        let hash = web::block(move || passwords::hash(password.expose_secret()))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(ApiError::Internal)?;
        let mut event = audit::event(
            &caller,
            "account.create",
            "account",
            "",
            &["email", "display_name", "password"],
        );
        let account = db::run(&pool, move |conn| {
            let created = persistence::audit::recorded(
                conn,
                |conn| accounts::create(conn, new, hash, None),
                move |account| {
                    event.object_id = account.id.to_string();
                    event
                },
            );
            match created {
                Err(PersistenceError::Conflict { .. }) => Ok(None),
                other => other.map(Some),
            }
        })
        .await?
        .ok_or(ApiError::EmailTaken)?;
        Ok(HttpResponse::Created().json(AccountView::from(account)))
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListAccountsParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    #[param(value_type = Option<enums::AccountStatus>)]
    status: Option<AccountStatus>,
    #[param(value_type = Option<enums::AgencyRole>)]
    agency_role: Option<AgencyRole>,
}

/// One page of accounts.
pub type AccountPage = Page<AccountView>;

#[derive(Debug, Serialize, Deserialize)]
struct AccountCursor {
    after: String,
}

/// Changes to an account. Holders change their name; staff also enable and disable
/// accounts; administrators also give and take agency roles (`null` takes it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccount {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$", max_length = 100)]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = enums::AccountStatus)]
    status: Option<AccountStatus>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<enums::AgencyRole>)]
    agency_role: Option<Option<AgencyRole>>,
}

/// How long a password reset token works.
const RESET_VALIDITY: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A single-use password reset token, to hand to the account's holder.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordReset {
    /// Send it to the holder over a channel you trust; it works once.
    #[serde(serialize_with = "secrets::serialize_exposed")]
    #[schema(value_type = String)]
    pub reset_token: SecretString,
    pub expires_at: DateTime<Utc>,
}

/// The account if the policy lets the caller do `action` to it: 404 when the caller may
/// not even read it, 403 when it may read but not do this.
async fn authorized_target(
    pool: &Db,
    caller: &Caller,
    id: AccountId,
    actions: &[AccountAction],
) -> Result<Account, ApiError> {
    caller.account()?;
    if !may_on_account(&caller.0, AccountAction::Read, id, None) {
        return Err(ApiError::NotFound);
    }
    let target = db::run(pool, move |conn| accounts::find(conn, id)).await?;
    for &action in actions {
        if !may_on_account(&caller.0, action, id, target.agency_role) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(target)
}

/// List accounts (agency staff and administrators).
#[utoipa::path(
    tag = "accounts",
    security(("oauth2" = [])),
    params(ListAccountsParams),
    responses(
        (status = 200, description = "One page of accounts, oldest first.", body = AccountPage),
        responses::Forbidden,
    )
)]
#[get("/accounts")]
pub async fn list_accounts(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListAccountsParams>,
) -> Result<HttpResponse, ApiError> {
    let me = caller.account()?;
    if !may_on_account(&caller.0, AccountAction::List, me, None) {
        return Err(ApiError::Forbidden);
    }
    let limit = pagination::limit(params.limit)?;
    let after = params
        .cursor
        .as_deref()
        .map(|cursor| {
            pagination::decode::<AccountCursor>(cursor)
                .and_then(|c| c.after.parse().map_err(|_| pagination::invalid_cursor()))
        })
        .transpose()?;
    let (status, role) = (params.status, params.agency_role);
    let persistence::page::Page {
        items: accounts,
        more,
    } = db::run(&pool, move |conn| {
        accounts::list(conn, status, role, after, limit)
    })
    .await?;
    let next_cursor = more
        .then(|| {
            accounts.last().map(|a| {
                pagination::encode(&AccountCursor {
                    after: a.id.to_string(),
                })
            })
        })
        .flatten();
    Ok(AccountPage {
        data: accounts.into_iter().map(Into::into).collect(),
        next_cursor,
    }
    .respond(&req))
}

/// Get an account (yours, or any for agency staff).
#[utoipa::path(
    tag = "accounts",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id.")),
    responses(
        (status = 200, description = "The account.", body = AccountView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/accounts/{id}")]
pub async fn get_account(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let account = authorized_target(&pool, &caller, id, &[]).await?;
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

/// Update an account.
///
/// Holders change their name. Staff also disable and enable accounts (effective at once:
/// tokens are checked on every request). Administrators also give and take agency roles;
/// nobody changes their own status or role, so the agency cannot lock itself out.
#[utoipa::path(
    tag = "accounts",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id.")),
    request_body = UpdateAccount,
    responses(
        (status = 200, description = "The updated account.", body = AccountView),
        responses::Forbidden,
        responses::NotFound,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/accounts/{id}")]
pub async fn update_account(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<AccountId>,
    body: JsonBody<UpdateAccount>,
) -> Result<HttpResponse, ApiError> {
    let UpdateAccount {
        display_name,
        status,
        agency_role: new_role,
    } = body.value;
    let display_name = display_name
        .map(|name| {
            domain::text::single_line(&name, domain::access::DISPLAY_NAME_MAX)
                .map_err(|problem| domain::ValidationError::single("display_name", problem))
        })
        .transpose()?;
    let mut actions = Vec::new();
    for (action, asked) in [
        (AccountAction::Rename, display_name.is_some()),
        (AccountAction::SetStatus, status.is_some()),
        (AccountAction::SetRole, new_role.is_some()),
    ] {
        if asked {
            actions.push(action);
        }
    }
    authorized_target(&pool, &caller, id, &actions).await?;
    let mut fields = Vec::new();
    for (name, present) in [
        ("display_name", display_name.is_some()),
        ("status", status.is_some()),
        ("agency_role", new_role.is_some()),
    ] {
        if present {
            fields.push(name);
        }
    }
    let event = audit::event(&caller, "account.update", "account", id, &fields);
    let account = db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| accounts::update(conn, id, display_name, status, new_role),
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(AccountView::from(account)))
}

/// Make a password reset token (agency staff and administrators).
///
/// Single-use, valid one hour; redeemed with `POST /v1/auth/password-reset`. Redeeming it
/// signs the account out everywhere.
#[utoipa::path(
    tag = "accounts",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Account id.")),
    responses(
        (status = 201, description = "The token, shown once.", body = PasswordReset),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/accounts/{id}/password-resets")]
pub async fn create_password_reset(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<AccountId>,
) -> Result<HttpResponse, ApiError> {
    authorized_target(&pool, &caller, id, &[AccountAction::ResetPassword]).await?;
    let token = secrets::random_secret();
    let hash = secrets::lookup_hash(&token);
    let expires_at = persistence::clock::storable_now() + RESET_VALIDITY;
    let event = audit::event(
        &caller,
        "account.password_reset",
        "account",
        id,
        &["password_reset"],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| {
                persistence::identity::tokens::create_password_reset(conn, id, &hash, expires_at)
            },
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(PasswordReset {
        reset_token: token,
        expires_at,
    }))
}
