//! The change log's numbering: a follower never skips a change that commits late.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use domain::changes::{ChangeAction, ChangedObject};
use persistence::changes::{self, NewChange, Reader};
use persistence::{DbConnection, Pool, db};
use serde_json::json;

use crate::helpers::TestDatabase;

fn migrated(database: &TestDatabase) -> Pool {
    let pool = crate::helpers::pool(database.url(), 4);
    db::run_migrations(&mut pool.get().unwrap()).unwrap();
    pool
}

fn created(name: &str) -> NewChange {
    NewChange {
        object_type: ChangedObject::Structure,
        object_id: uuid::Uuid::now_v7().to_string(),
        action: ChangeAction::Created,
        version: 1,
        actor_kind: "system",
        actor_id: None,
        object: Some(json!({ "name": name })),
        structures: vec![],
        public: true,
        cause: None,
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Whether a transaction of this database waits for an advisory lock.
fn someone_waits_for_the_numbering(conn: &mut DbConnection) -> bool {
    let Count { n } = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .get_result(conn)
    .unwrap();
    n > 0
}

/// The case a bare sequence fails: transaction A records a change first, B records one
/// after it and commits while A is still open. A follower reading then must not see B's
/// change before A's, or it moves its cursor past A's and never sees it. (SQLite runs
/// one writing transaction at a time: B cannot start before A commits.)
#[test]
fn a_change_committed_late_is_never_overtaken_by_a_later_number() {
    let database = TestDatabase::new();
    if !matches!(database, TestDatabase::Postgres { .. }) {
        return;
    }
    let pool = migrated(&database);

    let (recorded, a_recorded) = mpsc::channel();
    let (release_a, released) = mpsc::channel::<()>();
    let a = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            db::write_transaction(&mut conn, |conn| {
                changes::record(conn, created("A"))?;
                recorded.send(()).unwrap();
                released.recv().unwrap();
                Ok::<_, persistence::PersistenceError>(())
            })
            .unwrap();
        })
    };
    a_recorded.recv().unwrap();
    let (b_done, b_finished) = mpsc::channel();
    let b = {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let mut conn = pool.get().unwrap();
            db::write_transaction(&mut conn, |conn| changes::record(conn, created("B"))).unwrap();
            b_done.send(()).unwrap();
        })
    };

    // B is either done (nothing held it back) or waiting for A to commit.
    let mut observer = pool.get().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if b_finished.try_recv().is_ok() || someone_waits_for_the_numbering(&mut observer) {
            break;
        }
        assert!(Instant::now() < deadline, "B neither finished nor waited");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut reader = pool.get().unwrap();
    let early = changes::list(&mut reader, 0, 10, &Reader::Everything).unwrap();

    release_a.send(()).unwrap();
    a.join().unwrap();
    b.join().unwrap();
    let rest = changes::list(&mut reader, early.next, 10, &Reader::Everything).unwrap();
    let followed: Vec<i64> = early
        .changes
        .iter()
        .chain(&rest.changes)
        .map(|c| c.seq)
        .collect();
    let all = changes::list(&mut reader, 0, 10, &Reader::Everything).unwrap();
    let committed: Vec<i64> = all.changes.iter().map(|c| c.seq).collect();
    assert_eq!(committed.len(), 2);
    assert_eq!(
        followed, committed,
        "read {:?} while A was open, then {:?}",
        early.changes, rest.changes
    );
}

/// A change is recorded with its write or not at all.
#[test]
fn a_change_outside_a_transaction_is_refused_and_a_rolled_back_one_leaves_nothing() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let mut conn = pool.get().unwrap();
    assert!(changes::record(&mut conn, created("alone")).is_err());
    let failed = db::write_transaction(&mut conn, |conn| {
        changes::record(conn, created("rolled back"))?;
        Err::<(), _>(persistence::PersistenceError::NotFound)
    });
    assert!(failed.is_err());
    let feed = changes::list(&mut conn, 0, 10, &Reader::Everything).unwrap();
    assert!(feed.changes.is_empty());
    assert_eq!(feed.next, 0);
    db::write_transaction(&mut conn, |conn| changes::record(conn, created("kept"))).unwrap();
    let feed = changes::list(&mut conn, 0, 10, &Reader::Public).unwrap();
    assert_eq!(feed.changes.len(), 1);
    assert_eq!(feed.next, feed.changes[0].seq);
}

/// A transaction that records its changes together at its end (a sync batch) leaves the
/// same log as one recording them one by one: numbers in order, and each change knowing
/// what the object's earlier versions were, whether recorded before or in the same call.
#[test]
fn changes_recorded_together_know_their_earlier_versions_as_changes_recorded_alone() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let mut conn = pool.get().unwrap();
    let (first, second) = (
        domain::StructureId::generate(),
        domain::StructureId::generate(),
    );
    let mut made = created("X");
    made.structures = vec![first];
    made.public = false;
    let x = made.object_id.clone();
    db::write_transaction(&mut conn, |conn| changes::record(conn, made)).unwrap();
    let change = |object_id: &str, action, version, public| NewChange {
        object_id: object_id.to_owned(),
        action,
        version,
        object: (action != ChangeAction::Deleted).then(|| json!({ "name": "X" })),
        structures: vec![second],
        public,
        ..created("X")
    };
    let y = created("Y");
    let y_id = y.object_id.clone();
    let seqs = db::write_transaction(&mut conn, |conn| {
        changes::record_many(
            conn,
            vec![
                change(&x, ChangeAction::Updated, 2, true),
                NewChange {
                    public: false,
                    structures: vec![second],
                    ..y
                },
                change(&x, ChangeAction::Deleted, 3, false),
            ],
        )
    })
    .unwrap();
    assert_eq!(seqs.len(), 3);
    assert!(
        db::write_transaction(&mut conn, |conn| changes::record_many(conn, vec![]))
            .unwrap()
            .is_empty()
    );

    let all = changes::list(&mut conn, 0, 10, &Reader::Everything).unwrap();
    let numbers: Vec<i64> = all.changes.iter().map(|c| c.seq).collect();
    assert_eq!(numbers[1..], seqs[..]);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    let seen: Vec<(String, ChangeAction, bool, bool)> = all
        .changes
        .iter()
        .map(|c| {
            (
                c.object_id.clone(),
                c.seen.action,
                c.seen.public,
                c.seen.was_public,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (x.clone(), ChangeAction::Created, false, false),
            (x.clone(), ChangeAction::Updated, true, false),
            (y_id.clone(), ChangeAction::Created, false, false),
            (x.clone(), ChangeAction::Deleted, false, true),
        ]
    );
    // X's deletion knows what only the update before it in the same call made it: public
    // once, and concerning the first structure before. A client of the first structure
    // only is told of all of X, not of Y.
    let related = changes::list(&mut conn, 0, 10, &Reader::RelatedTo(vec![first])).unwrap();
    let told: Vec<(String, bool, bool)> = related
        .changes
        .iter()
        .map(|c| {
            (
                c.object_id.clone(),
                c.seen.related_now,
                c.seen.related_before,
            )
        })
        .collect();
    assert_eq!(
        told,
        [
            (x.clone(), true, false),
            (x.clone(), false, true),
            (x.clone(), false, true),
        ]
    );
}

/// A stretch of the log read once tells each reader what the feed tells it: the same
/// changes, seen the same way, for staff, the public and readers of some structures.
#[test]
fn a_stretch_read_once_tells_every_reader_what_the_feed_tells_it() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let mut conn = pool.get().unwrap();
    let (a, b, c) = (
        domain::StructureId::generate(),
        domain::StructureId::generate(),
        domain::StructureId::generate(),
    );
    let object = |made: &NewChange| made.object_id.clone();
    // Public, of a; private, of a and b; one that moves from a to c and turns private;
    // one of b, deleted.
    let mut public = created("public");
    public.structures = vec![a];
    let mut private = created("private");
    private.structures = vec![a, b];
    private.public = false;
    let mut moving = created("moving");
    moving.structures = vec![a];
    let moved = NewChange {
        action: ChangeAction::Updated,
        version: 2,
        structures: vec![c],
        public: false,
        ..created("moved")
    };
    let moved = NewChange {
        object_id: object(&moving),
        ..moved
    };
    let mut gone = created("gone");
    gone.structures = vec![b];
    gone.public = false;
    let deleted = NewChange {
        object_id: object(&gone),
        action: ChangeAction::Deleted,
        version: 2,
        object: None,
        structures: vec![],
        public: false,
        ..created("gone")
    };
    for change in [public, private, moving, moved, gone, deleted] {
        db::write_transaction(&mut conn, |conn| changes::record(conn, change)).unwrap();
    }
    let highest = changes::highest(&mut conn).unwrap();
    let stretch = changes::stretch(&mut conn, 0, highest).unwrap();
    for reader in [
        Reader::Everything,
        Reader::Public,
        Reader::RelatedTo(vec![]),
        Reader::RelatedTo(vec![a]),
        Reader::RelatedTo(vec![b]),
        Reader::RelatedTo(vec![c]),
        Reader::RelatedTo(vec![a, c]),
    ] {
        for after in [0, 2, highest] {
            let feed = changes::list(&mut conn, after, 100, &reader).unwrap();
            assert_eq!(
                stretch.told_to(after, &reader).unwrap(),
                feed.changes,
                "{reader:?} after {after}"
            );
        }
    }
    // What the readers are told differs, or this proves little.
    let told = |reader| stretch.told_to(0, &reader).unwrap().len();
    assert_eq!(told(Reader::Everything), 6);
    assert_eq!(told(Reader::Public), 3);
    assert_eq!(told(Reader::RelatedTo(vec![b])), 6);
}
