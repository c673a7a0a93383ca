//! The handlers of `/v1/accounts`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use domain::access::{AccountAction, AccountId, NewAccount, may_on_account};
use persistence::db::write_transaction;
use persistence::identity::accounts;
use persistence::{DbConnection, PersistenceError};
use secrecy::{ExposeSecret, SecretString};

use super::*;
use crate::audit;
use crate::auth::Caller;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::limits::{self, Limits};
use crate::http::pagination::{self};
use crate::mail::Mailer;

/// Sign up.
///
/// Creates an account for a member of a company, venue or festival. Agency roles are
/// given by administrators only. Then get a token with `POST /v1/auth/token`. Limited
/// per IP address (`OES_SIGN_UP_LIMIT_PER_IP`).
#[utoipa::path(
    tag = "auth",
    security(),
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
    mailer: web::Data<Mailer>,
    limits: web::Data<Limits>,
    req: HttpRequest,
    body: JsonBody<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    Limits::check(&limits.sign_up_per_ip, &limits::client_ip(&req))?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut new = NewAccount::parse(
            &value.email,
            &value.display_name,
            value.password.expose_secret(),
        )?;
        new.language = value.language.unwrap_or_default();
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
        Ok(move |conn: &mut DbConnection| {
            // A bearer token is not needed here, but one that no longer stands is refused
            // as everywhere else (the audit log would name its holder).
            caller.principal(conn)?;
            let account = write_transaction::<_, ApiError>(conn, |conn| {
                let created = persistence::audit::recorded(
                    conn,
                    |conn| accounts::create(conn, new, hash, None),
                    move |account| {
                        event.object_id = account.id.to_string();
                        event
                    },
                );
                let account = match created {
                    Err(PersistenceError::Conflict { .. }) => {
                        Err(AccountProblem::EmailTaken.into())
                    }
                    other => other.map_err(ApiError::from),
                }?;
                // The link that verifies the email, mailed if the account commits.
                mailer.email_verification(conn, &account)?;
                Ok(account)
            })?;
            Reply::json(StatusCode::CREATED, &AccountView::from(account))
        })
    })
    .await
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
    let me = caller.account(&pool).await?;
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
        if !may_on_account(&caller.principal(conn)?, AccountAction::List, me, None) {
            return Err(ApiError::Forbidden);
        }
        Ok(accounts::list(conn, status, role, after, limit)?)
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
    let (_, account) =
        db::run(&pool, move |conn| authorized_target(conn, &caller, id, &[])).await?;
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
    let asked = body.open().and_then(|opened| {
        let UpdateAccount {
            display_name,
            status,
            agency_role,
        } = opened.value;
        let display_name = display_name
            .map(|name| {
                domain::text::single_line(&name, domain::access::DISPLAY_NAME_MAX)
                    .map_err(|problem| domain::ValidationError::single("display_name", problem))
            })
            .transpose()?;
        Ok((display_name, status, agency_role))
    });
    let fields: Vec<&str> = match &asked {
        Ok((display_name, status, new_role)) => [
            ("display_name", display_name.is_some()),
            ("status", status.is_some()),
            ("agency_role", new_role.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect(),
        Err(_) => Vec::new(),
    };
    let event = audit::event(&caller, "account.update", "account", id, &fields);
    let account = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let (principal, target) = authorized_target(conn, &caller, id, &[])?;
            // What is wrong with the body is told only to those who may read the account.
            let (display_name, status, new_role) = asked?;
            let actions: Vec<AccountAction> = [
                (AccountAction::Rename, display_name.is_some()),
                (AccountAction::SetStatus, status.is_some()),
                (AccountAction::SetRole, new_role.is_some()),
            ]
            .into_iter()
            .filter_map(|(action, asked)| asked.then_some(action))
            .collect();
            permitted(&principal, &target, &actions)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| accounts::update(conn, id, display_name, status, new_role),
                |_| event,
            )?)
        })
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
    mailer: web::Data<Mailer>,
    PathId(id): PathId<AccountId>,
) -> Result<HttpResponse, ApiError> {
    let token = secrets::random_secret();
    let hash = secrets::lookup_hash(&token);
    let mailed = SecretString::from(token.expose_secret().to_owned());
    let expires_at = persistence::clock::storable_now() + RESET_VALIDITY;
    let event = audit::event(
        &caller,
        "account.password_reset",
        "account",
        id,
        &["password_reset"],
    );
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let (_, holder) =
                authorized_target(conn, &caller, id, &[AccountAction::ResetPassword])?;
            persistence::audit::recorded(
                conn,
                |conn| {
                    persistence::identity::tokens::create_password_reset(
                        conn, id, &hash, expires_at,
                    )
                },
                |_| event,
            )?;
            // The link goes to the holder too, if the token commits.
            mailer.password_reset(conn, &holder, &mailed)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(PasswordReset {
        reset_token: token,
        expires_at,
    }))
}
