//! `/v1/dossiers/{id}/messages` and `/v1/dossiers/{id}/notes`: the instruction's
//! written exchanges.
//!
//! Messages go between the applicant's side (those who file for it: its owners and
//! editors, API clients with `dossiers:write`) and the agency's; whoever reads the
//! dossier reads them (its viewers, readers' API clients, its assigned reviewers).
//!
//! Notes (notes internes) are the agency's alone. For anyone but staff the notes of a
//! dossier do not exist: a 404 exactly like a missing dossier's, whatever the body,
//! even to an applicant who reads the dossier. They have their own table, enter
//! neither the change log nor any view of the dossier, and their audit events (which
//! only staff read) name the dossier, never the text.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use domain::DossierId;
use domain::ValidationError;
use domain::access::{GrantsAction, MembershipRole, Principal, may_grants};
use domain::grants::{MessageSide, message_text};
use persistence::DbConnection;
use persistence::clock::storable_now;
use persistence::db::write_transaction;
use persistence::grants::messages::{self, DossierMessage, DossierNote};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dossiers::readable_dossier;
use crate::audit;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::enums;
use crate::http::error::{ApiError, responses};
use crate::http::extract::{JsonBody, Opened, PathId, QueryParams};
use crate::http::idempotency::{self, Reply};
use crate::http::pagination::{self, Page};
use crate::mail::Mailer;

/// A message or a note: several lines allowed, no other control character.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Bonjour, pourriez-vous préciser le budget de la tournée ?"}))]
pub struct TextBody {
    #[schema(
        pattern = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$",
        max_length = 10000
    )]
    pub body: String,
}

/// A message on a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: uuid::Uuid,
    pub dossier_id: uuid::Uuid,
    /// The side that wrote it: the applicant's or the agency's.
    #[schema(value_type = enums::MessageSide)]
    pub author_side: MessageSide,
    /// `account` or `client` (an API client filing for the applicant).
    pub author_kind: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A private staff note on a dossier: never shown but to agency staff.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteView {
    pub id: uuid::Uuid,
    pub dossier_id: uuid::Uuid,
    /// The staff account that wrote it.
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub type MessagePage = Page<MessageView>;
pub type NotePage = Page<NoteView>;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListInstructionParams {
    /// Items per page, 1 to 200.
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 512, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

fn uuid_of(id: &str) -> uuid::Uuid {
    // Ids are made here as UUIDv7 and read back as stored: a bad one is the nil id
    // rather than a failed page.
    id.parse().unwrap_or_default()
}

impl From<DossierMessage> for MessageView {
    fn from(message: DossierMessage) -> Self {
        Self {
            id: uuid_of(&message.id),
            dossier_id: message.dossier_id.as_uuid(),
            author_side: message.author_side,
            author_kind: message.author_kind,
            author_id: message.author_id,
            body: message.body,
            created_at: message.created_at,
        }
    }
}

impl From<DossierNote> for NoteView {
    fn from(note: DossierNote) -> Self {
        Self {
            id: uuid_of(&note.id),
            dossier_id: note.dossier_id.as_uuid(),
            author_id: note.author_id,
            body: note.body,
            created_at: note.created_at,
        }
    }
}

/// The side the caller writes a message for: the agency's for staff, the applicant's
/// for those who file for it; 403 for a reader of the dossier who is neither.
fn side_of(principal: &Principal, role: Option<MembershipRole>) -> Result<MessageSide, ApiError> {
    if may_grants(principal, GrantsAction::Instruct, role) {
        Ok(MessageSide::Staff)
    } else if may_grants(principal, GrantsAction::WriteDossier, role) {
        Ok(MessageSide::Applicant)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The dossier's notes exist for staff only: a 404 for everyone else, as a missing
/// dossier's.
fn staff_reads_notes(
    conn: &mut DbConnection,
    principal: &Principal,
    id: DossierId,
) -> Result<(), ApiError> {
    if !principal.is_staff() {
        return Err(ApiError::NotFound);
    }
    readable_dossier(conn, principal, id).map(|_| ())
}

/// The text of a message or a note, checked, and the raw body (idempotency keys
/// compare requests by it).
fn opened_text(body: JsonBody<TextBody>) -> Result<(String, web::Bytes), ApiError> {
    let Opened { value, raw } = body.open()?;
    let text = message_text(&value.body).map_err(|p| ValidationError::single("body", p))?;
    Ok((text, raw))
}

/// The id after which a page starts, from its cursor.
fn after_of(cursor: Option<&str>) -> Result<Option<String>, ApiError> {
    cursor
        .map(pagination::decode::<String>)
        .transpose()?
        .map(|id| {
            id.parse::<uuid::Uuid>()
                .map(|_| id)
                .map_err(|_| pagination::invalid_cursor())
        })
        .transpose()
}

/// Write a message on a dossier.
///
/// By the applicant's side (its owners and editors, API clients with `dossiers:write`)
/// and agency staff, in any state of the dossier. Another reader of the dossier (a
/// viewer, a reviewer) is refused (403); a dossier you do not read is a 404. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = TextBody,
    responses(
        (status = 201, description = "The message.", body = MessageView),
        responses::Forbidden,
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/messages")]
pub async fn post_dossier_message(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    mailer: web::Data<Mailer>,
    PathId(id): PathId<DossierId>,
    body: JsonBody<TextBody>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    // What is wrong with the body is told only to those who may write.
    let (text, raw) = match opened_text(body) {
        Ok(opened) => opened,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                let (_, role) = readable_dossier(conn, &principal, id)?;
                side_of(&principal, role).map(|_| ())
            })
            .await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let event = audit::event(&caller, "dossier.message", "dossier", id, &["messages"]);
        let (author_kind, author_id) = caller.actor();
        Ok(move |conn: &mut DbConnection| {
            write_transaction(conn, |conn| {
                let principal = caller.principal(conn)?;
                let (_, role) = readable_dossier(conn, &principal, id)?;
                let author_side = side_of(&principal, role)?;
                // The agency's messages are mailed to the applicant's members (never a
                // note: those have their own handler, which mails nothing).
                if author_side == MessageSide::Staff {
                    mailer.dossier_message(conn, id, &text)?;
                }
                let message = persistence::audit::recorded(
                    conn,
                    |conn| {
                        messages::post(
                            conn,
                            DossierMessage {
                                id: String::new(),
                                dossier_id: id,
                                author_side,
                                author_kind: author_kind.as_str().to_owned(),
                                author_id: author_id.unwrap_or_default(),
                                body: text,
                                created_at: storable_now(),
                            },
                        )
                    },
                    |_| event,
                )?;
                let location = format!("/v1/dossiers/{id}/messages");
                Ok(
                    Reply::json(StatusCode::CREATED, &MessageView::from(message))?
                        .header(header::LOCATION, location),
                )
            })
        })
    })
    .await
}

/// List a dossier's messages.
///
/// Oldest first, for whoever reads the dossier.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ListInstructionParams,
    ),
    responses(
        (status = 200, description = "One page of messages.", body = MessagePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/messages")]
pub async fn list_dossier_messages(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    QueryParams(params): QueryParams<ListInstructionParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let limit = pagination::limit(params.limit)?;
    let after = after_of(params.cursor.as_deref())?;
    let page = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        Ok::<_, ApiError>(messages::messages(conn, id, after.as_deref(), limit)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |m| m.id.clone());
    Ok(Page {
        data: page.items.into_iter().map(MessageView::from).collect(),
        next_cursor,
    }
    .respond(&req))
}

/// Write a private note on a dossier.
///
/// By agency staff only; the applicant, its API clients and reviewers never see notes
/// anywhere. For anyone but staff, a 404 as for a missing dossier. Send an
/// `Idempotency-Key` to retry safely.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ("Idempotency-Key" = Option<String>, Header, pattern = "^[\\x21-\\x7E]{1,255}$",
            description = "Makes retries safe: the same key and body replay the first response."),
    ),
    request_body = TextBody,
    responses(
        (status = 201, description = "The note.", body = NoteView),
        responses::NotFound,
        responses::Conflict,
        responses::PayloadTooLarge,
        responses::UnsupportedMediaType,
        responses::Unprocessable,
    )
)]
#[post("/dossiers/{id}/notes")]
pub async fn post_dossier_note(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    body: JsonBody<TextBody>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let (text, raw) = match opened_text(body) {
        Ok(opened) => opened,
        Err(problem) => {
            db::run(&pool, move |conn| {
                let principal = caller.principal(conn)?;
                staff_reads_notes(conn, &principal, id)
            })
            .await?;
            return Err(problem);
        }
    };
    idempotency::once(&pool, &req, &caller, &raw, || async {
        let event = audit::event(&caller, "dossier.note", "dossier", id, &["notes"]);
        let (_, author_id) = caller.actor();
        Ok(move |conn: &mut DbConnection| {
            write_transaction(conn, |conn| {
                let principal = caller.principal(conn)?;
                staff_reads_notes(conn, &principal, id)?;
                let note = persistence::audit::recorded(
                    conn,
                    |conn| {
                        messages::write_note(
                            conn,
                            DossierNote {
                                id: String::new(),
                                dossier_id: id,
                                author_id: author_id.unwrap_or_default(),
                                body: text,
                                created_at: storable_now(),
                            },
                        )
                    },
                    |_| event,
                )?;
                let location = format!("/v1/dossiers/{id}/notes");
                Ok(Reply::json(StatusCode::CREATED, &NoteView::from(note))?
                    .header(header::LOCATION, location))
            })
        })
    })
    .await
}

/// List a dossier's private notes.
///
/// Oldest first, for agency staff only: a 404 for anyone else.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
        ListInstructionParams,
    ),
    responses(
        (status = 200, description = "One page of notes.", body = NotePage,
            headers(("Link" = String, description = "`<…>; rel=\"next\"` when another page follows."))),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/notes")]
pub async fn list_dossier_notes(
    caller: Caller,
    pool: web::Data<Db>,
    req: HttpRequest,
    PathId(id): PathId<DossierId>,
    QueryParams(params): QueryParams<ListInstructionParams>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let limit = pagination::limit(params.limit);
    let after = after_of(params.cursor.as_deref());
    let page = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        // Bad parameters are told to staff only: to others the notes do not exist.
        staff_reads_notes(conn, &principal, id)?;
        let after = after?;
        Ok::<_, ApiError>(messages::notes(conn, id, after.as_deref(), limit?)?)
    })
    .await?;
    let next_cursor = pagination::next_cursor(&page, |n| n.id.clone());
    Ok(Page {
        data: page.items.into_iter().map(NoteView::from).collect(),
        next_cursor,
    }
    .respond(&req))
}
