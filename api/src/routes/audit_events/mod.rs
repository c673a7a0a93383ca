//! `/v1/audit-events`: the audit log, for agency staff. Read-only: nothing edits or
//! deletes it.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use domain::access::ActorKind;
use persistence::audit::{self, Event, EventQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::db::{self, Db};
use crate::enums;
use crate::http::error::{ApiError, responses};
use crate::http::extract::QueryParams;
use crate::http::pagination::{self, Page};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_audit_events);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: uuid::Uuid,
    pub occurred_at: DateTime<Utc>,
    #[schema(value_type = enums::ActorKind)]
    pub actor_kind: ActorKind,
    pub actor_id: Option<String>,
    #[schema(example = "structure.update")]
    pub action: String,
    #[schema(example = "structure")]
    pub object_type: String,
    pub object_id: String,
    /// The `X-Request-Id` of the request that did it.
    pub request_id: String,
    /// Names of the fields that changed (never their secret values).
    #[schema(example = json!(["name", "email"]))]
    pub changed_fields: Vec<String>,
}

impl TryFrom<Event> for AuditEventView {
    type Error = ApiError;

    fn try_from(event: Event) -> Result<Self, ApiError> {
        Ok(Self {
            id: event
                .id
                .parse()
                .map_err(|e| ApiError::Internal(format!("audit event id: {e}")))?,
            occurred_at: event.occurred_at,
            actor_kind: ActorKind::parse(&event.actor_kind)
                .map_err(|e| ApiError::Internal(format!("audit event actor kind: {e}")))?,
            actor_id: event.actor_id,
            action: event.action,
            object_type: event.object_type,
            object_id: event.object_id,
            request_id: event.request_id,
            changed_fields: event.changed_fields,
        })
    }
}

/// One page of audit events.
pub type AuditEventPage = Page<AuditEventView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditEventParams {
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// Account or client id.
    #[param(max_length = 64)]
    actor_id: Option<String>,
    /// `structure`, `membership`, `join_request`, `api_client`, `account`.
    #[param(max_length = 64)]
    object_type: Option<String>,
    #[param(max_length = 128)]
    object_id: Option<String>,
    /// `structure.update`, `member.add`…
    #[param(max_length = 64)]
    action: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct AuditCursor {
    before: String,
}

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
    if !domain::access::may_read_audit_log(&caller.0) {
        return Err(ApiError::Forbidden);
    }
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
    } = db::run(&pool, move |conn| audit::list(conn, &query)).await?;
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
