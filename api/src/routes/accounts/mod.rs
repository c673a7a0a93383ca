//! `/v1/accounts`: self-service sign-up for artists and venues.

mod dto;
mod handlers;
mod problems;

use domain::access::{Account, AccountAction, AccountId, may_on_account};
use persistence::identity::accounts;

use crate::auth::Caller;
use crate::db::{self, Db};
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
pub(crate) async fn authorized_target(
    pool: &Db,
    caller: &Caller,
    id: AccountId,
    actions: &[AccountAction],
) -> Result<Account, ApiError> {
    caller.account()?;
    if !may_on_account(&caller.0, AccountAction::Read, id, None) {
        return Err(ApiError::NotFound);
    }
    let target = db::run(pool, move |conn| accounts::find(conn, id)).await?;
    permitted(caller, &target, actions)?;
    Ok(target)
}

/// 403 unless the caller may do every one of `actions` to an account it may read.
pub(crate) fn permitted(
    caller: &Caller,
    target: &Account,
    actions: &[AccountAction],
) -> Result<(), ApiError> {
    for &action in actions {
        if !may_on_account(&caller.0, action, target.id, target.agency_role) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(())
}
