//! Messages between a dossier's applicant and the agency, and the agency's private
//! notes (notes internes). Notes have a table of their own so that no query of
//! messages, however written, can ever return one; each kind has its page (keyset, by
//! id: UUIDv7 sorts in creation order) and its whole list in order for the dossier's
//! history.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::DossierId;
use domain::grants::MessageSide;

use super::corrupt;
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::page;
use crate::schema::{dossier_messages, dossier_notes};

/// A message on a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierMessage {
    pub id: String,
    pub dossier_id: DossierId,
    pub author_side: MessageSide,
    /// `account` or `client`.
    pub author_kind: String,
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A private staff note on a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierNote {
    pub id: String,
    pub dossier_id: DossierId,
    /// The staff account that wrote it.
    pub author_id: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_messages)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct MessageRow {
    id: String,
    dossier_id: String,
    author_side: String,
    author_kind: String,
    author_id: String,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = dossier_notes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct NoteRow {
    id: String,
    dossier_id: String,
    author_id: String,
    body: String,
    created_at: NaiveDateTime,
}

impl TryFrom<MessageRow> for DossierMessage {
    type Error = PersistenceError;

    fn try_from(row: MessageRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        Ok(Self {
            dossier_id: row
                .dossier_id
                .parse()
                .map_err(|e| corrupt("message dossier", id, e))?,
            author_side: MessageSide::parse(&row.author_side)
                .map_err(|e| corrupt("message side", id, e))?,
            id: row.id,
            author_kind: row.author_kind,
            author_id: row.author_id,
            body: row.body,
            created_at: row.created_at.and_utc(),
        })
    }
}

impl TryFrom<NoteRow> for DossierNote {
    type Error = PersistenceError;

    fn try_from(row: NoteRow) -> Result<Self, Self::Error> {
        Ok(Self {
            dossier_id: row
                .dossier_id
                .parse()
                .map_err(|e| corrupt("note dossier", &row.id, e))?,
            id: row.id,
            author_id: row.author_id,
            body: row.body,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// Stores a message (its `id` is made here) and returns it as stored.
pub fn post(
    conn: &mut DbConnection,
    message: DossierMessage,
) -> Result<DossierMessage, PersistenceError> {
    let message = DossierMessage {
        id: uuid::Uuid::now_v7().to_string(),
        ..message
    };
    diesel::insert_into(dossier_messages::table)
        .values(MessageRow {
            id: message.id.clone(),
            dossier_id: message.dossier_id.to_string(),
            author_side: message.author_side.as_str().to_owned(),
            author_kind: message.author_kind.clone(),
            author_id: message.author_id.clone(),
            body: message.body.clone(),
            created_at: message.created_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(message)
}

/// Stores a note (its `id` is made here) and returns it as stored.
pub fn write_note(
    conn: &mut DbConnection,
    note: DossierNote,
) -> Result<DossierNote, PersistenceError> {
    let note = DossierNote {
        id: uuid::Uuid::now_v7().to_string(),
        ..note
    };
    diesel::insert_into(dossier_notes::table)
        .values(NoteRow {
            id: note.id.clone(),
            dossier_id: note.dossier_id.to_string(),
            author_id: note.author_id.clone(),
            body: note.body.clone(),
            created_at: note.created_at.naive_utc(),
        })
        .execute(conn)?;
    Ok(note)
}

/// One page of a dossier's messages, oldest first, after the message `after`.
pub fn messages(
    conn: &mut DbConnection,
    dossier: DossierId,
    after: Option<&str>,
    limit: i64,
) -> Result<page::Page<DossierMessage>, PersistenceError> {
    use dossier_messages::dsl as m;
    let mut select = m::dossier_messages
        .filter(m::dossier_id.eq(dossier.to_string()))
        .select(MessageRow::as_select())
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(after) = after {
        select = select.filter(m::id.gt(after.to_owned()));
    }
    let select = select.order(m::id.asc());
    page::fetch(limit, |limit| select.limit(limit).load(conn))?.try_map(DossierMessage::try_from)
}

/// One page of a dossier's notes, oldest first, after the note `after`.
pub fn notes(
    conn: &mut DbConnection,
    dossier: DossierId,
    after: Option<&str>,
    limit: i64,
) -> Result<page::Page<DossierNote>, PersistenceError> {
    use dossier_notes::dsl as n;
    let mut select = n::dossier_notes
        .filter(n::dossier_id.eq(dossier.to_string()))
        .select(NoteRow::as_select())
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(after) = after {
        select = select.filter(n::id.gt(after.to_owned()));
    }
    let select = select.order(n::id.asc());
    page::fetch(limit, |limit| select.limit(limit).load(conn))?.try_map(DossierNote::try_from)
}

/// Every message of a dossier, oldest first (`created_at` says when): for the history
/// the applicant, staff and the dossier's reviewers read.
pub fn message_history(
    conn: &mut DbConnection,
    dossier: DossierId,
) -> Result<Vec<DossierMessage>, PersistenceError> {
    dossier_messages::table
        .filter(dossier_messages::dossier_id.eq(dossier.to_string()))
        .order(dossier_messages::id.asc())
        .select(MessageRow::as_select())
        .load(conn)?
        .into_iter()
        .map(DossierMessage::try_from)
        .collect()
}
