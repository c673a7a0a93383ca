//! The audit log: who did what to which object, when, in which request, changing which
//! fields. Append-only: triggers refuse updates and deletes on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::db::{DbConnection, MultiBackend};
use crate::error::PersistenceError;
use crate::schema::audit_events;
use crate::structures::storable_now;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// `account`, `client` or `anonymous`.
    pub actor_kind: &'static str,
    pub actor_id: Option<String>,
    /// `structure.update`, `member.add`…
    pub action: &'static str,
    pub object_type: &'static str,
    pub object_id: String,
    pub request_id: String,
    pub changed_fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub request_id: String,
    pub changed_fields: Vec<String>,
}

/// Runs a write and records its event in the same transaction: no write without its
/// trace, no trace of a write that did not happen. `event` sees the write's result
/// (for ids made inside it).
pub fn recorded<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, PersistenceError>,
    event: impl FnOnce(&T) -> NewEvent,
) -> Result<T, PersistenceError> {
    crate::db::write_transaction(conn, |conn| {
        let value = work(conn)?;
        record(conn, event(&value))?;
        Ok(value)
    })
}

pub fn record(conn: &mut DbConnection, event: NewEvent) -> Result<(), PersistenceError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::id.eq(uuid::Uuid::now_v7().to_string()),
            audit_events::occurred_at.eq(storable_now().naive_utc()),
            audit_events::actor_kind.eq(event.actor_kind),
            audit_events::actor_id.eq(event.actor_id),
            audit_events::action.eq(event.action),
            audit_events::object_type.eq(event.object_type),
            audit_events::object_id.eq(event.object_id),
            audit_events::request_id.eq(event.request_id),
            audit_events::changed_fields.eq(serde_json::to_string(&event.changed_fields)?),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub actor_id: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub action: Option<String>,
    /// Id of the last event of the previous page (newest first).
    pub before: Option<String>,
    pub limit: i64,
}

type EventRow = (
    String,
    NaiveDateTime,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
);

/// Events, newest first, by keyset on their UUIDv7 ids.
pub fn list(
    conn: &mut DbConnection,
    query: &EventQuery,
) -> Result<(Vec<Event>, bool), PersistenceError> {
    let mut select = audit_events::table
        .select((
            audit_events::id,
            audit_events::occurred_at,
            audit_events::actor_kind,
            audit_events::actor_id,
            audit_events::action,
            audit_events::object_type,
            audit_events::object_id,
            audit_events::request_id,
            audit_events::changed_fields,
        ))
        .into_boxed::<MultiBackend>();
    if let Some(actor) = &query.actor_id {
        select = select.filter(audit_events::actor_id.eq(actor.clone()));
    }
    if let Some(object_type) = &query.object_type {
        select = select.filter(audit_events::object_type.eq(object_type.clone()));
    }
    if let Some(object_id) = &query.object_id {
        select = select.filter(audit_events::object_id.eq(object_id.clone()));
    }
    if let Some(action) = &query.action {
        select = select.filter(audit_events::action.eq(action.clone()));
    }
    if let Some(before) = &query.before {
        select = select.filter(audit_events::id.lt(before.clone()));
    }
    let mut rows: Vec<EventRow> = select
        .order(audit_events::id.desc())
        .limit(query.limit + 1)
        .load(conn)?;
    let more = rows.len() as i64 > query.limit;
    rows.truncate(query.limit as usize);
    let events = rows
        .into_iter()
        .map(
            |(
                id,
                occurred_at,
                actor_kind,
                actor_id,
                action,
                object_type,
                object_id,
                request_id,
                changed,
            )| {
                Ok(Event {
                    id,
                    occurred_at: occurred_at.and_utc(),
                    actor_kind,
                    actor_id,
                    action,
                    object_type,
                    object_id,
                    request_id,
                    changed_fields: serde_json::from_str(&changed)?,
                })
            },
        )
        .collect::<Result<Vec<_>, PersistenceError>>()?;
    Ok((events, more))
}
