//! Calls: one row each, their window as UTC instants (the domain reads the
//! Europe/Paris wall-clock times staff give into them), and what their approved
//! dossiers were awarded.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::grants::{Call, CallWindow, NewCall};
use domain::{CallId, ProgrammeId};

use super::corrupt;
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, write_transaction};
use crate::error::PersistenceError;
use crate::page;
use crate::schema::{calls, programmes};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = calls)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub(crate) struct CallRow {
    id: String,
    programme_id: String,
    title: String,
    #[diesel(deserialize_as = StoredTimestamp)]
    opens_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    closes_at: NaiveDateTime,
    committee_date: Option<NaiveDate>,
    envelope_cents: i64,
    awarded_cents: i64,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl CallRow {
    fn new(call: &Call) -> Self {
        let data = &call.data;
        Self {
            id: call.id.to_string(),
            programme_id: data.programme_id.to_string(),
            title: data.title.clone(),
            opens_at: data.window.opens_at().naive_utc(),
            closes_at: data.window.closes_at().naive_utc(),
            committee_date: data.committee_date,
            envelope_cents: data.envelope_cents,
            awarded_cents: call.awarded_cents,
            created_at: call.created_at.naive_utc(),
            updated_at: call.updated_at.naive_utc(),
            version: call.version,
        }
    }
}

impl TryFrom<CallRow> for Call {
    type Error = PersistenceError;

    fn try_from(row: CallRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let what = |field: &str| format!("call {field}");
        Ok(Call {
            id: row.id.parse().map_err(|e| corrupt(&what("id"), id, e))?,
            data: NewCall {
                programme_id: row
                    .programme_id
                    .parse()
                    .map_err(|e| corrupt(&what("programme"), id, e))?,
                title: row.title,
                window: CallWindow::new(row.opens_at.and_utc(), row.closes_at.and_utc())
                    .map_err(|e| corrupt(&what("window"), id, e))?,
                committee_date: row.committee_date,
                envelope_cents: row.envelope_cents,
            },
            awarded_cents: row.awarded_cents,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// Stores a new call (of an existing programme: the caller has read it).
pub fn create(conn: &mut DbConnection, data: NewCall) -> Result<Call, PersistenceError> {
    let now = storable_now();
    let call = Call {
        id: CallId::generate(),
        data,
        awarded_cents: 0,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = CallRow::new(&call);
    write_transaction(conn, |conn| {
        diesel::insert_into(calls::table)
            .values(&row)
            .execute(conn)
            .map(|_| ())
            .map_err(PersistenceError::from)
    })?;
    Ok(call)
}

pub fn find(conn: &mut DbConnection, id: CallId) -> Result<Call, PersistenceError> {
    calls::table
        .find(id.to_string())
        .select(CallRow::as_select())
        .first(conn)?
        .try_into()
}

/// Writes `data` over the call if it is still at `current`'s version (the caller has
/// locked it, so that no approval reads the envelope meanwhile).
pub fn update(
    conn: &mut DbConnection,
    current: &Call,
    data: NewCall,
) -> Result<Call, PersistenceError> {
    let updated = Call {
        data,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    };
    let changed = diesel::update(
        calls::table
            .filter(calls::id.eq(current.id.to_string()))
            .filter(calls::version.eq(current.version)),
    )
    .set((
        calls::title.eq(&updated.data.title),
        calls::opens_at.eq(updated.data.window.opens_at().naive_utc()),
        calls::closes_at.eq(updated.data.window.closes_at().naive_utc()),
        calls::committee_date.eq(updated.data.committee_date),
        calls::envelope_cents.eq(updated.data.envelope_cents),
        calls::updated_at.eq(updated.updated_at.naive_utc()),
        calls::version.eq(updated.version),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::VersionMismatch {
            current: current.version,
        });
    }
    Ok(updated)
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Calls of unpublished programmes too (agency staff).
    pub unpublished: bool,
    pub programme: Option<ProgrammeId>,
    /// Only the calls open at this instant.
    pub open_at: Option<NaiveDateTime>,
    /// Id of the last call of the previous page.
    pub after: Option<CallId>,
    pub limit: i64,
}

/// One page of calls, in creation order, by keyset on the id.
pub fn list(
    conn: &mut DbConnection,
    query: &ListQuery,
) -> Result<page::Page<Call>, PersistenceError> {
    use calls::dsl as c;
    let mut select = c::calls
        .select(CallRow::as_select())
        .into_boxed::<MultiBackend>();
    if !query.unpublished {
        select = select.filter(
            c::programme_id.eq_any(
                programmes::table
                    .filter(programmes::published.eq(true))
                    .select(programmes::id),
            ),
        );
    }
    if let Some(programme) = query.programme {
        select = select.filter(c::programme_id.eq(programme.to_string()));
    }
    if let Some(at) = query.open_at {
        select = select.filter(c::opens_at.le(at).and(c::closes_at.gt(at)));
    }
    if let Some(after) = query.after {
        select = select.filter(c::id.gt(after.to_string()));
    }
    let select = select.order(c::id.asc());
    page::fetch(query.limit, |limit| select.limit(limit).load(conn))?.try_map(Call::try_from)
}

/// The call, its row locked until the end of the caller's write transaction: on
/// PostgreSQL with `SELECT … FOR UPDATE`, so that concurrent approvals against its
/// envelope on any number of instances read what is left one after the other; on
/// SQLite the writing transaction holds the whole file already (`BEGIN IMMEDIATE`).
pub fn lock(conn: &mut DbConnection, id: CallId) -> Result<Call, PersistenceError> {
    if !crate::db::in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "a call is locked inside a write transaction".into(),
        ));
    }
    let id = id.to_string();
    let row: CallRow = match conn {
        DbConnection::Postgres(c) => calls::table
            .find(&id)
            .select(CallRow::as_select())
            .for_update()
            .first(c)?,
        DbConnection::Sqlite(c) => calls::table
            .find(&id)
            .select(CallRow::as_select())
            .first(c)?,
    };
    row.try_into()
}

/// Adds `delta_cents` (negative to give back) to what the call awarded, a version on;
/// the caller holds the call's lock ([`lock`]) and has checked the envelope, which a
/// CHECK constraint guards as well.
pub fn award(
    conn: &mut DbConnection,
    call: &Call,
    delta_cents: i64,
) -> Result<Call, PersistenceError> {
    let updated = Call {
        awarded_cents: call.awarded_cents + delta_cents,
        updated_at: storable_now(),
        version: call.version + 1,
        ..call.clone()
    };
    let changed = diesel::update(
        calls::table
            .filter(calls::id.eq(call.id.to_string()))
            .filter(calls::version.eq(call.version)),
    )
    .set((
        calls::awarded_cents.eq(updated.awarded_cents),
        calls::updated_at.eq(updated.updated_at.naive_utc()),
        calls::version.eq(updated.version),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::VersionMismatch {
            current: call.version,
        });
    }
    Ok(updated)
}
