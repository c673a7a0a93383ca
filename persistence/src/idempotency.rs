//! `Idempotency-Key` records: the answer to a creating request, kept so that a retry
//! gets the same answer instead of a second creation.
//!
//! A key is recorded in the transaction of the write it guards, together with the answer
//! to that write: if the write commits, so do the key and its answer; if anything fails
//! before the commit (an error, a crash, a `kill -9`), none of them exists and a retry
//! runs afresh. No other transaction ever sees a key without its answer.

use chrono::{Duration, Utc};
use diesel::prelude::*;

use crate::db::{DbConnection, on_backend, write_transaction};
use crate::error::PersistenceError;
use crate::schema::idempotency_keys;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

/// A client's key as it is filed: within a scope (the operation and who calls it), with
/// the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub scope: String,
    pub key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What a key already holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Earlier {
    /// The key was used with the same request: here is the answer it got.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
}

/// How a write under a key ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Once<T> {
    /// This request made the write; the key and its answer committed with it.
    Done(T),
    /// Another request with the key committed first: nothing was written.
    Earlier(Earlier),
}

type Record = (String, Option<i32>, Option<String>, Option<Vec<u8>>);

/// What the key holds already, if anything. Forgets expired keys first.
pub fn find(conn: &mut DbConnection, key: &Key) -> Result<Option<Earlier>, PersistenceError> {
    let expired = Utc::now().naive_utc() - Duration::hours(RETENTION_HOURS);
    write_transaction(conn, |conn| {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(expired)))
            .execute(conn)?;
        earlier(conn, key)
    })
}

fn earlier(conn: &mut DbConnection, key: &Key) -> Result<Option<Earlier>, PersistenceError> {
    let existing: Option<Record> = idempotency_keys::table
        .find((&key.scope, &key.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::response_status,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    match existing {
        None => Ok(None),
        Some((hash, ..)) if hash != key.request_hash => Ok(Some(Earlier::Mismatch)),
        Some((_, Some(status), Some(headers), Some(body))) => {
            Ok(Some(Earlier::Replay(StoredResponse {
                status: u16::try_from(status)
                    .map_err(|e| PersistenceError::Corrupt(format!("idempotency status: {e}")))?,
                headers: serde_json::from_str(&headers)?,
                body,
            })))
        }
        Some(_) => Err(PersistenceError::Corrupt(format!(
            "idempotency key {:?} recorded without its answer",
            key.key
        ))),
    }
}

/// Runs `work`, a write that returns its value and the answer to record, in one
/// transaction with the key (none: just the write). The key is taken first: a concurrent
/// request with the same key waits there until this one ends (PostgreSQL's primary key;
/// on SQLite writers are serialized already) and then finds this answer instead of
/// writing again; if this one rolls back, it goes on and writes.
///
/// An error from `work` rolls everything back, the key included, and is returned as is.
pub fn once<T, E>(
    conn: &mut DbConnection,
    key: Option<&Key>,
    work: impl FnOnce(&mut DbConnection) -> Result<(T, StoredResponse), E>,
) -> Result<Once<T>, E>
where
    E: From<PersistenceError>,
{
    write_transaction(conn, |conn| {
        if let Some(key) = key
            && !take(conn, key)?
        {
            return match earlier(conn, key)? {
                Some(earlier) => Ok(Once::Earlier(earlier)),
                // Taken, then forgotten as expired in between: let the client retry.
                None => Err(PersistenceError::Unavailable(
                    "idempotency key changed concurrently".into(),
                )
                .into()),
            };
        }
        let (value, response) = work(conn)?;
        if let Some(key) = key {
            answer(conn, key, &response)?;
        }
        Ok(Once::Done(value))
    })
}

/// Inserts the key's row, without its answer yet; false when another request holds it.
fn take(conn: &mut DbConnection, key: &Key) -> Result<bool, PersistenceError> {
    let row = (
        idempotency_keys::scope.eq(&key.scope),
        idempotency_keys::key.eq(&key.key),
        idempotency_keys::request_hash.eq(&key.request_hash),
        idempotency_keys::created_at.eq(Utc::now().naive_utc()),
    );
    // `ON CONFLICT DO NOTHING` is not in the multi-backend DSL; both backends speak it.
    let inserted = on_backend!(conn, |c| diesel::insert_into(idempotency_keys::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Records the answer in the key's row, in the transaction that took it.
fn answer(
    conn: &mut DbConnection,
    key: &Key,
    response: &StoredResponse,
) -> Result<(), PersistenceError> {
    diesel::update(idempotency_keys::table.find((&key.scope, &key.key)))
        .set((
            idempotency_keys::response_status.eq(Some(i32::from(response.status))),
            idempotency_keys::response_headers.eq(Some(serde_json::to_string(&response.headers)?)),
            idempotency_keys::response_body.eq(Some(&response.body)),
        ))
        .execute(conn)?;
    Ok(())
}
