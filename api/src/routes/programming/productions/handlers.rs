//! Handlers of `/v1/productions`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::NaiveDateTime;
use domain::ProductionId;
use domain::access::{ProgrammingAction, may_program};
use domain::programming::{NewProduction, Production, ProductionInput, ProductionPatch};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::programming::productions::{self, ListQuery, Position};
use serde::{Deserialize, Serialize};

use super::dto::*;
use crate::audit;
use crate::auth::Caller;
use crate::changes;
use crate::db::{self, Db};
use crate::http::caching;
use crate::http::caching::{item_response, read_item};
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};
use crate::routes::programming::{
    check_readable, check_writable, instant_param, not_editable, parameters, reader, role_in,
};
use domain::changes::{ChangeAction, ChangedObject};

/// Records a production's change: it concerns its structure, public once published.
fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    production: &Production,
    action: ChangeAction,
) -> Result<(), ApiError> {
    let view = ProductionView::from(production.clone());
    changes::record(
        conn,
        caller,
        ChangedObject::Production,
        production.id,
        action,
        production.version,
        (action != ChangeAction::Deleted).then_some(&view),
        vec![production.structure_id],
        production.data.published,
    )
}
use crate::routes::shared::find_live;

/// Where a page ended, as carried in a cursor.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// Set when the list is ordered by last change (`updated_since`).
    updated_at: Option<String>,
    id: String,
}

const CURSOR_INSTANT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

impl Cursor {
    fn of(position: Position) -> Self {
        match position {
            Position::Id(id) => Self {
                updated_at: None,
                id,
            },
            Position::Updated { updated_at, id } => Self {
                updated_at: Some(updated_at.format(CURSOR_INSTANT).to_string()),
                id,
            },
        }
    }

    fn position(self, by_update: bool) -> Result<Position, ApiError> {
        match (self.updated_at, by_update) {
            (None, false) => Ok(Position::Id(self.id)),
            (Some(at), true) => Ok(Position::Updated {
                updated_at: NaiveDateTime::parse_from_str(&at, CURSOR_INSTANT)
                    .map_err(|_| pagination::invalid_cursor())?,
                id: self.id,
            }),
            _ => Err(pagination::invalid_cursor()),
        }
    }
}

/// The production and the caller's role in its structure, read together.
pub(crate) fn production_with_role(
    conn: &mut DbConnection,
    principal: &domain::access::Principal,
    id: ProductionId,
) -> Result<(Production, Option<domain::access::MembershipRole>), ApiError> {
    let production = productions::find(conn, id)?;
    let role = role_in(conn, principal, production.structure_id)?;
    Ok((production, role))
}

/// List productions.
///
/// Published productions, and the unpublished ones you may see (those of your
/// structures; all of them for agency staff and reviewers), in creation order, or by
/// last change with `updated_since`.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ListProductionsParams,
        ("If-None-Match" = Option<String>, Header, description = "The page's ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "One page of productions.", body = ProductionPage,
            headers(
                ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."),
                ("ETag" = String, description = "A digest of the page."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy of the page is current."),
    )
)]
#[get("/productions")]
pub async fn list_productions(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListProductionsParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let anonymous = caller.is_anonymous();
    let mut invalid = domain::ValidationError::default();
    let updated_since = instant_param(
        &mut invalid,
        "updated_since",
        params.updated_since.as_deref(),
    );
    parameters(invalid)?;
    let after = params
        .cursor
        .as_deref()
        .map(|cursor| pagination::decode::<Cursor>(cursor)?.position(updated_since.is_some()))
        .transpose()?;
    let mut query = ListQuery {
        structure: params.structure.map(Into::into),
        discipline: params.discipline,
        young_audience: params.young_audience,
        updated_since,
        after,
        limit,
        ..Default::default()
    };
    let page = db::run(&pool, move |conn| {
        query.reader = reader(&caller.principal(conn)?);
        Ok::<_, ApiError>(productions::list(conn, &query)?)
    })
    .await?;
    Page {
        data: page.items.into_iter().map(ProductionView::from).collect(),
        next_cursor: page.next.map(|p| pagination::encode(&Cursor::of(p))),
    }
    .respond_cached(&req, anonymous, caching::VARY_AUTHORIZATION)
}

/// Create a production.
///
/// For a structure you edit (owners and editors, API clients with `programming:write`,
/// agency staff); any other `structure_id` is a 422 (`not_editable`). Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateProduction,
    responses(
        (status = 201, description = "Created.", body = ProductionView, headers(
            ("Location" = String, description = "URL of the new production."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/productions")]
pub async fn create_production(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateProduction>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            caller.resolve(&pool).await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let structure = value.structure_id;
        let data = NewProduction::parse(&ProductionInput::from(value))?;
        let mut event = audit::event(
            &caller,
            "production.create",
            "production",
            "",
            &data.changed_fields(None),
        );
        Ok(move |conn: &mut DbConnection| {
            let principal = caller.principal(conn)?;
            let live = find_live(conn, structure).map_err(|_| not_editable("structure_id"))?;
            let role = role_in(conn, &principal, live.id)?;
            if !may_program(&principal, ProgrammingAction::Write, role) {
                return Err(not_editable("structure_id"));
            }
            let created = persistence::audit::recorded(
                conn,
                |conn| productions::create(conn, structure, data),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )?;
            // Last: the change log's numbering is held until the commit.
            record(conn, &caller, &created, ChangeAction::Created)?;
            let (location, version) = (format!("/v1/productions/{}", created.id), created.version);
            Ok(
                Reply::json(StatusCode::CREATED, &ProductionView::from(created))?
                    .header(header::LOCATION, location)
                    .header(header::ETAG, etag(version)),
            )
        })
    })
    .await
}

/// Get a production.
///
/// An unpublished production you may not see is a 404. Answers 304 when
/// `If-None-Match` holds the current `ETag`.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Production id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The production.", body = ProductionView,
            headers(
                ("ETag" = String, description = "Current version."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
    )
)]
#[get("/productions/{id}")]
pub async fn get_production(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<ProductionId>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    let production = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let (production, role) = production_with_role(conn, &principal, id)?;
        check_readable(&principal, production.data.published, role)?;
        Ok::<_, ApiError>(production)
    })
    .await?;
    read_item(
        &req,
        anonymous,
        caching::VARY_AUTHORIZATION,
        production.version,
        &ProductionView::from(production),
    )
}

/// Update a production.
///
/// A JSON merge patch (`application/json` or `application/merge-patch+json`). Send
/// `If-Match` with the `ETag` you read to refuse lost updates (412).
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Production id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the production changed since."),
    ),
    request_body = UpdateProduction,
    responses(
        (status = 200, description = "The updated production.", body = ProductionView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/productions/{id}")]
pub async fn update_production(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<ProductionId>,
    body: JsonBody<UpdateProduction>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => ProductionPatch::from(opened.value),
        // What is wrong with the body is told only to those who may update.
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (production, role) = production_with_role(conn, &principal, id)?;
                check_writable(&principal, production.data.published, role)
            })
            .await?;
            return Err(problem);
        }
    };
    // Without If-Match, a concurrent change is merged by retrying on the new version.
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch) = (condition.clone(), patch.clone());
        let mut event = audit::event(&caller, "production.update", "production", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Productions, id)?;
                let (current, role) = production_with_role(conn, &principal, id)?;
                check_writable(&principal, current.data.published, role)?;
                let data = patch.apply(&current.data)?;
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
                    |conn| productions::update(conn, &current, data),
                    |_| event,
                )?;
                record(conn, &caller, &updated, ChangeAction::Updated)?;
                Ok(updated)
            })
        })
    })
    .await;
    let updated = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &ProductionView::from(updated),
    ))
}

/// Delete a production.
///
/// Its tours go with it. Refused with a 409 (`has_performances`) while performances
/// point at it.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Production id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the production changed since."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
    )
)]
#[delete("/productions/{id}")]
pub async fn delete_production(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<ProductionId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let event = audit::event(&caller, "production.delete", "production", id, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (current, role) = production_with_role(conn, &principal, id)?;
            check_writable(&principal, current.data.published, role)?;
            check_if_match(condition.as_ref(), current.version)?;
            let tours = persistence::programming::tours::of_production(conn, id)?;
            persistence::audit::recorded(
                conn,
                |conn| productions::delete(conn, &current),
                |_| event,
            )?;
            // Its tours went with it: followers drop them too.
            for tour in tours {
                changes::record(
                    conn,
                    &caller,
                    ChangedObject::Tour,
                    tour.id,
                    ChangeAction::Deleted,
                    tour.version + 1,
                    None::<&ProductionView>,
                    vec![current.structure_id],
                    false,
                )?;
            }
            record(
                conn,
                &caller,
                &Production {
                    version: current.version + 1,
                    ..current
                },
                ChangeAction::Deleted,
            )
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
