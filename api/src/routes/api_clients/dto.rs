//! Wire types of `/v1/api-clients`.

use chrono::{DateTime, Utc};
use domain::access::{ClientStanding, Scope};
use persistence::identity::api_clients::ApiClient;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums;
use crate::http::pagination::Page;

/// Whether a client may get tokens and act.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApiClientStatus {
    /// It acts for `acts_for`.
    Active,
    /// Its maker is disabled or owns none of its structures any more: tokens and
    /// requests are refused until an owner of all its structures takes it over.
    Suspended,
    Revoked,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiClientView {
    /// The `client_id` of the client credentials grant.
    pub id: uuid::Uuid,
    #[schema(example = "Billetterie du Théâtre de Nîmes")]
    pub name: String,
    #[schema(value_type = Vec<enums::Scope>)]
    pub scopes: Vec<Scope>,
    /// The structures it was made for.
    pub structure_ids: Vec<uuid::Uuid>,
    /// Those it acts for now: where the account answerable for it is still an owner
    /// (all of them for agency staff); empty unless `active`.
    pub acts_for: Vec<uuid::Uuid>,
    pub status: ApiClientStatus,
    /// The account answerable for it: its maker, or the owner who last took it over.
    pub created_by: uuid::Uuid,
    pub created_at: DateTime<Utc>,
    /// When it last got a token.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiClient> for ApiClientView {
    fn from(client: ApiClient) -> Self {
        let (status, acts_for) = match client.standing() {
            ClientStanding::Active { acts_for } => (ApiClientStatus::Active, acts_for),
            ClientStanding::Suspended => (ApiClientStatus::Suspended, Vec::new()),
            ClientStanding::Revoked => (ApiClientStatus::Revoked, Vec::new()),
        };
        Self {
            id: client.id.as_uuid(),
            structure_ids: client.structure_ids().iter().map(|s| s.as_uuid()).collect(),
            acts_for: acts_for.iter().map(|s| s.as_uuid()).collect(),
            status,
            name: client.name,
            scopes: client.scopes,
            created_by: client.maker.id.as_uuid(),
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
    pub(crate) name: String,
    /// Structures it acts for; you must own each (or be agency staff).
    #[schema(min_items = 1, max_items = 20)]
    pub(crate) structure_ids: Vec<uuid::Uuid>,
    #[schema(min_items = 1, max_items = 4)]
    #[schema(value_type = Vec<enums::Scope>)]
    pub(crate) scopes: Vec<Scope>,
}
