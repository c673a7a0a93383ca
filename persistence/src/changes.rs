//! The change log: every create, update and delete that followers of `/v1/changes` (and,
//! later, webhooks) may want, recorded in the transaction of the write itself, like its
//! audit event: nothing for a rolled-back write, nothing committed missed.
//!
//! # Numbering in commit order
//!
//! A follower keeps the number (`seq`) of the last change it read and asks for what
//! follows. That is only safe if no change can ever become visible with a number lower
//! than one already read. A PostgreSQL sequence alone does not give that: transaction A
//! takes 7, transaction B takes 8 and commits, a follower reads 8 and moves on, then A
//! commits 7, which the follower never sees.
//!
//! So numbers are taken in commit order. On PostgreSQL, [`record`] takes a
//! transaction-scoped advisory lock (`pg_advisory_xact_lock`, one constant key for the
//! whole log) right before it takes its number, and the lock is held until the
//! transaction ends: whoever holds number N committed (or rolled back) every lower number
//! before it could take N. Any number of API instances sharing the database share the
//! lock. The lock serializes only the tail of writing transactions (from the change to
//! the commit), which is why the change is recorded as the last statement of a write:
//! what it costs is that commits of writes that record changes no longer overlap (each
//! waits for the previous one's WAL flush). The alternative, letting numbers commit out
//! of order and having readers stop below the oldest running writer
//! (`pg_snapshot_xmin`), keeps writers parallel but needs a transaction id per change and
//! makes every reader wait on the slowest writer; the lock is simpler and its cost is
//! measured by the benchmark.
//!
//! On SQLite writers are serialized already (`BEGIN IMMEDIATE`, see
//! [`crate::db::write_transaction`]): the next number is one more than the largest.
//!
//! Because numbers commit in order, a reader that sees N knows that every lower number
//! is final: [`list`] hands out the highest number it saw as the next cursor even when
//! no change after the cursor is the reader's to see, so a follower does not scan the
//! same invisible changes again.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use domain::StructureId;
use domain::access::AccountId;
use domain::changes::{ChangeAction, ChangeCause, ChangedObject, Seen};

use crate::clock::{StoredTimestamp, storable_now};
use crate::db::{DbConnection, MultiBackend, Prepared, in_transaction, on_backend};
use crate::error::PersistenceError;
use crate::schema::{change_structures, changes, memberships};

/// The advisory lock that orders change numbers on PostgreSQL: a constant no other code
/// uses (the bytes of `oes:chg#`).
const NUMBERING_LOCK: i64 = 0x6f65_733a_6368_6723;

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewChange {
    pub object_type: ChangedObject,
    pub object_id: String,
    pub action: ChangeAction,
    /// The object's version after the change.
    pub version: i64,
    /// `account`, `client`, `anonymous`, or `system` (seeding).
    pub actor_kind: &'static str,
    pub actor_id: Option<String>,
    /// The object after the change, as the API shows it to those who see all of it;
    /// `None` for a deletion.
    pub object: Option<serde_json::Value>,
    /// The structures the object concerns at this version, for telling who may see it
    /// (a performance: its company's and its venue's).
    pub structures: Vec<StructureId>,
    /// Whether everyone may see the object at this version (published, not archived).
    pub public: bool,
    /// Why, when the action alone does not say it.
    pub cause: Option<ChangeCause>,
}

#[derive(Clone, Insertable, Queryable, Selectable)]
#[diesel(table_name = changes)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct ChangeRow {
    seq: i64,
    object_type: String,
    object_id: String,
    action: String,
    version: i64,
    actor_kind: String,
    actor_id: Option<String>,
    #[diesel(deserialize_as = StoredTimestamp)]
    occurred_at: NaiveDateTime,
    snapshot: Option<String>,
    is_public: bool,
    was_public: bool,
    cause: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = change_structures)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
struct LinkRow {
    seq: i64,
    structure_id: String,
    concerned_now: bool,
}

/// What earlier versions of an object were: public at some point, concerning which
/// structures.
#[derive(Default)]
struct Earlier {
    public: bool,
    structures: BTreeSet<String>,
}

/// Records a change inside the caller's write transaction (an error outside one), as
/// its last statement: on PostgreSQL it holds the numbering lock until the commit (see
/// the module's documentation). The caller has written the object's row in this
/// transaction, which orders concurrent writers of one object, so the earlier versions
/// read here are final. Returns the change's number.
pub fn record(conn: &mut DbConnection, change: NewChange) -> Result<i64, PersistenceError> {
    if !in_transaction(conn)? {
        return Err(outside_transaction());
    }
    let earlier = earlier(conn, change.object_type, &change.object_id)?;
    let [seq] = numbers::<1>(conn)?;
    let (row, links) = rows(seq, change, &earlier)?;
    on_backend!(&mut *conn, |c| Prepared(
        diesel::insert_into(changes::table)
            .values(&row)
            .returning(changes::seq)
    )
    .get_result::<i64>(c)?);
    insert_links(conn, &links).map(|()| seq)
}

/// Records the creation of many objects at once (demo and benchmark data), inside the
/// caller's write transaction: [`record_many`] for creations only (anything else is
/// refused).
pub fn record_created(
    conn: &mut DbConnection,
    created: Vec<NewChange>,
) -> Result<(), PersistenceError> {
    if created.iter().any(|c| c.action != ChangeAction::Created) {
        return Err(PersistenceError::Corrupt(
            "record_created takes creations only".into(),
        ));
    }
    record_many(conn, created).map(|_| ())
}

/// Records many changes inside the caller's write transaction, as its last statements,
/// the same as [`record`] for each in order, and returns their numbers: a transaction that
/// writes many objects (a sync batch) collects their changes and records them together
/// at its end, so that it takes the numbering lock once, after all of its writes, and
/// holds it only to the commit (see the module's documentation). Earlier versions are
/// read in a few queries, for the objects that are not creations only (a created object
/// has none), before the lock is taken: the caller wrote every object's row in this
/// transaction, so they are final. Nothing is locked when `changes` is empty.
pub fn record_many(
    conn: &mut DbConnection,
    changes: Vec<NewChange>,
) -> Result<Vec<i64>, PersistenceError> {
    if !in_transaction(conn)? {
        return Err(outside_transaction());
    }
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    let mut earlier = earlier_of_many(conn, &changes)?;
    let seqs = take_numbers(conn, changes.len())?;
    let mut change_rows = Vec::with_capacity(changes.len());
    let mut links = Vec::new();
    for (&seq, change) in seqs.iter().zip(changes) {
        let key = (change.object_type, change.object_id.clone());
        let (row, more) = match earlier.get(&key) {
            Some(before) => rows(seq, change, before)?,
            None => rows_of(seq, change)?,
        };
        // A second change of the same object in this call follows the first.
        earlier.insert(
            key,
            Earlier {
                public: row.is_public || row.was_public,
                structures: more.iter().map(|l| l.structure_id.clone()).collect(),
            },
        );
        change_rows.push(row);
        links.extend(more);
    }
    on_backend!(conn, |c| {
        // 11 and 3 columns: both stay under both backends' bound-parameter limits.
        for chunk in change_rows.chunks(500) {
            diesel::insert_into(changes::table)
                .values(chunk)
                .execute(c)?;
        }
        for chunk in links.chunks(2_000) {
            diesel::insert_into(change_structures::table)
                .values(chunk)
                .execute(c)?;
        }
    });
    Ok(seqs)
}

/// What [`earlier`] tells of each object `changes` update or delete, in three queries per
/// object type and 500 objects.
fn earlier_of_many(
    conn: &mut DbConnection,
    changes: &[NewChange],
) -> Result<HashMap<(ChangedObject, String), Earlier>, PersistenceError> {
    let mut ids: HashMap<ChangedObject, BTreeSet<&str>> = HashMap::new();
    for change in changes.iter().filter(|c| c.action != ChangeAction::Created) {
        ids.entry(change.object_type)
            .or_default()
            .insert(&change.object_id);
    }
    let mut found = HashMap::new();
    for (object_type, ids) in ids {
        let ids: Vec<&str> = ids.into_iter().collect();
        for chunk in ids.chunks(500) {
            let latest: Vec<(String, Option<i64>)> = changes::table
                .filter(changes::object_type.eq(object_type.as_str()))
                .filter(changes::object_id.eq_any(chunk))
                .group_by(changes::object_id)
                .select((changes::object_id, diesel::dsl::max(changes::seq)))
                .load(conn)?;
            let seqs: Vec<i64> = latest.iter().filter_map(|(_, seq)| *seq).collect();
            let rows: Vec<(i64, String, bool, bool)> = changes::table
                .filter(changes::seq.eq_any(&seqs))
                .select((
                    changes::seq,
                    changes::object_id,
                    changes::is_public,
                    changes::was_public,
                ))
                .load(conn)?;
            let links: Vec<(i64, String)> = change_structures::table
                .filter(change_structures::seq.eq_any(&seqs))
                .select((change_structures::seq, change_structures::structure_id))
                .load(conn)?;
            let mut structures: HashMap<i64, BTreeSet<String>> = HashMap::new();
            for (seq, structure_id) in links {
                structures.entry(seq).or_default().insert(structure_id);
            }
            for (seq, object_id, public, was_public) in rows {
                found.insert(
                    (object_type, object_id),
                    Earlier {
                        public: public || was_public,
                        structures: structures.remove(&seq).unwrap_or_default(),
                    },
                );
            }
        }
    }
    Ok(found)
}

fn outside_transaction() -> PersistenceError {
    PersistenceError::Corrupt("a change is recorded inside the transaction of its write".into())
}

fn rows(
    seq: i64,
    change: NewChange,
    earlier: &Earlier,
) -> Result<(ChangeRow, Vec<LinkRow>), PersistenceError> {
    let (mut row, mut links) = rows_of(seq, change)?;
    row.was_public = earlier.public;
    for structure_id in &earlier.structures {
        if !links.iter().any(|l| &l.structure_id == structure_id) {
            links.push(LinkRow {
                seq,
                structure_id: structure_id.clone(),
                concerned_now: false,
            });
        }
    }
    Ok((row, links))
}

/// The rows of a change with no earlier version.
fn rows_of(seq: i64, change: NewChange) -> Result<(ChangeRow, Vec<LinkRow>), PersistenceError> {
    let concerned: BTreeSet<String> = change.structures.iter().map(|s| s.to_string()).collect();
    let links = concerned
        .into_iter()
        .map(|structure_id| LinkRow {
            seq,
            structure_id,
            concerned_now: true,
        })
        .collect();
    let row = ChangeRow {
        seq,
        object_type: change.object_type.as_str().to_owned(),
        object_id: change.object_id,
        action: change.action.as_str().to_owned(),
        version: change.version,
        actor_kind: change.actor_kind.to_owned(),
        actor_id: change.actor_id,
        occurred_at: storable_now().naive_utc(),
        snapshot: change
            .object
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?,
        is_public: change.public && change.action != ChangeAction::Deleted,
        was_public: false,
        cause: change.cause.map(|cause| cause.as_str().to_owned()),
    };
    Ok((row, links))
}

fn insert_links(conn: &mut DbConnection, links: &[LinkRow]) -> Result<(), PersistenceError> {
    for link in links {
        on_backend!(&mut *conn, |c| Prepared(
            diesel::insert_into(change_structures::table)
                .values(link)
                .returning(change_structures::seq)
        )
        .get_result::<i64>(c)?);
    }
    Ok(())
}

/// The latest change of the object (which carries what came before it).
fn earlier(
    conn: &mut DbConnection,
    object_type: ChangedObject,
    object_id: &str,
) -> Result<Earlier, PersistenceError> {
    let latest: Option<(i64, bool, bool)> = changes::table
        .filter(changes::object_type.eq(object_type.as_str()))
        .filter(changes::object_id.eq(object_id))
        .order(changes::seq.desc())
        .select((changes::seq, changes::is_public, changes::was_public))
        .first(conn)
        .optional()?;
    let Some((seq, public, was_public)) = latest else {
        return Ok(Earlier::default());
    };
    let structures = change_structures::table
        .filter(change_structures::seq.eq(seq))
        .select(change_structures::structure_id)
        .load::<String>(conn)?;
    Ok(Earlier {
        public: public || was_public,
        structures: structures.into_iter().collect(),
    })
}

fn numbers<const N: usize>(conn: &mut DbConnection) -> Result<[i64; N], PersistenceError> {
    let taken = take_numbers(conn, N)?;
    taken
        .try_into()
        .map_err(|_| PersistenceError::Corrupt("change numbers: too few".into()))
}

/// The next `count` numbers of the log, in commit order (see the module's
/// documentation): under the numbering lock on PostgreSQL, after the largest on SQLite.
pub fn take_numbers(conn: &mut DbConnection, count: usize) -> Result<Vec<i64>, PersistenceError> {
    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = BigInt)]
        seq: i64,
    }
    let count = i64::try_from(count)
        .map_err(|_| PersistenceError::Corrupt("too many changes at once".into()))?;
    match conn {
        DbConnection::Postgres(c) => {
            // A row back (`load`), so that the statement is kept prepared (see Prepared).
            #[derive(QueryableByName)]
            struct Locked {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                #[allow(dead_code)]
                locked: i32,
            }
            Prepared(
                diesel::sql_query("SELECT 1 AS locked FROM pg_advisory_xact_lock($1)")
                    .bind::<BigInt, _>(NUMBERING_LOCK),
            )
            .load::<Locked>(c)?;
            let numbers: Vec<Number> = Prepared(
                diesel::sql_query(
                    "SELECT nextval('changes_seq') AS seq FROM generate_series(1, $1) ORDER BY 1",
                )
                .bind::<BigInt, _>(count),
            )
            .load(c)?;
            Ok(numbers.into_iter().map(|n| n.seq).collect())
        }
        DbConnection::Sqlite(c) => {
            let largest: Option<i64> = changes::table
                .select(diesel::dsl::max(changes::seq))
                .first(c)?;
            let first = largest.unwrap_or(0) + 1;
            Ok((first..first + count).collect())
        }
    }
}

/// Who reads the log, for telling what they may see of each change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reader {
    /// Sees every change in full (agency staff).
    Everything,
    /// Sees public objects only (anonymous callers).
    Public,
    /// Also sees, in full, objects concerning a structure the account is a member of.
    Member(AccountId),
    /// Also sees, in full, objects concerning one of these structures (an API client).
    RelatedTo(Vec<StructureId>),
}

/// One change as a reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub seq: i64,
    pub object_type: ChangedObject,
    pub object_id: String,
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
    /// The object after the change in full (JSON), `None` for a deletion.
    pub snapshot: Option<String>,
    /// Why, when the action alone does not say it.
    pub cause: Option<ChangeCause>,
    /// What the reader's rule needs to know (the action among it).
    pub seen: Seen,
}

/// One page of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub changes: Vec<Change>,
    /// Where the next page starts: after the last change of this page when another
    /// page follows, else after the highest number committed when the page was read.
    pub next: i64,
    /// Whether changes after this page were left out by the limit.
    pub more: bool,
}

/// The changes after number `after` that `reader` may be told of (see
/// [`domain::changes::disclose`]), oldest first, at most `limit`.
pub fn list(
    conn: &mut DbConnection,
    after: i64,
    limit: i64,
    reader: &Reader,
) -> Result<Feed, PersistenceError> {
    // Read first: every number up to it is final (see the module's documentation).
    let highest = highest(conn)?;
    read(conn, after, highest, limit, reader)
}

/// The highest number committed: every number up to it is final.
pub fn highest(conn: &mut DbConnection) -> Result<i64, PersistenceError> {
    let highest: Option<i64> = changes::table
        .select(diesel::dsl::max(changes::seq))
        .first(conn)?;
    Ok(highest.unwrap_or(0))
}

/// A stretch of the log read once, to be told to many readers as [`list`] tells
/// each: for the webhooks' dispatcher, which follows the same stretch for every
/// subscription (two queries in all, instead of two per subscription).
pub struct Stretch {
    rows: Vec<ChangeRow>,
    /// By change number: the structures it concerns, and whether this version does.
    links: HashMap<i64, Vec<(String, bool)>>,
}

/// The changes after `after` up to `upto` (a number [`highest`] gave, or below it),
/// with the structures each concerns.
pub fn stretch(
    conn: &mut DbConnection,
    after: i64,
    upto: i64,
) -> Result<Stretch, PersistenceError> {
    let rows: Vec<ChangeRow> = changes::table
        .filter(changes::seq.gt(after))
        .filter(changes::seq.le(upto))
        .select(ChangeRow::as_select())
        .order(changes::seq.asc())
        .load(conn)?;
    let mut links: HashMap<i64, Vec<(String, bool)>> = HashMap::new();
    // The numbers are bound one by one: a few hundred at a time stay far below either
    // backend's limit.
    for chunk in rows.chunks(500) {
        let seqs: Vec<i64> = chunk.iter().map(|r| r.seq).collect();
        let found: Vec<(i64, String, bool)> = change_structures::table
            .filter(change_structures::seq.eq_any(seqs))
            .select((
                change_structures::seq,
                change_structures::structure_id,
                change_structures::concerned_now,
            ))
            .load(conn)?;
        for (seq, structure, concerned_now) in found {
            links
                .entry(seq)
                .or_default()
                .push((structure, concerned_now));
        }
    }
    Ok(Stretch { rows, links })
}

impl Stretch {
    /// The changes after `after` that `reader` may be told of, oldest first, as [`list`]
    /// would read them. A member is judged by its memberships, which are in the
    /// database: read for it with [`list`].
    pub fn told_to(&self, after: i64, reader: &Reader) -> Result<Vec<Change>, PersistenceError> {
        let structures: Option<BTreeSet<String>> = match reader {
            Reader::Everything | Reader::Public => None,
            Reader::RelatedTo(structures) => {
                Some(structures.iter().map(ToString::to_string).collect())
            }
            Reader::Member(_) => {
                return Err(PersistenceError::Corrupt(
                    "a member's changes are read with changes::list".into(),
                ));
            }
        };
        let mut told = Vec::new();
        for row in self.rows.iter().filter(|row| row.seq > after) {
            let (related_now, related_before) = match (reader, &structures) {
                (Reader::Everything, _) => (true, true),
                (_, Some(structures)) => self
                    .links
                    .get(&row.seq)
                    .into_iter()
                    .flatten()
                    .filter(|(structure, _)| structures.contains(structure))
                    .fold((false, false), |(now, before), (_, concerned_now)| {
                        (now || *concerned_now, before || !*concerned_now)
                    }),
                _ => (false, false),
            };
            let concerns_reader = related_now || related_before;
            if row.is_public || row.was_public || concerns_reader {
                told.push(change(row.clone(), related_now, related_before)?);
            }
        }
        Ok(told)
    }
}

/// The object's snapshot at its latest change before number `before`, if any.
pub fn previous_snapshot(
    conn: &mut DbConnection,
    object_type: ChangedObject,
    object_id: &str,
    before: i64,
) -> Result<Option<String>, PersistenceError> {
    let snapshot: Option<Option<String>> = changes::table
        .filter(changes::object_type.eq(object_type.as_str()))
        .filter(changes::object_id.eq(object_id))
        .filter(changes::seq.lt(before))
        .order(changes::seq.desc())
        .select(changes::snapshot)
        .first(conn)
        .optional()?;
    Ok(snapshot.flatten())
}

fn read(
    conn: &mut DbConnection,
    after: i64,
    highest: i64,
    limit: i64,
    reader: &Reader,
) -> Result<Feed, PersistenceError> {
    let mut select = changes::table
        .filter(changes::seq.gt(after))
        .filter(changes::seq.le(highest))
        .select(ChangeRow::as_select())
        .order(changes::seq.asc())
        .limit(limit + 1)
        .into_boxed::<MultiBackend>();
    let seen_by_all = changes::is_public.or(changes::was_public);
    match reader {
        Reader::Everything => {}
        Reader::Public => select = select.filter(seen_by_all),
        Reader::Member(account) => {
            select = select.filter(
                seen_by_all.or(diesel::dsl::exists(
                    change_structures::table
                        .inner_join(
                            memberships::table
                                .on(memberships::structure_id.eq(change_structures::structure_id)),
                        )
                        .filter(change_structures::seq.eq(changes::seq))
                        .filter(memberships::account_id.eq(account.to_string())),
                )),
            )
        }
        Reader::RelatedTo(structures) => {
            let ids: Vec<String> = structures.iter().map(ToString::to_string).collect();
            select = select.filter(
                seen_by_all.or(diesel::dsl::exists(
                    change_structures::table
                        .filter(change_structures::seq.eq(changes::seq))
                        .filter(change_structures::structure_id.eq_any(ids)),
                )),
            )
        }
    }
    let mut rows: Vec<ChangeRow> = select.load(conn)?;
    let keep = usize::try_from(limit).unwrap_or(0);
    let more = rows.len() > keep;
    rows.truncate(keep);
    let related = related(conn, reader, &rows)?;
    let next = match rows.last() {
        Some(last) if more => last.seq,
        _ => highest.max(after),
    };
    let changes = rows
        .into_iter()
        .map(|row| {
            let (related_now, related_before) = related(row.seq);
            change(row, related_now, related_before)
        })
        .collect::<Result<_, _>>()?;
    Ok(Feed {
        changes,
        next,
        more,
    })
}

/// For each change of the page: whether the reader is related to a structure its
/// version concerns, and to one an earlier version concerned.
fn related(
    conn: &mut DbConnection,
    reader: &Reader,
    rows: &[ChangeRow],
) -> Result<impl Fn(i64) -> (bool, bool) + use<>, PersistenceError> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    let links: Vec<(i64, bool)> = match reader {
        Reader::Everything | Reader::Public => Vec::new(),
        Reader::Member(account) => change_structures::table
            .inner_join(
                memberships::table
                    .on(memberships::structure_id.eq(change_structures::structure_id)),
            )
            .filter(change_structures::seq.eq_any(seqs))
            .filter(memberships::account_id.eq(account.to_string()))
            .select((change_structures::seq, change_structures::concerned_now))
            .load(conn)?,
        Reader::RelatedTo(structures) => change_structures::table
            .filter(change_structures::seq.eq_any(seqs))
            .filter(
                change_structures::structure_id.eq_any(
                    structures
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>(),
                ),
            )
            .select((change_structures::seq, change_structures::concerned_now))
            .load(conn)?,
    };
    let mut by_seq: HashMap<i64, (bool, bool)> = HashMap::new();
    for (seq, concerned_now) in links {
        let entry = by_seq.entry(seq).or_default();
        if concerned_now {
            entry.0 = true;
        }
        // Only structures that earlier versions alone concerned are stored as not
        // concerned now; they are the ones that matter when the reader is not related
        // to this version (see `disclose`).
        entry.1 |= !concerned_now;
    }
    let everything = *reader == Reader::Everything;
    Ok(move |seq: i64| {
        if everything {
            (true, true)
        } else {
            by_seq.get(&seq).copied().unwrap_or_default()
        }
    })
}

fn change(
    row: ChangeRow,
    related_now: bool,
    related_before: bool,
) -> Result<Change, PersistenceError> {
    let seq = row.seq;
    let corrupt = |what: &str, e: domain::FieldProblem| {
        PersistenceError::Corrupt(format!("change {seq}: {what}: {e}"))
    };
    let action = ChangeAction::parse(&row.action).map_err(|e| corrupt("action", e))?;
    let object_type =
        ChangedObject::parse(&row.object_type).map_err(|e| corrupt("object type", e))?;
    let cause = row
        .cause
        .as_deref()
        .map(ChangeCause::parse)
        .transpose()
        .map_err(|e| corrupt("cause", e))?;
    Ok(Change {
        seq: row.seq,
        object_type,
        object_id: row.object_id,
        version: row.version,
        occurred_at: row.occurred_at.and_utc(),
        snapshot: row.snapshot,
        cause,
        seen: Seen {
            action,
            public: row.is_public,
            was_public: row.was_public,
            related_now,
            related_before,
        },
    })
}
