//! Programmes: one row each, their rules as the domain's JSON.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::ProgrammeId;
use domain::grants::{
    NewProgramme, Programme, ProgrammeCode, ProgrammeKind, ReviewCriterion, Rules,
};
use quick_cache::sync::Cache;

use super::{corrupt, stale};
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, write_transaction};
use crate::error::PersistenceError;
use crate::page;
use crate::schema::programmes;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = programmes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct ProgrammeRow {
    id: String,
    code: String,
    name: String,
    description: Option<String>,
    kind: String,
    published: bool,
    rules: String,
    review_criteria: String,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl ProgrammeRow {
    fn new(programme: &Programme) -> Result<Self, PersistenceError> {
        let data = &programme.data;
        Ok(Self {
            id: programme.id.to_string(),
            code: data.code.to_string(),
            name: data.name.clone(),
            description: data.description.clone(),
            kind: data.kind.as_str().to_owned(),
            published: data.published,
            rules: serde_json::to_string(&data.rules)?,
            review_criteria: serde_json::to_string(&data.review_criteria)?,
            created_at: programme.created_at.naive_utc(),
            updated_at: programme.updated_at.naive_utc(),
            version: programme.version,
        })
    }
}

/// How many distinct stored texts of rules, and of review criteria, stay parsed: the
/// agency runs tens of programmes, and a text no read asks for any more is evicted.
const PARSED_CAPACITY: usize = 256;

/// Programmes' rules as parsed (and checked) from their stored JSON, by that JSON: every
/// read of a dossier judges it against its programme's rules, and parsing them was 7 % of
/// a dossier `GET`'s time. Keyed by the text itself, so that rules changed by any
/// instance are a new key, parsed again; parsing is a function of the text alone.
static PARSED_RULES: LazyLock<Cache<String, Rules>> = LazyLock::new(|| Cache::new(PARSED_CAPACITY));

/// [`PARSED_RULES`] for the review criteria, which every programme read parses too.
static PARSED_CRITERIA: LazyLock<Cache<String, Vec<ReviewCriterion>>> =
    LazyLock::new(|| Cache::new(PARSED_CAPACITY));

impl TryFrom<ProgrammeRow> for Programme {
    type Error = PersistenceError;

    fn try_from(row: ProgrammeRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let what = |field: &str| format!("programme {field}");
        let rules = PARSED_RULES
            .get_or_insert_with(row.rules.as_str(), || serde_json::from_str(&row.rules))
            .map_err(|e| corrupt(&what("rules"), id, e))?;
        let review_criteria = PARSED_CRITERIA
            .get_or_insert_with(row.review_criteria.as_str(), || {
                serde_json::from_str(&row.review_criteria)
            })
            .map_err(|e| corrupt(&what("review criteria"), id, e))?;
        Ok(Programme {
            id: row.id.parse().map_err(|e| corrupt(&what("id"), id, e))?,
            data: NewProgramme {
                code: ProgrammeCode::parse(&row.code).map_err(|e| corrupt(&what("code"), id, e))?,
                name: row.name,
                description: row.description,
                kind: ProgrammeKind::parse(&row.kind).map_err(|e| corrupt(&what("kind"), id, e))?,
                published: row.published,
                rules,
                review_criteria,
            },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A unique violation on the code: another programme holds it.
fn code_taken(error: PersistenceError) -> PersistenceError {
    match error {
        PersistenceError::Conflict { .. } => PersistenceError::Conflict {
            constraint: "programmes.code".into(),
        },
        other => other,
    }
}

/// Stores a new programme.
pub fn create(conn: &mut DbConnection, data: NewProgramme) -> Result<Programme, PersistenceError> {
    let now = storable_now();
    let programme = Programme {
        id: ProgrammeId::generate(),
        data,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = ProgrammeRow::new(&programme)?;
    write_transaction(conn, |conn| {
        diesel::insert_into(programmes::table)
            .values(&row)
            .execute(conn)
            .map_err(|e| code_taken(e.into()))
    })?;
    Ok(programme)
}

pub fn find(conn: &mut DbConnection, id: ProgrammeId) -> Result<Programme, PersistenceError> {
    programmes::table
        .find(id.to_string())
        .select(ProgrammeRow::as_select())
        .first(conn)?
        .try_into()
}

/// Replaces a programme's data if it is still at its version; returns the new state.
pub fn update(
    conn: &mut DbConnection,
    current: &Programme,
    data: NewProgramme,
) -> Result<Programme, PersistenceError> {
    let updated = Programme {
        data,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    };
    let row = ProgrammeRow::new(&updated)?;
    let id = current.id.to_string();
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            programmes::table
                .filter(programmes::id.eq(&id))
                .filter(programmes::version.eq(current.version)),
        )
        .set(&row)
        .execute(conn)
        .map_err(|e| code_taken(e.into()))?;
        if changed == 0 {
            let version = programmes::table
                .find(&id)
                .select(programmes::version)
                .first(conn)
                .optional()?;
            return Err(stale(version));
        }
        Ok(())
    })?;
    Ok(updated)
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Unpublished programmes too (agency staff).
    pub unpublished: bool,
    /// Id of the last programme of the previous page.
    pub after: Option<ProgrammeId>,
    pub limit: i64,
}

/// One page of programmes, in creation order, by keyset on the id.
pub fn list(
    conn: &mut DbConnection,
    query: &ListQuery,
) -> Result<page::Page<Programme>, PersistenceError> {
    use programmes::dsl as p;
    let mut select = p::programmes
        .select(ProgrammeRow::as_select())
        .into_boxed::<MultiBackend>();
    if !query.unpublished {
        select = select.filter(p::published.eq(true));
    }
    if let Some(after) = query.after {
        select = select.filter(p::id.gt(after.to_string()));
    }
    let select = select.order(p::id.asc());
    page::fetch(query.limit, |limit| select.limit(limit).load(conn))?.try_map(Programme::try_from)
}

/// Locks the programme's row until the end of the caller's write transaction, on
/// PostgreSQL with `SELECT … FOR UPDATE`: approvals under one programme then read what
/// its yearly caps count (`dossier_awards`) one after the other, on any number of
/// instances, even for dossiers of different calls. On SQLite the writing transaction
/// holds the whole file already. Approvals take it before the call's lock, always in
/// that order.
pub fn lock(conn: &mut DbConnection, id: ProgrammeId) -> Result<(), PersistenceError> {
    if !crate::db::in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "a programme is locked inside a write transaction".into(),
        ));
    }
    let id = id.to_string();
    match conn {
        DbConnection::Postgres(c) => programmes::table
            .find(&id)
            .select(programmes::id)
            .for_update()
            .first::<String>(c)?,
        DbConnection::Sqlite(c) => programmes::table
            .find(&id)
            .select(programmes::id)
            .first::<String>(c)?,
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::grants::occitanie::diffusion_de_proximite;

    use super::*;

    fn stored(data: NewProgramme) -> ProgrammeRow {
        let now = Utc::now();
        ProgrammeRow::new(&Programme {
            id: ProgrammeId::generate(),
            data,
            created_at: now,
            updated_at: now,
            version: 1,
        })
        .unwrap()
    }

    #[test]
    fn rules_read_again_after_a_change_are_the_changed_ones() {
        let scheme = diffusion_de_proximite();
        let row = stored(scheme.clone());
        let read = Programme::try_from(row.clone()).unwrap();
        assert_eq!(read.data.rules, scheme.rules);
        assert_eq!(read.data.review_criteria, scheme.review_criteria);

        // The same programme after an update of its floor: the memo is keyed by the text,
        // so the new text is parsed, not the old rules returned.
        let mut changed = row.clone();
        changed.rules = row
            .rules
            .replace("\"floor_cents\":50000", "\"floor_cents\":60000");
        assert_ne!(changed.rules, row.rules, "the fixture's floor is 500 €");
        let read = Programme::try_from(changed).unwrap();
        assert_eq!(read.data.rules.amounts().floor_cents, Some(60_000));
        let read = Programme::try_from(row.clone()).unwrap();
        assert_eq!(read.data.rules.amounts().floor_cents, Some(50_000));
    }

    #[test]
    fn corrupt_rules_are_reported_at_every_read() {
        let mut row = stored(diffusion_de_proximite());
        row.rules = "{\"applicants\":".to_owned();
        for _ in 0..2 {
            let error = Programme::try_from(row.clone()).unwrap_err();
            assert!(error.to_string().contains("rules"), "{error}");
        }
    }
}
