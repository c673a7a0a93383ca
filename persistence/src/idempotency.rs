//! `Idempotency-Key` records: the first response to a creating request, kept so that a
//! retry gets the same answer instead of a second creation.

use chrono::{Duration, Utc};
use diesel::prelude::*;

use crate::db::{DbConnection, write_transaction};
use crate::error::PersistenceError;
use crate::schema::idempotency_keys;

/// How long a key is remembered.
pub const RETENTION_HOURS: i64 = 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use of the key: the caller runs the request, then completes or releases it.
    New,
    /// The key was used with the same request: here is the first response.
    Replay(StoredResponse),
    /// The key was used with another request.
    Mismatch,
    /// The first request with this key has not finished yet.
    InFlight,
}

type Record = (String, Option<i32>, Option<String>, Option<Vec<u8>>);

pub fn claim(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    request_hash: &str,
) -> Result<Claim, PersistenceError> {
    let now = Utc::now().naive_utc();
    write_transaction(conn, |conn| {
        diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::created_at.lt(now - Duration::hours(RETENTION_HOURS))),
        )
        .execute(conn)?;
        let existing: Option<Record> = idempotency_keys::table
            .find((scope, key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::response_status,
                idempotency_keys::response_headers,
                idempotency_keys::response_body,
            ))
            .first(conn)
            .optional()?;
        match existing {
            None => {
                diesel::insert_into(idempotency_keys::table)
                    .values((
                        idempotency_keys::scope.eq(scope),
                        idempotency_keys::key.eq(key),
                        idempotency_keys::request_hash.eq(request_hash),
                        idempotency_keys::created_at.eq(now),
                    ))
                    .execute(conn)?;
                Ok(Claim::New)
            }
            Some((hash, _, _, _)) if hash != request_hash => Ok(Claim::Mismatch),
            Some((_, Some(status), headers, body)) => Ok(Claim::Replay(StoredResponse {
                status: u16::try_from(status)
                    .map_err(|e| PersistenceError::Corrupt(format!("idempotency status: {e}")))?,
                headers: serde_json::from_str(headers.as_deref().unwrap_or("[]"))?,
                body: body.unwrap_or_default(),
            })),
            Some((_, None, _, _)) => Ok(Claim::InFlight),
        }
    })
    .or_else(|error| match error {
        // Two first uses raced: the loser sees the winner's request in flight.
        PersistenceError::Conflict { .. } => Ok(Claim::InFlight),
        other => Err(other),
    })
}

/// Records the response of a claimed key.
pub fn complete(
    conn: &mut DbConnection,
    scope: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), PersistenceError> {
    let headers = serde_json::to_string(&response.headers)?;
    diesel::update(idempotency_keys::table.find((scope, key)))
        .set((
            idempotency_keys::response_status.eq(Some(i32::from(response.status))),
            idempotency_keys::response_headers.eq(Some(headers)),
            idempotency_keys::response_body.eq(Some(response.body.clone())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed on the server's side, so a retry can run.
pub fn release(conn: &mut DbConnection, scope: &str, key: &str) -> Result<(), PersistenceError> {
    diesel::delete(idempotency_keys::table.find((scope, key))).execute(conn)?;
    Ok(())
}
