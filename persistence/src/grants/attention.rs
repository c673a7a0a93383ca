//! What staff should look at on a dossier (à examiner): a performance it funds, or asks
//! to fund, cancelled or deleted. Raised in the cancellation's own transaction, cleared
//! by staff.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::grants::AttentionKind;
use domain::{AttentionFlagId, DossierId, PerformanceId};

use super::corrupt;
use crate::db::DbConnection;
use crate::error::PersistenceError;
use crate::schema::dossier_attention;

/// One flag on a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub id: AttentionFlagId,
    pub dossier_id: DossierId,
    pub kind: AttentionKind,
    pub performance_id: PerformanceId,
    pub raised_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
    /// Who cleared it: `account` or `client`, a colon, its id.
    pub cleared_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = dossier_attention)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct FlagRow {
    id: String,
    dossier_id: String,
    kind: String,
    performance_id: String,
    raised_at: NaiveDateTime,
    cleared_at: Option<NaiveDateTime>,
    cleared_by: Option<String>,
}

impl TryFrom<FlagRow> for Flag {
    type Error = PersistenceError;

    fn try_from(row: FlagRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let bad = |field: &str, e: &dyn std::fmt::Display| corrupt(&format!("flag {field}"), id, e);
        Ok(Self {
            dossier_id: row.dossier_id.parse().map_err(|e| bad("dossier", &e))?,
            kind: AttentionKind::parse(&row.kind).map_err(|e| bad("kind", &e))?,
            performance_id: row
                .performance_id
                .parse()
                .map_err(|e| bad("performance", &e))?,
            id: row.id.parse().map_err(|e| bad("id", &e))?,
            raised_at: row.raised_at.and_utc(),
            cleared_at: row.cleared_at.map(|t| t.and_utc()),
            cleared_by: row.cleared_by,
        })
    }
}

/// Flags every dossier that names `performance` (submitted, in review or approved:
/// [`super::dossiers::naming_performance`]), inside the caller's write transaction;
/// returns how many.
pub fn raise(
    conn: &mut DbConnection,
    performance: PerformanceId,
    kind: AttentionKind,
    at: DateTime<Utc>,
) -> Result<usize, PersistenceError> {
    let dossiers = super::dossiers::naming_performance(conn, performance)?;
    for dossier in &dossiers {
        diesel::insert_into(dossier_attention::table)
            .values((
                dossier_attention::id.eq(AttentionFlagId::generate().to_string()),
                dossier_attention::dossier_id.eq(dossier.id.to_string()),
                dossier_attention::kind.eq(kind.as_str()),
                dossier_attention::performance_id.eq(performance.to_string()),
                dossier_attention::raised_at.eq(at.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(dossiers.len())
}

/// A dossier's flags, oldest first (cleared ones too, with when and by whom).
pub fn list(conn: &mut DbConnection, dossier: DossierId) -> Result<Vec<Flag>, PersistenceError> {
    dossier_attention::table
        .filter(dossier_attention::dossier_id.eq(dossier.to_string()))
        .order(dossier_attention::id.asc())
        .select(FlagRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Flag::try_from)
        .collect()
}

/// Clears one of the dossier's flags (already cleared: left as it was); returns it.
/// Not the dossier's: not found.
pub fn clear(
    conn: &mut DbConnection,
    dossier: DossierId,
    flag: AttentionFlagId,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Flag, PersistenceError> {
    let flag = flag.to_string();
    let scoped = dossier_attention::table
        .filter(dossier_attention::id.eq(&flag))
        .filter(dossier_attention::dossier_id.eq(dossier.to_string()));
    diesel::update(
        scoped
            .clone()
            .filter(dossier_attention::cleared_at.is_null()),
    )
    .set((
        dossier_attention::cleared_at.eq(at.naive_utc()),
        dossier_attention::cleared_by.eq(by),
    ))
    .execute(conn)?;
    scoped.select(FlagRow::as_select()).first(conn)?.try_into()
}
