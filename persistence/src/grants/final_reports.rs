//! Final reports (bilans): one row per dossier, its performances held and final budget
//! as JSON, and one history row per action on it (sent, accepted, changes asked).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::DossierId;
use domain::grants::{FinalReportAction, FinalReportContent, FinalReportStatus, Held};
use serde::{Deserialize, Serialize};

use super::corrupt;
use super::dossiers::{StoredBudget, stored_budget};
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::{final_report_events, final_reports};

/// A dossier's final report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalReport {
    pub dossier_id: DossierId,
    pub status: FinalReportStatus,
    pub content: FinalReportContent,
    pub submitted_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// One action on a final report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalReportEvent {
    pub id: String,
    pub dossier_id: DossierId,
    pub action: FinalReportAction,
    /// `account` or `client`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredHeld {
    performance_id: String,
    attendance: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = final_reports)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct ReportRow {
    dossier_id: String,
    status: String,
    held: String,
    budget: String,
    comment: Option<String>,
    submitted_at: NaiveDateTime,
    decided_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
    version: i64,
}

impl ReportRow {
    fn new(report: &FinalReport) -> Result<Self, PersistenceError> {
        let held: Vec<StoredHeld> = report
            .content
            .held
            .iter()
            .map(|h| StoredHeld {
                performance_id: h.performance_id.to_string(),
                attendance: h.attendance,
            })
            .collect();
        Ok(Self {
            dossier_id: report.dossier_id.to_string(),
            status: report.status.as_str().to_owned(),
            held: serde_json::to_string(&held)?,
            budget: serde_json::to_string(&stored_budget(&report.content.budget))?,
            comment: report.content.comment.clone(),
            submitted_at: report.submitted_at.naive_utc(),
            decided_at: report.decided_at.map(|t| t.naive_utc()),
            updated_at: report.updated_at.naive_utc(),
            version: report.version,
        })
    }
}

impl TryFrom<ReportRow> for FinalReport {
    type Error = PersistenceError;

    fn try_from(row: ReportRow) -> Result<Self, Self::Error> {
        let id = row.dossier_id.as_str();
        let what = |field: &str| format!("final report {field}");
        let held: Vec<StoredHeld> = serde_json::from_str(&row.held)?;
        let held = held
            .into_iter()
            .map(|h| {
                Ok(Held {
                    performance_id: h
                        .performance_id
                        .parse()
                        .map_err(|e| corrupt(&what("performance"), id, e))?,
                    attendance: h.attendance,
                })
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        let budget: StoredBudget = serde_json::from_str(&row.budget)?;
        Ok(Self {
            dossier_id: row
                .dossier_id
                .parse()
                .map_err(|e| corrupt(&what("dossier"), id, e))?,
            status: FinalReportStatus::parse(&row.status)
                .map_err(|e| corrupt(&what("status"), id, e))?,
            content: FinalReportContent {
                held,
                budget: budget.parsed("final report", id)?,
                comment: row.comment,
            },
            submitted_at: row.submitted_at.and_utc(),
            decided_at: row.decided_at.map(|t| t.and_utc()),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

pub fn find(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Option<FinalReport>, PersistenceError> {
    final_reports::table
        .find(dossier.to_string())
        .select(ReportRow::as_select())
        .first(conn)
        .optional()?
        .map(FinalReport::try_from)
        .transpose()
}

/// Stores `report` over what the dossier had (`current`, read in the same transaction,
/// whose dossier row the caller locked): a new row, or the old one if still at its
/// version.
pub fn save(
    conn: &mut DbConnection,
    current: Option<&FinalReport>,
    report: &FinalReport,
) -> Result<(), PersistenceError> {
    let row = ReportRow::new(report)?;
    match current {
        None => {
            diesel::insert_into(final_reports::table)
                .values(&row)
                .execute(conn)?;
        }
        Some(current) => {
            let changed = diesel::update(
                final_reports::table
                    .filter(final_reports::dossier_id.eq(current.dossier_id.to_string()))
                    .filter(final_reports::version.eq(current.version)),
            )
            .set(&row)
            .execute(conn)?;
            if changed == 0 {
                return Err(PersistenceError::VersionMismatch {
                    current: current.version,
                });
            }
        }
    }
    Ok(())
}

/// Records an action on a final report (its `id` is made here).
pub fn record_event(
    conn: &mut DbConnection,
    event: &FinalReportEvent,
) -> Result<(), PersistenceError> {
    diesel::insert_into(final_report_events::table)
        .values((
            final_report_events::id.eq(uuid::Uuid::now_v7().to_string()),
            final_report_events::dossier_id.eq(event.dossier_id.to_string()),
            final_report_events::action.eq(event.action.as_str()),
            final_report_events::actor_kind.eq(&event.actor_kind),
            final_report_events::actor_id.eq(&event.actor_id),
            final_report_events::reason.eq(&event.reason),
            final_report_events::occurred_at.eq(event.occurred_at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = final_report_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    id: String,
    dossier_id: String,
    action: String,
    actor_kind: String,
    actor_id: Option<String>,
    reason: Option<String>,
    occurred_at: NaiveDateTime,
}

impl TryFrom<EventRow> for FinalReportEvent {
    type Error = PersistenceError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        Ok(Self {
            dossier_id: row
                .dossier_id
                .parse()
                .map_err(|e| corrupt("final report event dossier", id, e))?,
            action: FinalReportAction::parse(&row.action)
                .map_err(|e| corrupt("final report event action", id, e))?,
            id: row.id,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            reason: row.reason,
            occurred_at: row.occurred_at.and_utc(),
        })
    }
}

/// The actions on a dossier's final report, oldest first (for the dossier's history).
pub fn history(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<FinalReportEvent>, PersistenceError> {
    final_report_events::table
        .filter(final_report_events::dossier_id.eq(dossier.to_string()))
        .order(final_report_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(FinalReportEvent::try_from)
        .collect()
}
