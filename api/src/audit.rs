//! Recording writes in the audit log, in the same blocking task as the write.

use domain::access::{AccountId, ActorKind};
use persistence::audit::NewEvent;

use crate::auth::Caller;
use crate::http::context;

/// An audit event for `caller` doing `action` to an object, in the current request.
pub fn event(
    caller: &Caller,
    action: &'static str,
    object_type: &'static str,
    object_id: impl ToString,
    changed_fields: &[&str],
) -> NewEvent {
    let (actor_kind, actor_id) = caller.actor();
    new_event(
        actor_kind,
        actor_id,
        action,
        object_type,
        object_id,
        changed_fields,
    )
}

/// An audit event for the holder of `account` when they proved who they are with
/// something other than an access token (a password reset token).
pub fn event_by_account(
    account: AccountId,
    action: &'static str,
    object_type: &'static str,
    object_id: impl ToString,
    changed_fields: &[&str],
) -> NewEvent {
    new_event(
        ActorKind::Account,
        Some(account.to_string()),
        action,
        object_type,
        object_id,
        changed_fields,
    )
}

fn new_event(
    actor_kind: ActorKind,
    actor_id: Option<String>,
    action: &'static str,
    object_type: &'static str,
    object_id: impl ToString,
    changed_fields: &[&str],
) -> NewEvent {
    NewEvent {
        actor_kind: actor_kind.as_str(),
        actor_id,
        action,
        object_type,
        object_id: object_id.to_string(),
        request_id: context::current().request_id,
        changed_fields: changed_fields.iter().map(|f| (*f).to_owned()).collect(),
    }
}
