//! `/v1/api-clients`: credentials for partner systems and scripts.
//!
//! A structure's owner (or agency staff) makes a client that acts for some of its
//! structures with some scopes. The secret is shown once and kept hashed; it can be
//! rotated, and the client revoked. A client belongs to its structures: their owners
//! see, revoke, rotate and take it over (`domain::access::may_on_client`), and it acts
//! only where its maker still may (`domain::access::client_standing`).

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use domain::access::{
    ClientAction, ClientId, ClientStake, ClientStanding, Principal, Scope, StructureAction, may,
    may_on_client,
};
use domain::{FieldProblem, StructureId, ValidationError};
use persistence::db::write_transaction;
use persistence::identity::api_clients::{self, ApiClient};
use persistence::{DbConnection, PersistenceError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Caller;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, FieldIssue, Issue, responses};
use crate::http::extract::{JsonBody, Opened, PathId};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::Page;
use crate::routes::shared::{find_live, membership_of};
use crate::routes::structures::StructureProblem;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_api_client)
        .service(list_api_clients)
        .service(get_api_client)
        .service(rotate_api_client_secret)
        .service(revoke_api_client)
        .service(take_over_api_client);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum ScopeDto {
    /// Read the private data of its structures.
    #[serde(rename = "read")]
    Read,
    /// Edit its structures' profiles.
    #[serde(rename = "structures:write")]
    StructuresWrite,
    /// Push productions, tours and performances.
    #[serde(rename = "programming:write")]
    ProgrammingWrite,
    /// File and follow dossiers.
    #[serde(rename = "dossiers:write")]
    DossiersWrite,
}

impl From<ScopeDto> for Scope {
    fn from(scope: ScopeDto) -> Self {
        match scope {
            ScopeDto::Read => Self::Read,
            ScopeDto::StructuresWrite => Self::StructuresWrite,
            ScopeDto::ProgrammingWrite => Self::ProgrammingWrite,
            ScopeDto::DossiersWrite => Self::DossiersWrite,
        }
    }
}

impl From<Scope> for ScopeDto {
    fn from(scope: Scope) -> Self {
        match scope {
            Scope::Read => Self::Read,
            Scope::StructuresWrite => Self::StructuresWrite,
            Scope::ProgrammingWrite => Self::ProgrammingWrite,
            Scope::DossiersWrite => Self::DossiersWrite,
        }
    }
}

/// Whether a client may get tokens and act.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiClientStatus {
    /// It acts for `acts_for`.
    Active,
    /// Its maker is disabled or owns none of its structures any more: tokens and
    /// requests are refused until an owner of all its structures takes it over.
    Suspended,
    Revoked,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientView {
    /// The `client_id` of the client credentials grant.
    pub id: uuid::Uuid,
    #[schema(example = "Billetterie du Théâtre de Nîmes")]
    pub name: String,
    pub scopes: Vec<ScopeDto>,
    /// The structures it was made for.
    pub structure_ids: Vec<uuid::Uuid>,
    /// Those it acts for now: where the account answerable for it is still an owner
    /// (all of them for agency staff); empty unless `active`.
    pub acts_for: Vec<uuid::Uuid>,
    pub status: ApiClientStatus,
    /// The account answerable for it: its maker, or the owner who last took it over.
    pub created_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    /// When it last got a token.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiClient> for ApiClientView {
    fn from(client: ApiClient) -> Self {
        let (status, acts_for) = match client.standing() {
            ClientStanding::Active { acts_for } => (ApiClientStatus::Active, acts_for),
            ClientStanding::Suspended => (ApiClientStatus::Suspended, Vec::new()),
            ClientStanding::Revoked => (ApiClientStatus::Revoked, Vec::new()),
        };
        Self {
            id: client.id.as_uuid(),
            structure_ids: client.structure_ids().iter().map(|s| s.as_uuid()).collect(),
            acts_for: acts_for.iter().map(|s| s.as_uuid()).collect(),
            status,
            name: client.name,
            scopes: client.scopes.into_iter().map(Into::into).collect(),
            created_by: client.maker.id.as_uuid(),
            created_at: client.created_at,
            last_used_at: client.last_used_at,
            revoked_at: client.revoked_at,
        }
    }
}

/// A client with its secret: the only time the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiClientCredentials {
    pub client: ApiClientView,
    /// Keep it safe: only its hash is stored. Absent only from the replay of a creation
    /// (same `Idempotency-Key`): the secret is never kept in clear, so rotate it if lost.
    #[serde(
        serialize_with = "crate::auth::secrets::serialize_exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = String, required = false)]
    pub client_secret: Option<SecretString>,
}

/// API clients (one page: at most 200).
pub type ApiClientPage = Page<ApiClientView>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiClient {
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 100
    )]
    name: String,
    /// Structures it acts for; you must own each (or be agency staff).
    #[schema(min_items = 1, max_items = 20)]
    structure_ids: Vec<uuid::Uuid>,
    #[schema(min_items = 1, max_items = 4)]
    scopes: Vec<ScopeDto>,
}

/// The client, if `principal` may do `action` to it now: 404 for a caller who may not
/// see it, 403 for one who sees it but may not do this. Costs three queries whatever the
/// caller's memberships: only the client's own structures are looked at.
fn authorized(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ClientId,
    action: ClientAction,
) -> Result<ApiClient, ApiError> {
    let (client, _) = api_clients::find(conn, id)?;
    let stake = match principal {
        Principal::Account { id, .. } if !principal.is_staff() => ClientStake::of(
            api_clients::owned_by(conn, *id, &client)?,
            client.structures.len(),
        ),
        _ => ClientStake::None,
    };
    if may_on_client(principal, action, stake) {
        Ok(client)
    } else if may_on_client(principal, ClientAction::Read, stake) {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Checks `action` and runs `write` with its audit event in one transaction, so that the
/// right is checked at the moment of the write.
async fn authorized_write<T: Send + 'static>(
    pool: &Db,
    caller: &Caller,
    id: ClientId,
    action: ClientAction,
    event: persistence::audit::NewEvent,
    write: impl FnOnce(&mut DbConnection, ApiClient) -> Result<T, PersistenceError> + Send + 'static,
) -> Result<T, ApiError> {
    caller.account()?;
    let principal = caller.0.clone();
    db::run(pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let client = authorized(conn, &principal, id, action)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| write(conn, client),
                |_| event,
            )?)
        })
    })
    .await
}

async fn new_secret() -> Result<(SecretString, String), ApiError> {
    let secret = secrets::random_secret();
    let for_hash = secret.clone();
    let hash = web::block(move || passwords::hash(for_hash.expose_secret()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    Ok((secret, hash))
}

/// Create an API client.
///
/// The answer holds the client's secret, shown this once: only its hash is kept. A
/// replay (same `Idempotency-Key` and body) returns the client without its secret;
/// rotate it if lost.
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateApiClient,
    responses(
        (status = 201, description = "Created; the secret is in this answer only (not in a replay).", body = ApiClientCredentials),
        responses::Forbidden,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/api-clients")]
pub async fn create_api_client(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateApiClient>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account()?;
    let Opened { value, raw } = body.open()?;
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut errors = ValidationError::default();
        let name = errors.check("name", domain::text::single_line(&value.name, 100));
        let structures: Vec<StructureId> =
            value.structure_ids.iter().map(|&id| id.into()).collect();
        if structures.is_empty() || structures.len() > 20 {
            errors.push("structure_ids", FieldProblem::TooMany { max: 20 });
        }
        if structures.iter().collect::<HashSet<_>>().len() != structures.len() {
            errors.push("structure_ids", FieldProblem::Duplicate);
        }
        let scopes: Vec<Scope> = value.scopes.iter().map(|&s| s.into()).collect();
        if scopes.is_empty() || scopes.len() > 4 {
            errors.push("scopes", FieldProblem::TooMany { max: 4 });
        }
        if scopes.iter().collect::<HashSet<_>>().len() != scopes.len() {
            errors.push("scopes", FieldProblem::Duplicate);
        }
        errors.into_result()?;
        for (i, &structure) in structures.iter().enumerate() {
            let live = find_live(&pool, structure).await;
            let owner = match live {
                Ok(_) => may(
                    &caller.0,
                    StructureAction::ManageMembers,
                    membership_of(&pool, &caller, structure).await?,
                ),
                Err(ApiError::NotFound) => false,
                Err(error) if error.area() == Some(&StructureProblem::Archived) => false,
                Err(other) => return Err(other),
            };
            if !owner {
                return Err(ApiError::Validation(vec![FieldIssue::new(
                    format!("structure_ids[{i}]"),
                    Issue::Domain(FieldProblem::NotOneOf {
                        allowed: "a live structure you own".into(),
                    }),
                )]));
            }
        }
        let (secret, hash) = new_secret().await?;
        let name = name.unwrap_or_default();
        let mut event = audit::event(
            &caller,
            "api_client.create",
            "api_client",
            "",
            &["name", "scopes", "structure_ids", "secret"],
        );
        Ok(move |conn: &mut DbConnection| {
            let client = persistence::audit::recorded(
                conn,
                |conn| api_clients::create(conn, name, hash, &scopes, &structures, account),
                move |client| {
                    event.object_id = client.id.to_string();
                    event
                },
            )?;
            let client = ApiClientView::from(client);
            // The secret is shown once and never kept: a replay gets the client without it.
            Reply::json(
                StatusCode::CREATED,
                &ApiClientCredentials {
                    client: client.clone(),
                    client_secret: Some(secret),
                },
            )?
            .replayed_as(&ApiClientCredentials {
                client,
                client_secret: None,
            })
        })
    })
    .await
}

/// List the API clients of the structures you own (every client, for agency staff).
///
/// Whoever made them: an owner sees every client acting for one of its structures, and
/// a maker who no longer owns any of them no longer sees it.
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "Newest first.", body = ApiClientPage),
        responses::Forbidden,
    )
)]
#[get("/api-clients")]
pub async fn list_api_clients(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account()?;
    let owner = (!caller.0.is_staff()).then_some(account);
    let clients = db::run(&pool, move |conn| api_clients::list(conn, owner)).await?;
    Ok(ApiClientPage {
        data: clients.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }
    .respond(&req))
}

/// Get an API client.
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id.")),
    responses(
        (status = 200, description = "The client.", body = ApiClientView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/api-clients/{id}")]
pub async fn get_api_client(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.account()?;
    let principal = caller.0.clone();
    let client = db::run(&pool, move |conn| {
        authorized(conn, &principal, id, ClientAction::Read)
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiClientView::from(client)))
}

/// Rotate an API client's secret.
///
/// For an owner of all its structures, or agency staff (403 for an owner of some). The
/// old secret stops working at once; tokens already issued run until they expire.
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id.")),
    responses(
        (status = 200, description = "The new secret, shown once.", body = ApiClientCredentials),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/api-clients/{id}/secret")]
pub async fn rotate_api_client_secret(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<ClientId>,
) -> Result<HttpResponse, ApiError> {
    caller.account()?;
    // Checked before hashing (no work for strangers), and again with the write.
    let principal = caller.0.clone();
    db::run(&pool, move |conn| {
        authorized(conn, &principal, id, ClientAction::RotateSecret)
    })
    .await?;
    let (secret, hash) = new_secret().await?;
    let event = audit::event(
        &caller,
        "api_client.rotate_secret",
        "api_client",
        id,
        &["secret"],
    );
    let client = authorized_write(
        &pool,
        &caller,
        id,
        ClientAction::RotateSecret,
        event,
        move |conn, client| api_clients::rotate_secret(conn, id, hash).map(|()| client),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ApiClientCredentials {
        client: client.into(),
        client_secret: Some(secret),
    }))
}

/// Revoke an API client.
///
/// For an owner of any of its structures, or agency staff. Its tokens stop working at
/// once: every request checks the client.
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id.")),
    responses(
        (status = 204, description = "Revoked."),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[delete("/api-clients/{id}")]
pub async fn revoke_api_client(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<ClientId>,
) -> Result<HttpResponse, ApiError> {
    let event = audit::event(
        &caller,
        "api_client.revoke",
        "api_client",
        id,
        &["revoked_at"],
    );
    authorized_write(
        &pool,
        &caller,
        id,
        ClientAction::Revoke,
        event,
        move |conn, _| api_clients::revoke(conn, id),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Take an API client over.
///
/// For an owner of all its structures, or agency staff: you become the account
/// answerable for it (`created_by`), and it acts for what you may do. This is how a
/// client suspended by its maker's departure or disabling works again; its secret is
/// unchanged (rotate it if the former maker knew it).
#[utoipa::path(
    tag = "api-clients",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Client id.")),
    responses(
        (status = 200, description = "The client, now yours.", body = ApiClientView),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/api-clients/{id}/takeover")]
pub async fn take_over_api_client(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<ClientId>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account()?;
    let event = audit::event(
        &caller,
        "api_client.take_over",
        "api_client",
        id,
        &["created_by"],
    );
    let client = authorized_write(
        &pool,
        &caller,
        id,
        ClientAction::TakeOver,
        event,
        move |conn, _| api_clients::take_over(conn, id, account),
    )
    .await?;
    Ok(HttpResponse::Ok().json(ApiClientView::from(client)))
}
