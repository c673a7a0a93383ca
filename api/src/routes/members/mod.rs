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

use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::ApiError;
use crate::routes::shared::{find_live, membership_of};

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
pub(crate) async fn check(
    pool: &Db,
    caller: &Caller,
    structure: StructureId,
    action: StructureAction,
) -> Result<Option<MembershipRole>, ApiError> {
    caller.account()?;
    find_live(pool, structure).await?;
    let membership = membership_of(pool, caller, structure).await?;
    if may(&caller.0, action, membership) {
        Ok(membership)
    } else if may(&caller.0, StructureAction::ReadPrivate, membership) {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::NotFound)
    }
}

/// How the audit log names a membership (or a request to join): structure/account.
pub(crate) fn membership_id(structure: StructureId, account: AccountId) -> String {
    format!("{structure}/{account}")
}

pub(crate) async fn member_view(
    pool: &Db,
    structure: StructureId,
    account: AccountId,
) -> Result<MemberView, ApiError> {
    db::run(pool, move |conn| {
        persistence::structures::memberships::members(conn, structure)
    })
    .await?
    .into_iter()
    .find(|m| m.account == account)
    .map(Into::into)
    .ok_or(ApiError::NotFound)
}
