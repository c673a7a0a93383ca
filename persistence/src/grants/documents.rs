//! Documents (pièces justificatives) of dossiers: one row each, the content in the object
//! store under the row's `storage_key`.
//!
//! # Write order
//!
//! The content is stored first and its row inserted after, in a write transaction that
//! locks the dossier ([`lock_dossier`]): a crash between the two leaves an object without
//! a row, never a row pointing at nothing, and the sweep removes such objects
//! ([`live_keys`]). A removal marks the row (`deleted_at`, kept for the history) and the
//! content is deleted once that commits; a crash in between leaves an object whose row
//! is not live, swept in the same way.
//!
//! # Under concurrency
//!
//! Uploads, removals and a submission's check of the documents take the dossier's row
//! lock first (PostgreSQL `SELECT … FOR UPDATE`; on SQLite the writing transaction holds
//! the file already), so a submission never reads a document list that a removal
//! committed under it, and nothing is attached once the dossier left the applicant.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::grants::{Document, DocumentFileName, DocumentFormat, DocumentKind};
use domain::{DocumentId, DossierId};

use super::corrupt;
use crate::db::{DbConnection, in_transaction, on_backend};
use crate::error::PersistenceError;
use crate::schema::{dossier_documents, dossiers};

/// Most live documents one dossier holds: its lists stay one answer long.
pub const MAX_PER_DOSSIER: i64 = 100;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_documents)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DocumentRow {
    id: String,
    dossier_id: String,
    kind: String,
    file_name: String,
    format: String,
    size_bytes: i64,
    sha256: String,
    storage_key: String,
    uploaded_by_kind: String,
    uploaded_by_id: Option<String>,
    uploaded_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
}

impl From<&Document> for DocumentRow {
    fn from(document: &Document) -> Self {
        Self {
            id: document.id.to_string(),
            dossier_id: document.dossier_id.to_string(),
            kind: document.kind.as_str().to_owned(),
            file_name: document.file_name.as_str().to_owned(),
            format: document.format.as_str().to_owned(),
            size_bytes: document.size_bytes,
            sha256: document.sha256.clone(),
            storage_key: document.storage_key.clone(),
            uploaded_by_kind: document.uploaded_by_kind.clone(),
            uploaded_by_id: document.uploaded_by_id.clone(),
            uploaded_at: document.uploaded_at.naive_utc(),
            deleted_at: document.deleted_at.map(|t| t.naive_utc()),
        }
    }
}

impl TryFrom<DocumentRow> for Document {
    type Error = PersistenceError;

    fn try_from(row: DocumentRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let bad = |field: &str, e: &dyn std::fmt::Display| {
            corrupt(&format!("dossier document {field}"), id, e)
        };
        Ok(Self {
            id: row.id.parse().map_err(|e| bad("id", &e))?,
            dossier_id: row.dossier_id.parse().map_err(|e| bad("dossier", &e))?,
            kind: DocumentKind::parse(&row.kind).map_err(|e| bad("kind", &e))?,
            file_name: DocumentFileName::stored(row.file_name)
                .ok_or_else(|| bad("file name", &"not sanitized"))?,
            format: DocumentFormat::parse(&row.format).map_err(|e| bad("format", &e))?,
            size_bytes: row.size_bytes,
            sha256: row.sha256,
            storage_key: row.storage_key,
            uploaded_by_kind: row.uploaded_by_kind,
            uploaded_by_id: row.uploaded_by_id,
            uploaded_at: row.uploaded_at.and_utc(),
            deleted_at: row.deleted_at.map(|t| t.and_utc()),
        })
    }
}

/// Locks the dossier's row until the end of the caller's write transaction (see the
/// module's documentation); on PostgreSQL a dossier that does not exist is not found.
/// Nothing is done outside a transaction (a plain read: nothing to hold), nor on SQLite,
/// where the writing transaction holds the database's one write lock already and a
/// read snapshot sees no commit under it: the statement read a dossier row at every
/// `GET` for nothing. Callers read the dossier next, which finds a missing one.
pub fn lock_dossier(conn: &mut DbConnection, dossier: DossierId) -> Result<(), PersistenceError> {
    if matches!(conn, DbConnection::Sqlite(_)) || !in_transaction(conn)? {
        return Ok(());
    }
    let DbConnection::Postgres(c) = conn else {
        unreachable!("only PostgreSQL reaches here");
    };
    dossiers::table
        .find(dossier.to_string())
        .select(dossiers::id)
        .for_update()
        .first::<String>(c)?;
    Ok(())
}

/// How many live documents the dossier holds.
pub fn count_live(conn: &mut DbConnection, dossier: DossierId) -> Result<i64, PersistenceError> {
    Ok(dossier_documents::table
        .filter(dossier_documents::dossier_id.eq(dossier.to_string()))
        .filter(dossier_documents::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Records a document whose content is stored already.
pub fn insert(conn: &mut DbConnection, document: &Document) -> Result<(), PersistenceError> {
    diesel::insert_into(dossier_documents::table)
        .values(DocumentRow::from(document))
        .execute(conn)?;
    Ok(())
}

/// A live document of the dossier (a removed one, or another dossier's, is not found).
pub fn find_live(
    conn: &mut DbConnection,
    dossier: DossierId,
    id: DocumentId,
) -> Result<Document, PersistenceError> {
    dossier_documents::table
        .find(id.to_string())
        .filter(dossier_documents::dossier_id.eq(dossier.to_string()))
        .filter(dossier_documents::deleted_at.is_null())
        .select(DocumentRow::as_select())
        .first(conn)?
        .try_into()
}

/// The dossier's live documents, oldest first.
pub fn list_live(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<Document>, PersistenceError> {
    dossier_documents::table
        .filter(dossier_documents::dossier_id.eq(dossier.to_string()))
        .filter(dossier_documents::deleted_at.is_null())
        .order(dossier_documents::id.asc())
        .select(DocumentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Document::try_from)
        .collect()
}

/// The kinds of the dossier's live documents, as a submission checks them.
pub fn live_kinds(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<DocumentKind>, PersistenceError> {
    let dossier = dossier.to_string();
    let kinds: Vec<String> = on_backend!(conn, |c| dossier_documents::table
        .filter(dossier_documents::dossier_id.eq(&dossier))
        .filter(dossier_documents::deleted_at.is_null())
        .select(dossier_documents::kind)
        .distinct()
        .load(c)?);
    kinds
        .iter()
        .map(|k| DocumentKind::parse(k).map_err(|e| corrupt("dossier document kind", k, e)))
        .collect()
}

/// Every document the dossier ever held, removed ones included, oldest first: for the
/// dossier's history (an upload at `uploaded_at`, a removal at `deleted_at`).
pub fn history(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<Document>, PersistenceError> {
    dossier_documents::table
        .filter(dossier_documents::dossier_id.eq(dossier.to_string()))
        .order(dossier_documents::id.asc())
        .select(DocumentRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Document::try_from)
        .collect()
}

/// Marks a live document removed at `at`; not found if it is not live any more (a
/// concurrent removal took it).
pub fn mark_deleted(
    conn: &mut DbConnection,
    document: &Document,
    at: DateTime<Utc>,
) -> Result<(), PersistenceError> {
    let changed = diesel::update(
        dossier_documents::table
            .filter(dossier_documents::id.eq(document.id.to_string()))
            .filter(dossier_documents::deleted_at.is_null()),
    )
    .set(dossier_documents::deleted_at.eq(Some(at.naive_utc())))
    .execute(conn)?;
    if changed == 0 {
        return Err(PersistenceError::NotFound);
    }
    Ok(())
}

/// Those of `keys` that a live document stores its content under: the sweep deletes the
/// others' objects.
pub fn live_keys(
    conn: &mut DbConnection,
    keys: &[String],
) -> Result<HashSet<String>, PersistenceError> {
    let mut live = HashSet::new();
    for chunk in keys.chunks(500) {
        let found: Vec<String> = dossier_documents::table
            .filter(dossier_documents::storage_key.eq_any(chunk))
            .filter(dossier_documents::deleted_at.is_null())
            .select(dossier_documents::storage_key)
            .load(conn)?;
        live.extend(found);
    }
    Ok(live)
}
