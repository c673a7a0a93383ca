//! Recording writes in the change log, in the same transaction as the write (see
//! `persistence::changes`): the object as the API shows it in full, and who did it.

use domain::changes::{ChangeAction, ChangedObject};
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
