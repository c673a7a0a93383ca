//! What several resources need to know about a structure: whether it is live, and the
//! caller's role in it. Shared here so that no resource imports a sibling.

use domain::access::{MembershipRole, Principal, client_role};
use domain::{Structure, StructureId};
use persistence::{DbConnection, structures};

use crate::auth::Caller;
use crate::http::error::ApiError;
use crate::routes::structures::StructureProblem;

/// The caller's role in a structure (none for anonymous callers), for use inside a
/// blocking database task.
pub(crate) fn role_in(
    conn: &mut DbConnection,
    principal: &Principal,
    structure: StructureId,
) -> Result<Option<MembershipRole>, ApiError> {
    match principal {
        Principal::Anonymous => Ok(None),
        Principal::Client {
            structures, scopes, ..
        } => Ok(client_role(structures, scopes, structure)),
        Principal::Account { id, .. } => Ok(persistence::structures::memberships::membership(
            conn, *id, structure,
        )?),
    }
}

/// A live structure and the caller's role in it, read together (one query for an
/// account, whatever the number of structures it belongs to). For use inside a
/// blocking database task, so that a handler reads, authorizes and writes in one trip.
pub(crate) fn live_structure_with_role(
    conn: &mut DbConnection,
    principal: &Principal,
    id: StructureId,
) -> Result<(Structure, Option<MembershipRole>), ApiError> {
    let (structure, role) = match principal {
        Principal::Account { id: account, .. } => {
            structures::find_with_role(conn, id, Some(*account))?
        }
        Principal::Client {
            structures: acts_for,
            scopes,
            ..
        } => (
            structures::find(conn, id)?,
            client_role(acts_for, scopes, id),
        ),
        Principal::Anonymous => (structures::find(conn, id)?, None),
    };
    if structure.archived_at.is_some() {
        return Err(StructureProblem::Archived.into());
    }
    Ok((structure, role))
}

/// The caller's principal, a live structure and the caller's role in it, for a read:
/// an account's standing comes in the same query as the structure, so a signed-in read
/// costs one round trip, as an anonymous one does. For use inside a blocking database
/// task.
pub(crate) fn caller_and_live_structure(
    conn: &mut DbConnection,
    caller: &Caller,
    id: StructureId,
) -> Result<(Principal, Structure, Option<MembershipRole>), ApiError> {
    let Some(account) = caller.account_id() else {
        let principal = caller.principal(conn)?;
        let (structure, role) = live_structure_with_role(conn, &principal, id)?;
        return Ok((principal, structure, role));
    };
    let (principal, (structure, role)) =
        caller.judged_with(structures::find_for_account(conn, id, account)?)?;
    if structure.archived_at.is_some() {
        return Err(StructureProblem::Archived.into());
    }
    Ok((principal, structure, role))
}

/// A live structure, for use inside a blocking database task.
pub(crate) fn find_live(conn: &mut DbConnection, id: StructureId) -> Result<Structure, ApiError> {
    let structure = structures::find(conn, id)?;
    if structure.archived_at.is_some() {
        return Err(StructureProblem::Archived.into());
    }
    Ok(structure)
}
