//! Wire types of `/v1/changes`.

use chrono::{DateTime, Utc};
use domain::changes::{ChangeAction, ChangedObject};
use serde::{Deserialize, Serialize};
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{IntoParams, ToSchema};

use crate::enums;
use crate::routes::structures::StructureView;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeParams {
    /// Where to resume: the `next_cursor` of the previous page, or the `cursor` of the
    /// last entry you applied. Absent: from the beginning of the log.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub after: Option<String>,
    /// Entries per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
}

/// A position in the log, as carried in a cursor.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FeedCursor {
    pub(crate) after: i64,
}

/// One change: an object created, updated or deleted (or one you may no longer see).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeView {
    /// Position in the log: entries come in increasing `seq`, the order their writes
    /// committed in. Numbers may be skipped.
    #[schema(example = 42)]
    pub seq: i64,
    /// Resume after this entry: `GET /v1/changes?after={cursor}`.
    #[schema(example = "eyJhZnRlciI6NDJ9")]
    pub cursor: String,
    #[schema(value_type = enums::ChangedObject)]
    pub object_type: ChangedObject,
    #[schema(example = "01936b2e-8f0a-7cc3-9a51-4b0f5e2c7d10")]
    pub object_id: uuid::Uuid,
    /// `deleted` also when the object left your view (archived, unpublished, or no
    /// longer concerning a structure of yours): drop your copy.
    #[schema(value_type = enums::ChangeAction)]
    pub action: ChangeAction,
    /// The object's version after the change (its `ETag`).
    #[schema(example = 2)]
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
    /// The object after the change, as `GET` on it would have answered you then (its
    /// private fields only if you may see them); null for `deleted`.
    #[schema(schema_with = changed_object)]
    pub object: Option<serde_json::Value>,
}

/// The schema of a change's object: one of the views of the objects followed, or null.
fn changed_object() -> Schema {
    OneOfBuilder::new()
        .item(Ref::from_schema_name(<StructureView as ToSchema>::name()))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .description(Some(
            "The object's view (`StructureView` for a `structure`); null for `deleted`.",
        ))
        .into()
}

/// One page of the change feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeFeed {
    /// Oldest first. Fewer entries than `limit`: you are up to date (poll again later
    /// with `next_cursor`).
    pub data: Vec<ChangeView>,
    /// Where the next page starts; always present, also when `data` is empty: keep it
    /// and poll with it. It may move past changes you may not see.
    #[schema(example = "eyJhZnRlciI6NDJ9")]
    pub next_cursor: String,
}
