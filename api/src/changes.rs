//! Recording writes in the change log, in the same transaction as the write (see
//! `persistence::changes`): the object as the API shows it in full, and who did it.

use domain::StructureId;
use domain::changes::{ChangeAction, ChangedObject};
use persistence::DbConnection;
use persistence::changes::NewChange;
use serde::Serialize;

use crate::auth::Caller;
use crate::http::error::ApiError;

/// A change made by `caller`, concerning no structure, not public and without the
/// object yet: fill in `object` (with [`snapshot`]), `structures` and `public`.
pub fn change(
    caller: &Caller,
    object_type: ChangedObject,
    object_id: impl ToString,
    action: ChangeAction,
    version: i64,
) -> NewChange {
    let (actor_kind, actor_id) = caller.actor();
    NewChange {
        object_type,
        object_id: object_id.to_string(),
        action,
        version,
        actor_kind: actor_kind.as_str(),
        actor_id,
        object: None,
        structures: Vec::new(),
        public: false,
    }
}

/// The JSON a change keeps of an object: its view as `GET` shows it to those who see
/// all of it.
pub fn snapshot(view: &impl Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::Internal(format!("snapshot to JSON: {e}")))
}

/// Records a write in the change log, as the last statement of its transaction (the
/// log's numbering is held until the commit). `object` is the full view (`None` for a
/// deletion); `structures` those the item concerns (a performance: both sides);
/// `public` whether everyone may see this version.
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &mut DbConnection,
    caller: &Caller,
    object_type: ChangedObject,
    id: impl ToString,
    action: ChangeAction,
    version: i64,
    object: Option<&impl Serialize>,
    structures: Vec<StructureId>,
    public: bool,
) -> Result<(), ApiError> {
    let change = described(
        caller,
        object_type,
        id,
        action,
        version,
        object,
        structures,
        public,
    )?;
    persistence::changes::record(conn, change)?;
    Ok(())
}

/// The change [`record`] records, for a write that records it later (with others, at
/// the end of its transaction: `persistence::changes::record_many`).
#[allow(clippy::too_many_arguments)]
pub fn described(
    caller: &Caller,
    object_type: ChangedObject,
    id: impl ToString,
    action: ChangeAction,
    version: i64,
    object: Option<&impl Serialize>,
    structures: Vec<StructureId>,
    public: bool,
) -> Result<NewChange, ApiError> {
    let mut change = change(caller, object_type, id, action, version);
    change.object = object.map(snapshot).transpose()?;
    change.structures = structures;
    change.public = public && action != ChangeAction::Deleted;
    Ok(change)
}
