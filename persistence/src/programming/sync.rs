//! Partner sync: which performance an API client's external id names.

use std::collections::HashMap;

use diesel::prelude::*;
use domain::PerformanceId;
use domain::access::ClientId;
use domain::programming::ExternalId;

use super::corrupt;
use crate::db::{DbConnection, on_backend};
use crate::error::PersistenceError;
use crate::schema::performance_external_ids as links;

/// The performance `client` keeps as `external`, if any.
pub fn find(
    conn: &mut DbConnection,
    client: ClientId,
    external: &ExternalId,
) -> Result<Option<PerformanceId>, PersistenceError> {
    let found: Option<String> = links::table
        .find((client.to_string(), external.as_ref()))
        .select(links::performance_id)
        .first(conn)
        .optional()?;
    found
        .map(|id| {
            id.parse()
                .map_err(|e| corrupt("external id", external.as_ref(), e))
        })
        .transpose()
}

/// The performances `client` keeps as any of `externals`, by external id: one query per
/// 500 ids (a sync batch reads its items' links at once).
pub fn find_many(
    conn: &mut DbConnection,
    client: ClientId,
    externals: &[&ExternalId],
) -> Result<HashMap<String, PerformanceId>, PersistenceError> {
    let mut found = HashMap::with_capacity(externals.len());
    for chunk in externals.chunks(500) {
        let rows: Vec<(String, String)> = links::table
            .filter(links::client_id.eq(client.to_string()))
            .filter(links::external_id.eq_any(chunk.iter().map(|e| e.as_ref())))
            .select((links::external_id, links::performance_id))
            .load(conn)?;
        for (external, id) in rows {
            let id = id
                .parse()
                .map_err(|e| corrupt("external id", &external, e))?;
            found.insert(external, id);
        }
    }
    Ok(found)
}

/// Names `performance` (made in this transaction) `client`'s `external`. False, with
/// nothing written, when the client already holds `external`: a concurrent request made
/// it first (on PostgreSQL this waits for that request's transaction to end, so the
/// caller can roll back and find the winner's performance).
pub fn link(
    conn: &mut DbConnection,
    client: ClientId,
    external: &ExternalId,
    performance: PerformanceId,
) -> Result<bool, PersistenceError> {
    let row = (
        links::client_id.eq(client.to_string()),
        links::external_id.eq(external.as_ref()),
        links::performance_id.eq(performance.to_string()),
    );
    let inserted = on_backend!(conn, |c| {
        diesel::insert_into(links::table)
            .values(row)
            .on_conflict((links::client_id, links::external_id))
            .do_nothing()
            .execute(c)?
    });
    Ok(inserted == 1)
}
