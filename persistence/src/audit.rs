//! The audit log: who did what to which object, when, in which request, changing which
//! fields. Append-only: triggers refuse updates and deletes on both backends.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::clock::storable_now;
use crate::db::{DbConnection, MultiBackend, Prepared, on_backend};
use crate::error::PersistenceError;
use crate::page::{self, Page};
use crate::schema::audit_events;

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

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NewEventRow {
    id: String,
    occurred_at: NaiveDateTime,
    actor_kind: &'static str,
    actor_id: Option<String>,
    action: &'static str,
    object_type: &'static str,
    object_id: String,
    request_id: String,
    changed_fields: String,
}

impl TryFrom<NewEvent> for NewEventRow {
    type Error = PersistenceError;

    fn try_from(event: NewEvent) -> Result<Self, Self::Error> {
        Ok(Self {
            id: uuid::Uuid::now_v7().to_string(),
            occurred_at: storable_now().naive_utc(),
            actor_kind: event.actor_kind,
            actor_id: event.actor_id,
            action: event.action,
            object_type: event.object_type,
            object_id: event.object_id,
            request_id: event.request_id,
            changed_fields: serde_json::to_string(&event.changed_fields)?,
        })
    }
}

pub fn record(conn: &mut DbConnection, event: NewEvent) -> Result<(), PersistenceError> {
    let row = NewEventRow::try_from(event)?;
    on_backend!(conn, |c| Prepared(
        diesel::insert_into(audit_events::table)
            .values(&row)
            .returning(audit_events::id)
    )
    .get_result::<String>(c)?);
    Ok(())
}

/// Records many events in the caller's transaction, in a few statements (a sync batch
/// records its items' events at its end, with their changes).
pub fn record_many(conn: &mut DbConnection, events: Vec<NewEvent>) -> Result<(), PersistenceError> {
    let rows = events
        .into_iter()
        .map(NewEventRow::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    on_backend!(conn, |c| {
        // 9 columns: 500 rows stay under both backends' bound-parameter limits.
        for chunk in rows.chunks(500) {
            diesel::insert_into(audit_events::table)
                .values(chunk)
                .execute(c)?;
        }
    });
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

#[derive(Queryable, Selectable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct EventRow {
    id: String,
    occurred_at: NaiveDateTime,
    actor_kind: String,
    actor_id: Option<String>,
    action: String,
    object_type: String,
    object_id: String,
    request_id: String,
    changed_fields: String,
}

impl TryFrom<EventRow> for Event {
    type Error = PersistenceError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        Ok(Event {
            id: row.id,
            occurred_at: row.occurred_at.and_utc(),
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            action: row.action,
            object_type: row.object_type,
            object_id: row.object_id,
            request_id: row.request_id,
            changed_fields: serde_json::from_str(&row.changed_fields)?,
        })
    }
}

/// Events, newest first, by keyset on their UUIDv7 ids.
pub fn list(conn: &mut DbConnection, query: &EventQuery) -> Result<Page<Event>, PersistenceError> {
    let mut select = audit_events::table
        .select(EventRow::as_select())
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
    let select = select.order(audit_events::id.desc());
    page::fetch(query.limit, |limit| select.limit(limit).load(conn))?.try_map(Event::try_from)
}
