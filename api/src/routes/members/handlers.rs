//! The handlers of members and requests to join.

use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use domain::StructureId;
use domain::access::{AccountId, MembershipRole, StructureAction};
use persistence::PersistenceError;
use persistence::db::write_transaction;

use super::*;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, PathId};
use crate::routes::shared::find_live;

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
    let members = db::run(&pool, move |conn| {
        check(conn, &caller, structure, StructureAction::ReadMembers)?;
        Ok::<_, ApiError>(persistence::structures::memberships::members(
            conn, structure,
        )?)
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
    let role = body.open().map(|opened| opened.value.role);
    let event = audit::event(
        &caller,
        "member.change",
        "membership",
        membership_id(structure, account),
        &["role"],
    );
    let member = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            check(conn, &caller, structure, StructureAction::ManageMembers)?;
            // What is wrong with the body is told only to those who may change members.
            let role = role?;
            persistence::audit::recorded(
                conn,
                |conn| {
                    persistence::structures::memberships::change_role(
                        conn, account, structure, role,
                    )
                },
                |_| event,
            )?;
            member_view(conn, structure, account)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(member))
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
    let leaving = caller.account(&pool).await? == account;
    let action = if leaving {
        StructureAction::ReadMembers
    } else {
        StructureAction::ManageMembers
    };
    let event = audit::event(
        &caller,
        "member.remove",
        "membership",
        membership_id(structure, account),
        &[],
    );
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            check(conn, &caller, structure, action)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| {
                    persistence::structures::memberships::remove_member(conn, account, structure)
                },
                |_| event,
            )?)
        })
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
    let account = caller.account(&pool).await?;
    let message = body.open().and_then(|opened| match opened.value.message {
        Some(message) => Ok(Some(
            domain::text::single_line(&message, 500)
                .map_err(|problem| domain::ValidationError::single("message", problem))?,
        )),
        None => Ok(None),
    });
    let event = audit::event(
        &caller,
        "join_request.create",
        "join_request",
        membership_id(structure, account),
        &["message"],
    );
    db::run(&pool, move |conn| {
        caller.principal(conn)?;
        find_live(conn, structure)?;
        let message = message?;
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
            Err(PersistenceError::Conflict { .. }) => Err(MemberProblem::AlreadyMember.into()),
            other => Ok::<_, ApiError>(other?),
        }
    })
    .await?;
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
    let requests = db::run(&pool, move |conn| {
        check(conn, &caller, structure, StructureAction::ManageMembers)?;
        Ok::<_, ApiError>(persistence::structures::join_requests::join_requests(
            conn, structure,
        )?)
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
    let role = body
        .open()
        .map(|opened| opened.value.role.unwrap_or(MembershipRole::Viewer));
    let event = audit::event(
        &caller,
        "join_request.accept",
        "join_request",
        membership_id(structure, account),
        &["role"],
    );
    let member = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            check(conn, &caller, structure, StructureAction::ManageMembers)?;
            let role = role?;
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
            )?;
            member_view(conn, structure, account)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(member))
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
    let event = audit::event(
        &caller,
        "join_request.decline",
        "join_request",
        membership_id(structure, account),
        &[],
    );
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            check(conn, &caller, structure, StructureAction::ManageMembers)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| {
                    persistence::structures::join_requests::answer_join_request(
                        conn, account, structure, None,
                    )
                },
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
