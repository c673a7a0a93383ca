//! `GET /v1/dossiers/{id}/history`: everything that happened to a dossier, in order —
//! its transitions, the documents attached and removed, the messages exchanged, the
//! payments made, its final report's steps and the flags raised for staff. Each kind
//! is read from its own table and merged by time; what staff keep to themselves
//! (notes, reviews) is never in it.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use domain::grants::{
    AttentionKind, DocumentKind, DossierAction, DossierStatus, FinalReportAction, PaymentKind,
};
use domain::{DossierId, PerformanceId};
use persistence::DbConnection;
use persistence::grants::{attention, documents, events, final_reports, messages, payments};
use serde::Serialize;
use utoipa::ToSchema;

use super::dossiers::readable_dossier;
use super::instruction::MessageView;
use crate::auth::Caller;
use crate::db::{self, Db};
use crate::enums;
use crate::http::error::{ApiError, responses};
use crate::http::extract::PathId;

/// One transition of a dossier.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierEventView {
    pub id: String,
    #[schema(value_type = enums::DossierAction)]
    pub action: DossierAction,
    #[schema(value_type = enums::DossierStatus)]
    pub from_status: DossierStatus,
    #[schema(value_type = enums::DossierStatus)]
    pub to_status: DossierStatus,
    /// `account` or `client`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    /// What an approval awarded.
    pub awarded_cents: Option<i64>,
    pub occurred_at: DateTime<Utc>,
}

/// A document attached to the dossier, or removed from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentEventView {
    #[schema(value_type = uuid::Uuid)]
    pub document_id: domain::DocumentId,
    #[schema(value_type = enums::DocumentKind)]
    pub document_kind: DocumentKind,
    pub file_name: String,
    pub sha256: String,
    /// Who uploaded it: `account` or `client`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A payment of the award.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentEventView {
    pub payment_id: String,
    #[schema(value_type = Option<enums::PaymentKind>)]
    pub payment_kind: Option<PaymentKind>,
    pub amount_cents: i64,
    pub paid_on: NaiveDate,
    pub reference: String,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A step of the final report: sent by the applicant, accepted, or sent back.
#[derive(Debug, Serialize, ToSchema)]
pub struct FinalReportEventView {
    pub id: String,
    #[schema(value_type = enums::FinalReportAction)]
    pub action: FinalReportAction,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

/// A flag raised for staff (a funded performance cancelled or deleted).
#[derive(Debug, Serialize, ToSchema)]
pub struct AttentionEventView {
    #[schema(value_type = uuid::Uuid)]
    pub flag_id: domain::AttentionFlagId,
    #[schema(value_type = enums::AttentionKind)]
    pub attention_kind: AttentionKind,
    #[schema(value_type = uuid::Uuid)]
    pub performance_id: PerformanceId,
    pub occurred_at: DateTime<Utc>,
}

/// One entry of a dossier's history; `kind` says which.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryEntry {
    /// The dossier moved from one state to another.
    Transition(DossierEventView),
    DocumentAdded(DocumentEventView),
    DocumentRemoved(DocumentEventView),
    Payment(PaymentEventView),
    FinalReport(FinalReportEventView),
    AttentionRaised(AttentionEventView),
    /// A message between the applicant and the agency (never a staff note).
    Message(MessageView),
}

impl HistoryEntry {
    fn occurred_at(&self) -> DateTime<Utc> {
        match self {
            Self::Transition(e) => e.occurred_at,
            Self::DocumentAdded(e) | Self::DocumentRemoved(e) => e.occurred_at,
            Self::Payment(e) => e.occurred_at,
            Self::FinalReport(e) => e.occurred_at,
            Self::AttentionRaised(e) => e.occurred_at,
            Self::Message(m) => m.created_at,
        }
    }
}

/// A dossier's history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DossierHistory {
    pub data: Vec<HistoryEntry>,
}

/// Every entry of the dossier's history, oldest first (entries of one instant in the
/// order their kinds are read: a transition before what it allowed).
pub(crate) fn history(
    conn: &mut DbConnection,
    id: DossierId,
) -> Result<Vec<HistoryEntry>, ApiError> {
    let mut entries: Vec<HistoryEntry> = events::history(conn, id)?
        .into_iter()
        .map(|e| {
            HistoryEntry::Transition(DossierEventView {
                id: e.id,
                action: e.action,
                from_status: e.from,
                to_status: e.to,
                actor_kind: e.actor_kind,
                actor_id: e.actor_id,
                reason: e.reason,
                awarded_cents: e.awarded_cents,
                occurred_at: e.occurred_at,
            })
        })
        .collect();
    for document in documents::history(conn, id)? {
        let view = |occurred_at| DocumentEventView {
            document_id: document.id,
            document_kind: document.kind,
            file_name: document.file_name.to_string(),
            sha256: document.sha256.clone(),
            actor_kind: document.uploaded_by_kind.clone(),
            actor_id: document.uploaded_by_id.clone(),
            occurred_at,
        };
        entries.push(HistoryEntry::DocumentAdded(view(document.uploaded_at)));
        if let Some(deleted_at) = document.deleted_at {
            entries.push(HistoryEntry::DocumentRemoved(view(deleted_at)));
        }
    }
    entries.extend(payments::list(conn, id)?.into_iter().map(|p| {
        HistoryEntry::Payment(PaymentEventView {
            payment_id: p.id,
            payment_kind: p.kind,
            amount_cents: p.amount_cents,
            paid_on: p.paid_on,
            reference: p.reference,
            actor_kind: p.actor_kind,
            actor_id: p.actor_id,
            occurred_at: p.recorded_at,
        })
    }));
    entries.extend(final_reports::history(conn, id)?.into_iter().map(|e| {
        HistoryEntry::FinalReport(FinalReportEventView {
            id: e.id,
            action: e.action,
            actor_kind: e.actor_kind,
            actor_id: e.actor_id,
            reason: e.reason,
            occurred_at: e.occurred_at,
        })
    }));
    entries.extend(attention::list(conn, id)?.into_iter().map(|flag| {
        HistoryEntry::AttentionRaised(AttentionEventView {
            flag_id: flag.id,
            attention_kind: flag.kind,
            performance_id: flag.performance_id,
            occurred_at: flag.raised_at,
        })
    }));
    entries.extend(
        messages::message_history(conn, id)?
            .into_iter()
            .map(|m| HistoryEntry::Message(m.into())),
    );
    // Stable: entries of one instant keep the order they were read in.
    entries.sort_by_key(HistoryEntry::occurred_at);
    Ok(entries)
}

/// Get a dossier's history.
///
/// Everything that happened to the dossier, oldest first, each entry with its `kind`:
/// every transition (who, when, from which state to which, why), the documents
/// attached and removed, the payments made, the final report's steps and the flags
/// raised for staff. What staff keep to themselves is never in it.
#[utoipa::path(
    tag = "grants",
    security(("oauth2" = [])),
    params(
        ("id" = uuid::Uuid, Path, description = "Dossier id."),
    ),
    responses(
        (status = 200, description = "The dossier's history.", body = DossierHistory),
        responses::NotFound,
    )
)]
#[get("/dossiers/{id}/history")]
pub async fn get_dossier_history(
    caller: Caller,
    pool: web::Data<Db>,
    PathId(id): PathId<DossierId>,
) -> Result<HttpResponse, ApiError> {
    caller.signed_in()?;
    let data = db::run(&pool, move |conn| {
        let principal = caller.principal(conn)?;
        readable_dossier(conn, &principal, id)?;
        history(conn, id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(DossierHistory { data }))
}
