//! What several resources need to know about a structure: whether it is live, and the
//! caller's role in it. Shared here so that no resource imports a sibling.

use domain::StructureId;
use domain::access::{MembershipRole, Principal, client_role};
use persistence::structures;

use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::ApiError;
use domain::Structure;

/// The caller's role in a structure (none for anonymous callers).
pub(crate) async fn membership_of(
    pool: &Db,
    caller: &Caller,
    structure: StructureId,
) -> Result<Option<MembershipRole>, ApiError> {
    match &caller.0 {
        Principal::Anonymous => Ok(None),
        Principal::Client {
            structures, scopes, ..
        } => Ok(client_role(structures, scopes, structure)),
        Principal::Account { id, .. } => {
            let id = *id;
            db::run(pool, move |conn| {
                persistence::structures::memberships::membership(conn, id, structure)
            })
            .await
        }
    }
}

pub(crate) async fn find_live(pool: &Db, id: StructureId) -> Result<Structure, ApiError> {
    let structure = db::run(pool, move |conn| structures::find(conn, id)).await?;
    if structure.archived_at.is_some() {
        return Err(ApiError::Archived);
    }
    Ok(structure)
}
