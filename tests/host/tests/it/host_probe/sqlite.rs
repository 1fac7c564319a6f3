//! `spin:sqlite@3.1.0` end to end, through the probe's `sql` (spin-sdk's async
//! API) and `sql-sync` (the interface's synchronous functions) routes. The
//! expected answers are what real Spin 4.1 (`spin up` with a state directory)
//! answered to the same probe and statements.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use pipeline_guard_test_host::{DEFAULT_SQLITE_DB_FILENAME, Host, InstanceReuse, KvBackend};
use serde_json::json;

use super::{MANIFEST, app, builder};

/// Runs `statement` through the probe at `route` (e.g. `/probe/sql?p=i:1`).
async fn sql(host: &Host, route: &str, statement: &str) -> String {
    let (status, body) = sql_status(host, route, statement).await;
    assert_eq!(status, StatusCode::OK, "{route} {statement}: {body}");
    body
}

async fn sql_status(host: &Host, route: &str, statement: &str) -> (StatusCode, String) {
    let request = http::Request::post(route)
        .body(Bytes::from(statement.to_string()))
        .expect("request");
    let response = host.request(request).await.expect("host answers");
    let body = String::from_utf8_lossy(response.body()).into_owned();
    (response.status(), body)
}

const EMPTY_OK: &str = "columns=[] rows=[] result=Ok(()) changes=0 rowid=0";

#[tokio::test]
async fn sqlite_values_errors_and_grants_follow_spin() {
    let app = app(MANIFEST);
    let host = builder(&app).build().expect("starts");
    let create =
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB, note)";
    assert_eq!(sql(&host, "/probe/sql", create).await, EMPTY_OK);
    let insert = "INSERT INTO items(name, score, data, note) VALUES (?, ?, ?, ?)";
    assert_eq!(
        sql(&host, "/probe/sql?p=t:alpha&p=r:1.5&p=b:009fff&p=n", insert).await,
        "columns=[] rows=[] result=Ok(()) changes=1 rowid=1"
    );
    // An integer in a REAL column is stored as a real; text in an untyped
    // or BLOB column stays text.
    assert_eq!(
        sql(
            &host,
            "/probe/sql?p=t:beta&p=i:7&p=t:text%20in%20blob&p=i:42",
            &format!("{insert} RETURNING id, score")
        )
        .await,
        "columns=[id,score] rows=[[2, 7.0]] result=Ok(()) changes=1 rowid=2"
    );
    let rows =
        "rows=[[1, \"alpha\", 1.5, x'009fff', NULL], [2, \"beta\", 7.0, \"text in blob\", 42]]";
    let select = "SELECT * FROM items ORDER BY id";
    let expected =
        format!("columns=[id,name,score,data,note] {rows} result=Ok(()) changes=0 rowid=0");
    assert_eq!(sql(&host, "/probe/sql", select).await, expected);
    assert_eq!(sql(&host, "/probe/sql-sync", select).await, expected);
    assert_eq!(
        sql(
            &host,
            "/probe/sql-sync?p=t:gamma",
            "INSERT INTO items(name) VALUES (?)"
        )
        .await,
        "columns=[] rows=[] result=Ok(()) changes=1 rowid=3"
    );
    assert_eq!(
        host.sqlite_query("default", "SELECT name, data, score FROM items ORDER BY id")
            .expect("reads"),
        vec![
            vec![json!("alpha"), json!([0, 159, 255]), json!(1.5)],
            vec![json!("beta"), json!("text in blob"), json!(7.0)],
            vec![json!("gamma"), json!(null), json!(null)],
        ]
    );

    // Errors: io(<SQLite's message>), on the result future for execute-async.
    let failed = |message: &str| {
        format!("columns=[] rows=[] result=Err(Error::Io({message:?})) changes=0 rowid=0")
    };
    assert_eq!(
        sql(&host, "/probe/sql", "SELECT * FROM nope").await,
        failed("no such table: nope")
    );
    assert_eq!(
        sql(&host, "/probe/sql-sync", "SELECT * FROM nope").await,
        "err:Error::Io(\"no such table: nope\")"
    );
    assert_eq!(
        sql(&host, "/probe/sql", "SELEC 1").await,
        failed("near \"SELEC\": syntax error in SELEC 1 at offset 0")
    );
    assert_eq!(
        sql(&host, "/probe/sql?p=i:1", "SELECT ?1 + ?2").await,
        "columns=[?1 + ?2] rows=[] result=Err(Error::Io(\"Wrong number of parameters passed to query. \
         Got 1, needed 2\")) changes=0 rowid=0"
    );
    assert_eq!(
        sql(&host, "/probe/sql", "  ").await,
        failed("bad parameter or other API misuse")
    );
    assert_eq!(
        sql(&host, "/probe/sql", "INSERT INTO items(id) VALUES (1)").await,
        failed("UNIQUE constraint failed: items.id")
    );
    assert_eq!(
        sql(
            &host,
            "/probe/sql",
            "ATTACH DATABASE '/tmp/elsewhere.db' AS other"
        )
        .await,
        failed("not authorized")
    );

    // Only the first of several statements runs.
    assert_eq!(
        sql(
            &host,
            "/probe/sql",
            "CREATE TABLE m1(x); CREATE TABLE m2(x)"
        )
        .await,
        EMPTY_OK
    );
    assert_eq!(
        sql(
            &host,
            "/probe/sql",
            "SELECT name FROM sqlite_master WHERE name LIKE 'm_' ORDER BY name"
        )
        .await,
        "columns=[name] rows=[[\"m1\"]] result=Ok(()) changes=0 rowid=0"
    );
    // Each open is its own connection: `changes` counts this request's update.
    assert_eq!(
        sql(&host, "/probe/sql", "UPDATE items SET note = 'y'").await,
        "columns=[] rows=[] result=Ok(()) changes=3 rowid=0"
    );
    assert_eq!(
        sql(&host, "/probe/sql", "PRAGMA busy_timeout").await,
        "columns=[timeout] rows=[[5000]] result=Ok(()) changes=0 rowid=0"
    );

    // TEXT that is not UTF-8: Spin's host panics; execute fails, execute-async traps.
    let not_utf8 = "SELECT CAST(x'ff' AS TEXT)";
    assert_eq!(
        sql(&host, "/probe/sql-sync", not_utf8).await,
        "err:Error::Io(\"internal runtime error\")"
    );
    assert_eq!(
        sql_status(&host, "/probe/sql", not_utf8).await,
        (StatusCode::INTERNAL_SERVER_ERROR, String::new())
    );

    // Not granted (whether or not the database exists): access-denied.
    for route in [
        "/probe/sql?label=nope",
        "/probe/sql-sync?label=nope",
        "/other/sql",
    ] {
        assert_eq!(
            sql(&host, route, "SELECT 1").await,
            "err:Error::AccessDenied",
            "{route}"
        );
    }
}

#[tokio::test]
async fn sqlite_labels_are_checked_at_start() {
    let two = app(&MANIFEST.replace(
        "sqlite_databases = [\"default\"]",
        "sqlite_databases = [\"default\", \"analytics\"]",
    ));
    let err = builder(&two)
        .build()
        .err()
        .expect("undefined database label");
    let err = format!("{err:#}");
    assert!(
        err.contains("One or more components use SQLite databases which are not defined.")
            && err.contains("- Component probe uses database 'analytics'"),
        "{err}"
    );
    let host = builder(&two)
        .sqlite_database_label("analytics")
        .build()
        .expect("the label is defined");
    assert_eq!(
        sql(&host, "/probe/sql?label=analytics", "CREATE TABLE a(x)").await,
        EMPTY_OK
    );
    assert_eq!(
        sql(&host, "/probe/sql", "SELECT * FROM a").await,
        "columns=[] rows=[] result=Err(Error::Io(\"no such table: a\")) changes=0 rowid=0",
        "another label is another database"
    );
    assert!(
        host.sqlite_query("analytics", "SELECT * FROM a")
            .expect("reads")
            .is_empty()
    );
    assert!(host.sqlite_query("nope", "SELECT 1").is_err());

    let bad = app(&MANIFEST.replace(
        "sqlite_databases = [\"default\"]",
        "sqlite_databases = [\"b@d\"]",
    ));
    let err = builder(&bad).build().err().expect("bad label");
    assert!(
        format!("{err:#}").contains("expected kebab-case or snake_case"),
        "{err:#}"
    );
}

#[tokio::test]
async fn file_backed_sqlite_survives_a_host_restart() {
    let app = app(MANIFEST);
    let dir = tempfile::tempdir().expect("tempdir");
    let backend = KvBackend::Dir(dir.path().join("state"));
    {
        let host = builder(&app)
            .key_value(backend.clone())
            .build()
            .expect("starts");
        assert_eq!(
            sql(&host, "/probe/sql", "CREATE TABLE kept(v)").await,
            EMPTY_OK
        );
        assert_eq!(
            sql(&host, "/probe/sql?p=t:yes", "INSERT INTO kept VALUES (?)").await,
            "columns=[] rows=[] result=Ok(()) changes=1 rowid=1"
        );
    }
    assert!(
        dir.path()
            .join("state")
            .join(DEFAULT_SQLITE_DB_FILENAME)
            .is_file()
    );
    let host = builder(&app).key_value(backend).build().expect("restarts");
    assert_eq!(
        host.sqlite_query("default", "SELECT v FROM kept")
            .expect("reads"),
        vec![vec![json!("yes")]]
    );
    host.sqlite_query("default", "INSERT INTO kept VALUES (x'01')")
        .expect("seeds");
    assert_eq!(
        sql(&host, "/probe/sql", "SELECT v FROM kept ORDER BY rowid").await,
        "columns=[v] rows=[[\"yes\"], [x'01']] result=Ok(()) changes=0 rowid=0"
    );
}

/// Concurrent requests, on many instances or many at once on one, each bump
/// one counter with a single upsert: every bump counts once and sees its own
/// value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_upserts_are_atomic() {
    let app = app(MANIFEST);
    for reuse in [InstanceReuse::fresh_per_request(), InstanceReuse::default()] {
        let host = builder(&app).instance_reuse(reuse).build().expect("starts");
        let create = "CREATE TABLE c(k TEXT PRIMARY KEY, n INTEGER NOT NULL)";
        assert_eq!(sql(&host, "/probe/sql", create).await, EMPTY_OK);
        let upsert = "INSERT INTO c(k, n) VALUES (?, 1) ON CONFLICT(k) DO UPDATE SET n = n + 1 \
                      WHERE c.n < 1000 RETURNING n";
        let burst = (0..32).map(|_| sql(&host, "/probe/sql?p=t:k", upsert));
        let answers =
            tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(burst))
                .await
                .expect("no deadlock");
        let mut seen: Vec<i64> = answers
            .iter()
            .map(|a| {
                let n = a
                    .strip_prefix("columns=[n] rows=[[")
                    .and_then(|rest| rest.split(']').next())
                    .unwrap_or_else(|| panic!("{a}"));
                n.parse().expect("a number")
            })
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (1..=32).collect::<Vec<_>>(), "{reuse:?}");
        assert_eq!(
            host.sqlite_query("default", "SELECT n FROM c")
                .expect("reads"),
            vec![vec![json!(32)]]
        );
    }
}
