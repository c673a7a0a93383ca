//! The handlers of `/v1/api-clients`.

use std::collections::HashSet;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use domain::access::{ClientAction, ClientId, Scope};
use domain::{FieldProblem, StructureId, ValidationError};
use persistence::DbConnection;
use persistence::identity::api_clients::{self};

use super::*;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId};
use crate::http::idempotency::{self, Reply};

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
    let account = caller.account(&pool).await?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
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
        let scopes: Vec<Scope> = value.scopes.clone();
        if scopes.is_empty() || scopes.len() > 4 {
            errors.push("scopes", FieldProblem::TooMany { max: 4 });
        }
        if scopes.iter().collect::<HashSet<_>>().len() != scopes.len() {
            errors.push("scopes", FieldProblem::Duplicate);
        }
        errors.into_result()?;
        // Checked before hashing (no work for strangers), and again with the write.
        let (checked, check_caller) = (structures.clone(), caller);
        db::run(&pool, move |conn| {
            let principal = check_caller.principal(conn)?;
            check_owned(conn, &principal, &checked)
        })
        .await?;
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
            let principal = caller.principal(conn)?;
            check_owned(conn, &principal, &structures)?;
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
    let account = caller.account(&pool).await?;
    let clients = db::run(&pool, move |conn| {
        let owner = (!caller.principal(conn)?.is_staff()).then_some(account);
        Ok::<_, ApiError>(api_clients::list(conn, owner)?)
    })
    .await?;
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
    caller.account(&pool).await?;
    let client = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
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
    caller.account(&pool).await?;
    // Checked before hashing (no work for strangers), and again with the write.
    db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
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
    let account = caller.account(&pool).await?;
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
