//! The handlers of `/v1/audit-events`.

use actix_web::{HttpRequest, HttpResponse, get, web};
use persistence::audit::{self, EventQuery};

use super::*;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::QueryParams;
use crate::http::pagination;

/// Read the audit log.
///
/// Newest first. Agency staff and administrators only.
#[utoipa::path(
    tag = "audit",
    security(("oauth2" = [])),
    params(AuditEventParams),
    responses(
        (status = 200, description = "One page of events.", body = AuditEventPage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        responses::Forbidden,
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    QueryParams(params): QueryParams<AuditEventParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let mut invalid = domain::ValidationError::default();
    for (name, value, max) in [
        ("actor_id", &params.actor_id, 64),
        ("object_type", &params.object_type, 64),
        ("object_id", &params.object_id, 128),
        ("action", &params.action, 64),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            invalid.push(name, domain::FieldProblem::TooLong { max });
        }
    }
    if !invalid.is_empty() {
        return Err(ApiError::InvalidParameters(
            ApiError::from(invalid).into_issues(),
        ));
    }
    let limit = pagination::limit(params.limit)?;
    let before = params
        .cursor
        .as_deref()
        .map(|cursor| pagination::decode::<AuditCursor>(cursor).map(|c| c.before))
        .transpose()?;
    let query = EventQuery {
        actor_id: params.actor_id,
        object_type: params.object_type,
        object_id: params.object_id,
        action: params.action,
        before,
        limit,
    };
    let persistence::page::Page {
        items: events,
        more,
    } = db::run(&pool, move |conn| {
        if !domain::access::may_read_audit_log(&caller.principal(conn)?) {
            return Err(ApiError::Forbidden);
        }
        Ok(audit::list(conn, &query)?)
    })
    .await?;
    let next_cursor = if more {
        events.last().map(|e| {
            pagination::encode(&AuditCursor {
                before: e.id.clone(),
            })
        })
    } else {
        None
    };
    Ok(AuditEventPage {
        data: events
            .into_iter()
            .map(AuditEventView::try_from)
            .collect::<Result<_, _>>()?,
        next_cursor,
    }
    .respond(&req))
}
