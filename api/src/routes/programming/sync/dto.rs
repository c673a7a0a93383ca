//! Wire types of `/v1/sync/performances`.

use domain::programming::{SyncAction, SyncResult};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enums;
use crate::http::error::Problem;
use crate::routes::programming::{CreatePerformance, PerformanceView};

/// What a sync write did, with the performance as it now stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncedPerformance {
    /// `created` (201), `updated` or `unchanged` (200: the same performance was sent
    /// again, and nothing was written).
    #[schema(value_type = enums::SyncResult, example = "created")]
    pub result: SyncResult,
    pub performance: PerformanceView,
}

/// One item of a batch: the performance the caller keeps as `external_id`, to upsert
/// (as `PUT /v1/sync/performances/{external_id}` would) or to delete.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncBatchItem {
    /// Your id of the performance: 1 to 200 printable characters, unique among yours.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F-\x9F]+$",
        min_length = 1,
        max_length = 200,
        example = "SAISON-2027-0042"
    )]
    pub external_id: String,
    #[schema(value_type = enums::SyncAction)]
    pub action: SyncAction,
    /// With `upsert` only: the performance, as `POST /v1/performances` takes it.
    pub performance: Option<CreatePerformance>,
}

/// Up to 1,000 items, each done on its own: a refused item does not stop the others.
/// Each external id appears once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [
    {"external_id": "SAISON-2027-0042", "action": "upsert", "performance": {
        "production_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10",
        "venue_structure_id": "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d11",
        "starts_at": "2027-03-01T20:30:00+01:00",
        "published": true
    }},
    {"external_id": "SAISON-2027-0007", "action": "delete"}
]}))]
pub struct SyncBatch {
    /// Read one by one, so that a bad item is that item's problem.
    #[schema(value_type = Vec<SyncBatchItem>, max_items = 1000)]
    pub items: Vec<serde_json::Value>,
}

/// What became of one item.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBatchItemResult {
    /// The item's `external_id` as sent (null if it had no valid one).
    pub external_id: Option<String>,
    #[schema(value_type = enums::SyncResult)]
    pub result: SyncResult,
    /// The performance as it now stands (not for `deleted` and `failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub performance: Option<PerformanceView>,
    /// Why the item was refused (`failed` only): the problem `PUT` or `DELETE` would
    /// have answered, its fields named from the batch (`items[3].performance.starts_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

/// One result per item, in the order of the items.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncBatchResults {
    pub results: Vec<SyncBatchItemResult>,
}
