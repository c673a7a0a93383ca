//! `/v1/api-clients`: credentials for partner systems and scripts.
//!
//! A structure's owner (or agency staff) makes a client that acts for some of its
//! structures with some scopes. The secret is shown once and kept hashed; it can be
//! rotated, and the client revoked.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use domain::access::{ClientId, Scope, StructureAction, may, may_manage_client};
use domain::{FieldProblem, StructureId, ValidationError};
use persistence::DbConnection;
use persistence::identity::api_clients::{self, ApiClient};
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
        .service(revoke_api_client);
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

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientView {
    /// The `client_id` of the client credentials grant.
    pub id: uuid::Uuid,
    #[schema(example = "Billetterie du Théâtre de Nîmes")]
    pub name: String,
    pub scopes: Vec<ScopeDto>,
    /// The structures it acts for.
    pub structure_ids: Vec<uuid::Uuid>,
    pub created_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    /// When it last got a token.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiClient> for ApiClientView {
    fn from(client: ApiClient) -> Self {
        Self {
            id: client.id.as_uuid(),
            name: client.name,
            scopes: client.scopes.into_iter().map(Into::into).collect(),
            structure_ids: client.structures.iter().map(|s| s.as_uuid()).collect(),
            created_by: client.created_by.as_uuid(),
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

/// The client, if the caller made it or is staff; 404 otherwise.
async fn managed_client(pool: &Db, caller: &Caller, id: ClientId) -> Result<ApiClient, ApiError> {
    caller.account()?;
    let (client, _) = db::run(pool, move |conn| api_clients::find(conn, id)).await?;
    if may_manage_client(&caller.0, client.created_by) {
        Ok(client)
    } else {
        Err(ApiError::NotFound)
    }
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

/// List your API clients (every client, for agency staff).
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
    let made_by = (!caller.0.is_staff()).then_some(account);
    let clients = db::run(&pool, move |conn| api_clients::list(conn, made_by)).await?;
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
    let client = managed_client(&pool, &caller, id).await?;
    Ok(HttpResponse::Ok().json(ApiClientView::from(client)))
}

/// Rotate an API client's secret.
///
/// The old secret stops working at once; tokens already issued run until they expire.
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
    let client = managed_client(&pool, &caller, id).await?;
    let (secret, hash) = new_secret().await?;
    let client_id = client.id;
    let event = audit::event(
        &caller,
        "api_client.rotate_secret",
        "api_client",
        client_id,
        &["secret"],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| api_clients::rotate_secret(conn, client_id, hash),
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(ApiClientCredentials {
        client: client.into(),
        client_secret: Some(secret),
    }))
}

/// Revoke an API client.
///
/// Its tokens stop working at once: every request checks the client.
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
    let client = managed_client(&pool, &caller, id).await?;
    let client_id = client.id;
    let event = audit::event(
        &caller,
        "api_client.revoke",
        "api_client",
        client_id,
        &["revoked_at"],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(conn, |conn| api_clients::revoke(conn, client_id), |_| event)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
