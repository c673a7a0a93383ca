//! `/v1/structures/{id}/members` and `/join-requests`: who belongs to a structure.
//! Members come in by an invitation they accept (`routes::invitations`) or by a request
//! to join that an owner accepts.
//!
//! Member lists are private: a caller who is neither a member nor agency staff gets a
//! 404, as for an object that does not exist.

mod problems;

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use domain::StructureId;
use domain::access::{AccountId, MembershipRole, StructureAction, may};
use persistence::PersistenceError;
use persistence::structures::join_requests::JoinRequest;
use persistence::structures::memberships::Member;
pub use problems::MemberProblem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, PathId};
use crate::http::pagination::Page;
use crate::routes::shared::{find_live, membership_of};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_members)
        .service(change_member)
        .service(remove_member)
        .service(request_to_join)
        .service(list_join_requests)
        .service(accept_join_request)
        .service(decline_join_request);
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

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub account_id: uuid::Uuid,
    #[schema(example = "claire@compagnie.example")]
    pub email: String,
    #[schema(example = "Claire Dupont")]
    pub display_name: String,
    pub role: MembershipRoleDto,
    pub since: DateTime<Utc>,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            account_id: member.account.as_uuid(),
            email: member.email,
            display_name: member.display_name,
            role: member.role.into(),
            since: member.since,
        }
    }
}

/// The members of a structure (a handful: one page holds them all).
pub type MemberPage = Page<MemberView>;

#[derive(Debug, Serialize, ToSchema)]
pub struct JoinRequestView {
    pub account_id: uuid::Uuid,
    pub email: String,
    pub display_name: String,
    pub message: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<JoinRequest> for JoinRequestView {
    fn from(request: JoinRequest) -> Self {
        Self {
            account_id: request.account.as_uuid(),
            email: request.email,
            display_name: request.display_name,
            message: request.message,
            created_at: request.created_at,
        }
    }
}

/// Pending requests to join (one page holds them all).
pub type JoinRequestPage = Page<JoinRequestView>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMember {
    role: MembershipRoleDto,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskToJoin {
    /// A word for the owners.
    #[schema(
        pattern = r"^[^\x00-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x1F\x7F]*$",
        max_length = 500
    )]
    message: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptJoinRequest {
    /// The role given (default `viewer`).
    role: Option<MembershipRoleDto>,
}

/// The structure exists and is live, and the caller may do `action` to it: 401 for
/// anonymous callers, 403 for members and staff without the right, 404 for outsiders.
async fn check(
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
fn membership_id(structure: StructureId, account: AccountId) -> String {
    format!("{structure}/{account}")
}

async fn member_view(
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

/// List a structure's members.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Structure id.")),
    responses(
        (status = 200, description = "The members.", body = MemberPage),
        responses::NotFound,
    )
)]
#[get("/structures/{id}/members")]
pub async fn list_members(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(structure): PathId<StructureId>,
) -> Result<HttpResponse, ApiError> {
    check(&pool, &caller, structure, StructureAction::ReadMembers).await?;
    let members = db::run(&pool, move |conn| {
        persistence::structures::memberships::members(conn, structure)
    })
    .await?;
    Ok(MemberPage {
        data: members.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }
    .respond(&req))
}

/// Change a member's role.
///
/// Owners and staff only; the last owner stays an owner (409 `last_owner`).
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("account_id" = uuid::Uuid, Path, description = "Member's account id."),
    ),
    request_body = ChangeMember,
    responses(
        (status = 200, description = "Changed.", body = MemberView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[patch("/structures/{id}/members/{account_id}")]
pub async fn change_member(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((structure, account)): PathId<(StructureId, AccountId)>,
    body: JsonBody<ChangeMember>,
) -> Result<HttpResponse, ApiError> {
    check(&pool, &caller, structure, StructureAction::ManageMembers).await?;
    let role = MembershipRole::from(body.open()?.value.role);
    let event = audit::event(
        &caller,
        "member.change",
        "membership",
        membership_id(structure, account),
        &["role"],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| {
                persistence::structures::memberships::change_role(conn, account, structure, role)
            },
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(member_view(&pool, structure, account).await?))
}

/// Remove a member.
///
/// Owners and staff remove anyone; any member may leave. The last owner cannot go.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("account_id" = uuid::Uuid, Path, description = "Member's account id."),
    ),
    responses(
        (status = 204, description = "Removed."),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
    )
)]
#[delete("/structures/{id}/members/{account_id}")]
pub async fn remove_member(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((structure, account)): PathId<(StructureId, AccountId)>,
) -> Result<HttpResponse, ApiError> {
    let leaving = caller.account()? == account;
    let action = if leaving {
        StructureAction::ReadMembers
    } else {
        StructureAction::ManageMembers
    };
    check(&pool, &caller, structure, action).await?;
    let event = audit::event(
        &caller,
        "member.remove",
        "membership",
        membership_id(structure, account),
        &[],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| persistence::structures::memberships::remove_member(conn, account, structure),
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask to join a structure.
///
/// Any signed-in account that is not yet a member; an owner or staff answers.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Structure id.")),
    request_body = AskToJoin,
    responses(
        (status = 201, description = "Request recorded."),
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/structures/{id}/join-requests")]
pub async fn request_to_join(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(structure): PathId<StructureId>,
    body: JsonBody<AskToJoin>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account()?;
    find_live(&pool, structure).await?;
    let message = match body.open()?.value.message {
        Some(message) => Some(
            domain::text::single_line(&message, 500)
                .map_err(|problem| domain::ValidationError::single("message", problem))?,
        ),
        None => None,
    };
    let event = audit::event(
        &caller,
        "join_request.create",
        "join_request",
        membership_id(structure, account),
        &["message"],
    );
    db::run(&pool, move |conn| {
        let asked = persistence::audit::recorded(
            conn,
            |conn| {
                persistence::structures::join_requests::request_to_join(
                    conn, account, structure, message,
                )
            },
            |_| event,
        );
        match asked {
            Err(PersistenceError::Conflict { .. }) => {
                Ok(Err(ApiError::from(MemberProblem::AlreadyMember)))
            }
            other => other.map(Ok),
        }
    })
    .await??;
    Ok(HttpResponse::Created().finish())
}

/// List pending requests to join.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Structure id.")),
    responses(
        (status = 200, description = "Pending requests, oldest first.", body = JoinRequestPage),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/structures/{id}/join-requests")]
pub async fn list_join_requests(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(structure): PathId<StructureId>,
) -> Result<HttpResponse, ApiError> {
    check(&pool, &caller, structure, StructureAction::ManageMembers).await?;
    let requests = db::run(&pool, move |conn| {
        persistence::structures::join_requests::join_requests(conn, structure)
    })
    .await?;
    Ok(JoinRequestPage {
        data: requests.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }
    .respond(&req))
}

/// Accept a request to join.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("account_id" = uuid::Uuid, Path, description = "The requesting account."),
    ),
    request_body = AcceptJoinRequest,
    responses(
        (status = 201, description = "The new member.", body = MemberView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/structures/{id}/join-requests/{account_id}/accept")]
pub async fn accept_join_request(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((structure, account)): PathId<(StructureId, AccountId)>,
    body: JsonBody<AcceptJoinRequest>,
) -> Result<HttpResponse, ApiError> {
    check(&pool, &caller, structure, StructureAction::ManageMembers).await?;
    let role = body
        .open()?
        .value
        .role
        .map(Into::into)
        .unwrap_or(MembershipRole::Viewer);
    let event = audit::event(
        &caller,
        "join_request.accept",
        "join_request",
        membership_id(structure, account),
        &["role"],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| {
                persistence::structures::join_requests::answer_join_request(
                    conn,
                    account,
                    structure,
                    Some(role),
                )
            },
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::Created().json(member_view(&pool, structure, account).await?))
}

/// Decline a request to join.
#[utoipa::path(
    tag = "members",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("account_id" = uuid::Uuid, Path, description = "The requesting account."),
    ),
    responses(
        (status = 204, description = "Declined."),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/structures/{id}/join-requests/{account_id}/decline")]
pub async fn decline_join_request(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((structure, account)): PathId<(StructureId, AccountId)>,
) -> Result<HttpResponse, ApiError> {
    check(&pool, &caller, structure, StructureAction::ManageMembers).await?;
    let event = audit::event(
        &caller,
        "join_request.decline",
        "join_request",
        membership_id(structure, account),
        &[],
    );
    db::run(&pool, move |conn| {
        persistence::audit::recorded(
            conn,
            |conn| {
                persistence::structures::join_requests::answer_join_request(
                    conn, account, structure, None,
                )
            },
            |_| event,
        )
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
