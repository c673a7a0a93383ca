//! Wire types of `/v1/audit-events`.

use chrono::{DateTime, Utc};
use domain::access::ActorKind;
use persistence::audit::Event;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::http::error::ApiError;
use crate::http::pagination::Page;

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
    pub(crate) limit: Option<u32>,
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub(crate) cursor: Option<String>,
    /// Account or client id.
    #[param(max_length = 64)]
    pub(crate) actor_id: Option<String>,
    /// `structure`, `membership`, `join_request`, `api_client`, `account`.
    #[param(max_length = 64)]
    pub(crate) object_type: Option<String>,
    #[param(max_length = 128)]
    pub(crate) object_id: Option<String>,
    /// `structure.update`, `member.add`…
    #[param(max_length = 64)]
    pub(crate) action: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct AuditCursor {
    pub(crate) before: String,
}
