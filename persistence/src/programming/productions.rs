//! Productions: one row each, their disciplines also in `production_disciplines` for
//! the lists' filters.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::programming::{Audience, NewProduction, Production, Space};
use domain::{Discipline, ProductionId, StructureId};

use super::{Reader, corrupt, framed, referenced, unframed};
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, on_backend, write_transaction};
use crate::error::PersistenceError;
use crate::page;
use crate::schema::{memberships, performances, production_disciplines, productions};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = productions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct ProductionRow {
    id: String,
    structure_id: String,
    title: String,
    disciplines: String,
    audience: String,
    minimum_age: Option<i64>,
    duration_minutes: i64,
    space: String,
    premiere_date: Option<NaiveDate>,
    team_size: Option<i64>,
    description: Option<String>,
    links: String,
    published: bool,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = production_disciplines)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DisciplineRow {
    production_id: String,
    discipline: &'static str,
}

impl ProductionRow {
    fn new(production: &Production) -> Result<Self, PersistenceError> {
        let data = &production.data;
        Ok(Self {
            id: production.id.to_string(),
            structure_id: production.structure_id.to_string(),
            title: data.title.clone(),
            disciplines: framed(data.disciplines.iter().map(|d| d.as_str())),
            audience: data.audience.as_str().to_owned(),
            minimum_age: data.minimum_age,
            duration_minutes: data.duration_minutes,
            space: data.space.as_str().to_owned(),
            premiere_date: data.premiere_date,
            team_size: data.team_size,
            description: data.description.clone(),
            links: serde_json::to_string(&data.links)?,
            published: data.published,
            created_at: production.created_at.naive_utc(),
            updated_at: production.updated_at.naive_utc(),
            version: production.version,
        })
    }

    fn discipline_rows(production: &Production) -> Vec<DisciplineRow> {
        production
            .data
            .disciplines
            .iter()
            .map(|d| DisciplineRow {
                production_id: production.id.to_string(),
                discipline: d.as_str(),
            })
            .collect()
    }
}

impl TryFrom<ProductionRow> for Production {
    type Error = PersistenceError;

    fn try_from(row: ProductionRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let what = |field: &str| format!("production {field}");
        let disciplines = unframed(&row.disciplines)
            .map(|d| Discipline::parse(d).map_err(|e| corrupt(&what("discipline"), id, e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Production {
            id: row.id.parse().map_err(|e| corrupt(&what("id"), id, e))?,
            structure_id: row
                .structure_id
                .parse()
                .map_err(|e| corrupt(&what("structure"), id, e))?,
            data: NewProduction {
                title: row.title,
                disciplines,
                audience: Audience::parse(&row.audience)
                    .map_err(|e| corrupt(&what("audience"), id, e))?,
                minimum_age: row.minimum_age,
                duration_minutes: row.duration_minutes,
                space: Space::parse(&row.space).map_err(|e| corrupt(&what("space"), id, e))?,
                premiere_date: row.premiere_date,
                team_size: row.team_size,
                description: row.description,
                links: serde_json::from_str(&row.links)?,
                published: row.published,
            },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// Stores a new production of `structure`.
pub fn create(
    conn: &mut DbConnection,
    structure: StructureId,
    data: NewProduction,
) -> Result<Production, PersistenceError> {
    let now = storable_now();
    let production = Production {
        id: ProductionId::generate(),
        structure_id: structure,
        data,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = ProductionRow::new(&production)?;
    let disciplines = ProductionRow::discipline_rows(&production);
    write_transaction(conn, |conn| {
        diesel::insert_into(productions::table)
            .values(&row)
            .execute(conn)?;
        insert_disciplines(conn, &disciplines)
    })?;
    Ok(production)
}

fn insert_disciplines(
    conn: &mut DbConnection,
    disciplines: &[DisciplineRow],
) -> Result<(), PersistenceError> {
    for discipline in disciplines {
        diesel::insert_into(production_disciplines::table)
            .values(discipline)
            .execute(conn)?;
    }
    Ok(())
}

/// Stores many productions at once (demo and benchmark data).
pub fn insert_many(conn: &mut DbConnection, batch: &[Production]) -> Result<(), PersistenceError> {
    let rows = batch
        .iter()
        .map(ProductionRow::new)
        .collect::<Result<Vec<_>, _>>()?;
    let disciplines: Vec<DisciplineRow> = batch
        .iter()
        .flat_map(ProductionRow::discipline_rows)
        .collect();
    write_transaction(conn, |conn| {
        on_backend!(conn, |c| {
            for chunk in rows.chunks(500) {
                diesel::insert_into(productions::table)
                    .values(chunk)
                    .execute(c)?;
            }
            for chunk in disciplines.chunks(2_000) {
                diesel::insert_into(production_disciplines::table)
                    .values(chunk)
                    .execute(c)?;
            }
        });
        Ok(())
    })
}

pub fn find(conn: &mut DbConnection, id: ProductionId) -> Result<Production, PersistenceError> {
    productions::table
        .find(id.to_string())
        .select(ProductionRow::as_select())
        .first(conn)?
        .try_into()
}

/// The productions of these ids that exist, in no particular order: what a page of
/// performances shows (one query per page, whatever its size).
pub fn find_many(
    conn: &mut DbConnection,
    ids: &[ProductionId],
) -> Result<Vec<Production>, PersistenceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    productions::table
        .filter(productions::id.eq_any(ids))
        .select(ProductionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Production::try_from)
        .collect()
}

/// Replaces a production's data if it is still at its version; returns the new state.
pub fn update(
    conn: &mut DbConnection,
    current: &Production,
    data: NewProduction,
) -> Result<Production, PersistenceError> {
    let updated = Production {
        data,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    };
    let row = ProductionRow::new(&updated)?;
    let disciplines = ProductionRow::discipline_rows(&updated);
    let id = current.id.to_string();
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            productions::table
                .filter(productions::id.eq(&id))
                .filter(productions::version.eq(current.version)),
        )
        .set(&row)
        .execute(conn)?;
        if changed == 0 {
            return Err(stale(conn, &id)?);
        }
        diesel::delete(
            production_disciplines::table.filter(production_disciplines::production_id.eq(&id)),
        )
        .execute(conn)?;
        insert_disciplines(conn, &disciplines)
    })?;
    Ok(updated)
}

fn stale(conn: &mut DbConnection, id: &str) -> Result<PersistenceError, PersistenceError> {
    let version: Option<i64> = productions::table
        .find(id)
        .select(productions::version)
        .first(conn)
        .optional()?;
    Ok(match version {
        None => PersistenceError::NotFound,
        Some(current) => PersistenceError::VersionMismatch { current },
    })
}

/// Deletes a production (and its tours) if it is still at its version and no
/// performance points at it.
pub fn delete(conn: &mut DbConnection, current: &Production) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    write_transaction(conn, |conn| {
        let used: i64 = performances::table
            .filter(performances::production_id.eq(&id))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Err(PersistenceError::HasPerformances);
        }
        diesel::delete(
            crate::schema::tours::table.filter(crate::schema::tours::production_id.eq(&id)),
        )
        .execute(conn)
        .map_err(|e| referenced(e.into()))?;
        let deleted = diesel::delete(
            productions::table
                .filter(productions::id.eq(&id))
                .filter(productions::version.eq(current.version)),
        )
        .execute(conn)
        .map_err(|e| referenced(e.into()))?;
        if deleted == 0 {
            return Err(stale(conn, &id)?);
        }
        Ok(())
    })
}

/// Where the previous page ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// By id (creation order).
    Id(String),
    /// By last change, for `updated_since`.
    Updated {
        updated_at: NaiveDateTime,
        id: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub reader: Reader,
    pub structure: Option<StructureId>,
    pub discipline: Option<Discipline>,
    pub young_audience: Option<bool>,
    /// Changed at or after; orders the list by last change.
    pub updated_since: Option<NaiveDateTime>,
    pub after: Option<Position>,
    pub limit: i64,
}

pub struct Page {
    pub items: Vec<Production>,
    pub next: Option<Position>,
}

/// One page of the productions `query.reader` may see, by keyset.
pub fn list(conn: &mut DbConnection, query: &ListQuery) -> Result<Page, PersistenceError> {
    use productions::dsl as p;

    let mut select = p::productions
        .select(ProductionRow::as_select())
        .into_boxed::<MultiBackend>();
    select = match &query.reader {
        Reader::Everything => select,
        Reader::Public => select.filter(p::published.eq(true)),
        Reader::Member(account) => select.filter(
            p::published.eq(true).or(p::structure_id.eq_any(
                memberships::table
                    .filter(memberships::account_id.eq(account.to_string()))
                    .select(memberships::structure_id),
            )),
        ),
        Reader::Acting(structures) => select.filter(
            p::published
                .eq(true)
                .or(p::structure_id.eq_any(Reader::acting(structures))),
        ),
    };
    if let Some(structure) = query.structure {
        select = select.filter(p::structure_id.eq(structure.to_string()));
    }
    if let Some(discipline) = query.discipline {
        select = select.filter(
            p::id.eq_any(
                production_disciplines::table
                    .filter(production_disciplines::discipline.eq(discipline.as_str()))
                    .select(production_disciplines::production_id),
            ),
        );
    }
    match query.young_audience {
        Some(true) => select = select.filter(p::audience.eq(Audience::YoungAudience.as_str())),
        Some(false) => select = select.filter(p::audience.ne(Audience::YoungAudience.as_str())),
        None => {}
    }
    let by_update = query.updated_since.is_some();
    if let Some(since) = query.updated_since {
        select = select.filter(p::updated_at.ge(since));
    }
    select = match &query.after {
        None => select,
        Some(Position::Id(id)) if !by_update => select.filter(p::id.gt(id.clone())),
        Some(Position::Updated { updated_at, id }) if by_update => select.filter(
            p::updated_at
                .ge(*updated_at)
                .and(p::updated_at.gt(*updated_at).or(p::id.gt(id.clone()))),
        ),
        Some(_) => {
            return Err(PersistenceError::Corrupt(
                "cursor does not match the order".into(),
            ));
        }
    };
    select = if by_update {
        select.order((p::updated_at.asc(), p::id.asc()))
    } else {
        select.order(p::id.asc())
    };
    let page = page::fetch(query.limit, |limit| select.limit(limit).load(conn))?
        .try_map(Production::try_from)?;
    let next = if page.more {
        page.items.last().map(|last| {
            if by_update {
                Position::Updated {
                    updated_at: last.updated_at.naive_utc(),
                    id: last.id.to_string(),
                }
            } else {
                Position::Id(last.id.to_string())
            }
        })
    } else {
        None
    };
    Ok(Page {
        items: page.items,
        next,
    })
}
