//! What several resources need to know about a structure: whether it is live, the
//! caller's role in it, and how roles travel. Shared here so that no resource imports a
//! sibling.

use domain::StructureId;
use domain::access::{MembershipRole, Principal, StructureAction, client_role, may};
use persistence::structures;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, FieldIssue, Issue};
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

pub(crate) fn parse_id(id: &str) -> Result<StructureId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::InvalidParameters(vec![FieldIssue::new(
            "id",
            Issue::InvalidValue("not a UUID".into()),
        )])
    })
}

/// A member's role in a structure.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MembershipRoleDto {
    /// Edits the structure, manages its members, archives it.
    Owner,
    /// Edits the structure.
    Editor,
    /// Reads its private data.
    Viewer,
}

impl From<MembershipRoleDto> for MembershipRole {
    fn from(role: MembershipRoleDto) -> Self {
        match role {
            MembershipRoleDto::Owner => Self::Owner,
            MembershipRoleDto::Editor => Self::Editor,
            MembershipRoleDto::Viewer => Self::Viewer,
        }
    }
}

impl From<MembershipRole> for MembershipRoleDto {
    fn from(role: MembershipRole) -> Self {
        match role {
            MembershipRole::Owner => Self::Owner,
            MembershipRole::Editor => Self::Editor,
            MembershipRole::Viewer => Self::Viewer,
        }
    }
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
