//! `/v1/api-clients`: credentials for partner systems and scripts.
//!
//! A structure's owner (or agency staff) makes a client that acts for some of its
//! structures with some scopes. The secret is shown once and kept hashed; it can be
//! rotated, and the client revoked. A client belongs to its structures: their owners
//! see, revoke, rotate and take it over (`domain::access::may_on_client`), and it acts
//! only where its maker still may (`domain::access::client_standing`).

mod dto;
mod handlers;

use actix_web::web;
use domain::access::{
    ClientAction, ClientId, ClientStake, Principal, StructureAction, may, may_on_client,
};
use domain::{FieldProblem, StructureId};
use persistence::db::write_transaction;
use persistence::identity::api_clients::{self, ApiClient};
use persistence::{DbConnection, PersistenceError};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::Caller;
use crate::auth::{passwords, secrets};
use crate::db::{self, Db};
use crate::http::error::{ApiError, FieldIssue, Issue};
use crate::routes::shared::{find_live, role_in};
use crate::routes::structures::StructureProblem;

pub use dto::*;
pub use handlers::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_api_client)
        .service(list_api_clients)
        .service(get_api_client)
        .service(rotate_api_client_secret)
        .service(revoke_api_client)
        .service(take_over_api_client);
}

/// The client, if `principal` may do `action` to it now: 404 for a caller who may not
/// see it, 403 for one who sees it but may not do this. Costs three queries whatever the
/// caller's memberships: only the client's own structures are looked at.
pub(crate) fn authorized(
    conn: &mut DbConnection,
    principal: &Principal,
    id: ClientId,
    action: ClientAction,
) -> Result<ApiClient, ApiError> {
    let (client, _) = api_clients::find(conn, id)?;
    let stake = match principal {
        Principal::Account { id, .. } if !principal.is_staff() => ClientStake::of(
            api_clients::owned_by(conn, *id, &client)?,
            client.structures.len(),
        ),
        _ => ClientStake::None,
    };
    if may_on_client(principal, action, stake) {
        Ok(client)
    } else if may_on_client(principal, ClientAction::Read, stake) {
        Err(ApiError::Forbidden)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Checks `action` and runs `write` with its audit event in one transaction, so that the
/// right is checked at the moment of the write.
pub(crate) async fn authorized_write<T: Send + 'static>(
    pool: &Db,
    caller: &Caller,
    id: ClientId,
    action: ClientAction,
    event: persistence::audit::NewEvent,
    write: impl FnOnce(&mut DbConnection, ApiClient) -> Result<T, PersistenceError> + Send + 'static,
) -> Result<T, ApiError> {
    caller.account(pool).await?;
    let caller = *caller;
    db::run(pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            let client = authorized(conn, &principal, id, action)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| write(conn, client),
                |_| event,
            )?)
        })
    })
    .await
}

/// 422 naming the first of `structures` that is not a live structure the caller owns
/// (or, for staff, a live structure): a client acts only where its maker may.
pub(crate) fn check_owned(
    conn: &mut DbConnection,
    principal: &Principal,
    structures: &[StructureId],
) -> Result<(), ApiError> {
    for (i, &structure) in structures.iter().enumerate() {
        let owner = match find_live(conn, structure) {
            Ok(_) => may(
                principal,
                StructureAction::ManageMembers,
                role_in(conn, principal, structure)?,
            ),
            Err(ApiError::NotFound) => false,
            Err(error) if error.area() == Some(&StructureProblem::Archived) => false,
            Err(other) => return Err(other),
        };
        if !owner {
            return Err(ApiError::Validation(vec![FieldIssue::new(
                format!("structure_ids[{i}]"),
                Issue::Domain(FieldProblem::NotOneOf {
                    allowed: "a live structure you own".into(),
                }),
            )]));
        }
    }
    Ok(())
}

pub(crate) async fn new_secret() -> Result<(SecretString, String), ApiError> {
    let secret = secrets::random_secret();
    let for_hash = secret.clone();
    let hash = web::block(move || passwords::hash(for_hash.expose_secret()))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    Ok((secret, hash))
}
