//! Handlers of `/v1/tours`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::TourId;
use domain::access::{MembershipRole, Principal, ProgrammingAction, may_program};
use domain::programming::{NewTour, Production, Tour, TourInput, TourPatch};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::programming::productions;
use persistence::programming::tours::{self, ListQuery};
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
use crate::routes::programming::{check_readable, check_writable, not_editable, reader, role_in};
use domain::changes::{ChangeAction, ChangedObject};

/// Records a tour's change: it concerns its production's structure, public while the
/// production is published.
fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    tour: &Tour,
    production: &Production,
    action: ChangeAction,
) -> Result<(), ApiError> {
    let view = TourView::from(tour.clone());
    changes::record(
        conn,
        caller,
        ChangedObject::Tour,
        tour.id,
        action,
        tour.version,
        (action != ChangeAction::Deleted).then_some(&view),
        vec![production.structure_id],
        production.data.published,
    )
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    id: String,
}

/// A tour, its production and the caller's role in the production's structure.
fn tour_with_role(
    conn: &mut DbConnection,
    principal: &Principal,
    id: TourId,
) -> Result<(Tour, Production, Option<MembershipRole>), ApiError> {
    let tour = tours::find(conn, id)?;
    let production = productions::find(conn, tour.production_id)?;
    let role = role_in(conn, principal, production.structure_id)?;
    Ok((tour, production, role))
}

/// List tours.
///
/// The tours of the productions you may see, in creation order.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ListToursParams,
        ("If-None-Match" = Option<String>, Header, description = "The page's ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "One page of tours.", body = TourPage,
            headers(
                ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."),
                ("ETag" = String, description = "A digest of the page."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy of the page is current."),
    )
)]
#[get("/tours")]
pub async fn list_tours(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListToursParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let anonymous = caller.is_anonymous();
    let after = params
        .cursor
        .as_deref()
        .map(|cursor| pagination::decode::<Cursor>(cursor).map(|c| c.id))
        .transpose()?;
    let mut query = ListQuery {
        production: params.production.map(Into::into),
        after,
        limit,
        ..Default::default()
    };
    let page = db::run(&pool, move |conn| {
        query.reader = reader(&caller.principal(conn)?);
        Ok::<_, ApiError>(tours::list(conn, &query)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |last| Cursor {
        id: last.id.to_string(),
    });
    Page {
        data: page.items.into_iter().map(TourView::from).collect(),
        next_cursor,
    }
    .respond_cached(&req, anonymous, caching::VARY_AUTHORIZATION)
}

/// Create a tour.
///
/// Of a production you edit; any other `production_id` is a 422 (`not_editable`).
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateTour,
    responses(
        (status = 201, description = "Created.", body = TourView, headers(
            ("Location" = String, description = "URL of the new tour."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/tours")]
pub async fn create_tour(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateTour>,
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
        let production = value.production_id;
        let data = NewTour::parse(&TourInput::from(value))?;
        let mut event = audit::event(
            &caller,
            "tour.create",
            "tour",
            "",
            &data.changed_fields(None),
        );
        Ok(move |conn: &mut DbConnection| {
            let principal = caller.principal(conn)?;
            let found =
                productions::find(conn, production).map_err(|_| not_editable("production_id"))?;
            let owner = found.clone();
            let role = role_in(conn, &principal, found.structure_id)?;
            if !may_program(&principal, ProgrammingAction::Write, role) {
                return Err(not_editable("production_id"));
            }
            let created = persistence::audit::recorded(
                conn,
                |conn| tours::create(conn, production, data),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )?;
            record(conn, &caller, &created, &owner, ChangeAction::Created)?;
            let (location, version) = (format!("/v1/tours/{}", created.id), created.version);
            Ok(Reply::json(StatusCode::CREATED, &TourView::from(created))?
                .header(header::LOCATION, location)
                .header(header::ETAG, etag(version)))
        })
    })
    .await
}

/// Get a tour.
#[utoipa::path(
    tag = "programming",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Tour id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The tour.", body = TourView,
            headers(
                ("ETag" = String, description = "Current version."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
    )
)]
#[get("/tours/{id}")]
pub async fn get_tour(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<TourId>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    let tour = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        let (tour, production, role) = tour_with_role(conn, &principal, id)?;
        check_readable(&principal, production.data.published, role)?;
        Ok::<_, ApiError>(tour)
    })
    .await?;
    read_item(
        &req,
        anonymous,
        caching::VARY_AUTHORIZATION,
        tour.version,
        &TourView::from(tour),
    )
}

/// Update a tour.
///
/// A JSON merge patch. Send `If-Match` with the `ETag` you read to refuse lost updates.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Tour id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the tour changed since."),
    ),
    request_body = UpdateTour,
    responses(
        (status = 200, description = "The updated tour.", body = TourView,
            headers(("ETag" = String, description = "New version."))),
        responses::Forbidden,
        responses::NotFound,
        responses::PreconditionFailed,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/tours/{id}")]
pub async fn update_tour(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<TourId>,
    body: JsonBody<UpdateTour>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => TourPatch::from(opened.value),
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, production, role) = tour_with_role(conn, &principal, id)?;
                check_writable(&principal, production.data.published, role)
            })
            .await?;
            return Err(problem);
        }
    };
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch) = (condition.clone(), patch.clone());
        let mut event = audit::event(&caller, "tour.update", "tour", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Tours, id)?;
                let (current, production, role) = tour_with_role(conn, &principal, id)?;
                check_writable(&principal, production.data.published, role)?;
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
                    |conn| tours::update(conn, &current, data),
                    |_| event,
                )?;
                record(conn, &caller, &updated, &production, ChangeAction::Updated)?;
                Ok(updated)
            })
        })
    })
    .await;
    let updated = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &TourView::from(updated),
    ))
}

/// Delete a tour.
///
/// Refused with a 409 (`has_performances`) while performances point at it.
#[utoipa::path(
    tag = "programming",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Tour id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the tour changed since."),
    ),
    responses(
        (status = 204, description = "Deleted."),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PreconditionFailed,
    )
)]
#[delete("/tours/{id}")]
pub async fn delete_tour(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<TourId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let event = audit::event(&caller, "tour.delete", "tour", id, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let (current, production, role) = tour_with_role(conn, &principal, id)?;
            check_writable(&principal, production.data.published, role)?;
            check_if_match(condition.as_ref(), current.version)?;
            persistence::audit::recorded(conn, |conn| tours::delete(conn, &current), |_| event)?;
            let gone = Tour {
                version: current.version + 1,
                ..current
            };
            record(conn, &caller, &gone, &production, ChangeAction::Deleted)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
