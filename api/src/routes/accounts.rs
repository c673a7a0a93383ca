//! `/v1/accounts`: self-service sign-up for artists and venues.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::{DateTime, Utc};
use domain::access::{Account, NewAccount};
use persistence::PersistenceError;
use persistence::accounts;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::error::{ApiError, responses};
use crate::extract::JsonBody;
use crate::{idempotency, passwords};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_account);
}

/// An account, as its holder and the agency see it (never the password).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: uuid::Uuid,
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(example = "Claire Dupont")]
    pub display_name: String,
    /// `active` or `disabled`.
    #[schema(example = "active")]
    pub status: String,
    /// `admin`, `staff` or `reviewer` for agency accounts; null otherwise.
    pub agency_role: Option<String>,
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
            status: account.status.as_str().to_owned(),
            agency_role: account.agency_role.map(|r| r.as_str().to_owned()),
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
        min_length = 15,
        max_length = 128,
        example = "correct horse battery staple"
    )]
    password: String,
}

/// Sign up.
///
/// Creates an account for a member of a company, venue or festival. Agency roles are
/// given by administrators only. Then get a token with `POST /v1/auth/token`.
#[utoipa::path(
    tag = "auth",
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateAccount,
    responses(
        (status = 201, description = "Created.", body = AccountView),
        responses::BadRequest,
        responses::Unauthorized,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
        responses::Unavailable,
    )
)]
#[post("/accounts")]
pub async fn create_account(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateAccount>,
) -> Result<HttpResponse, ApiError> {
    let JsonBody { value, raw } = body;
    idempotency::once(&pool, &req, &raw, || async {
        let new = NewAccount::parse(&value.email, &value.display_name, &value.password)?;
        let password = value.password;
        let hash = web::block(move || passwords::hash(&password))
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
            match accounts::create(conn, new, hash, None) {
                Err(PersistenceError::Conflict { .. }) => Ok(None),
                other => {
                    let account = other?;
                    event.object_id = account.id.to_string();
                    persistence::audit::record(conn, event)?;
                    Ok(Some(account))
                }
            }
        })
        .await?
        .ok_or(ApiError::EmailTaken)?;
        Ok(HttpResponse::Created().json(AccountView::from(account)))
    })
    .await
}
