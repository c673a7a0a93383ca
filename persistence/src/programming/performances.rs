//! Performances, with their location stored beside them so that territorial questions
//! ("outside Occitanie", "per département this year") are one indexed query.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::access::{AccountId, MembershipRole};
use domain::programming::{
    Accessibility, Audience, Booking, Location, NewPerformance, Performance, PerformanceStatus,
    Place, Show,
};
use domain::{Discipline, PerformanceId, ProductionId, StructureId};

use super::{Reader, corrupt, framed, unframed};
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, on_backend, write_transaction};
use crate::error::PersistenceError;
use crate::identity::accounts::{STANDING_COLUMNS, StandingRow, WithStanding, into_standing};
use crate::page;
use crate::schema::{
    accounts, communes, memberships, performances, production_disciplines, productions,
};

// Deserialize: PostgreSQL can hand rows over as JSON (`json_agg`), within a statement
// that reads something else (`crate::grants::context`).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Deserialize)]
#[diesel(table_name = performances)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
struct PerformanceRow {
    id: String,
    production_id: Option<String>,
    company_structure_id: Option<String>,
    show_title: Option<String>,
    show_company_name: Option<String>,
    show_discipline: Option<String>,
    venue_structure_id: Option<String>,
    place_name: Option<String>,
    place_city: Option<String>,
    commune_code: Option<String>,
    department_code: Option<String>,
    region_code: Option<String>,
    country_code: Option<String>,
    #[diesel(deserialize_as = StoredTimestamp)]
    starts_at: NaiveDateTime,
    time_zone: String,
    status: String,
    booking: String,
    fee_cents: Option<i64>,
    capacity: Option<i64>,
    attendance: Option<i64>,
    ticketing_url: Option<String>,
    accessibility: String,
    tour_id: Option<String>,
    published: bool,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl From<&Performance> for PerformanceRow {
    fn from(performance: &Performance) -> Self {
        let data = &performance.data;
        let (production_id, company_structure_id, show_title, show_company_name, show_discipline) =
            match &data.show {
                Show::Production { id, structure_id } => (
                    Some(id.to_string()),
                    Some(structure_id.to_string()),
                    None,
                    None,
                    None,
                ),
                Show::Outside {
                    title,
                    company_name,
                    discipline,
                } => (
                    None,
                    None,
                    Some(title.clone()),
                    Some(company_name.clone()),
                    Some(discipline.as_str().to_owned()),
                ),
            };
        let (venue_structure_id, place_name, place_city) = match &data.place {
            Place::Venue { structure_id } => (Some(structure_id.to_string()), None, None),
            Place::Commune { name } => (None, Some(name.clone()), None),
            Place::Abroad { name, city } => (None, Some(name.clone()), Some(city.clone())),
        };
        Self {
            id: performance.id.to_string(),
            production_id,
            company_structure_id,
            show_title,
            show_company_name,
            show_discipline,
            venue_structure_id,
            place_name,
            place_city,
            commune_code: data.location.commune_code.clone(),
            department_code: data.location.department_code.clone(),
            region_code: data.location.region_code.clone(),
            country_code: data.location.country_code.clone(),
            starts_at: data.starts_at.naive_utc(),
            time_zone: data.time_zone.name().to_owned(),
            status: data.status.as_str().to_owned(),
            booking: data.booking.as_str().to_owned(),
            fee_cents: data.fee_cents,
            capacity: data.capacity,
            attendance: data.attendance,
            ticketing_url: data.ticketing_url.clone(),
            accessibility: framed(data.accessibility.iter().map(|a| a.as_str())),
            tour_id: data.tour_id.map(|t| t.to_string()),
            published: data.published,
            created_at: performance.created_at.naive_utc(),
            updated_at: performance.updated_at.naive_utc(),
            version: performance.version,
        }
    }
}

impl TryFrom<PerformanceRow> for Performance {
    type Error = PersistenceError;

    fn try_from(row: PerformanceRow) -> Result<Self, Self::Error> {
        let id = row.id.clone();
        let bad = |what: &str, detail: &dyn std::fmt::Display| {
            corrupt(&format!("performance {what}"), &id, detail)
        };
        let show = match (row.production_id, row.company_structure_id) {
            (Some(production), Some(structure)) => Show::Production {
                id: production.parse().map_err(|e| bad("production", &e))?,
                structure_id: structure.parse().map_err(|e| bad("structure", &e))?,
            },
            _ => Show::Outside {
                title: row.show_title.ok_or_else(|| bad("show", &"no title"))?,
                company_name: row
                    .show_company_name
                    .ok_or_else(|| bad("show", &"no company"))?,
                discipline: Discipline::parse(row.show_discipline.as_deref().unwrap_or_default())
                    .map_err(|e| bad("show discipline", &e))?,
            },
        };
        let place = match (row.venue_structure_id, row.place_name, row.place_city) {
            (Some(venue), _, _) => Place::Venue {
                structure_id: venue.parse().map_err(|e| bad("venue", &e))?,
            },
            (None, Some(name), Some(city)) => Place::Abroad { name, city },
            (None, Some(name), None) => Place::Commune { name },
            (None, None, _) => return Err(bad("place", &"neither venue nor place")),
        };
        let accessibility = unframed(&row.accessibility)
            .map(|a| Accessibility::parse(a).map_err(|e| bad("accessibility", &e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Performance {
            id: row.id.parse().map_err(|e| bad("id", &e))?,
            data: NewPerformance {
                show,
                place,
                location: Location {
                    commune_code: row.commune_code,
                    department_code: row.department_code,
                    region_code: row.region_code,
                    country_code: row.country_code,
                },
                starts_at: row.starts_at.and_utc(),
                time_zone: row.time_zone.parse().map_err(|e| bad("time zone", &e))?,
                status: PerformanceStatus::parse(&row.status).map_err(|e| bad("status", &e))?,
                booking: Booking::parse(&row.booking).map_err(|e| bad("booking", &e))?,
                fee_cents: row.fee_cents,
                capacity: row.capacity,
                attendance: row.attendance,
                ticketing_url: row.ticketing_url,
                accessibility,
                tour_id: row
                    .tour_id
                    .map(|t| t.parse())
                    .transpose()
                    .map_err(|e| bad("tour", &e))?,
                published: row.published,
            },
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

pub fn create(
    conn: &mut DbConnection,
    data: NewPerformance,
) -> Result<Performance, PersistenceError> {
    let now = storable_now();
    let performance = Performance {
        id: PerformanceId::generate(),
        data,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    diesel::insert_into(performances::table)
        .values(PerformanceRow::from(&performance))
        .execute(conn)?;
    Ok(performance)
}

/// Stores many performances at once (demo and benchmark data).
pub fn insert_many(conn: &mut DbConnection, batch: &[Performance]) -> Result<(), PersistenceError> {
    let rows: Vec<PerformanceRow> = batch.iter().map(PerformanceRow::from).collect();
    write_transaction(conn, |conn| {
        on_backend!(conn, |c| {
            // 27 columns: 1,000 rows stay under both backends' bound-parameter limits.
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(performances::table)
                    .values(chunk)
                    .execute(c)?;
            }
        });
        Ok(())
    })
}

pub fn find(conn: &mut DbConnection, id: PerformanceId) -> Result<Performance, PersistenceError> {
    let id = id.to_string();
    // On the backend's own connection, whose statement cache knows this query by its
    // type: through the multi-backend one it would build its SQL at every call.
    let row: PerformanceRow = on_backend!(conn, |c| performances::table
        .find(&id)
        .select(PerformanceRow::as_select())
        .first(c)?);
    row.try_into()
}

/// What a signed-in account's read of a performance needs, in one query: the account's
/// standing (`None`: no such account) and, when the performance exists, the performance
/// with the account's roles in its company and at its venue (`None` where it holds
/// none, or where the performance has no such structure).
pub fn find_for_account(
    conn: &mut DbConnection,
    id: PerformanceId,
    account: AccountId,
) -> Result<WithStanding<PerformanceWithRoles>, PersistenceError> {
    let (company, venue) = diesel::alias!(memberships as company, memberships as venue);
    let key = account.to_string();
    type Found = (
        StandingRow,
        Option<PerformanceRow>,
        Option<String>,
        Option<String>,
    );
    let found: Option<Found> = accounts::table
        .left_join(performances::table.on(performances::id.eq(id.to_string())))
        .left_join(
            company.on(company
                .field(memberships::structure_id)
                .nullable()
                .eq(performances::company_structure_id)
                .and(company.field(memberships::account_id).eq(accounts::id))),
        )
        .left_join(
            venue.on(venue
                .field(memberships::structure_id)
                .nullable()
                .eq(performances::venue_structure_id)
                .and(venue.field(memberships::account_id).eq(accounts::id))),
        )
        .filter(accounts::id.eq(key))
        .select((
            STANDING_COLUMNS,
            // The row's fields follow the table's columns (diesel cannot make a
            // Selectable nullable inside a tuple).
            performances::all_columns.nullable(),
            company.field(memberships::role).nullable(),
            venue.field(memberships::role).nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((standing, row, company_role, venue_role)) = found else {
        return Ok(None);
    };
    let standing = into_standing(account, standing)?;
    let Some(row) = row else {
        return Ok(Some((standing, None)));
    };
    let role = |role: Option<String>| {
        role.as_deref()
            .map(MembershipRole::parse)
            .transpose()
            .map_err(|e| corrupt("performance", &row.id, format!("membership role: {e}")))
    };
    let (company_role, venue_role) = (role(company_role)?, role(venue_role)?);
    Ok(Some((
        standing,
        Some(PerformanceWithRoles {
            performance: row.try_into()?,
            company_role,
            venue_role,
        }),
    )))
}

/// A performance and the roles a reader holds in its company and at its venue.
#[derive(Debug, Clone)]
pub struct PerformanceWithRoles {
    pub performance: Performance,
    pub company_role: Option<MembershipRole>,
    pub venue_role: Option<MembershipRole>,
}

/// `"performances"."id" IN (SELECT value FROM json_each(?))`: on SQLite, the ids of a
/// JSON array in one statement of a fixed text, of a type of its own so that each
/// connection prepares it once (an `IN (…)` list of binds is prepared anew at every
/// call, as its count varies).
#[derive(Debug, Clone, diesel::query_builder::QueryId)]
struct IdInJsonArray(String);

impl diesel::expression::Expression for IdInJsonArray {
    type SqlType = diesel::sql_types::Bool;
}
impl diesel::expression::AppearsOnTable<performances::table> for IdInJsonArray {}
impl diesel::expression::ValidGrouping<()> for IdInJsonArray {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}
impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for IdInJsonArray {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(r#""performances"."id" IN (SELECT value FROM json_each("#);
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.0)?;
        out.push_sql("))");
        Ok(())
    }
}

/// The performances of `ids` that exist, by id, in one statement per 500 ids: on
/// PostgreSQL `= ANY($1)` of an array, on SQLite [`IdInJsonArray`] (a dossier's
/// handful of performances are read at each of its reads).
pub fn find_many(
    conn: &mut DbConnection,
    ids: &[PerformanceId],
) -> Result<HashMap<PerformanceId, Performance>, PersistenceError> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        let rows: Vec<PerformanceRow> = match conn {
            DbConnection::Postgres(c) => performances::table
                .filter(performances::id.eq_any(&keys))
                .select(PerformanceRow::as_select())
                .load(c)?,
            DbConnection::Sqlite(c) => performances::table
                .filter(IdInJsonArray(serde_json::to_string(&keys)?))
                .select(PerformanceRow::as_select())
                .load(c)?,
        };
        for row in rows {
            let performance = Performance::try_from(row)?;
            found.insert(performance.id, performance);
        }
    }
    Ok(found)
}

/// Performances from a JSON array of their rows, as PostgreSQL's `json_agg` of the
/// `performances` table writes it.
pub(crate) fn from_json_rows(json: &str) -> Result<Vec<Performance>, PersistenceError> {
    let rows: Vec<PerformanceRow> = serde_json::from_str(json)?;
    rows.into_iter().map(Performance::try_from).collect()
}

pub fn update(
    conn: &mut DbConnection,
    current: &Performance,
    data: NewPerformance,
) -> Result<Performance, PersistenceError> {
    let updated = Performance {
        data,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    };
    let id = current.id.to_string();
    let changed = diesel::update(
        performances::table
            .filter(performances::id.eq(&id))
            .filter(performances::version.eq(current.version)),
    )
    .set(PerformanceRow::from(&updated))
    .execute(conn)?;
    if changed == 0 {
        return Err(stale(conn, &id)?);
    }
    Ok(updated)
}

fn stale(conn: &mut DbConnection, id: &str) -> Result<PersistenceError, PersistenceError> {
    let version: Option<i64> = performances::table
        .find(id)
        .select(performances::version)
        .first(conn)
        .optional()?;
    Ok(match version {
        None => PersistenceError::NotFound,
        Some(current) => PersistenceError::VersionMismatch { current },
    })
}

pub fn delete(conn: &mut DbConnection, current: &Performance) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    let deleted = diesel::delete(
        performances::table
            .filter(performances::id.eq(&id))
            .filter(performances::version.eq(current.version)),
    )
    .execute(conn)?;
    if deleted == 0 {
        return Err(stale(conn, &id)?);
    }
    Ok(())
}

/// Where the previous page ended: its last item's sort key and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    Starts {
        starts_at: NaiveDateTime,
        id: String,
    },
    Updated {
        updated_at: NaiveDateTime,
        id: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub reader: Reader,
    pub production: Option<ProductionId>,
    /// Either side: the production's structure or the venue.
    pub structure: Option<StructureId>,
    pub venue: Option<StructureId>,
    pub department: Option<String>,
    /// INSEE code of the commune.
    pub commune: Option<String>,
    pub region: Option<String>,
    /// Outside `region` (its performances abroad or with no known region included).
    pub outside_region: bool,
    pub discipline: Option<Discipline>,
    pub from: Option<NaiveDateTime>,
    pub to: Option<NaiveDateTime>,
    pub status: Option<PerformanceStatus>,
    pub young_audience: Option<bool>,
    pub max_commune_population: Option<i64>,
    /// Changed at or after; orders the list by last change instead of by start.
    pub updated_since: Option<NaiveDateTime>,
    pub published: Option<bool>,
    pub after: Option<Position>,
    pub limit: i64,
}

pub struct Page {
    pub items: Vec<Performance>,
    pub next: Option<Position>,
}

/// One page of the performances `query.reader` may see, by keyset on (`starts_at`, `id`)
/// (or (`updated_at`, `id`) with `updated_since`): page 1,000 costs what page 1 costs.
pub fn list(conn: &mut DbConnection, query: &ListQuery) -> Result<Page, PersistenceError> {
    use performances::dsl as p;

    let mut select = p::performances
        .select(PerformanceRow::as_select())
        .into_boxed::<MultiBackend>();
    select = match &query.reader {
        Reader::Everything => select,
        Reader::Public => select.filter(p::published.eq(true)),
        Reader::Member(account) => {
            let mine = || {
                memberships::table
                    .filter(memberships::account_id.eq(account.to_string()))
                    .select(memberships::structure_id.nullable())
            };
            select.filter(
                p::published
                    .eq(true)
                    .or(p::company_structure_id.eq_any(mine()))
                    .or(p::venue_structure_id.eq_any(mine())),
            )
        }
        Reader::Acting(structures) => {
            let ids = Reader::acting(structures);
            select.filter(
                p::published
                    .eq(true)
                    .or(p::company_structure_id.eq_any(ids.clone()))
                    .or(p::venue_structure_id.eq_any(ids)),
            )
        }
    };
    if let Some(production) = query.production {
        select = select.filter(p::production_id.eq(production.to_string()));
    }
    if let Some(structure) = query.structure {
        let structure = structure.to_string();
        select = select.filter(
            p::company_structure_id
                .eq(structure.clone())
                .or(p::venue_structure_id.eq(structure)),
        );
    }
    if let Some(venue) = query.venue {
        select = select.filter(p::venue_structure_id.eq(venue.to_string()));
    }
    if let Some(department) = &query.department {
        select = select.filter(p::department_code.eq(department.clone()));
    }
    if let Some(commune) = &query.commune {
        select = select.filter(p::commune_code.eq(commune.clone()));
    }
    match (&query.region, query.outside_region) {
        (Some(region), false) => select = select.filter(p::region_code.eq(region.clone())),
        (Some(region), true) => {
            select = select.filter(
                p::region_code
                    .ne(region.clone())
                    .or(p::region_code.is_null()),
            )
        }
        (None, _) => {}
    }
    if let Some(discipline) = query.discipline {
        select = select.filter(
            p::show_discipline
                .eq(discipline.as_str())
                .or(p::production_id.eq_any(
                    production_disciplines::table
                        .filter(production_disciplines::discipline.eq(discipline.as_str()))
                        .select(production_disciplines::production_id.nullable()),
                )),
        );
    }
    if let Some(from) = query.from {
        select = select.filter(p::starts_at.ge(from));
    }
    if let Some(to) = query.to {
        select = select.filter(p::starts_at.lt(to));
    }
    if let Some(status) = query.status {
        select = select.filter(p::status.eq(status.as_str()));
    }
    let young = Audience::YoungAudience.as_str();
    match query.young_audience {
        Some(true) => {
            select = select.filter(
                p::production_id.eq_any(
                    productions::table
                        .filter(productions::audience.eq(young))
                        .select(productions::id.nullable()),
                ),
            )
        }
        Some(false) => {
            select = select.filter(
                p::production_id.is_null().or(p::production_id.eq_any(
                    productions::table
                        .filter(productions::audience.ne(young))
                        .select(productions::id.nullable()),
                )),
            )
        }
        None => {}
    }
    if let Some(population) = query.max_commune_population {
        select = select.filter(
            p::commune_code.eq_any(
                communes::table
                    .filter(communes::population.le(population))
                    .select(communes::insee_code.nullable()),
            ),
        );
    }
    if let Some(published) = query.published {
        select = select.filter(p::published.eq(published));
    }
    let by_update = query.updated_since.is_some();
    if let Some(since) = query.updated_since {
        select = select.filter(p::updated_at.ge(since));
    }
    // `key >= k AND (key > k OR id > i)`: the first conjunct lets both planners seek.
    select = match &query.after {
        None => select,
        Some(Position::Starts { starts_at, id }) if !by_update => select.filter(
            p::starts_at
                .ge(*starts_at)
                .and(p::starts_at.gt(*starts_at).or(p::id.gt(id.clone()))),
        ),
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
        select.order((p::starts_at.asc(), p::id.asc()))
    };
    let page = page::fetch(query.limit, |limit| select.limit(limit).load(conn))?
        .try_map(Performance::try_from)?;
    let next = if page.more {
        page.items.last().map(|last| {
            let id = last.id.to_string();
            if by_update {
                Position::Updated {
                    updated_at: last.updated_at.naive_utc(),
                    id,
                }
            } else {
                Position::Starts {
                    starts_at: last.data.starts_at.naive_utc(),
                    id,
                }
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
