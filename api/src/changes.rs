//! Recording writes in the change log, in the same transaction as the write (see
//! `persistence::changes`): the object as the API shows it in full, and who did it; and
//! what a reader of the log (the change feed, a webhook's owner) may be told of it.

use domain::StructureId;
use domain::access::{Principal, StructureAction, client_role, may};
use domain::changes::{ChangeAction, ChangedObject};
use persistence::DbConnection;
use persistence::changes::{NewChange, Reader};
use serde::Serialize;

use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::routes::structures::StructureView;

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
        cause: None,
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

/// Which changes a caller may see in full: those concerning a structure whose private
/// data the structures policy lets it read (staff: all; a member: those of its
/// structures, whatever its role; an API client: those it acts for with `read`).
pub fn reader_of(principal: &Principal) -> Reader {
    match principal {
        _ if may(principal, StructureAction::ReadPrivate, None) => Reader::Everything,
        Principal::Anonymous => Reader::Public,
        Principal::Account { id, .. } => Reader::Member(*id),
        Principal::Client {
            structures, scopes, ..
        } => Reader::RelatedTo(
            structures
                .iter()
                .copied()
                .filter(|s| {
                    may(
                        principal,
                        StructureAction::ReadPrivate,
                        client_role(structures, scopes, *s),
                    )
                })
                .collect(),
        ),
    }
}

/// The object of a change as the caller sees it: the full view kept in the log, or
/// its public part. Each type followed has its arm.
pub fn shown(
    object_type: ChangedObject,
    snapshot: &str,
    private: bool,
) -> Result<serde_json::Value, ApiError> {
    let corrupt = |e: serde_json::Error| ApiError::Internal(format!("{object_type} snapshot: {e}"));
    if private {
        return serde_json::from_str(snapshot).map_err(corrupt);
    }
    match object_type {
        ChangedObject::Structure => {
            let view: StructureView = serde_json::from_str(snapshot).map_err(corrupt)?;
            serde_json::to_value(view.redacted()).map_err(corrupt)
        }
        // Productions and tours have no private field.
        ChangedObject::Production | ChangedObject::Tour => {
            serde_json::from_str(snapshot).map_err(corrupt)
        }
        // A performance's fee is for its company, its venue and staff only.
        ChangedObject::Performance => {
            let mut view: serde_json::Value = serde_json::from_str(snapshot).map_err(corrupt)?;
            if let Some(fields) = view.as_object_mut() {
                fields.remove("fee_cents");
            }
            Ok(view)
        }
        // Never public: a dossier's changes are for its applicant and staff only, who
        // read the full view; anyone else learns nothing of it.
        ChangedObject::Dossier => Ok(serde_json::Value::Object(serde_json::Map::new())),
    }
}
