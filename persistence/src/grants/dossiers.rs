//! Dossiers: one row each, their answers and budget as JSON, numbered per programme
//! and year by a counter row.
//!
//! # References under concurrency
//!
//! A reference (`DIFF-PROX-2027-0042`) takes the next number of its programme and year
//! from `dossier_counters`, in the transaction that creates the dossier, with one
//! statement: `INSERT … ON CONFLICT (programme_id, year) DO UPDATE SET last_number =
//! last_number + 1 RETURNING last_number`. The update locks the counter's row on
//! PostgreSQL until the commit, so concurrent creations on any number of instances take
//! consecutive numbers one after the other (a creation that rolls back gives its number
//! back), and a concurrent first insert is waited for, then updated; on SQLite the
//! writing transaction began with `BEGIN IMMEDIATE` and holds the file. The unique
//! `reference` column is the last guard.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use domain::grants::{
    Budget, BudgetInput, Dossier, DossierContent, DossierReference, DossierStatus, LineInput,
    ProgrammeCode,
};
use domain::{CallId, DossierId, PerformanceId, ProgrammeId, StructureId};
use serde::{Deserialize, Serialize};

use super::{corrupt, stale};
use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{
    DbConnection, MultiBackend, Prepared, in_transaction, on_backend, write_transaction,
};
use crate::error::PersistenceError;
use crate::page;
use crate::schema::{dossier_counters, dossier_reviews, dossiers, memberships};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = dossiers)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
#[diesel(treat_none_as_null = true)]
pub(crate) struct DossierRow {
    id: String,
    reference: String,
    call_id: String,
    programme_id: String,
    applicant_id: String,
    status: String,
    title: String,
    summary: Option<String>,
    performance_ids: String,
    answers: String,
    budget: String,
    awarded_cents: Option<i64>,
    submitted_at: Option<NaiveDateTime>,
    decided_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = StoredTimestamp)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = StoredTimestamp)]
    updated_at: NaiveDateTime,
    version: i64,
}

/// A budget line as stored.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StoredLine {
    category: String,
    label: Option<String>,
    amount_cents: i64,
}

/// A budget as stored (a dossier's, a final report's).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct StoredBudget {
    expenses: Vec<StoredLine>,
    incomes: Vec<StoredLine>,
}

impl StoredBudget {
    /// The stored budget checked again by the domain: a bad one is a corrupt row of the
    /// `owner` kind (`dossier`, `final report`). Parsed on every read: the error's name
    /// is built only for an error.
    pub(super) fn parsed(self, owner: &str, id: &str) -> Result<Budget, PersistenceError> {
        Budget::parse(&BudgetInput {
            expenses: lines(self.expenses),
            incomes: lines(self.incomes),
        })
        .map_err(|e| corrupt(&format!("{owner} budget"), id, format!("{e:?}")))
    }
}

pub(super) fn stored_budget(budget: &Budget) -> StoredBudget {
    StoredBudget {
        expenses: budget
            .expenses()
            .iter()
            .map(|l| StoredLine {
                category: l.category().as_str().to_owned(),
                label: l.label().map(str::to_owned),
                amount_cents: l.amount_cents(),
            })
            .collect(),
        incomes: budget
            .incomes()
            .iter()
            .map(|l| StoredLine {
                category: l.category().as_str().to_owned(),
                label: l.label().map(str::to_owned),
                amount_cents: l.amount_cents(),
            })
            .collect(),
    }
}

fn lines(stored: Vec<StoredLine>) -> Vec<LineInput> {
    stored
        .into_iter()
        .map(|l| LineInput {
            category: l.category,
            label: l.label,
            amount_cents: l.amount_cents,
        })
        .collect()
}

impl DossierRow {
    fn new(dossier: &Dossier) -> Result<Self, PersistenceError> {
        let content = &dossier.content;
        let performance_ids: Vec<String> = content
            .performance_ids
            .iter()
            .map(ToString::to_string)
            .collect();
        Ok(Self {
            id: dossier.id.to_string(),
            reference: dossier.reference.to_string(),
            call_id: dossier.call_id.to_string(),
            programme_id: dossier.programme_id.to_string(),
            applicant_id: dossier.applicant_id.to_string(),
            status: dossier.status.as_str().to_owned(),
            title: content.title.clone(),
            summary: content.summary.clone(),
            performance_ids: serde_json::to_string(&performance_ids)?,
            answers: serde_json::to_string(&content.answers)?,
            budget: serde_json::to_string(&stored_budget(&content.budget))?,
            awarded_cents: dossier.awarded_cents,
            submitted_at: dossier.submitted_at.map(|t| t.naive_utc()),
            decided_at: dossier.decided_at.map(|t| t.naive_utc()),
            created_at: dossier.created_at.naive_utc(),
            updated_at: dossier.updated_at.naive_utc(),
            version: dossier.version,
        })
    }
}

impl TryFrom<DossierRow> for Dossier {
    type Error = PersistenceError;

    fn try_from(row: DossierRow) -> Result<Self, Self::Error> {
        let id = row.id.as_str();
        let what = |field: &str| format!("dossier {field}");
        let performance_ids: Vec<String> = serde_json::from_str(&row.performance_ids)?;
        let performance_ids = performance_ids
            .iter()
            .map(|p| p.parse::<PerformanceId>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(&what("performance"), id, e))?;
        let budget: StoredBudget = serde_json::from_str(&row.budget)?;
        let budget = budget.parsed("dossier", id)?;
        Ok(Dossier {
            id: row.id.parse().map_err(|e| corrupt(&what("id"), id, e))?,
            reference: DossierReference::parse(&row.reference)
                .ok_or_else(|| corrupt(&what("reference"), id, &row.reference))?,
            call_id: row
                .call_id
                .parse()
                .map_err(|e| corrupt(&what("call"), id, e))?,
            programme_id: row
                .programme_id
                .parse()
                .map_err(|e| corrupt(&what("programme"), id, e))?,
            applicant_id: row
                .applicant_id
                .parse()
                .map_err(|e| corrupt(&what("applicant"), id, e))?,
            status: DossierStatus::parse(&row.status)
                .map_err(|e| corrupt(&what("status"), id, e))?,
            content: DossierContent {
                title: row.title,
                summary: row.summary,
                performance_ids,
                answers: serde_json::from_str(&row.answers)?,
                budget,
            },
            awarded_cents: row.awarded_cents,
            submitted_at: row.submitted_at.map(|t| t.and_utc()),
            decided_at: row.decided_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// How a list shows a dossier: JSON that the API renders from the dossier at every
/// write and keeps in the dossier's row, so that a list copies it out instead of parsing
/// the row and rendering it again (half of a list's CPU, in perf).
///
/// A rendering is current when it is of this `format` and of the row's version. Any
/// other (rows written before the rendering changed, or by an older instance during a
/// rolling deploy) is rendered from the row when read, and again by [`refresh_listings`]
/// at start-up: a list never shows what a dossier no longer holds.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    /// Names the rendering: change it whenever the rendering changes.
    pub format: i32,
    pub render: fn(&Dossier) -> Result<String, serde_json::Error>,
}

impl Listing {
    /// The listing columns of `dossier`'s row.
    fn columns(&self, dossier: &Dossier) -> Result<ListingColumns, PersistenceError> {
        Ok((
            dossiers::listed.eq((self.render)(dossier)?),
            dossiers::listed_format.eq(self.format),
            dossiers::listed_version.eq(dossier.version),
        ))
    }

    /// The stored rendering, if it is current for a row at `version`: of this format, of
    /// that version, and an object (a damaged one is rendered again).
    fn current(&self, stored: Stored) -> Option<String> {
        let (_, version, format, listed_version, listed) = stored;
        let listed = listed?;
        (format == self.format
            && listed_version == version
            && listed.starts_with('{')
            && listed.ends_with('}'))
        .then_some(listed)
    }
}

/// The listing columns' values, as a write sets them.
type ListingColumns = (
    diesel::dsl::Eq<dossiers::listed, String>,
    diesel::dsl::Eq<dossiers::listed_format, i32>,
    diesel::dsl::Eq<dossiers::listed_version, i64>,
);

/// What a list reads of a row: id, version, and the stored rendering with its format and
/// version.
type Stored = (String, i64, i32, i64, Option<String>);

/// A dossier as a list shows it: its id and its rendering ([`Listing`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedDossier {
    pub id: DossierId,
    pub json: String,
}

/// The next reference of `programme` in `year`, inside the caller's write transaction
/// (see the module's documentation).
fn next_reference(
    conn: &mut DbConnection,
    programme: ProgrammeId,
    code: &ProgrammeCode,
    year: i32,
) -> Result<DossierReference, PersistenceError> {
    if !in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "dossier references are taken inside a write transaction".into(),
        ));
    }
    let counter = (
        dossier_counters::programme_id.eq(programme.to_string()),
        dossier_counters::year.eq(year),
        dossier_counters::last_number.eq(1),
    );
    let number: i64 = on_backend!(conn, |c| {
        Prepared(
            diesel::insert_into(dossier_counters::table)
                .values(counter)
                .on_conflict((dossier_counters::programme_id, dossier_counters::year))
                .do_update()
                .set(dossier_counters::last_number.eq(dossier_counters::last_number + 1))
                .returning(dossier_counters::last_number),
        )
        .get_result(c)?
    });
    u32::try_from(number)
        .ok()
        .and_then(|number| DossierReference::new(code.clone(), year, number))
        .ok_or_else(|| PersistenceError::Corrupt(format!("dossier number {number} of {year}")))
}

/// What a new dossier is made of.
#[derive(Debug, Clone)]
pub struct NewDossier {
    /// Its id, chosen by the caller: a creation judges the dossier before it takes a
    /// number (see [`create`]).
    pub id: DossierId,
    pub call_id: CallId,
    pub programme_id: ProgrammeId,
    pub programme_code: ProgrammeCode,
    pub applicant_id: StructureId,
    pub content: DossierContent,
    /// The year its reference counts in (the call's, in Paris).
    pub year: i32,
}

/// Stores a new draft dossier with the next reference of its programme and year,
/// inside the caller's write transaction. On PostgreSQL taking the number locks the
/// counter's row until the commit, and so serializes creations of one programme and
/// year from here on: call it as late in the transaction as possible.
pub fn create(
    conn: &mut DbConnection,
    new: NewDossier,
    listing: &Listing,
) -> Result<Dossier, PersistenceError> {
    let reference = next_reference(conn, new.programme_id, &new.programme_code, new.year)?;
    let now = storable_now();
    let dossier = Dossier {
        id: new.id,
        reference,
        call_id: new.call_id,
        programme_id: new.programme_id,
        applicant_id: new.applicant_id,
        status: DossierStatus::Draft,
        content: new.content,
        awarded_cents: None,
        submitted_at: None,
        decided_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let row = (DossierRow::new(&dossier)?, listing.columns(&dossier)?);
    on_backend!(conn, |c| Prepared(
        diesel::insert_into(dossiers::table)
            .values((&row.0, &row.1))
            .returning(dossiers::version)
    )
    .get_result::<i64>(c)?);
    Ok(dossier)
}

pub fn find(conn: &mut DbConnection, id: DossierId) -> Result<Dossier, PersistenceError> {
    let id = id.to_string();
    let row: DossierRow = on_backend!(conn, |c| dossiers::table
        .find(&id)
        .select(DossierRow::as_select())
        .first(c)?);
    row.try_into()
}

/// Writes `updated` over `current` if the row is still at `current`'s version (the
/// caller has set the new version and times).
pub fn replace(
    conn: &mut DbConnection,
    current: &Dossier,
    updated: &Dossier,
    listing: &Listing,
) -> Result<(), PersistenceError> {
    let id = current.id.to_string();
    let (row, listed) = (DossierRow::new(updated)?, listing.columns(updated)?);
    let changed = on_backend!(&mut *conn, |c| Prepared(
        diesel::update(
            dossiers::table
                .filter(dossiers::id.eq(&id))
                .filter(dossiers::version.eq(current.version)),
        )
        .set((&row, listed))
        .returning(dossiers::version)
    )
    .load::<i64>(c)?
    .len());
    if changed == 0 {
        let version = dossiers::table
            .find(&id)
            .select(dossiers::version)
            .first(conn)
            .optional()?;
        return Err(stale(version));
    }
    Ok(())
}

/// The dossier, its row locked until the end of the caller's write transaction: on
/// PostgreSQL with `SELECT … FOR UPDATE`, so that concurrent writes that read what the
/// dossier holds (its payments) read it one after the other on any number of
/// instances; on SQLite the writing transaction holds the whole file already.
pub fn lock(conn: &mut DbConnection, id: DossierId) -> Result<Dossier, PersistenceError> {
    if !in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "a dossier is locked inside a write transaction".into(),
        ));
    }
    let id = id.to_string();
    let row: DossierRow = match conn {
        DbConnection::Postgres(c) => dossiers::table
            .find(&id)
            .select(DossierRow::as_select())
            .for_update()
            .first(c)?,
        DbConnection::Sqlite(c) => dossiers::table
            .find(&id)
            .select(DossierRow::as_select())
            .first(c)?,
    };
    row.try_into()
}

/// The approved (or in review, or submitted) dossiers that name `performance`: those a
/// cancellation concerns. Their performances are a JSON array of ids, so this is a
/// `LIKE` on the quoted id within the dossiers of those statuses (a UUID never matches
/// another's part).
pub fn naming_performance(
    conn: &mut DbConnection,
    performance: PerformanceId,
) -> Result<Vec<Dossier>, PersistenceError> {
    let pattern = format!("%\"{performance}\"%");
    dossiers::table
        .filter(dossiers::status.eq_any([
            DossierStatus::Submitted.as_str(),
            DossierStatus::InReview.as_str(),
            DossierStatus::Approved.as_str(),
        ]))
        .filter(dossiers::performance_ids.like(pattern))
        .order(dossiers::id.asc())
        .select(DossierRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Dossier::try_from)
        .collect()
}

/// `current` with its content replaced, a version on, as [`replace`] stores it.
pub fn edited(current: &Dossier, content: DossierContent) -> Dossier {
    Dossier {
        content,
        updated_at: storable_now(),
        version: current.version + 1,
        ..current.clone()
    }
}

/// `current` in `status`, a version on; `at` is when.
pub fn moved(current: &Dossier, status: DossierStatus, at: DateTime<Utc>) -> Dossier {
    Dossier {
        status,
        updated_at: at,
        version: current.version + 1,
        ..current.clone()
    }
}

/// Whose dossiers a list holds.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Reader {
    /// None (anonymous callers, reviewers without assignments).
    #[default]
    Nobody,
    /// Those of the structures the account belongs to.
    Member(domain::access::AccountId),
    /// Those of these structures (an API client's).
    Acting(Vec<StructureId>),
    /// Those of the structures a committee reviewer belongs to, and those assigned to
    /// them on which they declared no conflict of interest.
    Reviewer(domain::access::AccountId),
    /// All of them (agency staff).
    Everything,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub reader: Reader,
    pub status: Option<DossierStatus>,
    pub call: Option<CallId>,
    /// Only the dossiers holding an award (approved or closed).
    pub awarded: bool,
    /// Only those decided in `[from, to)`.
    pub decided: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Id of the last dossier of the previous page.
    pub after: Option<DossierId>,
    pub limit: i64,
}

/// One page of the dossiers `query.reader` may see, in creation order, by keyset.
pub fn list(
    conn: &mut DbConnection,
    query: &ListQuery,
) -> Result<page::Page<Dossier>, PersistenceError> {
    let select = dossiers::table
        .select(DossierRow::as_select())
        .into_boxed::<MultiBackend>();
    let Some(select) = filtered(select, query) else {
        return Ok(page::Page {
            items: Vec::new(),
            more: false,
        });
    };
    page::fetch(query.limit, |limit| select.limit(limit).load(conn))?.try_map(Dossier::try_from)
}

/// [`list`]'s page as lists show it: each dossier's stored rendering, or where it is not
/// current ([`Listing`]), one made now from the row.
pub fn listed(
    conn: &mut DbConnection,
    query: &ListQuery,
    listing: &Listing,
) -> Result<page::Page<ListedDossier>, PersistenceError> {
    use dossiers::dsl as d;
    let select = d::dossiers
        .select((
            d::id,
            d::version,
            d::listed_format,
            d::listed_version,
            d::listed,
        ))
        .into_boxed::<MultiBackend>();
    let Some(select) = filtered(select, query) else {
        return Ok(page::Page {
            items: Vec::new(),
            more: false,
        });
    };
    let page = page::fetch(query.limit, |limit| {
        select.limit(limit).load::<Stored>(conn)
    })?;
    let mut stale = Vec::new();
    let mut items = Vec::with_capacity(page.items.len());
    for stored in page.items {
        let id = stored.0.clone();
        let json = listing.current(stored);
        if json.is_none() {
            stale.push(id.clone());
        }
        items.push((id, json));
    }
    let mut rendered = render_rows(conn, &stale, listing)?;
    // A row gone between the two reads (none is deleted today) is left out.
    let items = items
        .into_iter()
        .filter_map(|(id, json)| Some((json.or_else(|| rendered.remove(&id))?, id)))
        .map(|(json, id)| {
            let id = id.parse().map_err(|e| corrupt("dossier id", &id, e))?;
            Ok(ListedDossier { id, json })
        })
        .collect::<Result<_, PersistenceError>>()?;
    Ok(page::Page {
        items,
        more: page.more,
    })
}

/// The dossiers of `ids`, rendered now from their rows, by id.
fn render_rows(
    conn: &mut DbConnection,
    ids: &[String],
    listing: &Listing,
) -> Result<std::collections::HashMap<String, String>, PersistenceError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<DossierRow> = dossiers::table
        .filter(dossiers::id.eq_any(ids))
        .select(DossierRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let id = row.id.clone();
            let dossier = Dossier::try_from(row)?;
            Ok((id, (listing.render)(&dossier)?))
        })
        .collect()
}

/// What [`refresh_listings`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// Renderings stored.
    pub stored: usize,
    /// Rows that do not read as a dossier: left as they are (their reads fail as before).
    pub unreadable: usize,
}

/// Stores the current rendering of every dossier whose stored one is not ([`Listing`]),
/// a batch at a time, each in its own write transaction. A row written meanwhile keeps
/// what its write stored. Run at start-up: the reads of lists then find every rendering
/// current. One damaged row does not stop it (nor the server's start).
pub fn refresh_listings(
    conn: &mut DbConnection,
    listing: &Listing,
) -> Result<Refreshed, PersistenceError> {
    const BATCH: i64 = 500;
    let mut refreshed = Refreshed::default();
    let mut after = String::new();
    loop {
        let rows: Vec<DossierRow> = dossiers::table
            .filter(dossiers::id.gt(&after))
            .filter(
                dossiers::listed_format
                    .ne(listing.format)
                    .or(dossiers::listed_version.ne(dossiers::version))
                    .or(dossiers::listed.is_null())
                    // Not an object: damaged, as `Listing::current` reads it.
                    .or(dossiers::listed.not_like("{%}")),
            )
            .order(dossiers::id.asc())
            .limit(BATCH)
            .select(DossierRow::as_select())
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(refreshed);
        };
        after = last.id.clone();
        write_transaction(conn, |conn| {
            for row in rows {
                let (id, version) = (row.id.clone(), row.version);
                let Ok(dossier) = Dossier::try_from(row) else {
                    refreshed.unreadable += 1;
                    continue;
                };
                refreshed.stored += diesel::update(
                    dossiers::table
                        .filter(dossiers::id.eq(&id))
                        .filter(dossiers::version.eq(version)),
                )
                .set(listing.columns(&dossier)?)
                .execute(conn)?;
            }
            Ok::<_, PersistenceError>(())
        })?;
    }
}

/// `select` narrowed to what `query` asks for; `None` when its reader sees nothing.
fn filtered<'a, ST: 'a>(
    select: dossiers::BoxedQuery<'a, MultiBackend, ST>,
    query: &ListQuery,
) -> Option<dossiers::BoxedQuery<'a, MultiBackend, ST>> {
    use dossiers::dsl as d;
    let mut select = match &query.reader {
        Reader::Nobody => return None,
        Reader::Everything => select,
        Reader::Member(account) => select.filter(
            d::applicant_id.eq_any(
                memberships::table
                    .filter(memberships::account_id.eq(account.to_string()))
                    .select(memberships::structure_id),
            ),
        ),
        Reader::Reviewer(account) => select.filter(
            d::applicant_id
                .eq_any(
                    memberships::table
                        .filter(memberships::account_id.eq(account.to_string()))
                        .select(memberships::structure_id),
                )
                .or(d::id.eq_any(
                    dossier_reviews::table
                        .filter(dossier_reviews::reviewer_id.eq(account.to_string()))
                        .filter(
                            dossier_reviews::status
                                .ne(domain::grants::ReviewStatus::Conflicted.as_str()),
                        )
                        .select(dossier_reviews::dossier_id),
                )),
        ),
        Reader::Acting(structures) => select.filter(
            d::applicant_id.eq_any(
                structures
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            ),
        ),
    };
    if let Some(status) = query.status {
        select = select.filter(d::status.eq(status.as_str()));
    }
    if let Some(call) = query.call {
        select = select.filter(d::call_id.eq(call.to_string()));
    }
    if query.awarded {
        select = select.filter(d::awarded_cents.is_not_null());
    }
    if let Some((from, to)) = query.decided {
        select = select.filter(
            d::decided_at
                .ge(from.naive_utc())
                .and(d::decided_at.lt(to.naive_utc())),
        );
    }
    if let Some(after) = query.after {
        select = select.filter(d::id.gt(after.to_string()));
    }
    Some(select.order(d::id.asc()))
}
