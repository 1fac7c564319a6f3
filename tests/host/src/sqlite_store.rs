//! SQLite data: the databases that all components and instances of an
//! application share, and the connections guests open to them.
//!
//! Like Spin's in-process SQLite (`crates/sqlite-inproc` of
//! spinframework/spin), every guest `open` gets its own SQLite connection,
//! opened on first use, with rusqlite's default busy timeout (5 s), the
//! default rollback journal, and an authorizer that refuses to `ATTACH` a file
//! (a temporary `""` or `":memory:"` database may still be attached). So
//! `changes` and `last-insert-rowid` are per connection, and concurrent
//! statements from many instances are serialised by SQLite's own locking: a
//! single statement (an `INSERT … ON CONFLICT DO UPDATE … RETURNING`, say) is
//! atomic, and a writer waits up to 5 s for another's lock before failing with
//! `database is locked`.
//!
//! Where the data lives follows [`KvBackend`]:
//! - [`KvBackend::Dir`]`(dir)`: the file `<dir>/sqlite_db.db` for `default`
//!   (Spin's file name for the default database under `.spin/`), and
//!   `<dir>/sqlite_db.<label>.db` for a label added with
//!   [`crate::HostBuilder::sqlite_database_label`]. A new `Host` over the same
//!   directory sees the data, as after a Spin restart.
//! - [`KvBackend::InMemory`]: one in-memory database per label, shared by
//!   every connection of the `Host` (SQLite's `memdb` VFS, which locks like a
//!   file) and dropped with it. Spin itself only uses memory when it has no
//!   state directory, and then gives every connection its own empty database;
//!   sharing is what a test of an application needs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use anyhow::Context as _;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};

use crate::bindings::sqlite::Error;
use crate::kv_store::KvBackend;
use crate::sqlite_exec::value_to_json;

/// Spin's file name for the `default` database in its state directory.
pub const DEFAULT_SQLITE_DB_FILENAME: &str = "sqlite_db.db";

/// A SQLite connection shared by the host tasks working for one guest
/// connection.
pub(crate) type SharedConnection = Arc<Mutex<rusqlite::Connection>>;

/// Locks a connection, ignoring poisoning (a statement that panicked leaves
/// the connection usable, as SQLite itself does).
pub(crate) fn lock(conn: &Mutex<rusqlite::Connection>) -> MutexGuard<'_, rusqlite::Connection> {
    conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where one database lives.
#[derive(Debug)]
enum Location {
    /// A file; its directory is created when a guest opens the database.
    File(PathBuf),
    /// A `memdb` database named by `uri`; `anchor` keeps it alive (SQLite
    /// frees it when its last connection closes) and serves
    /// [`SqliteDatabase::run_script`].
    Memory {
        uri: String,
        anchor: Mutex<rusqlite::Connection>,
    },
}

/// One database (one label).
#[derive(Debug)]
pub(crate) struct SqliteDatabase {
    location: Location,
    /// Statements guests have run on it, for benchmarks.
    statements: std::sync::atomic::AtomicUsize,
}

impl SqliteDatabase {
    /// Sets up database `label` in `backend` (nothing is written yet).
    fn open(label: &str, backend: &KvBackend) -> anyhow::Result<Self> {
        anyhow::ensure!(
            crate::manifest::is_valid_label(label),
            "SQLite database label {label:?} must be kebab-case or snake_case"
        );
        let location = match backend {
            KvBackend::Dir(dir) => {
                let name = if label == "default" {
                    DEFAULT_SQLITE_DB_FILENAME.to_string()
                } else {
                    format!("sqlite_db.{label}.db")
                };
                Location::File(dir.join(name))
            }
            KvBackend::InMemory => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                let uri = format!(
                    "file:/pipeline-guard-test-host-{}-{n}-{label}?vfs=memdb",
                    std::process::id()
                );
                let anchor = rusqlite::Connection::open(&uri).with_context(|| {
                    format!("cannot create in-memory SQLite database {label:?}")
                })?;
                Location::Memory {
                    uri,
                    anchor: Mutex::new(anchor),
                }
            }
        };
        Ok(Self {
            location,
            statements: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// How many statements guests have run on this database.
    pub(crate) fn statements(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    /// A new guest connection, as Spin's connection creator makes one on
    /// every `open`: the database directory is created now (failure is
    /// `invalid-connection`), the SQLite connection on first use.
    pub(crate) fn connect(self: &Arc<Self>) -> Result<SqlConnection, Error> {
        if let Location::File(path) = &self.location
            && let Some(dir) = path.parent()
        {
            std::fs::create_dir_all(dir).map_err(|_| Error::InvalidConnection)?;
        }
        Ok(SqlConnection {
            database: self.clone(),
            sqlite: OnceLock::new(),
        })
    }

    /// Opens a new SQLite connection to this database.
    fn open_sqlite(&self) -> rusqlite::Result<rusqlite::Connection> {
        match &self.location {
            Location::File(path) => rusqlite::Connection::open(path),
            Location::Memory { uri, .. } => rusqlite::Connection::open(uri),
        }
    }

    /// Runs every statement of `sql` in order (not as a guest would: no
    /// authorizer, several statements allowed) and returns the rows of the
    /// last one, each value as JSON (see [`value_to_json`]).
    pub(crate) fn run_script(&self, sql: &str) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
        match &self.location {
            Location::Memory { anchor, .. } => run_script_on(&lock(anchor), sql),
            Location::File(path) => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                let conn = rusqlite::Connection::open(path)
                    .with_context(|| format!("cannot open {}", path.display()))?;
                run_script_on(&conn, sql)
            }
        }
    }
}

/// Runs every statement of `sql` on `conn` and returns the rows of the last one, each value as
/// JSON: how a test reads a database file another process (real Spin) writes.
pub fn run_script_on(
    conn: &rusqlite::Connection,
    sql: &str,
) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
    use rusqlite::fallible_iterator::FallibleIterator as _;
    let mut last = Vec::new();
    let mut batch = rusqlite::Batch::new(conn, sql);
    while let Some(mut statement) = batch.next()? {
        let columns = statement.column_count();
        let mut rows = statement.query([])?;
        last.clear();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(value_to_json(row.get_ref(i)?));
            }
            last.push(values);
        }
    }
    Ok(last)
}

/// Spin's default for its databases: `ATTACH` only a temporary or in-memory
/// database, never a file.
fn deny_attaching_files(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Attach { filename } if !matches!(filename, "" | ":memory:") => {
            Authorization::Deny
        }
        _ => Authorization::Allow,
    }
}

/// What a guest's `connection` resource refers to: its own SQLite
/// connection to one database, opened on first use.
#[derive(Debug)]
pub struct SqlConnection {
    database: Arc<SqliteDatabase>,
    sqlite: OnceLock<SharedConnection>,
}

impl SqlConnection {
    /// Count one statement a guest runs on this connection.
    pub(crate) fn count_statement(&self) {
        self.database.statements.fetch_add(1, Ordering::Relaxed);
    }

    /// The SQLite connection, opened now if this is its first use (failure is
    /// `io(<SQLite's message>)`).
    pub(crate) fn sqlite(&self) -> Result<SharedConnection, Error> {
        if let Some(conn) = self.sqlite.get() {
            return Ok(conn.clone());
        }
        let conn = self
            .database
            .open_sqlite()
            .map_err(|e| Error::Io(e.to_string()))?;
        conn.authorizer(Some(deny_attaching_files));
        Ok(self
            .sqlite
            .get_or_init(|| Arc::new(Mutex::new(conn)))
            .clone())
    }
}

/// The databases defined for an application, by label.
#[derive(Debug, Default)]
pub(crate) struct SqliteDatabases {
    databases: BTreeMap<String, Arc<SqliteDatabase>>,
}

impl SqliteDatabases {
    /// Sets up every label in `labels` in `backend`.
    pub(crate) fn open<'a>(
        labels: impl IntoIterator<Item = &'a str>,
        backend: &KvBackend,
    ) -> anyhow::Result<Self> {
        let mut databases = BTreeMap::new();
        for label in labels {
            let database = SqliteDatabase::open(label, backend)?;
            databases.insert(label.to_string(), Arc::new(database));
        }
        Ok(Self { databases })
    }

    /// The database with `label`, if defined.
    pub(crate) fn get(&self, label: &str) -> Option<&Arc<SqliteDatabase>> {
        self.databases.get(label)
    }

    /// Whether `label` is defined.
    pub(crate) fn is_defined(&self, label: &str) -> bool {
        self.databases.contains_key(label)
    }

    /// How many statements guests have run, over every database.
    pub(crate) fn statements(&self) -> usize {
        self.databases.values().map(|db| db.statements()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(db: &SqliteDatabase, sql: &str) -> Vec<Vec<serde_json::Value>> {
        db.run_script(sql).expect(sql)
    }

    #[test]
    fn memory_databases_are_shared_per_host_and_separate_across_hosts() {
        let backend = KvBackend::InMemory;
        let dbs = SqliteDatabases::open(["default"], &backend).expect("opens");
        let db = dbs.get("default").expect("default");
        run(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1), (2)");
        // A guest connection sees what the anchor wrote, and the reverse.
        let guest = db.connect().expect("connects");
        let conn = guest.sqlite().expect("opens");
        lock(&conn)
            .execute("INSERT INTO t VALUES (3)", [])
            .expect("insert");
        assert_eq!(
            run(db, "SELECT sum(x) FROM t"),
            vec![vec![json!(6)]],
            "one database for every connection of a host"
        );
        let other = SqliteDatabases::open(["default"], &backend).expect("opens");
        let err = other
            .get("default")
            .expect("default")
            .run_script("SELECT * FROM t");
        assert!(
            format!("{:#}", err.expect_err("a new host starts empty")).contains("no such table")
        );
    }

    #[test]
    fn file_database_survives_a_new_host_and_uses_spins_file_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = KvBackend::Dir(dir.path().join("state"));
        {
            let dbs = SqliteDatabases::open(["default", "audit"], &backend).expect("opens");
            let guest = dbs
                .get("default")
                .expect("default")
                .connect()
                .expect("connects");
            lock(&guest.sqlite().expect("opens"))
                .execute_batch("CREATE TABLE kept(v); INSERT INTO kept VALUES ('yes')")
                .expect("writes");
            run(dbs.get("audit").expect("audit"), "CREATE TABLE a(x)");
        }
        assert!(dir.path().join("state/sqlite_db.db").is_file());
        assert!(dir.path().join("state/sqlite_db.audit.db").is_file());
        let dbs = SqliteDatabases::open(["default"], &backend).expect("reopens");
        assert_eq!(
            run(dbs.get("default").expect("default"), "SELECT v FROM kept"),
            vec![vec![json!("yes")]]
        );
        assert!(!dbs.is_defined("audit"));
        assert!(SqliteDatabases::open(["../evil"], &backend).is_err());
    }

    #[test]
    fn attaching_a_file_is_refused_but_memory_is_allowed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dbs = SqliteDatabases::open(["default"], &KvBackend::InMemory).expect("opens");
        let guest = dbs
            .get("default")
            .expect("default")
            .connect()
            .expect("connects");
        let conn = guest.sqlite().expect("opens");
        let conn = lock(&conn);
        let file = dir.path().join("other.db");
        // The authorizer sees a literal file name (one bound as a parameter
        // reaches it as "", which Spin's rule lets through too).
        let err = conn
            .execute_batch(&format!("ATTACH DATABASE '{}' AS other", file.display()))
            .expect_err("a file is refused");
        assert_eq!(err.to_string(), "not authorized");
        conn.execute_batch("ATTACH DATABASE ':memory:' AS scratch")
            .expect("memory is allowed");
    }

    #[test]
    fn an_unusable_directory_is_invalid_connection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "x").expect("write");
        let dbs = SqliteDatabases::open(["default"], &KvBackend::Dir(blocker.join("sub")))
            .expect("nothing is written at start-up");
        let err = dbs
            .get("default")
            .expect("default")
            .connect()
            .expect_err("no dir");
        assert!(matches!(err, Error::InvalidConnection));
    }
}
