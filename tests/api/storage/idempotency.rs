//! A key and its answer commit with the write they guard, or not at all.

use std::sync::mpsc;

use persistence::audit::{self, NewEvent};
use persistence::idempotency::{self, Earlier, Key, Once, StoredResponse};
use persistence::{DbConnection, PersistenceError, Pool, db};

use crate::helpers::TestDatabase;

fn migrated(database: &TestDatabase) -> Pool {
    let pool = crate::helpers::pool(database.url(), 2);
    db::run_migrations(&mut pool.get().unwrap()).unwrap();
    pool
}

fn key(name: &str) -> Key {
    Key {
        scope: "POST /v1/things account:someone".into(),
        key: name.into(),
        request_hash: "hash".into(),
    }
}

fn answer() -> StoredResponse {
    StoredResponse {
        status: 201,
        headers: vec![("content-type".into(), "application/json".into())],
        body: b"{\"id\":\"1\"}".to_vec(),
    }
}

/// A write of its own: an audit event naming `object`.
fn write(conn: &mut DbConnection, object: &str) -> Result<(), PersistenceError> {
    audit::record(
        conn,
        NewEvent {
            actor_kind: "anonymous",
            actor_id: None,
            action: "thing.create",
            object_type: "thing",
            object_id: object.into(),
            request_id: "r".into(),
            changed_fields: vec![],
        },
    )
}

fn written(conn: &mut DbConnection, object: &str) -> usize {
    let query = audit::EventQuery {
        object_id: Some(object.into()),
        limit: 10,
        ..Default::default()
    };
    audit::list(conn, &query).unwrap().items.len()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// How many keys other transactions see.
fn keys(conn: &mut DbConnection) -> i64 {
    use diesel::RunQueryDsl;
    diesel::sql_query("SELECT COUNT(*) AS n FROM idempotency_keys")
        .get_result::<Count>(conn)
        .unwrap()
        .n
}

#[test]
fn a_write_commits_with_its_key_and_answer() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let mut conn = pool.get().unwrap();

    let done = idempotency::once(&mut conn, Some(&key("k")), |conn| {
        write(conn, "a")?;
        Ok::<_, PersistenceError>(((), answer()))
    })
    .unwrap();
    assert_eq!(done, Once::Done(()));
    assert_eq!(written(&mut conn, "a"), 1);
    assert_eq!(
        idempotency::find(&mut conn, &key("k")).unwrap(),
        Some(Earlier::Replay(answer()))
    );

    // The same key again: the answer, and no second write.
    let again = idempotency::once(&mut conn, Some(&key("k")), |conn| {
        write(conn, "a")?;
        Ok::<_, PersistenceError>(((), answer()))
    })
    .unwrap();
    assert_eq!(again, Once::Earlier(Earlier::Replay(answer())));
    assert_eq!(written(&mut conn, "a"), 1);
    let other = Key {
        request_hash: "other".into(),
        ..key("k")
    };
    assert_eq!(
        idempotency::find(&mut conn, &other).unwrap(),
        Some(Earlier::Mismatch)
    );
}

#[test]
fn a_write_that_fails_leaves_no_key() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let mut conn = pool.get().unwrap();

    let failed = idempotency::once(&mut conn, Some(&key("k")), |conn| {
        write(conn, "a")?;
        Err::<((), StoredResponse), _>(PersistenceError::LastOwner)
    });
    assert!(matches!(failed, Err(PersistenceError::LastOwner)));
    assert_eq!(written(&mut conn, "a"), 0);
    assert_eq!(idempotency::find(&mut conn, &key("k")).unwrap(), None);

    // The key is free: the retry writes.
    let retried = idempotency::once(&mut conn, Some(&key("k")), |conn| {
        write(conn, "a")?;
        Ok::<_, PersistenceError>(((), answer()))
    })
    .unwrap();
    assert_eq!(retried, Once::Done(()));
    assert_eq!(written(&mut conn, "a"), 1);
}

/// A crash between the write and its commit: the connection dies inside the
/// transaction. Meanwhile nobody sees the key; afterwards neither the key nor the write
/// exists, and the retry writes.
#[test]
fn a_crash_before_the_commit_strands_no_key() {
    let database = TestDatabase::new();
    let pool = migrated(&database);
    let (inside, wait_inside) = mpsc::channel();
    let (die, wait_die) = mpsc::channel::<()>();
    let doomed = {
        let url = database.url().to_owned();
        std::thread::spawn(move || {
            // A connection of its own, closed by the "crash" without a commit.
            let dying = crate::helpers::pool(&url, 1);
            let mut conn = dying.get().unwrap();
            let _ = idempotency::once(&mut conn, Some(&key("k")), |conn| {
                write(conn, "a")?;
                inside.send(()).unwrap();
                wait_die.recv().unwrap();
                panic!("killed between the write and the commit");
                #[allow(unreachable_code)]
                Ok::<_, PersistenceError>(((), answer()))
            });
        })
    };
    wait_inside.recv().unwrap();
    {
        // Read only: on SQLite the writer holds the write lock until it dies.
        let mut conn = pool.get().unwrap();
        assert_eq!(keys(&mut conn), 0);
        assert_eq!(written(&mut conn, "a"), 0);
    }
    die.send(()).unwrap();
    assert!(doomed.join().is_err(), "the writer died");

    let mut conn = pool.get().unwrap();
    assert_eq!(keys(&mut conn), 0);
    assert_eq!(idempotency::find(&mut conn, &key("k")).unwrap(), None);
    assert_eq!(written(&mut conn, "a"), 0);
    let retried = idempotency::once(&mut conn, Some(&key("k")), |conn| {
        write(conn, "a")?;
        Ok::<_, PersistenceError>(((), answer()))
    })
    .unwrap();
    assert_eq!(retried, Once::Done(()));
    assert_eq!(written(&mut conn, "a"), 1);
}
