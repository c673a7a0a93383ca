//! `/v1/accounts`: self-service sign-up for artists and venues.

mod dto;
mod handlers;
mod problems;

use domain::access::{Account, AccountAction, AccountId, Principal, may_on_account};
use persistence::DbConnection;
use persistence::identity::accounts;

use crate::auth::Caller;
use crate::auth::caller::account_of;
use crate::http::error::ApiError;

pub use dto::*;
pub use handlers::*;
pub use problems::AccountProblem;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_account)
        .service(list_accounts)
        .service(get_account)
        .service(update_account)
        .service(create_password_reset);
}

/// The account if the policy lets the caller do `action` to it: 404 when the caller may
/// not even read it, 403 when it may read but not do this.
/// For use inside the handler's blocking database task; also gives the caller's
/// principal, for the checks that follow.
pub(crate) fn authorized_target(
    conn: &mut DbConnection,
    caller: &Caller,
    id: AccountId,
    actions: &[AccountAction],
) -> Result<(Principal, Account), ApiError> {
    let principal = caller.principal(conn)?;
    account_of(&principal)?;
    if !may_on_account(&principal, AccountAction::Read, id, None) {
        return Err(ApiError::NotFound);
    }
    let target = accounts::find(conn, id)?;
    permitted(&principal, &target, actions)?;
    Ok((principal, target))
}

/// 403 unless the caller may do every one of `actions` to an account it may read.
pub(crate) fn permitted(
    principal: &Principal,
    target: &Account,
    actions: &[AccountAction],
) -> Result<(), ApiError> {
    for &action in actions {
        if !may_on_account(principal, action, target.id, target.agency_role) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(())
}
