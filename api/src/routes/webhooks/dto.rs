//! Wire types of `/v1/webhooks`.

use chrono::{DateTime, Utc};
use persistence::webhooks::{Delivery, DeliveryStatus, Webhook};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use crate::http::pagination::Page;

/// The pattern an event type or pattern follows (its value is checked against the
/// known types: `domain::webhooks::event_types`).
const EVENT_TYPE_PATTERN: &str = r"^(\*|[a-z_]+\.(\*|[a-z_]+))$";

fn event_types() -> Schema {
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(EVENT_TYPE_PATTERN))
                .max_length(Some(64))
                .examples(["performance.updated", "production.*", "dossier.approved"]),
        )
        .min_items(Some(1))
        .max_items(Some(domain::webhooks::EVENT_TYPES_MAX))
        .description(Some(format!(
            "Event types wanted: {}; `{{object}}.*` for every event of a kind of object, `*` for all. `webhook.ping` always comes.",
            domain::webhooks::event_types().join(", ")
        )))
        .into()
}

/// A new subscription.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://hooks.example.org/oes", "event_types": ["performance.*"], "structure_ids": ["01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10"]}))]
pub struct CreateWebhook {
    /// Where events are POSTed: `https://` (plain `http://` and private addresses only
    /// on servers configured for development).
    #[schema(max_length = 2048, pattern = "^https?://")]
    pub url: String,
    #[schema(schema_with = event_types)]
    pub event_types: Vec<String>,
    /// The structures whose events it wants (1 to 20): those you own, those an API
    /// client acts for. Agency staff may leave it empty for every structure.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub structure_ids: Vec<uuid::Uuid>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: Option<String>,
}

/// Changes to a subscription, as a JSON merge patch: absent fields stay; `null` clears
/// the description.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": false}))]
pub struct UpdateWebhook {
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = String, max_length = 2048, pattern = "^https?://")]
    pub url: Option<String>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(schema_with = event_types)]
    pub event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Vec<uuid::Uuid>, max_items = 20)]
    pub structure_ids: Option<Vec<uuid::Uuid>>,
    #[serde(default, deserialize_with = "crate::http::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub description: Option<Option<String>>,
    /// `false` stops deliveries: those queued wait, and changes made while it is
    /// disabled are not queued for it. `true` starts them again, also after the server
    /// disabled it.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = bool)]
    pub enabled: Option<bool>,
}

/// A subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: uuid::Uuid,
    #[schema(example = "https://hooks.example.org/oes")]
    pub url: String,
    #[schema(schema_with = event_types)]
    pub event_types: Vec<String>,
    /// Empty: every structure (agency staff only).
    pub structure_ids: Vec<uuid::Uuid>,
    pub description: Option<String>,
    pub enabled: bool,
    /// Why it is disabled: by its owner, the endpoint answered 410 Gone, or deliveries
    /// failed for days (five given up in a row, each after ten attempts over a day).
    pub disabled_reason: Option<String>,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(example = 1)]
    pub version: i64,
}

impl From<Webhook> for WebhookView {
    fn from(webhook: Webhook) -> Self {
        let overlap = webhook
            .previous_secret_until
            .filter(|until| *until > Utc::now());
        Self {
            id: webhook.id.as_uuid(),
            url: webhook.url,
            event_types: webhook.event_types,
            structure_ids: webhook.structure_ids.iter().map(|s| s.as_uuid()).collect(),
            description: webhook.description,
            enabled: webhook.enabled,
            disabled_reason: webhook.disabled_reason,
            previous_secret_expires_at: overlap,
            created_at: webhook.created_at,
            updated_at: webhook.updated_at,
            version: webhook.version,
        }
    }
}

/// A subscription with its signing secret: the only times the secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    pub webhook: WebhookView,
    /// `whsec_` and the base64 of 32 random bytes: verify signatures with it (Standard
    /// Webhooks libraries take it as is). Absent only from the replay of a creation
    /// (same `Idempotency-Key`): rotate it if lost.
    #[serde(
        serialize_with = "crate::auth::secrets::serialize_exposed_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = String, required = false, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: Option<SecretString>,
}

/// One page of subscriptions.
pub type WebhookPage = Page<WebhookView>;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    Delivered,
    /// Given up: ten attempts failed, the endpoint answered 410, or the target is refused.
    Failed,
}

/// One event sent (or to send) to a subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: uuid::Uuid,
    /// The `webhook-id` header: the same for every attempt and replay of this event.
    #[schema(example = "msg_0193c1a2b3c47d5e8f90a1b2c3d4e5f6")]
    pub message_id: String,
    #[schema(example = "performance.updated")]
    pub event_type: String,
    pub status: DeliveryState,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// How long the last attempt took, in milliseconds.
    pub last_latency_ms: Option<i64>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(delivery: Delivery) -> Self {
        Self {
            id: delivery.id.as_uuid(),
            message_id: delivery.message_id,
            event_type: delivery.event_type,
            status: match delivery.status {
                DeliveryStatus::Pending => DeliveryState::Pending,
                DeliveryStatus::Delivered => DeliveryState::Delivered,
                DeliveryStatus::Failed => DeliveryState::Failed,
            },
            attempts: delivery.attempts,
            last_status_code: delivery.last_status_code,
            last_error: delivery.last_error,
            last_latency_ms: delivery.last_latency_ms,
            last_attempt_at: delivery.last_attempt_at,
            next_attempt_at: (delivery.status == DeliveryStatus::Pending)
                .then_some(delivery.next_attempt_at),
            created_at: delivery.created_at,
        }
    }
}

/// One page of deliveries.
pub type DeliveryPage = Page<DeliveryView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// A position in a list, as carried in a cursor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ListCursor {
    pub(crate) id: uuid::Uuid,
}
