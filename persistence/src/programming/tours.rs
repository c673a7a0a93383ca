//! Tours: a named run of one production's performances.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use domain::programming::{NewTour, Tour};
use domain::{ProductionId, TourId};

use super::{Reader, corrupt, referenced};
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, write_transaction};
use crate::error::PersistenceError;
use crate::page;
use crate::schema::{memberships, performances, productions, tours};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tours)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct TourRow {
    id: String,
    production_id: String,
    name: String,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<&Tour> for TourRow {
    fn from(tour: &Tour) -> Self {
        Self {
            id: tour.id.to_string(),
            production_id: tour.production_id.to_string(),
            name: tour.data.name.clone(),
            starts_on: tour.data.starts_on,
            ends_on: tour.data.ends_on,
            created_at: tour.created_at.naive_utc(),
            updated_at: tour.updated_at.naive_utc(),
            version: tour.version,
        }
    }
}

impl TryFrom<TourRow> for Tour {
    type Error = PersistenceError;

    fn try_from(row: TourRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        Ok(Tour {
            id: row.id.parse().map_err(|e| corrupt("tour id", id, e))?,
            production_id: row
                .production_id
                .parse()
                .map_err(|e| corrupt("tour production", id, e))?,
            data: NewTour {
                name: row.name,
                starts_on: row.starts_on,
                ends_on: row.ends_on,
            },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

pub fn create(
    conn: &mut DbConnection,
    production: ProductionId,
    data: NewTour,
) -> Result<Tour, PersistenceError> {
    let now = storable_now();
    let tour = Tour {
        id: TourId::generate(),
        production_id: production,
        data,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(tours::table)
        .values(TourRow::from(&tour))
        .execute(conn)?;
    Ok(tour)
}

pub fn find(conn: &mut DbConnection, id: TourId) -> Result<Tour, PersistenceError> {
    tours::table
        .find(id.to_string())
        .select(TourRow::as_select())
        .first(conn)?
        .try_into()
}

/// Every tour of a production (they go with it when it is deleted).
pub fn of_production(
    conn: &mut DbConnection,
    production: ProductionId,
) -> Result<Vec<Tour>, PersistenceError> {
    tours::table
        .filter(tours::production_id.eq(production.to_string()))
        .order(tours::id.asc())
        .select(TourRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Tour::try_from)
        .collect()
}

pub fn update(
    conn: &mut DbConnection,
    current: &Tour,
    data: NewTour,
) -> Result<Tour, PersistenceError> {
    let updated = Tour {
        data,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    };
    let id = current.id.to_string();
    let changed = diesel::update(
        tours::table
            .filter(tours::id.eq(&id))
            .filter(tours::version.eq(current.version)),
    )
    .set(TourRow::from(&updated))
    .execute(conn)?;
    if changed == 0 {
        return Err(stale(conn, &id)?);
    }
    Ok(updated)
}

fn stale(conn: &mut DbConnection, id: &str) -> Result<PersistenceError, PersistenceError> {
    let version: Option<i64> = tours::table
        .find(id)
        .select(tours::version)
        .first(conn)
        .optional()?;
    Ok(match version {
        None => PersistenceError::NotFound,
        Some(current) => PersistenceError::VersionMismatch { current },
    })
}

/// Deletes a tour if it is still at its version and no performance points at it.
pub fn delete(conn: &mut DbConnection, current: &Tour) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    write_transaction(conn, |conn| {
        let used: i64 = performances::table
            .filter(performances::tour_id.eq(&id))
            .count()
            .get_result(conn)?;
        if used > 0 {
            return Err(PersistenceError::HasPerformances);
        }
        let deleted = diesel::delete(
            tours::table
                .filter(tours::id.eq(&id))
                .filter(tours::version.eq(current.version)),
        )
        .execute(conn)
        .map_err(|e| referenced(e.into()))?;
        if deleted == 0 {
            return Err(stale(conn, &id)?);
        }
        Ok(())
    })
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub reader: Reader,
    pub production: Option<ProductionId>,
    /// Id of the last tour of the previous page.
    pub after: Option<String>,
    pub limit: i64,
}

/// One page of the tours of productions `query.reader` may see, in creation order.
pub fn list(
    conn: &mut DbConnection,
    query: &ListQuery,
) -> Result<page::Page<Tour>, PersistenceError> {
    let mut select = tours::table
        .select(TourRow::as_select())
        .into_boxed::<MultiBackend>();
    select = match &query.reader {
        Reader::Everything => select,
        Reader::Public => select.filter(
            tours::production_id.eq_any(
                productions::table
                    .filter(productions::published.eq(true))
                    .select(productions::id),
            ),
        ),
        Reader::Member(account) => select.filter(
            tours::production_id.eq_any(
                productions::table
                    .filter(
                        productions::published
                            .eq(true)
                            .or(productions::structure_id.eq_any(
                                memberships::table
                                    .filter(memberships::account_id.eq(account.to_string()))
                                    .select(memberships::structure_id),
                            )),
                    )
                    .select(productions::id),
            ),
        ),
        Reader::Acting(structures) => select.filter(
            tours::production_id.eq_any(
                productions::table
                    .filter(
                        productions::published
                            .eq(true)
                            .or(productions::structure_id.eq_any(Reader::acting(structures))),
                    )
                    .select(productions::id),
            ),
        ),
    };
    if let Some(production) = query.production {
        select = select.filter(tours::production_id.eq(production.to_string()));
    }
    if let Some(after) = &query.after {
        select = select.filter(tours::id.gt(after.clone()));
    }
    let select = select.order(tours::id.asc());
    page::fetch(query.limit, |limit| select.limit(limit).load(conn))?.try_map(Tour::try_from)
}
