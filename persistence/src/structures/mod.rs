//! Storage of structures, their memberships, invitations and requests to join them.

pub mod invitations;
pub mod join_requests;
pub mod memberships;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use domain::access::{AccountId, MembershipRole};
use domain::search::fold;
use domain::{
    Address, Discipline, Licence, LicenceCategory, LicenceNumber, NewStructure, Siret, Structure,
    StructureId, StructureKind,
};
use serde::{Deserialize, Serialize};

use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, on_backend, write_transaction};
use crate::error::PersistenceError;
use crate::identity::accounts::{STANDING_COLUMNS, StandingRow, WithStanding, into_standing};
use crate::page;
use crate::schema::{accounts, memberships as membership_rows, structure_disciplines, structures};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = structures)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct StructureRow {
    id: String,
    kind: String,
    name: String,
    name_folded: String,
    legal_name: Option<String>,
    siret: Option<String>,
    disciplines: String,
    licences: String,
    street: Option<String>,
    postal_code: Option<String>,
    city: Option<String>,
    commune_code: Option<String>,
    department_code: Option<String>,
    region_code: Option<String>,
    country: Option<String>,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    archived_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

#[derive(Insertable)]
#[diesel(table_name = structure_disciplines)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct DisciplineRow {
    structure_id: String,
    discipline: &'static str,
}

#[derive(Serialize, Deserialize)]
struct StoredLicence {
    category: u8,
    number: String,
}

fn corrupt(what: &str, id: &str, detail: impl std::fmt::Display) -> PersistenceError {
    PersistenceError::Corrupt(format!("structure {id}: {what}: {detail}"))
}

impl StructureRow {
    fn new(structure: &Structure) -> Result<Self, PersistenceError> {
        let data = &structure.data;
        let licences: Vec<StoredLicence> = data
            .licences
            .iter()
            .map(|l| StoredLicence {
                category: l.category.get(),
                number: l.number.to_string(),
            })
            .collect();
        let address = data.address.as_ref();
        Ok(Self {
            id: structure.id.to_string(),
            kind: data.kind.as_str().to_owned(),
            name: data.name.clone(),
            name_folded: fold(&data.name),
            legal_name: data.legal_name.clone(),
            siret: data.siret.as_ref().map(|s| s.to_string()),
            disciplines: format!(
                ",{},",
                data.disciplines
                    .iter()
                    .map(|d| d.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            licences: serde_json::to_string(&licences)?,
            street: address.and_then(|a| a.street.clone()),
            postal_code: address.and_then(|a| a.postal_code.clone()),
            city: address.map(|a| a.city.clone()),
            commune_code: address.and_then(|a| a.commune_code.clone()),
            department_code: address.and_then(|a| a.department.clone()),
            region_code: address.and_then(|a| a.region.clone()),
            country: address.map(|a| a.country.clone()),
            website: data.website.clone(),
            email: data.email.clone(),
            phone: data.phone.clone(),
            archived_at: structure.archived_at.map(|t| t.naive_utc()),
            created_at: structure.created_at.naive_utc(),
            updated_at: structure.updated_at.naive_utc(),
            version: structure.version,
        })
    }

    fn discipline_rows(structure: &Structure) -> Vec<DisciplineRow> {
        structure
            .data
            .disciplines
            .iter()
            .map(|d| DisciplineRow {
                structure_id: structure.id.to_string(),
                discipline: d.as_str(),
            })
            .collect()
    }
}

impl TryFrom<StructureRow> for Structure {
    type Error = PersistenceError;

    fn try_from(row: StructureRow) -> Result<Self, Self::Error> {
        let id = &row.id;
        let kind = StructureKind::parse(&row.kind).map_err(|e| corrupt("kind", id, e))?;
        let siret = row
            .siret
            .as_deref()
            .map(Siret::parse)
            .transpose()
            .map_err(|e| corrupt("siret", id, e))?;
        let licences = serde_json::from_str::<Vec<StoredLicence>>(&row.licences)?
            .into_iter()
            .map(|l| {
                Ok(Licence {
                    category: LicenceCategory::new(i64::from(l.category))
                        .map_err(|e| corrupt("licence category", id, e))?,
                    number: LicenceNumber::parse(&l.number)
                        .map_err(|e| corrupt("licence number", id, e))?,
                })
            })
            .collect::<Result<Vec<_>, PersistenceError>>()?;
        let disciplines = row
            .disciplines
            .split(',')
            .filter(|d| !d.is_empty())
            .map(|d| Discipline::parse(d).map_err(|e| corrupt("discipline", id, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let address = match (row.city, row.country) {
            (Some(city), Some(country)) => Some(Address {
                street: row.street,
                postal_code: row.postal_code,
                city,
                commune_code: row.commune_code,
                department: row.department_code,
                region: row.region_code,
                country,
            }),
            _ => None,
        };
        Ok(Structure {
            id: row.id.parse().map_err(|e| corrupt("id", id, e))?,
            data: NewStructure {
                kind,
                name: row.name,
                legal_name: row.legal_name,
                siret,
                licences,
                address,
                disciplines,
                website: row.website,
                email: row.email,
                phone: row.phone,
            },
            archived_at: row.archived_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A SIRET held by another structure (archived ones keep theirs), looked up before
/// writing: after a failed insert, PostgreSQL refuses every statement until the
/// transaction ends, so the holder could not be named then.
fn refuse_taken_siret(
    conn: &mut DbConnection,
    siret: Option<&Siret>,
    own: StructureId,
) -> Result<(), PersistenceError> {
    let Some(siret) = siret else {
        return Ok(());
    };
    let holder = structures::table
        .filter(structures::siret.eq(siret.as_ref()))
        .filter(structures::id.ne(own.to_string()))
        .select(structures::id)
        .get_result::<String>(conn)
        .optional()?;
    match holder {
        Some(existing) => Err(PersistenceError::DuplicateSiret { existing }),
        None => Ok(()),
    }
}

/// A unique violation on the SIRET that the check above could not see (a concurrent
/// write): names the holder when the connection can still read.
fn siret_conflict(
    conn: &mut DbConnection,
    error: PersistenceError,
    siret: Option<&Siret>,
) -> PersistenceError {
    match (&error, siret) {
        (PersistenceError::Conflict { constraint }, Some(siret))
            if constraint.contains("siret") =>
        {
            match structures::table
                .filter(structures::siret.eq(siret.as_ref()))
                .select(structures::id)
                .first::<String>(conn)
            {
                Ok(existing) => PersistenceError::DuplicateSiret { existing },
                Err(_) => error,
            }
        }
        _ => error,
    }
}

/// Stores a new structure; its creator, if any, becomes its owner in the same transaction.
pub fn create(
    conn: &mut DbConnection,
    data: NewStructure,
    owner: Option<domain::access::AccountId>,
) -> Result<Structure, PersistenceError> {
    let now = storable_now();
    let structure = Structure {
        id: StructureId::generate(),
        data,
        archived_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = StructureRow::new(&structure)?;
    let disciplines = StructureRow::discipline_rows(&structure);
    let result = write_transaction(conn, |conn| {
        refuse_taken_siret(conn, structure.data.siret.as_ref(), structure.id)?;
        diesel::insert_into(structures::table)
            .values(&row)
            .execute(conn)?;
        insert_disciplines(conn, &disciplines)?;
        if let Some(owner) = owner {
            memberships::add_membership(
                conn,
                owner,
                structure.id,
                domain::access::MembershipRole::Owner,
            )?;
        }
        Ok(())
    });
    match result {
        Ok(()) => Ok(structure),
        Err(error) => Err(siret_conflict(conn, error, structure.data.siret.as_ref())),
    }
}

fn insert_disciplines(
    conn: &mut DbConnection,
    disciplines: &[DisciplineRow],
) -> Result<(), PersistenceError> {
    for discipline in disciplines {
        diesel::insert_into(structure_disciplines::table)
            .values(discipline)
            .execute(conn)?;
    }
    Ok(())
}

/// Stores many structures at once (demo and benchmark data).
pub fn insert_many(conn: &mut DbConnection, batch: &[Structure]) -> Result<(), PersistenceError> {
    let rows = batch
        .iter()
        .map(StructureRow::new)
        .collect::<Result<Vec<_>, _>>()?;
    let disciplines: Vec<DisciplineRow> = batch
        .iter()
        .flat_map(StructureRow::discipline_rows)
        .collect();
    write_transaction(conn, |conn| {
        on_backend!(conn, |c| {
            for chunk in rows.chunks(500) {
                diesel::insert_into(structures::table)
                    .values(chunk)
                    .execute(c)?;
            }
            for chunk in disciplines.chunks(2_000) {
                diesel::insert_into(structure_disciplines::table)
                    .values(chunk)
                    .execute(c)?;
            }
        });
        Ok(())
    })
}

/// A structure by id, archived or not.
pub fn find(conn: &mut DbConnection, id: StructureId) -> Result<Structure, PersistenceError> {
    structures::table
        .find(id.to_string())
        .select(StructureRow::as_select())
        .first(conn)?
        .try_into()
}

/// The structures of these ids that exist, archived or not, in no particular order.
pub fn find_many(
    conn: &mut DbConnection,
    ids: &[StructureId],
) -> Result<Vec<Structure>, PersistenceError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    structures::table
        .filter(structures::id.eq_any(ids))
        .select(StructureRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Structure::try_from)
        .collect()
}

/// A structure by id, archived or not, with the role `account` holds in it: one query,
/// whatever the number of structures the account belongs to.
pub fn find_with_role(
    conn: &mut DbConnection,
    id: StructureId,
    account: Option<AccountId>,
) -> Result<(Structure, Option<MembershipRole>), PersistenceError> {
    let account = account.map(|a| a.to_string()).unwrap_or_default();
    let (row, role): (StructureRow, Option<String>) = structures::table
        .left_join(
            membership_rows::table.on(membership_rows::structure_id
                .eq(structures::id)
                .and(membership_rows::account_id.eq(account))),
        )
        .filter(structures::id.eq(id.to_string()))
        .select((StructureRow::as_select(), membership_rows::role.nullable()))
        .first(conn)?;
    let role = role
        .as_deref()
        .map(MembershipRole::parse)
        .transpose()
        .map_err(|e| corrupt("membership role", &row.id, e))?;
    Ok((row.try_into()?, role))
}

/// What a signed-in account's read of a structure needs, in one query: the account's
/// standing (`None`: no such account) and, when the structure exists (archived or not),
/// the structure with the account's role in it. One round trip to the database whatever
/// the number of structures the account belongs to.
pub fn find_for_account(
    conn: &mut DbConnection,
    id: StructureId,
    account: AccountId,
) -> Result<WithStanding<(Structure, Option<MembershipRole>)>, PersistenceError> {
    let key = account.to_string();
    let found: Option<(StandingRow, Option<StructureRow>, Option<String>)> = accounts::table
        .left_join(structures::table.on(structures::id.eq(id.to_string())))
        .left_join(
            membership_rows::table.on(membership_rows::structure_id
                .eq(structures::id)
                .and(membership_rows::account_id.eq(accounts::id))),
        )
        .filter(accounts::id.eq(key))
        .select((
            STANDING_COLUMNS,
            // The row's fields follow the table's columns (diesel cannot make a
            // Selectable nullable inside a tuple).
            structures::all_columns.nullable(),
            membership_rows::role.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((standing, row, role)) = found else {
        return Ok(None);
    };
    let standing = into_standing(account, standing)?;
    let Some(row) = row else {
        return Ok(Some((standing, None)));
    };
    let role = role
        .as_deref()
        .map(MembershipRole::parse)
        .transpose()
        .map_err(|e| corrupt("membership role", &row.id, e))?;
    Ok(Some((standing, Some((row.try_into()?, role)))))
}

/// Replaces a structure's data if it is still at `version`; returns the new state.
pub fn update(
    conn: &mut DbConnection,
    current: &Structure,
    data: NewStructure,
) -> Result<Structure, PersistenceError> {
    let updated = Structure {
        id: current.id,
        data,
        archived_at: current.archived_at,
        created_at: current.created_at,
        updated_at: storable_now(),
        version: current.version + 1,
    };
    let row = StructureRow::new(&updated)?;
    let disciplines = StructureRow::discipline_rows(&updated);
    let id = current.id.to_string();
    let result = write_transaction(conn, |conn| {
        // A SIRET the structure keeps is its own already: looked up only when it changes.
        let new_siret = updated.data.siret.as_ref();
        if new_siret != current.data.siret.as_ref() {
            refuse_taken_siret(conn, new_siret, updated.id)?;
        }
        let changed = diesel::update(
            structures::table
                .filter(structures::id.eq(&id))
                .filter(structures::version.eq(current.version))
                .filter(structures::archived_at.is_null()),
        )
        .set(&row)
        .execute(conn)?;
        if changed == 0 {
            return Err(stale(conn, &id)?);
        }
        diesel::delete(
            structure_disciplines::table.filter(structure_disciplines::structure_id.eq(&id)),
        )
        .execute(conn)?;
        insert_disciplines(conn, &disciplines)
    });
    match result {
        Ok(()) => Ok(updated),
        Err(error) => Err(siret_conflict(conn, error, updated.data.siret.as_ref())),
    }
}

/// Why a conditional write changed nothing.
fn stale(conn: &mut DbConnection, id: &str) -> Result<PersistenceError, PersistenceError> {
    let found: Option<(i64, Option<NaiveDateTime>)> = structures::table
        .find(id)
        .select((structures::version, structures::archived_at))
        .first(conn)
        .optional()?;
    Ok(match found {
        None => PersistenceError::NotFound,
        Some((_, Some(_))) => PersistenceError::Archived,
        Some((current, None)) => PersistenceError::VersionMismatch { current },
    })
}

/// Archives a structure if it is still at `version`.
pub fn archive(
    conn: &mut DbConnection,
    current: &Structure,
) -> Result<Structure, PersistenceError> {
    let now = storable_now();
    let id = current.id.to_string();
    write_transaction(conn, |conn| {
        let changed = diesel::update(
            structures::table
                .filter(structures::id.eq(&id))
                .filter(structures::version.eq(current.version))
                .filter(structures::archived_at.is_null()),
        )
        .set((
            structures::archived_at.eq(now.naive_utc()),
            structures::updated_at.eq(now.naive_utc()),
            structures::version.eq(current.version + 1),
        ))
        .execute(conn)?;
        if changed == 0 {
            return Err(stale(conn, &id)?);
        }
        Ok(())
    })?;
    Ok(Structure {
        archived_at: Some(now),
        updated_at: now,
        version: current.version + 1,
        ..current.clone()
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    NameAsc,
    NameDesc,
    CreatedAsc,
    CreatedDesc,
}

/// Where the previous page ended: the sort key of its last item and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    Name {
        name_folded: String,
        id: String,
    },
    Created {
        created_at: NaiveDateTime,
        id: String,
    },
}

impl Position {
    pub fn of(structure: &Structure, sort: Sort) -> Self {
        match sort {
            Sort::NameAsc | Sort::NameDesc => Self::Name {
                name_folded: fold(&structure.data.name),
                id: structure.id.to_string(),
            },
            Sort::CreatedAsc | Sort::CreatedDesc => Self::Created {
                created_at: structure.created_at.naive_utc(),
                id: structure.id.to_string(),
            },
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub kind: Option<StructureKind>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub discipline: Option<Discipline>,
    /// Search text, matched against the folded name.
    pub q: Option<String>,
    pub include_archived: bool,
    pub sort: Sort,
    pub after: Option<Position>,
    pub limit: i64,
}

pub struct Page {
    pub items: Vec<Structure>,
    /// Set when more items follow.
    pub next: Option<Position>,
}

fn like_pattern(text: &str) -> String {
    let escaped = fold(text)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of structures, by keyset: page 1,000 costs what page 1 costs.
pub fn list(conn: &mut DbConnection, query: &ListQuery) -> Result<Page, PersistenceError> {
    use structures::dsl as s;

    let mut select = s::structures
        .select(StructureRow::as_select())
        .into_boxed::<MultiBackend>();
    if !query.include_archived {
        select = select.filter(s::archived_at.is_null());
    }
    if let Some(kind) = query.kind {
        select = select.filter(s::kind.eq(kind.as_str()));
    }
    if let Some(department) = &query.department {
        select = select.filter(s::department_code.eq(department.clone()));
    }
    if let Some(region) = &query.region {
        select = select.filter(s::region_code.eq(region.clone()));
    }
    if let Some(discipline) = query.discipline {
        select = select.filter(diesel::dsl::exists(
            structure_disciplines::table
                .filter(structure_disciplines::structure_id.eq(s::id))
                .filter(structure_disciplines::discipline.eq(discipline.as_str())),
        ));
    }
    if let Some(q) = &query.q {
        select = select.filter(s::name_folded.like(like_pattern(q)).escape('\\'));
    }
    // Written as `key >= k AND (key > k OR id > i)` rather than the plain OR: the first
    // conjunct lets both planners seek the index, so page 1,000 costs what page 1 costs.
    select = match (&query.after, query.sort) {
        (None, _) => select,
        (Some(Position::Name { name_folded, id }), Sort::NameAsc) => select.filter(
            s::name_folded.ge(name_folded.clone()).and(
                s::name_folded
                    .gt(name_folded.clone())
                    .or(s::id.gt(id.clone())),
            ),
        ),
        (Some(Position::Name { name_folded, id }), Sort::NameDesc) => select.filter(
            s::name_folded.le(name_folded.clone()).and(
                s::name_folded
                    .lt(name_folded.clone())
                    .or(s::id.lt(id.clone())),
            ),
        ),
        (Some(Position::Created { created_at, id }), Sort::CreatedAsc) => select.filter(
            s::created_at
                .ge(*created_at)
                .and(s::created_at.gt(*created_at).or(s::id.gt(id.clone()))),
        ),
        (Some(Position::Created { created_at, id }), Sort::CreatedDesc) => select.filter(
            s::created_at
                .le(*created_at)
                .and(s::created_at.lt(*created_at).or(s::id.lt(id.clone()))),
        ),
        (Some(_), _) => {
            return Err(PersistenceError::Corrupt(
                "cursor does not match the sort order".into(),
            ));
        }
    };
    select = match query.sort {
        Sort::NameAsc => select.order((s::name_folded.asc(), s::id.asc())),
        Sort::NameDesc => select.order((s::name_folded.desc(), s::id.desc())),
        Sort::CreatedAsc => select.order((s::created_at.asc(), s::id.asc())),
        Sort::CreatedDesc => select.order((s::created_at.desc(), s::id.desc())),
    };
    let page = page::fetch(query.limit, |limit| select.limit(limit).load(conn))?
        .try_map(Structure::try_from)?;
    let items = page.items;
    let next = if page.more {
        items.last().map(|last| Position::of(last, query.sort))
    } else {
        None
    };
    Ok(Page { items, next })
}
