//! `/v1/structures`: every organisation the agency works with.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::access::{Principal, StructureAction, client_role};
use domain::changes::ChangeAction;
use domain::{NewStructure, StructureId, StructureInput, StructurePatch};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::reference::ReferenceGeography;
use persistence::structures::{self, ListQuery};

use super::dto::*;
use super::query::*;
use super::{authorize, disclose_siret_holder, record_change, structure_response, visibility};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};
use crate::routes::shared::{caller_and_live_structure, live_structure_with_role};

/// List structures.
///
/// Archived structures are left out unless `include_archived=true`. Pages follow
/// `next_cursor` (also in the `Link` header); any page costs what the first costs.
#[utoipa::path(
    tag = "structures",
    security((), ("oauth2" = [])),
    params(ListStructuresParams),
    responses(
        (status = 200, description = "One page of structures.", body = StructurePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
    )
)]
#[get("/structures")]
pub async fn list_structures(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListStructuresParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let sort = params.sort.unwrap_or_default();
    let mut invalid = domain::ValidationError::default();
    if let Some(department) = &params.department {
        invalid.check("department", domain::geography::department_code(department));
    }
    if let Some(region) = &params.region {
        invalid.check("region", domain::geography::region_code(region));
    }
    match params.q.as_deref() {
        Some("") => invalid.push("q", domain::FieldProblem::Blank),
        Some(q) if q.chars().count() > SEARCH_MAX => {
            invalid.push("q", domain::FieldProblem::TooLong { max: SEARCH_MAX })
        }
        _ => {}
    }
    if !invalid.is_empty() {
        return Err(ApiError::InvalidParameters(
            ApiError::from(invalid).into_issues(),
        ));
    }
    let after = params
        .cursor
        .as_deref()
        .map(|cursor| pagination::decode::<CursorPosition>(cursor)?.into_position(sort))
        .transpose()?;
    let query = ListQuery {
        kind: params.kind,
        department: params.department,
        region: params.region,
        discipline: params.discipline,
        q: params.q,
        include_archived: params.include_archived.unwrap_or(false),
        sort: sort.into(),
        after,
        limit,
    };
    let (principal, page, memberships) = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let page = structures::list(conn, &query)?;
        let memberships = match &principal {
            Principal::Account { id, .. } => {
                let ids: Vec<StructureId> = page.items.iter().map(|s| s.id).collect();
                persistence::structures::memberships::memberships_among(conn, *id, &ids)?
            }
            Principal::Client {
                structures, scopes, ..
            } => page
                .items
                .iter()
                .filter_map(|s| client_role(structures, scopes, s.id).map(|role| (s.id, role)))
                .collect(),
            Principal::Anonymous => Default::default(),
        };
        Ok::<_, ApiError>((principal, page, memberships))
    })
    .await?;
    let next_cursor = page
        .next
        .map(|position| pagination::encode(&CursorPosition::new(sort, position)));
    Ok(Page {
        data: page
            .items
            .into_iter()
            .map(|structure| {
                let seen = visibility(&principal, memberships.get(&structure.id).copied());
                StructureView::new(structure, seen)
            })
            .collect(),
        next_cursor,
    }
    .respond(&req))
}

/// Create a structure.
///
/// Every bad field is listed at once in a 422. A SIRET already registered is a 409
/// (`duplicate_siret`) that names the structure holding it only if you may see that
/// structure's private data. Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "structures",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateStructure,
    responses(
        (status = 201, description = "Created.", body = StructureView, headers(
            ("Location" = String, description = "URL of the new structure."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/structures")]
pub async fn create_structure(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    body: JsonBody<CreateStructure>,
) -> Result<HttpResponse, ApiError> {
    let owner = caller.account(&pool).await?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        // What is wrong with the body is told only to those who may create.
        Err(problem) => {
            authorize(&caller.resolve(&pool).await?, StructureAction::Create, None)?;
            return Err(problem);
        }
    };
    let created = idempotency::once(&pool, &req, &caller, &raw, || async {
        let input = StructureInput::from(value);
        let structure = NewStructure::parse(&input, geography.as_ref().as_ref())?;
        // The id is made in the transaction: the event learns it there.
        let mut event = audit::event(
            &caller,
            "structure.create",
            "structure",
            "",
            &structure.changed_fields(None),
        );
        Ok(move |conn: &mut DbConnection| {
            authorize(&caller.principal(conn)?, StructureAction::Create, None)?;
            let created = persistence::audit::recorded(
                conn,
                |conn| structures::create(conn, structure, Some(owner)),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )?;
            // Last: the change log's numbering is held until the commit.
            record_change(conn, &caller, &created, ChangeAction::Created)?;
            let (location, version) = (format!("/v1/structures/{}", created.id), created.version);
            Ok(Reply::json(
                StatusCode::CREATED,
                &StructureView::new(created, Visibility::Full),
            )?
            .header(header::LOCATION, location)
            .header(header::ETAG, etag(version)))
        })
    })
    .await;
    match created {
        Ok(response) => Ok(response),
        Err(error) => Err(disclose_siret_holder(&pool, &caller, error).await),
    }
}

/// Get a structure.
///
/// Answers 304 when `If-None-Match` holds the current `ETag`. An archived structure is a
/// 404 (code `archived`).
#[utoipa::path(
    tag = "structures",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The structure.", body = StructureView,
            headers(("ETag" = String, description = "Current version."))),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
    )
)]
#[get("/structures/{id}")]
pub async fn get_structure(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<StructureId>,
) -> Result<HttpResponse, ApiError> {
    let (structure, seen) = db::run(&pool, move |conn| {
        let (principal, structure, role) = caller_and_live_structure(conn, &caller, id)?;
        Ok::<_, ApiError>((structure, visibility(&principal, role)))
    })
    .await?;
    if conditional::not_modified(&req, structure.version)? {
        return Ok(HttpResponse::NotModified()
            .insert_header(header::ETag(etag(structure.version)))
            .finish());
    }
    Ok(structure_response(HttpResponse::Ok(), structure, seen))
}

/// Update a structure.
///
/// A JSON merge patch (`application/json` or `application/merge-patch+json`): absent
/// fields stay, `null` clears an optional field. Send `If-Match` with the `ETag` you
/// read to refuse lost updates (412).
#[utoipa::path(
    tag = "structures",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the structure changed since."),
    ),
    request_body = UpdateStructure,
    responses(
        (status = 200, description = "The updated structure.", body = StructureView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/structures/{id}")]
pub async fn update_structure(
    caller: Caller,
    pool: web::Data<Db>,
    geography: web::Data<Arc<ReferenceGeography>>,
    req: HttpRequest,
    PathId(id): PathId<StructureId>,
    body: JsonBody<UpdateStructure>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => StructurePatch::from(opened.value),
        // What is wrong with the body is told only to those who may update.
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, role) = live_structure_with_role(conn, &principal, id)?;
                authorize(&principal, StructureAction::Update, role)
            })
            .await?;
            return Err(problem);
        }
    };
    let geography = Arc::clone(geography.get_ref());
    // Without If-Match, a concurrent change is merged by retrying on the new version.
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch, geography) =
            (condition.clone(), patch.clone(), Arc::clone(&geography));
        let mut event = audit::event(&caller, "structure.update", "structure", id, &[]);
        // Read, authorize and write in one transaction: the rights checked are those of
        // the moment of the write.
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Structures, id)?;
                let (current, role) = live_structure_with_role(conn, &principal, id)?;
                authorize(&principal, StructureAction::Update, role)?;
                // Bad input is reported before a stale version: it needs fixing either way.
                let data = patch.apply(&current.data, geography.as_ref())?;
                check_if_match(precondition.as_ref(), current.version)?;
                if data == current.data {
                    return Ok(current);
                }
                event.changed_fields = data
                    .changed_fields(Some(&current.data))
                    .iter()
                    .map(|field| (*field).to_owned())
                    .collect();
                let updated = persistence::audit::recorded(
                    conn,
                    |conn| structures::update(conn, &current, data),
                    |_| event,
                )?;
                record_change(conn, &caller, &updated, ChangeAction::Updated)?;
                Ok(updated)
            })
        })
    })
    .await;
    match result {
        Ok(updated) => Ok(structure_response(
            HttpResponse::Ok(),
            updated,
            Visibility::Full,
        )),
        Err(error) => Err(disclose_siret_holder(&pool, &caller, error).await),
    }
}

/// Archive a structure.
///
/// The structure leaves lists and answers 404 by id; its data and SIRET are kept, so a
/// new structure cannot take its SIRET.
#[utoipa::path(
    tag = "structures",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the structure changed since."),
    ),
    responses(
        (status = 204, description = "Archived."),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
    )
)]
#[delete("/structures/{id}")]
pub async fn archive_structure(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<StructureId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let event = audit::event(
        &caller,
        "structure.archive",
        "structure",
        id,
        &["archived_at"],
    );
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (current, role) = live_structure_with_role(conn, &principal, id)?;
            authorize(&principal, StructureAction::Archive, role)?;
            check_if_match(condition.as_ref(), current.version)?;
            let archived = persistence::audit::recorded(
                conn,
                |conn| structures::archive(conn, &current),
                |_| event,
            )?;
            record_change(conn, &caller, &archived, ChangeAction::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
