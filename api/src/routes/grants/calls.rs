//! Handlers of `/v1/calls`: staff open calls of a programme; a call is public when its
//! programme is.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::Utc;
use domain::CallId;
use domain::access::Principal;
use domain::grants::{Call, CallInput, CallPatch, NewCall, Programme};
use persistence::DbConnection;
use persistence::db::write_transaction;
use persistence::grants::calls::{self, ListQuery};

use super::dto::*;
use super::programmes::visible_programme;
use super::{manage, staff_sees};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::caching;
use crate::http::caching::{item_response, read_item};
use crate::http::conditional::{self, check_if_match, etag, if_match};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};
use crate::routes::programming::not_editable;

/// The call and its programme, if the caller may see the programme (404 otherwise).
pub(crate) fn visible_call(
    conn: &mut DbConnection,
    principal: &Principal,
    id: CallId,
) -> Result<(Call, Programme), ApiError> {
    let call = calls::find(conn, id)?;
    let programme = visible_programme(conn, principal, call.data.programme_id)?;
    Ok((call, programme))
}

/// List calls.
///
/// The calls of published programmes (all of them for agency staff), in creation order.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(
        ListCallsParams,
        ("If-None-Match" = Option<String>, Header, description = "The page's ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "One page of calls.", body = CallPage,
            headers(
                ("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."),
                ("ETag" = String, description = "A digest of the page."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy of the page is current."),
    )
)]
#[get("/calls")]
pub async fn list_calls(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<ListCallsParams>,
) -> Result<HttpResponse, ApiError> {
    let limit = pagination::limit(params.limit)?;
    let anonymous = caller.is_anonymous();
    let after = params
        .cursor
        .as_deref()
        .map(pagination::decode::<String>)
        .transpose()?
        .map(|id| {
            id.parse::<CallId>()
                .map_err(|_| pagination::invalid_cursor())
        })
        .transpose()?;
    let now = Utc::now();
    let page = db::run(&pool, move |conn| {
        let query = ListQuery {
            unpublished: staff_sees(&caller.principal(conn)?),
            programme: params.programme_id.map(Into::into),
            open_at: params.open.filter(|open| *open).map(|_| now.naive_utc()),
            after,
            limit,
        };
        Ok::<_, ApiError>(calls::list(conn, &query)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |c| c.id.to_string());
    Page {
        data: page
            .items
            .into_iter()
            .map(|c| CallView::of(c, now))
            .collect(),
        next_cursor,
    }
    .respond_cached(&req, anonymous, caching::VARY_AUTHORIZATION)
}

/// Create a call.
///
/// For agency staff, for an existing programme (any other `programme_id` is a 422
/// naming it). Send an `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = CreateCall,
    responses(
        (status = 201, description = "Created.", body = CallView, headers(
            ("Location" = String, description = "URL of the new call."),
            ("ETag" = String, description = "Current version."),
        )),
        responses::Forbidden,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/calls")]
pub async fn create_call(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    body: JsonBody<CreateCall>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let Opened { value, raw } = match body.open() {
        Ok(opened) => opened,
        Err(problem) => {
            manage(&caller.resolve(&pool).await?)?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let mut event = audit::event(
            &caller,
            "call.create",
            "call",
            "",
            &[
                "programme_id",
                "title",
                "opens_at",
                "closes_at",
                "committee_date",
                "envelope_cents",
            ],
        );
        Ok(move |conn: &mut DbConnection| {
            let principal = caller.principal(conn)?;
            manage(&principal)?;
            let programme = value.programme_id;
            let data = NewCall::parse(programme, &CallInput::from(value));
            persistence::grants::programmes::find(conn, programme).map_err(
                |error| match error {
                    persistence::PersistenceError::NotFound => not_editable("programme_id"),
                    other => other.into(),
                },
            )?;
            let data = data?;
            let created = persistence::audit::recorded(
                conn,
                |conn| calls::create(conn, data),
                move |created| {
                    event.object_id = created.id.to_string();
                    event
                },
            )?;
            let (location, version) = (format!("/v1/calls/{}", created.id), created.version);
            Ok(
                Reply::json(StatusCode::CREATED, &CallView::of(created, Utc::now()))?
                    .header(header::LOCATION, location)
                    .header(header::ETAG, etag(version)),
            )
        })
    })
    .await
}

/// Get a call.
///
/// A call of an unpublished programme is a 404 but for agency staff.
#[utoipa::path(
    tag = "grants",
    security((), ("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Call id."),
        ("If-None-Match" = Option<String>, Header, description = "An ETag you hold: 304 if it is current."),
    ),
    responses(
        (status = 200, description = "The call.", body = CallView,
            headers(
                ("ETag" = String, description = "Current version."),
                ("Cache-Control" = String, description = "`public, max-age=60, stale-while-revalidate=300` when anonymous; `private, no-cache` otherwise."),
                ("Vary" = String, description = "`Authorization`."),
            )),
        (status = 304, description = "Not modified: your copy is current."),
        responses::NotFound,
    )
)]
#[get("/calls/{id}")]
pub async fn get_call(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<CallId>,
) -> Result<HttpResponse, ApiError> {
    let anonymous = caller.is_anonymous();
    let call = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        visible_call(conn, &principal, id).map(|(call, _)| call)
    })
    .await?;
    read_item(
        &req,
        anonymous,
        caching::VARY_AUTHORIZATION,
        call.version,
        &CallView::of(call, Utc::now()),
    )
}

/// Update a call.
///
/// For agency staff. A JSON merge patch: absent fields stay, `null` clears the committee
/// date; times are Paris wall-clock, as at creation (a deadline may be moved, or brought
/// forward to close the call early). The envelope never goes below what the call has
/// already awarded (422 naming `envelope_cents`), even while approvals run: the call is
/// locked while it changes. Send `If-Match` with the `ETag` you read to refuse lost
/// updates (412).
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Call id."),
        ("If-Match" = Option<String>, Header, description = "The ETag you read: 412 if the call changed since."),
    ),
    request_body = UpdateCall,
    responses(
        (status = 200, description = "The updated call.", body = CallView,
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
#[patch("/calls/{id}")]
pub async fn update_call(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<CallId>,
    body: JsonBody<UpdateCall>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let condition = if_match(&req)?;
    let patch = match body.open() {
        Ok(opened) => CallPatch::from(opened.value),
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                visible_call(conn, &principal, id)?;
                manage(&principal)
            })
            .await?;
            return Err(problem);
        }
    };
    let result = conditional::merging(condition.as_ref(), |locking| {
        let (precondition, patch) = (condition.clone(), patch.clone());
        let mut event = audit::event(&caller, "call.update", "call", id, &[]);
        db::run(&pool, move |conn| {
            write_transaction::<_, ApiError>(conn, |conn| {
                let principal = caller.principal(conn)?;
                locking.apply(conn, persistence::db::Versioned::Calls, id)?;
                visible_call(conn, &principal, id)?;
                manage(&principal)?;
                // Locked before the envelope is read: an approval waits, or is waited for.
                let current = calls::lock(conn, id)?;
                let data = current.data.patched(&patch, current.awarded_cents)?;
                check_if_match(precondition.as_ref(), current.version)?;
                if data == current.data {
                    return Ok(current);
                }
                event.changed_fields = changed_fields(&current.data, &data);
                Ok(persistence::audit::recorded(
                    conn,
                    |conn| calls::update(conn, &current, data),
                    |_| event,
                )?)
            })
        })
    })
    .await;
    let updated = result?;
    Ok(item_response(
        HttpResponse::Ok(),
        updated.version,
        &CallView::of(updated, Utc::now()),
    ))
}

fn changed_fields(before: &NewCall, after: &NewCall) -> Vec<String> {
    [
        ("title", before.title != after.title),
        (
            "opens_at",
            before.window.opens_at() != after.window.opens_at(),
        ),
        (
            "closes_at",
            before.window.closes_at() != after.window.closes_at(),
        ),
        (
            "committee_date",
            before.committee_date != after.committee_date,
        ),
        (
            "envelope_cents",
            before.envelope_cents != after.envelope_cents,
        ),
    ]
    .into_iter()
    .filter(|(_, changed)| *changed)
    .map(|(field, _)| field.to_owned())
    .collect()
}
