//! A dossier's history: one row per transition, written in the transition's own
//! transaction.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::DossierId;
use domain::grants::{DossierAction, DossierStatus};

use super::corrupt;
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::dossier_events;

/// One transition of a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierEvent {
    pub id: String,
    pub dossier_id: DossierId,
    pub action: DossierAction,
    pub from: DossierStatus,
    pub to: DossierStatus,
    /// `account` or `client`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub reason: Option<String>,
    pub awarded_cents: Option<i64>,
    pub occurred_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    id: String,
    dossier_id: String,
    action: String,
    from_status: String,
    to_status: String,
    actor_kind: String,
    actor_id: Option<String>,
    reason: Option<String>,
    awarded_cents: Option<i64>,
    occurred_at: NaiveDateTime,
}

impl TryFrom<EventRow> for DossierEvent {
    type Error = PersistenceError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let bad = |field: &str, e: &dyn std::fmt::Display| {
            corrupt(&format!("dossier event {field}"), id, e)
        };
        Ok(Self {
            dossier_id: row.dossier_id.parse().map_err(|e| bad("dossier", &e))?,
            action: DossierAction::parse(&row.action).map_err(|e| bad("action", &e))?,
            from: DossierStatus::parse(&row.from_status).map_err(|e| bad("from", &e))?,
            to: DossierStatus::parse(&row.to_status).map_err(|e| bad("to", &e))?,
            id: row.id,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            reason: row.reason,
            awarded_cents: row.awarded_cents,
            occurred_at: row.occurred_at.and_utc(),
        })
    }
}

/// Records a transition (its `id` is made here).
pub fn record(conn: &mut DbConnection, event: &DossierEvent) -> Result<(), PersistenceError> {
    diesel::insert_into(dossier_events::table)
        .values(EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            dossier_id: event.dossier_id.to_string(),
            action: event.action.as_str().to_owned(),
            from_status: event.from.as_str().to_owned(),
            to_status: event.to.as_str().to_owned(),
            actor_kind: event.actor_kind.clone(),
            actor_id: event.actor_id.clone(),
            reason: event.reason.clone(),
            awarded_cents: event.awarded_cents,
            occurred_at: event.occurred_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(())
}

/// A dossier's transitions, oldest first.
pub fn history(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<DossierEvent>, PersistenceError> {
    dossier_events::table
        .filter(dossier_events::dossier_id.eq(dossier.to_string()))
        .order(dossier_events::id.asc())
        .select(EventRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DossierEvent::try_from)
        .collect()
}
