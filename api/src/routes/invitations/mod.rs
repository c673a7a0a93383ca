//! `/v1/structures/{id}/invitations` and `/v1/me/invitations`: how a person comes into
//! a structure at its owners' call.
//!
//! An owner (or agency staff) invites an email with a role; the answer is the same
//! whether or not an account has that email, and shows nothing of any account. The
//! person whose account has the email (now, or once they sign up) sees the invitation
//! and accepts it, which makes them a member, or declines it. Invitations expire after
//! 14 days; owners list and cancel the pending ones.

mod dto;
mod handlers;

use domain::StructureId;
use domain::access::{AccountId, Principal, StructureAction, may};
use persistence::identity::accounts;
use persistence::{DbConnection, PersistenceError};

use crate::http::error::ApiError;
// Invitations belong to the members area: they answer its problems.
use crate::routes::members::MemberProblem;
use crate::routes::shared::live_structure_with_role;

pub use dto::*;
pub use handlers::*;

/// `/v1/structures/{id}/invitations`: a structure's owners invite.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_invitation)
        .service(list_invitations)
        .service(cancel_invitation);
}

/// `/v1/me/invitations`: the invited person answers.
pub fn configure_me(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_my_invitations)
        .service(accept_invitation)
        .service(decline_invitation);
}

/// Inside a database task: the structure is live and the caller may manage its
/// members (403 for members and staff without the right, 404 for outsiders).
pub(crate) fn may_manage(
    conn: &mut DbConnection,
    principal: &Principal,
    structure: StructureId,
) -> Result<(), ApiError> {
    let (_, role) = live_structure_with_role(conn, principal, structure)?;
    if may(principal, StructureAction::ManageMembers, role) {
        Ok(())
    } else if may(principal, StructureAction::ReadPrivate, role) {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::NotFound)
    }
}

/// A conflict on an invitation or membership: the email is already a member's.
pub(crate) fn already_member(error: PersistenceError) -> ApiError {
    match error {
        PersistenceError::Conflict { .. } => MemberProblem::AlreadyMember.into(),
        other => other.into(),
    }
}

/// The signed-in account's email, normalized: invitations are addressed to it.
pub(crate) fn email_of(
    conn: &mut DbConnection,
    account: AccountId,
) -> Result<String, PersistenceError> {
    Ok(accounts::find(conn, account)?.email.normalized())
}
