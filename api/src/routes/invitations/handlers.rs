//! The handlers of `/v1/structures/{id}/invitations` and `/v1/me/invitations`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use domain::StructureId;
use domain::access::Email;
use domain::structures::invitation::InvitationId;
use persistence::db::write_transaction;
use persistence::structures::invitations;

use super::dto::*;
use super::{already_member, email_of, may_manage};
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, PathId};

/// Invite someone to a structure.
///
/// Owners and staff. The answer is the same whether or not an account has this email:
/// the person sees the invitation at `GET /v1/me/invitations` once signed in with it
/// (signing up later works too) and has 14 days to accept. Inviting the same email
/// again replaces the pending invitation (a new id and a new expiry), so a retry is
/// safe. 409 `already_member` if the email is already a member's.
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Structure id.")),
    request_body = InviteMember,
    responses(
        (status = 201, description = "Invited.", body = InvitationView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/structures/{id}/invitations")]
pub async fn create_invitation(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(structure): PathId<StructureId>,
    body: JsonBody<InviteMember>,
) -> Result<HttpResponse, ApiError> {
    let inviter = caller.account(&pool).await?;
    let invited = body.open().and_then(|opened| {
        let InviteMember { email, role } = opened.value;
        let email = Email::parse(&email)
            .map_err(|problem| domain::ValidationError::single("email", problem))?
            .normalized();
        Ok((email, role))
    });
    let (email, role) = match invited {
        Ok(invited) => invited,
        Err(problem) => {
            // What is wrong with the body is told only to those who may invite.
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                may_manage(conn, &principal, structure)
            })
            .await?;
            return Err(problem);
        }
    };
    let mut event = audit::event(
        &caller,
        "invitation.create",
        "invitation",
        "",
        &["email", "role"],
    );
    let invitation = db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            may_manage(conn, &principal, structure)?;
            persistence::audit::recorded(
                conn,
                |conn| invitations::invite(conn, structure, email, role, inviter),
                move |invitation| {
                    event.object_id = invitation.id.to_string();
                    event
                },
            )
            .map_err(already_member)
        })
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/structures/{structure}/invitations"),
        ))
        .json(InvitationView::from(invitation)))
}

/// List a structure's pending invitations.
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Structure id.")),
    responses(
        (status = 200, description = "Invitations not yet answered nor expired, oldest first.",
            body = InvitationPage),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[get("/structures/{id}/invitations")]
pub async fn list_invitations(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(structure): PathId<StructureId>,
) -> Result<HttpResponse, ApiError> {
    caller.account(&pool).await?;
    let pending = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        may_manage(conn, &principal, structure)?;
        Ok::<_, ApiError>(invitations::of_structure(conn, structure)?)
    })
    .await?;
    Ok(InvitationPage {
        data: pending.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }
    .respond(&req))
}

/// Cancel an invitation.
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Structure id."),
        ("invitation_id" = uuid::Uuid, Path, description = "Invitation id."),
    ),
    responses(
        (status = 204, description = "Cancelled: it can no longer be accepted."),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[delete("/structures/{id}/invitations/{invitation_id}")]
pub async fn cancel_invitation(
    caller: Caller,
    pool: web::Data<Db>,
    PathId((structure, invitation)): PathId<(StructureId, InvitationId)>,
) -> Result<HttpResponse, ApiError> {
    caller.account(&pool).await?;
    let event = audit::event(&caller, "invitation.cancel", "invitation", invitation, &[]);
    db::run(&pool, move |conn| {
        write_transaction::<_, ApiError>(conn, |conn| {
            let principal = caller.principal(conn)?;
            may_manage(conn, &principal, structure)?;
            Ok(persistence::audit::recorded(
                conn,
                |conn| invitations::cancel(conn, structure, invitation),
                |_| event,
            )?)
        })
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// List the invitations sent to you.
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    responses(
        (status = 200, description = "Invitations to your email, not yet answered nor expired, oldest first.",
            body = ReceivedInvitationPage),
        responses::Forbidden,
    )
)]
#[get("/me/invitations")]
pub async fn list_my_invitations(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account(&pool).await?;
    let received = db::run(&pool, move |conn| {
        caller.principal(conn)?;
        let email = email_of(conn, account)?;
        Ok::<_, ApiError>(invitations::to_email(conn, &email)?)
    })
    .await?;
    Ok(ReceivedInvitationPage {
        data: received.into_iter().map(Into::into).collect(),
        next_cursor: None,
    }
    .respond(&req))
}

/// Accept an invitation.
///
/// You become a member with the invited role. An invitation is accepted once: of
/// simultaneous acceptances one succeeds, the others find it gone (404).
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Invitation id.")),
    responses(
        (status = 201, description = "You are a member.", body = JoinedStructure,
            headers(("Location" = String, description = "The structure."))),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
    )
)]
#[post("/me/invitations/{id}/accept")]
pub async fn accept_invitation(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account(&pool).await?;
    let event = audit::event(&caller, "invitation.accept", "invitation", id, &["role"]);
    let invitation = db::run(&pool, move |conn| {
        caller.principal(conn)?;
        let email = email_of(conn, account)?;
        persistence::audit::recorded(
            conn,
            |conn| invitations::accept(conn, id, account, &email),
            |_| event,
        )
        .map_err(already_member)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((
            header::LOCATION,
            format!("/v1/structures/{}", invitation.structure),
        ))
        .json(JoinedStructure {
            structure_id: invitation.structure.as_uuid(),
            role: invitation.role,
        }))
}

/// Decline an invitation.
#[utoipa::path(
    tag = "invitations",
    security(("oauth2" = [])),
    params(("id" = uuid::Uuid, Path, description = "Invitation id.")),
    responses(
        (status = 204, description = "Declined."),
        responses::Forbidden,
        responses::NotFound,
    )
)]
#[post("/me/invitations/{id}/decline")]
pub async fn decline_invitation(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<InvitationId>,
) -> Result<HttpResponse, ApiError> {
    let account = caller.account(&pool).await?;
    let event = audit::event(&caller, "invitation.decline", "invitation", id, &[]);
    db::run(&pool, move |conn| {
        caller.principal(conn)?;
        let email = email_of(conn, account)?;
        Ok::<_, ApiError>(persistence::audit::recorded(
            conn,
            |conn| invitations::decline(conn, id, &email),
            |_| event,
        )?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
