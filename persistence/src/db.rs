//! Connections, pool, transactions and migrations for both backends.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::PersistenceError;

/// One connection type over both backends: the same queries run on either.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// Runs the same statements on the concrete connection of either backend: for the few
/// the multi-backend enum cannot express (batch inserts, migrations harness).
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}
pub(crate) use on_backend;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// A statement that each connection prepares once and keeps, known by its SQL text.
///
/// diesel keeps no UPDATE and no upsert prepared, nor on PostgreSQL an INSERT of a
/// struct with optional columns (their text can vary with the values: a column left
/// out, `DEFAULT` for a `None`), so each execution of one is parsed and planned again:
/// a dossier's creation on PostgreSQL parsed seven of its statements every time. Keyed
/// by its SQL text and the types of its binds (diesel's cache key for a query without a
/// static id), a statement whose text varies is kept once per text, and never
/// mistaken for another.
///
/// Only statements that return rows are kept (`load`, `get_result`: an INSERT or UPDATE
/// with a `RETURNING`): diesel's `execute` walks the statement through a reference,
/// whose implementation asks each part of it again, so it would be prepared anew.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q> diesel::query_builder::QueryId for Prepared<Q> {
    type QueryId = ();
    // Not known by type: by its text (see above).
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: diesel::query_builder::Query> diesel::query_builder::Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, DB> diesel::query_builder::QueryFragment<DB> for Prepared<Q>
where
    DB: diesel::backend::Backend,
    Q: diesel::query_builder::QueryFragment<DB>,
{
    fn walk_ast<'b>(
        &'b self,
        pass: diesel::query_builder::AstPass<'_, 'b, DB>,
    ) -> diesel::QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> diesel::QueryResult<bool> {
        Ok(true)
    }
}

impl<Q, Conn> diesel::RunQueryDsl<Conn> for Prepared<Q> {}

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// How long a SQLite connection waits for a lock before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 5_000;

/// How much of a SQLite file each connection maps into memory for reading (address
/// space, shared by the connections through the kernel's page cache, not memory each).
const SQLITE_MMAP_BYTES: u64 = 1 << 30;

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` are PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// bare path are SQLite. Anything else with a scheme is refused rather than taken
    /// for a file name.
    pub fn of(url: &str) -> Result<Self, PersistenceError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite:") || !url.contains("://") {
            Ok(Self::Sqlite)
        } else {
            Err(PersistenceError::Unavailable(format!(
                "unsupported database URL scheme in {}",
                redact(url)
            )))
        }
    }
}

/// The URL without its password, for logs and errors.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// An r2d2 manager that picks the backend from the URL scheme and sets SQLite's
/// pragmas on every connection it opens.
#[derive(Debug)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
}

impl ConnectionManager {
    pub fn new(url: &str) -> Result<Self, PersistenceError> {
        Ok(Self {
            url: url.to_owned(),
            backend: Backend::of(url)?,
        })
    }
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<DbConnection, Self::Error> {
        match self.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url)
                .map(DbConnection::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // busy_timeout first: with journal_mode first, connections opened together
                // race for the lock that switching to WAL takes. Reads go through a
                // memory map of the file: a page read from the page cache through
                // read(2) cost each read of a dossier an eighth of its time.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS};
                     PRAGMA journal_mode = WAL;
                     PRAGMA foreign_keys = ON;
                     PRAGMA synchronous = NORMAL;
                     PRAGMA mmap_size = {SQLITE_MMAP_BYTES};"
                ))
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), Self::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConnection) -> bool {
        false
    }
}

/// Opens a pool; for SQLite, creates the file's folder first. A caller that waits
/// `connection_timeout` for a connection gets `Unavailable`.
pub fn connect(
    url: &str,
    max_size: u32,
    connection_timeout: Duration,
) -> Result<Pool, PersistenceError> {
    let manager = ConnectionManager::new(url)?;
    if manager.backend == Backend::Sqlite
        && let Some(folder) = Path::new(sqlite_path(url)).parent()
        && !folder.as_os_str().is_empty()
    {
        std::fs::create_dir_all(folder).map_err(|e| {
            PersistenceError::Unavailable(format!("cannot create {}: {e}", folder.display()))
        })?;
    }
    r2d2::Pool::builder()
        .max_size(max_size)
        .min_idle(Some(1))
        .connection_timeout(connection_timeout)
        .test_on_check_out(false)
        .build(manager)
        .map_err(PersistenceError::from)
}

pub fn backend(conn: &DbConnection) -> Backend {
    match conn {
        DbConnection::Postgres(_) => Backend::Postgres,
        DbConnection::Sqlite(_) => Backend::Sqlite,
    }
}

/// SQLite lets one transaction write to a file at a time. Writers of this process queue
/// on a lock per file rather than in SQLite's busy handler, which sleeps in growing
/// steps (up to 100 ms) and so wakes a waiter long after the file is free: under 64
/// concurrent writers that put the 99th percentile of a POST at 650 ms. Writers in other
/// processes (the CLI) still meet the busy timeout.
fn sqlite_writer_lock(
    conn: &mut diesel::SqliteConnection,
) -> Result<Arc<Mutex<()>>, PersistenceError> {
    static WRITERS: LazyLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> =
        LazyLock::new(Default::default);
    // SQLite's table-valued pragma, read through a typed query so that diesel keeps the
    // statement prepared: as SQL text it was prepared at every write, 2 % of a POST.
    diesel::table! {
        pragma_database_list (name) {
            name -> Text,
            file -> Text,
        }
    }
    let file: String = pragma_database_list::table
        .filter(pragma_database_list::name.eq("main"))
        .select(pragma_database_list::file)
        .first(conn)?;
    let mut writers = WRITERS.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(Arc::clone(writers.entry(file).or_default()))
}

/// Runs `work` in a transaction that writes. On SQLite it starts with `BEGIN IMMEDIATE`,
/// so that a read-then-write cannot fail with "database is locked" under concurrent
/// writers; PostgreSQL uses a normal transaction. `work` may fail with any error that
/// a `PersistenceError` converts into (the API's own, for a check made inside the
/// transaction); any failure rolls the whole transaction back.
///
/// Inside a transaction already, `work` simply runs in it: no savepoint, because a
/// failure anywhere aborts the whole write (every caller passes errors up, none goes on
/// writing after one), and savepoints cost SQLite a statement journal for every page a
/// nested write touches (a fifth of a POST's CPU).
pub fn write_transaction<T, E: From<PersistenceError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    let depth = on_backend!(&mut *conn, |c| {
        AnsiTransactionManager::transaction_manager_status_mut(c)
            .transaction_depth()
            .map_err(PersistenceError::from)?
    });
    if depth.is_some() {
        return work(conn);
    }
    if let DbConnection::Postgres(_) = conn {
        return conn
            .transaction(|conn| work(conn).map_err(Failed::Work))
            .map_err(Failed::into_error);
    }
    let DbConnection::Sqlite(c) = conn else {
        unreachable!("only SQLite reaches here");
    };
    let writer = sqlite_writer_lock(c)?;
    let _queued = writer.lock().unwrap_or_else(PoisonError::into_inner);
    // Through diesel's transaction manager, so that nested transactions (diesel's SQLite
    // batch inserts open one) become savepoints.
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")
        .map_err(PersistenceError::from)?;
    let result = work(conn);
    end_sqlite_transaction(conn, result)
}

/// Commits the SQLite transaction `work` ran in when it succeeded, else rolls it back.
fn end_sqlite_transaction<T, E: From<PersistenceError>>(
    conn: &mut DbConnection,
    result: Result<T, E>,
) -> Result<T, E> {
    let DbConnection::Sqlite(c) = conn else {
        return result;
    };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(c) {
            Ok(()) => Ok(value),
            Err(error) => {
                let _ = AnsiTransactionManager::rollback_transaction(c);
                Err(PersistenceError::from(error).into())
            }
        },
        Err(error) => {
            // The rollback's own failure would hide the error that matters.
            let _ = AnsiTransactionManager::rollback_transaction(c);
            Err(error)
        }
    }
}

/// Runs `work`, which only reads, on one snapshot of the database. On SQLite, in one
/// deferred transaction: a statement outside a transaction begins and ends a read
/// transaction of its own, each taking and releasing the WAL's shared-memory locks
/// (system calls): a fifth of a dossier read's time (seven statements) in a profile.
/// On PostgreSQL `work` runs as it is: a transaction there costs two more round trips,
/// and each statement reads a snapshot of its own, as outside this function.
pub fn read_snapshot<T, E: From<PersistenceError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    if matches!(conn, DbConnection::Postgres(_)) || in_transaction(conn)? {
        return work(conn);
    }
    let DbConnection::Sqlite(c) = conn else {
        unreachable!("only SQLite reaches here");
    };
    AnsiTransactionManager::begin_transaction_sql(c, "BEGIN DEFERRED")
        .map_err(PersistenceError::from)?;
    let result = work(conn);
    end_sqlite_transaction(conn, result)
}

/// Runs `work` in a savepoint of the caller's write transaction (an error outside one):
/// if it fails, what it wrote is undone and the transaction goes on, as it must on
/// PostgreSQL, where a failed statement leaves the transaction unusable until then. For
/// a transaction that does many independent pieces of work and answers each on its own
/// (a sync batch's items); [`write_transaction`] never makes savepoints.
pub fn savepoint<T, E: From<PersistenceError>>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T, E>,
) -> Result<T, E> {
    if !in_transaction(conn)? {
        return Err(
            PersistenceError::Corrupt("a savepoint is made inside a transaction".into()).into(),
        );
    }
    // diesel's transaction inside a transaction is `SAVEPOINT`, then `RELEASE SAVEPOINT`
    // or `ROLLBACK TO SAVEPOINT`.
    conn.transaction(|conn| work(conn).map_err(Failed::Work))
        .map_err(Failed::into_error)
}

/// Whether `conn` is inside a transaction (for work that must join its caller's).
pub fn in_transaction(conn: &mut DbConnection) -> Result<bool, PersistenceError> {
    let depth = on_backend!(conn, |c| {
        AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth()
    })?;
    Ok(depth.is_some())
}

/// The tables whose rows are read, merged with a patch and written back under their
/// `version` (a `PATCH` without `If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioned {
    Structures,
    Productions,
    Tours,
    Performances,
    Programmes,
    Calls,
    Dossiers,
    Webhooks,
}

impl Versioned {
    fn table(self) -> &'static str {
        match self {
            Self::Structures => "structures",
            Self::Productions => "productions",
            Self::Tours => "tours",
            Self::Performances => "performances",
            Self::Programmes => "programmes",
            Self::Calls => "calls",
            Self::Dossiers => "dossiers",
            Self::Webhooks => "webhooks",
        }
    }
}

/// Locks the row `id` of `table` until the end of the caller's write transaction, so
/// that what is read next is the last committed version and stays so until the write:
/// a read-merge-write that lost a race once cannot lose it again. On PostgreSQL
/// `SELECT … FOR UPDATE` (read committed: the statements after it see what committed
/// before the lock was granted); on SQLite the writing transaction holds the whole file
/// already. A row that does not exist locks nothing: the read that follows says so.
pub fn lock_row(
    conn: &mut DbConnection,
    table: Versioned,
    id: &str,
) -> Result<(), PersistenceError> {
    if !in_transaction(conn)? {
        return Err(PersistenceError::Corrupt(
            "a row is locked inside a write transaction".into(),
        ));
    }
    if let DbConnection::Postgres(c) = conn {
        diesel::sql_query(format!(
            "SELECT 1 FROM {} WHERE id = $1 FOR UPDATE",
            table.table()
        ))
        .bind::<diesel::sql_types::Text, _>(id)
        .execute(c)?;
    }
    Ok(())
}

/// Why a transaction failed: its work, or diesel beginning or ending it.
enum Failed<E> {
    Work(E),
    Diesel(diesel::result::Error),
}

impl<E> From<diesel::result::Error> for Failed<E> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Diesel(error)
    }
}

impl<E: From<PersistenceError>> Failed<E> {
    fn into_error(self) -> E {
        match self {
            Self::Work(error) => error,
            Self::Diesel(error) => PersistenceError::from(error).into(),
        }
    }
}

fn migrations(conn: &DbConnection) -> EmbeddedMigrations {
    match conn {
        DbConnection::Postgres(_) => POSTGRES_MIGRATIONS,
        DbConnection::Sqlite(_) => SQLITE_MIGRATIONS,
    }
}

/// Applies every pending migration; returns the versions applied.
pub fn run_migrations(conn: &mut DbConnection) -> Result<Vec<String>, PersistenceError> {
    let source = migrations(conn);
    let applied = on_backend!(conn, |c| c.run_pending_migrations(source))
        .map_err(PersistenceError::Migration)?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// True when every embedded migration has been applied.
pub fn migrations_current(conn: &mut DbConnection) -> Result<bool, PersistenceError> {
    let source = migrations(conn);
    let pending = on_backend!(conn, |c| c.has_pending_migration(source))
        .map_err(PersistenceError::Migration)?;
    Ok(!pending)
}

/// Reverts every applied migration, newest first (used by the migration tests).
pub fn revert_all_migrations(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    let source = migrations(conn);
    on_backend!(conn, |c| c.revert_all_migrations(source).map(|_| ()))
        .map_err(PersistenceError::Migration)
}

/// Refreshes the planner's statistics, after a bulk load: without them PostgreSQL
/// may prefer a sequential scan to the keyset indexes.
pub fn analyze(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    conn.batch_execute("ANALYZE")
        .map_err(PersistenceError::from)
}

/// Prepares a connection for a bulk load by a command-line tool (the seed), not the
/// server. On SQLite: a page cache large enough to keep the indexes being filled in
/// memory (with the default 2 MB, each batch read its index pages back from the file),
/// and no sync to disk until the end, as what is loaded can be loaded again if the
/// machine fails meanwhile (a crash of the process alone cannot corrupt the file).
pub fn prepare_bulk_load(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    match conn {
        DbConnection::Sqlite(c) => c
            .batch_execute("PRAGMA cache_size = -262144; PRAGMA synchronous = OFF;")
            .map_err(PersistenceError::from),
        DbConnection::Postgres(_) => Ok(()),
    }
}

/// A cheap round trip, for readiness checks.
pub fn ping(conn: &mut DbConnection) -> Result<(), PersistenceError> {
    conn.batch_execute("SELECT 1")
        .map_err(PersistenceError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_comes_from_the_scheme() {
        assert_eq!(Backend::of("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert_eq!(Backend::of("postgresql:///db").unwrap(), Backend::Postgres);
        assert_eq!(
            Backend::of("sqlite://data/oes.db").unwrap(),
            Backend::Sqlite
        );
        assert_eq!(Backend::of("data/oes.db").unwrap(), Backend::Sqlite);
        // Another scheme is refused, not taken for a file name, and the error keeps
        // the password out.
        match Backend::of("mysql://u:hunter2@h/db") {
            Err(PersistenceError::Unavailable(message)) => {
                assert!(
                    message.contains("unsupported database URL scheme"),
                    "{message}"
                );
                assert!(!message.contains("hunter2"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    /// `.cargo/config.toml` sets how the bundled SQLite is compiled; without it, cached
    /// statements are re-prepared on every execution and every allocation takes a
    /// process-wide mutex.
    #[test]
    fn sqlite_is_compiled_with_stable_plans_and_without_memory_statistics() {
        #[derive(QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    /// A read on SQLite runs in one transaction (one snapshot) and leaves none open on
    /// the connection, whether it succeeds or fails: a pooled connection left inside a
    /// transaction would pin an old snapshot for every later request.
    #[test]
    fn a_read_snapshot_is_one_transaction_ended_either_way() {
        let file = std::env::temp_dir().join(format!("oes-snapshot-{}.db", std::process::id()));
        let url = format!("sqlite://{}", file.display());
        let mut conn =
            r2d2::ManageConnection::connect(&ConnectionManager::new(&url).unwrap()).unwrap();
        let inside = read_snapshot(&mut conn, in_transaction).unwrap();
        assert!(inside);
        assert!(!in_transaction(&mut conn).unwrap());
        let failed: Result<(), PersistenceError> = read_snapshot(&mut conn, |conn| {
            conn.batch_execute("SELECT * FROM no_such_table")?;
            Ok(())
        });
        assert!(failed.is_err());
        assert!(!in_transaction(&mut conn).unwrap());
        // Inside a transaction already, it runs in that one.
        write_transaction(&mut conn, |conn| read_snapshot(conn, in_transaction)).unwrap();
        assert!(!in_transaction(&mut conn).unwrap());
        drop(conn);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }

    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(
            redact("postgres://oes:secret@db:5432/oes"),
            "postgres://oes:***@db:5432/oes"
        );
        assert_eq!(redact("sqlite://data/oes.db"), "sqlite://data/oes.db");
    }

    #[test]
    fn both_migration_trees_hold_the_same_migrations() {
        let names = |folder: &str| {
            let mut names: Vec<String> = std::fs::read_dir(
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("migrations")
                    .join(folder),
            )
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
            names.sort();
            names
        };
        assert_eq!(names("sqlite"), names("postgres"));
        assert!(!names("sqlite").is_empty());
    }

    diesel::table! {
        prepared_probe (id) {
            id -> Integer,
            note -> Nullable<Text>,
        }
    }

    #[derive(Insertable)]
    #[diesel(table_name = prepared_probe)]
    struct ProbeRow {
        id: i32,
        note: Option<String>,
    }

    /// A write wrapped in [`Prepared`] is prepared once per connection and kept; an
    /// UPDATE through diesel alone is prepared again at every execution (as is, on
    /// PostgreSQL, an INSERT of an optional column). On SQLite, and on PostgreSQL when
    /// `OES_TEST_DATABASE_URL` names one (in a temporary table, in a transaction that
    /// is rolled back).
    #[test]
    fn a_prepared_write_is_kept_and_a_plain_one_is_not() {
        use diesel::connection::{Instrumentation, InstrumentationEvent};
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Kept(Arc<Mutex<Vec<String>>>);
        impl Instrumentation for Kept {
            fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
                if let InstrumentationEvent::CacheQuery { sql, .. } = event {
                    self.0.lock().unwrap().push(sql.to_owned());
                }
            }
        }

        let url = std::env::var("OES_TEST_DATABASE_URL").unwrap_or_else(|_| ":memory:".into());
        let mut conn = match Backend::of(&url).unwrap() {
            Backend::Postgres => {
                DbConnection::Postgres(diesel::PgConnection::establish(&url).unwrap())
            }
            Backend::Sqlite => {
                DbConnection::Sqlite(diesel::SqliteConnection::establish(&url).unwrap())
            }
        };
        let kept = Kept::default();
        on_backend!(&mut conn, |c| c.set_instrumentation(kept.clone()));
        on_backend!(&mut conn, |c| c
            .test_transaction::<_, diesel::result::Error, _>(|c| {
                diesel::sql_query(
                    "CREATE TEMPORARY TABLE prepared_probe (id INTEGER PRIMARY KEY, note TEXT)",
                )
                .execute(c)?;
                for id in 1..=3 {
                    Prepared(
                        diesel::insert_into(prepared_probe::table)
                            .values(ProbeRow { id, note: None })
                            .returning(prepared_probe::id),
                    )
                    .get_result::<i32>(c)?;
                    Prepared(
                        diesel::update(prepared_probe::table.find(id))
                            .set(prepared_probe::note.eq("kept"))
                            .returning(prepared_probe::id),
                    )
                    .get_result::<i32>(c)?;
                    diesel::update(prepared_probe::table.find(id))
                        .set(prepared_probe::note.eq("prepared again"))
                        .execute(c)?;
                }
                Ok(())
            }));
        let kept = kept.0.lock().unwrap().clone();
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(kept[0].starts_with("INSERT"), "{kept:?}");
        assert!(kept[1].starts_with("UPDATE"), "{kept:?}");
        assert!(kept.iter().all(|sql| sql.contains("RETURNING")), "{kept:?}");
    }
}
