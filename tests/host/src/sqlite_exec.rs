//! Running one guest statement on its connection, with the semantics of
//! Spin's in-process SQLite (`crates/sqlite-inproc` of spinframework/spin):
//!
//! - Only the first statement of the text runs; anything after it is ignored
//!   (what Spin's rusqlite 0.34 `prepare_cached` does; the rusqlite 0.37 used
//!   here would refuse the text, so the host prepares the first statement
//!   itself). Text without a statement fails with `bad parameter or other API
//!   misuse`.
//! - Parameters bind by position (`?`, `?NNN`) as integer, real, text, blob
//!   or null; a wrong count fails (`Wrong number of parameters passed to
//!   query. Got 1, needed 2`). Column values come back with their SQLite
//!   storage class, whatever the column's declared type.
//! - Every failure is `io(<rusqlite's message>)`, e.g. `no such table: t` or
//!   `near "SELEC": syntax error in SELEC 1 at offset 0`.
//! - A result may hold at most 128 MiB (Spin's `MAX_HOST_BUFFERED_BYTES`,
//!   counting each value as its size plus its text or blob length): over it,
//!   `io("query result exceeds limit of 134217728 bytes")`. `execute` counts
//!   the whole result, `execute-async` each row.
//! - `execute-async` prepares the statement before answering: its columns
//!   come back at once (none if preparing failed), rows follow on the stream
//!   (four buffered ahead of the guest; the statement, and its locks, stay
//!   open until the guest has read to the end or dropped the stream, which
//!   ends it with `io("row send error")`), and the outcome on the future.
//! - A TEXT value that is not UTF-8 makes Spin's host task panic: `execute`
//!   then fails with `io("internal runtime error")` and `execute-async`'s
//!   future traps the guest. The test host does the same.

use std::sync::Mutex;

use rusqlite::types::{Value as SqlValue, ValueRef};
use tokio::sync::{mpsc, oneshot};

use crate::bindings::sqlite::{Error, QueryResult, RowResult, Value};
use crate::sqlite_store::{SharedConnection, lock};

/// Spin's cap on a result the host buffers (`MAX_HOST_BUFFERED_BYTES`).
pub(crate) const MAX_RESULT_BYTES: usize = 128 << 20;

/// Rows buffered between SQLite and a guest reading `execute-async`'s stream.
const ROW_BUFFER: usize = 4;

/// Why a statement stopped.
enum Failure {
    /// An error the guest receives.
    Sql(Error),
    /// A TEXT value that is not UTF-8, where Spin's host task panics.
    NotUtf8,
}

impl From<rusqlite::Error> for Failure {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sql(Error::Io(err.to_string()))
    }
}

fn to_sql(value: Value) -> SqlValue {
    match value {
        Value::Integer(i) => SqlValue::Integer(i),
        Value::Real(r) => SqlValue::Real(r),
        Value::Text(t) => SqlValue::Text(t),
        Value::Blob(b) => SqlValue::Blob(b),
        Value::Null => SqlValue::Null,
    }
}

fn from_sql(value: ValueRef<'_>) -> Result<Value, Failure> {
    Ok(match value {
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8(t.to_vec()).map_err(|_| {
            eprintln!(
                "[test-host] a SQLite TEXT value is not UTF-8: Spin's host panics on it \
                 (use a BLOB for bytes)"
            );
            Failure::NotUtf8
        })?),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        ValueRef::Null => Value::Null,
    })
}

/// A value for [`crate::Host::sqlite_query`]: null, an integer, a real
/// (`null` if not finite), a string, or a blob as an array of byte values.
pub(crate) fn value_to_json(value: ValueRef<'_>) -> serde_json::Value {
    match value {
        ValueRef::Null => serde_json::Value::Null,
        ValueRef::Integer(i) => i.into(),
        ValueRef::Real(r) => serde_json::json!(r),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned().into(),
        ValueRef::Blob(b) => b.to_vec().into(),
    }
}

/// The size Spin counts for a value against [`MAX_RESULT_BYTES`].
fn counted_size(value: &Value) -> usize {
    std::mem::size_of::<Value>()
        + match value {
            Value::Text(t) => t.len(),
            Value::Blob(b) => b.len(),
            Value::Integer(_) | Value::Real(_) | Value::Null => 0,
        }
}

fn too_big(max_bytes: usize) -> Failure {
    Failure::Sql(Error::Io(format!(
        "query result exceeds limit of {max_bytes} bytes"
    )))
}

fn row_result(row: &rusqlite::Row<'_>) -> Result<RowResult, Failure> {
    let count = row.as_ref().column_count();
    let values = (0..count)
        .map(|i| from_sql(row.get_ref(i)?))
        .collect::<Result<_, _>>()?;
    Ok(RowResult { values })
}

/// The first statement of `sql`, or, if it has none, an empty statement
/// (which fails when stepped), like rusqlite 0.34's `prepare_cached`.
fn prepare_first<'c>(
    conn: &'c rusqlite::Connection,
    sql: &str,
) -> rusqlite::Result<rusqlite::Statement<'c>> {
    use rusqlite::fallible_iterator::FallibleIterator as _;
    match rusqlite::Batch::new(conn, sql.trim()).next()? {
        Some(statement) => Ok(statement),
        None => conn.prepare(""),
    }
}

fn column_names(statement: &rusqlite::Statement<'_>) -> Vec<String> {
    statement
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// `execute`: runs `sql` with `params` and collects every row.
pub(crate) fn query_all(
    conn: &Mutex<rusqlite::Connection>,
    sql: &str,
    params: Vec<Value>,
    max_bytes: usize,
) -> Result<QueryResult, Error> {
    let conn = lock(conn);
    let result = (|| {
        let mut statement = prepare_first(&conn, sql)?;
        let columns = column_names(&statement);
        let mut bytes = std::mem::size_of::<QueryResult>();
        let mut rows =
            statement.query(rusqlite::params_from_iter(params.into_iter().map(to_sql)))?;
        let mut collected = Vec::new();
        while let Some(row) = rows.next()? {
            let row = row_result(row)?;
            bytes += row.values.iter().map(counted_size).sum::<usize>();
            if bytes > max_bytes {
                return Err(too_big(max_bytes));
            }
            collected.push(row);
        }
        Ok(QueryResult {
            columns,
            rows: collected,
        })
    })();
    result.map_err(|failure| match failure {
        Failure::Sql(err) => err,
        Failure::NotUtf8 => Error::Io("internal runtime error".to_string()),
    })
}

/// `execute-async`'s answer: the columns, then the rows and the outcome as
/// they come.
pub(crate) struct StreamedQuery {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: mpsc::Receiver<RowResult>,
    /// Dropped without a value where Spin's host task panics.
    pub(crate) outcome: oneshot::Receiver<Result<(), Error>>,
}

/// `execute-async`: prepares `sql` on a blocking thread, answers with its
/// columns, and leaves that thread stepping through the rows as the guest
/// reads them.
pub(crate) async fn query_streaming(
    conn: SharedConnection,
    sql: String,
    params: Vec<Value>,
    max_bytes: usize,
) -> Result<StreamedQuery, Error> {
    let (columns_tx, columns_rx) = oneshot::channel();
    let (rows_tx, rows_rx) = mpsc::channel(ROW_BUFFER);
    let (outcome_tx, outcome_rx) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let conn = lock(&conn);
        match stream_rows(&conn, &sql, params, max_bytes, columns_tx, &rows_tx) {
            Ok(()) => drop(outcome_tx.send(Ok(()))),
            Err(Failure::Sql(err)) => drop(outcome_tx.send(Err(err))),
            Err(Failure::NotUtf8) => drop(outcome_tx),
        }
    });
    let columns = columns_rx.await.map_err(|e| Error::Io(e.to_string()))?;
    Ok(StreamedQuery {
        columns,
        rows: rows_rx,
        outcome: outcome_rx,
    })
}

fn stream_rows(
    conn: &rusqlite::Connection,
    sql: &str,
    params: Vec<Value>,
    max_bytes: usize,
    columns_tx: oneshot::Sender<Vec<String>>,
    rows_tx: &mpsc::Sender<RowResult>,
) -> Result<(), Failure> {
    let mut statement = match prepare_first(conn, sql) {
        Ok(statement) => statement,
        Err(err) => {
            let _ = columns_tx.send(Vec::new());
            return Err(err.into());
        }
    };
    columns_tx
        .send(column_names(&statement))
        .map_err(|_| Failure::Sql(Error::Io("column send error".to_string())))?;
    let mut rows = statement.query(rusqlite::params_from_iter(params.into_iter().map(to_sql)))?;
    while let Some(row) = rows.next()? {
        let row = row_result(row)?;
        if row.values.iter().map(counted_size).sum::<usize>() > max_bytes {
            return Err(too_big(max_bytes));
        }
        rows_tx
            .blocking_send(row)
            .map_err(|_| Failure::Sql(Error::Io("row send error".to_string())))?;
    }
    Ok(())
}

/// Runs `f` on the connection on a blocking thread (it may wait for a
/// statement that another task of the same guest connection is running).
pub(crate) async fn with_connection<R: Send + 'static>(
    conn: SharedConnection,
    f: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
) -> anyhow::Result<R> {
    Ok(tokio::task::spawn_blocking(move || f(&lock(&conn))).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv_store::KvBackend;
    use crate::sqlite_store::{SqliteDatabases, lock};

    /// A new guest connection to a fresh in-memory `default` database.
    fn database() -> (SqliteDatabases, SharedConnection) {
        let dbs = SqliteDatabases::open(["default"], &KvBackend::InMemory).expect("opens");
        let conn = another(&dbs);
        (dbs, conn)
    }

    fn another(dbs: &SqliteDatabases) -> SharedConnection {
        let db = dbs.get("default").expect("default");
        db.connect().expect("connects").sqlite().expect("opens")
    }

    fn run(conn: &SharedConnection, sql: &str, params: Vec<Value>) -> Result<QueryResult, Error> {
        query_all(conn, sql, params, MAX_RESULT_BYTES)
    }

    fn io(result: Result<QueryResult, Error>) -> String {
        match result {
            Err(Error::Io(message)) => message,
            other => panic!("expected io(..), got {other:?}"),
        }
    }

    #[test]
    fn values_map_to_sqlite_storage_classes_and_back() {
        let (_dbs, conn) = database();
        run(
            &conn,
            "CREATE TABLE t(i INTEGER, r REAL, s TEXT, b BLOB, n, loose)",
            vec![],
        )
        .expect("create");
        let inserted = run(
            &conn,
            "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?) RETURNING rowid",
            vec![
                Value::Integer(i64::MIN),
                Value::Real(-1.5),
                Value::Text("héllo".into()),
                Value::Blob(vec![0, 159, 255]),
                Value::Null,
                Value::Text("42".into()),
            ],
        )
        .expect("insert");
        assert_eq!(inserted.columns, ["rowid"]);
        assert!(matches!(inserted.rows[0].values[..], [Value::Integer(1)]));
        let all = run(&conn, "SELECT * FROM t", vec![]).expect("select");
        assert_eq!(all.columns, ["i", "r", "s", "b", "n", "loose"]);
        let values = &all.rows[0].values;
        assert!(matches!(values[0], Value::Integer(i64::MIN)));
        assert!(matches!(values[1], Value::Real(r) if r == -1.5));
        assert!(matches!(&values[2], Value::Text(t) if t == "héllo"));
        assert!(matches!(&values[3], Value::Blob(b) if b == &[0, 159, 255]));
        assert!(matches!(values[4], Value::Null));
        // Text stays text in a column without a declared type.
        assert!(matches!(&values[5], Value::Text(t) if t == "42"));
        // Numbered parameters bind by position too.
        let numbered = run(
            &conn,
            "SELECT ?2, ?1, ?2",
            vec![Value::Integer(1), Value::Text("two".into())],
        )
        .expect("select");
        assert!(matches!(
            &numbered.rows[0].values[..],
            [Value::Text(a), Value::Integer(1), Value::Text(b)] if a == "two" && b == "two"
        ));
        let literal =
            run(&conn, "SELECT 1, 2.5, 'x', x'00ff', NULL, '7' + 0", vec![]).expect("select");
        assert_eq!(
            literal.columns,
            ["1", "2.5", "'x'", "x'00ff'", "NULL", "'7' + 0"]
        );
        let values = &literal.rows[0].values;
        assert!(matches!(values[0], Value::Integer(1)));
        assert!(matches!(values[1], Value::Real(r) if r == 2.5));
        assert!(matches!(&values[2], Value::Text(t) if t == "x"));
        assert!(matches!(&values[3], Value::Blob(b) if b == &[0, 255]));
        assert!(matches!(values[4], Value::Null));
        assert!(matches!(values[5], Value::Integer(7)));
    }

    #[test]
    fn failures_are_io_with_sqlites_message() {
        let (_dbs, conn) = database();
        assert_eq!(
            io(run(&conn, "SELECT * FROM nope", vec![])),
            "no such table: nope"
        );
        assert_eq!(
            io(run(&conn, "SELEC 1", vec![])),
            "near \"SELEC\": syntax error in SELEC 1 at offset 0"
        );
        assert_eq!(
            io(run(&conn, "SELECT ?1 + ?2", vec![Value::Integer(1)])),
            "Wrong number of parameters passed to query. Got 1, needed 2"
        );
        assert_eq!(
            io(run(&conn, "  ", vec![])),
            "bad parameter or other API misuse"
        );
        run(&conn, "CREATE TABLE u(k TEXT PRIMARY KEY)", vec![]).expect("create");
        run(&conn, "INSERT INTO u VALUES ('a')", vec![]).expect("insert");
        assert_eq!(
            io(run(&conn, "INSERT INTO u VALUES ('a')", vec![])),
            "UNIQUE constraint failed: u.k"
        );
    }

    #[test]
    fn only_the_first_statement_runs() {
        let (_dbs, conn) = database();
        let result = run(&conn, "CREATE TABLE a(x); CREATE TABLE b(x)", vec![]).expect("runs");
        assert!(result.columns.is_empty() && result.rows.is_empty());
        run(&conn, "SELECT * FROM a", vec![]).expect("the first statement ran");
        assert_eq!(
            io(run(&conn, "SELECT * FROM b", vec![])),
            "no such table: b"
        );
    }

    /// `(changes, last_insert_rowid)` of a connection.
    fn info(conn: &SharedConnection) -> (u64, i64) {
        let conn = lock(conn);
        (conn.changes(), conn.last_insert_rowid())
    }

    #[test]
    fn changes_and_last_insert_rowid_belong_to_the_connection() {
        let (dbs, a) = database();
        let b = another(&dbs);
        assert_eq!(info(&a), (0, 0));
        run(&a, "CREATE TABLE t(x)", vec![]).expect("create");
        run(&a, "INSERT INTO t VALUES (1), (2), (3)", vec![]).expect("insert");
        run(&b, "INSERT INTO t VALUES (4)", vec![]).expect("insert");
        run(&a, "SELECT * FROM t", vec![]).expect("a select changes nothing");
        assert_eq!(info(&a), (3, 3));
        assert_eq!(info(&b), (1, 4));
        run(&b, "UPDATE t SET x = x + 1 WHERE x > 100", vec![]).expect("update");
        assert_eq!(lock(&b).changes(), 0);
    }

    #[test]
    fn results_are_capped_like_spin() {
        let (_dbs, conn) = database();
        let row = std::mem::size_of::<Value>() + 3;
        let sql = "SELECT 'abc' UNION ALL SELECT 'def'";
        let whole = std::mem::size_of::<QueryResult>() + 2 * row;
        assert_eq!(
            query_all(&conn, sql, vec![], whole)
                .expect("fits")
                .rows
                .len(),
            2
        );
        let err = query_all(&conn, sql, vec![], whole - 1).expect_err("too big");
        assert!(
            matches!(err, Error::Io(m) if m == format!("query result exceeds limit of {} bytes", whole - 1))
        );
        assert_eq!(MAX_RESULT_BYTES, 134_217_728);
    }

    #[test]
    fn text_that_is_not_utf8_fails_like_spins_panic() {
        let (_dbs, conn) = database();
        let sql = "SELECT CAST(x'ff' AS TEXT)";
        assert_eq!(io(run(&conn, sql, vec![])), "internal runtime error");
    }

    async fn stream(
        conn: &SharedConnection,
        sql: &str,
        max: usize,
    ) -> (Vec<String>, Vec<RowResult>, Option<Result<(), Error>>) {
        let mut q = query_streaming(conn.clone(), sql.into(), vec![], max)
            .await
            .expect("answers");
        let mut rows = Vec::new();
        while let Some(row) = q.rows.recv().await {
            rows.push(row);
        }
        (q.columns, rows, q.outcome.await.ok())
    }

    #[tokio::test]
    async fn streaming_sends_columns_first_and_errors_last() {
        let (_dbs, conn) = database();
        let (columns, rows, outcome) =
            stream(&conn, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10) SELECT i FROM n", MAX_RESULT_BYTES).await;
        assert_eq!((columns, rows.len()), (vec!["i".to_string()], 10));
        assert!(matches!(outcome, Some(Ok(()))));

        let (columns, rows, outcome) = stream(&conn, "SELECT * FROM nope", MAX_RESULT_BYTES).await;
        assert!(columns.is_empty() && rows.is_empty());
        assert!(matches!(outcome, Some(Err(Error::Io(m))) if m == "no such table: nope"));

        // A row over the cap ends the stream with an error; the rows before it arrive.
        let small = std::mem::size_of::<Value>();
        let (_, rows, outcome) =
            stream(&conn, "SELECT 1 UNION ALL SELECT 'long text'", small).await;
        assert_eq!(rows.len(), 1);
        assert!(matches!(outcome, Some(Err(Error::Io(m))) if m.contains("exceeds limit")));

        let (_, rows, outcome) =
            stream(&conn, "SELECT CAST(x'ff' AS TEXT)", MAX_RESULT_BYTES).await;
        assert!(
            rows.is_empty() && outcome.is_none(),
            "no outcome: the guest traps"
        );
    }

    #[tokio::test]
    async fn dropping_the_stream_ends_the_statement() {
        let (_dbs, conn) = database();
        let sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) SELECT i FROM n";
        let mut q = query_streaming(conn.clone(), sql.into(), vec![], MAX_RESULT_BYTES)
            .await
            .expect("answers");
        assert!(q.rows.recv().await.is_some());
        drop(q.rows);
        let outcome = q.outcome.await.expect("an outcome");
        assert!(matches!(outcome, Err(Error::Io(m)) if m == "row send error"));
        // The connection is free again.
        let n = with_connection(conn, |c| c.changes()).await.expect("runs");
        assert_eq!(n, 0);
    }

    /// Many connections bumping one counter with a single upsert statement:
    /// every bump is counted once and sees a distinct value.
    fn concurrent_upserts(dbs: &SqliteDatabases) {
        let setup = another(dbs);
        run(
            &setup,
            "CREATE TABLE c(k TEXT PRIMARY KEY, n INTEGER NOT NULL)",
            vec![],
        )
        .expect("create");
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let conn = another(dbs);
                std::thread::spawn(move || {
                    (0..40)
                        .map(|_| {
                            let result = run(
                                &conn,
                                "INSERT INTO c(k, n) VALUES (?, 1) ON CONFLICT(k) DO UPDATE SET n = n + 1 \
                                 WHERE c.n < 1000 RETURNING n",
                                vec![Value::Text("k".into())],
                            )
                            .expect("upsert");
                            match result.rows[0].values[0] {
                                Value::Integer(n) => n,
                                ref other => panic!("{other:?}"),
                            }
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut seen: Vec<i64> = threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=240).collect::<Vec<_>>());
    }

    #[test]
    fn concurrent_single_statements_are_atomic_in_memory() {
        let dbs = SqliteDatabases::open(["default"], &KvBackend::InMemory).expect("opens");
        concurrent_upserts(&dbs);
    }

    #[test]
    fn concurrent_single_statements_are_atomic_in_a_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dbs =
            SqliteDatabases::open(["default"], &KvBackend::Dir(dir.path().into())).expect("opens");
        concurrent_upserts(&dbs);
    }
}
