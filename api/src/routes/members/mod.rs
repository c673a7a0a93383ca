//! `/v1/structures/{id}/members` and `/join-requests`: who belongs to a structure.
//! Members come in by an invitation they accept (`routes::invitations`) or by a request
//! to join that an owner accepts.
//!
//! Member lists are private: a caller who is neither a member nor agency staff gets a
//! 404, as for an object that does not exist.

mod dto;
mod handlers;
mod problems;

use domain::StructureId;
use domain::access::{AccountId, MembershipRole, StructureAction, may};

use persistence::DbConnection;

use crate::auth::Caller;
use crate::auth::caller::account_of;
use crate::http::error::ApiError;
use crate::routes::shared::{find_live, role_in};

pub use dto::*;
pub use handlers::*;
pub use problems::MemberProblem;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_members)
        .service(change_member)
        .service(remove_member)
        .service(request_to_join)
        .service(list_join_requests)
        .service(accept_join_request)
        .service(decline_join_request);
}

/// The structure exists and is live, and the caller may do `action` to it: 401 for
/// anonymous callers, 403 for members and staff without the right, 404 for outsiders.
/// For use inside the handler's blocking database task, before its work.
pub(crate) fn check(
    conn: &mut DbConnection,
    caller: &Caller,
    structure: StructureId,
    action: StructureAction,
) -> Result<Option<MembershipRole>, ApiError> {
    let principal = caller.principal(conn)?;
    account_of(&principal)?;
    find_live(conn, structure)?;
    let membership = role_in(conn, &principal, structure)?;
    if may(&principal, action, membership) {
        Ok(membership)
    } else if may(&principal, StructureAction::ReadPrivate, membership) {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::NotFound)
    }
}

/// How the audit log names a membership (or a request to join): structure/account.
pub(crate) fn membership_id(structure: StructureId, account: AccountId) -> String {
    format!("{structure}/{account}")
}

pub(crate) fn member_view(
    conn: &mut DbConnection,
    structure: StructureId,
    account: AccountId,
) -> Result<MemberView, ApiError> {
    persistence::structures::memberships::members(conn, structure)?
        .into_iter()
        .find(|m| m.account == account)
        .map(Into::into)
        .ok_or(ApiError::NotFound)
}
