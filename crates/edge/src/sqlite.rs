//! The core's [`Database`] over Spin's `spin:sqlite` (the `default` database: SQLite embedded in
//! `spin up`, or libSQL shared by several nodes through a runtime config), and the ledger, the
//! handoff log, the review queue, the text hashes, the sweeps and the portfolios in it.

use std::sync::atomic::{AtomicBool, Ordering};

use pipeline_guard_core::{
    Error,
    conversation::history::SqlCalls,
    handoffs::sql::SqlHandoffs,
    ledger::sql::SqlLedger,
    portfolio::SqlPortfolios,
    ports::{Database, SqlValue},
    review::sql::SqlReview,
    sweep::SqlSweeps,
    templates::sql::SqlTextHashes,
};
use spin_sdk::sqlite::{Connection, Value};

/// The `default` database, as a [`Database`].
pub struct SpinDatabase(Connection);

/// Whether this instance has made sure the ledger's tables exist.
static TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the handoff log's tables exist.
static HANDOFF_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the review queue's table exists.
static REVIEW_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the text hashes' table exists.
static TEXT_HASH_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the sweeps' table exists.
static SWEEP_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the calls' table exists.
static CALL_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the portfolios' tables exist.
static PORTFOLIO_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// The `default` database.
async fn open() -> Result<SpinDatabase, Error> {
    let connection = Connection::open_default().await.map_err(|e| {
        Error::Store(format!(
            "cannot open the `default` SQLite database ({e:?}); add sqlite_databases = [\"default\"] to the component"
        ))
    })?;
    Ok(SpinDatabase(connection))
}

/// The ledger in the `default` database; its tables are created on an instance's first use.
pub async fn ledger() -> Result<SqlLedger<SpinDatabase>, Error> {
    let ledger = SqlLedger::new(open().await?);
    if !TABLES_READY.load(Ordering::Relaxed) {
        ledger.create_tables().await?;
        TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(ledger)
}

/// The handoff log in the `default` database; its tables are created on an instance's first use.
pub async fn handoffs() -> Result<SqlHandoffs<SpinDatabase>, Error> {
    let log = SqlHandoffs::new(open().await?);
    if !HANDOFF_TABLES_READY.load(Ordering::Relaxed) {
        log.create_tables().await?;
        HANDOFF_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(log)
}

/// Each rep's calls (metrics, never transcripts) in the `default` database; its table is
/// created on an instance's first use.
pub async fn calls() -> Result<SqlCalls<SpinDatabase>, Error> {
    let calls = SqlCalls::new(open().await?);
    if !CALL_TABLES_READY.load(Ordering::Relaxed) {
        calls.create_tables().await?;
        CALL_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(calls)
}

/// The review queue in the `default` database; its table is created on an instance's first use.
pub async fn review() -> Result<SqlReview<SpinDatabase>, Error> {
    let review = SqlReview::new(open().await?);
    if !REVIEW_TABLES_READY.load(Ordering::Relaxed) {
        review.create_tables().await?;
        REVIEW_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(review)
}

/// The hashes of the records' texts in the `default` database; its table is created on an
/// instance's first use.
pub async fn text_hashes() -> Result<SqlTextHashes<SpinDatabase>, Error> {
    let hashes = SqlTextHashes::new(open().await?);
    if !TEXT_HASH_TABLES_READY.load(Ordering::Relaxed) {
        hashes.create_tables().await?;
        TEXT_HASH_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(hashes)
}

/// The sweeps' state in the `default` database; its table is created on an instance's first use.
pub async fn sweeps() -> Result<SqlSweeps<SpinDatabase>, Error> {
    let sweeps = SqlSweeps::new(open().await?);
    if !SWEEP_TABLES_READY.load(Ordering::Relaxed) {
        sweeps.create_tables().await?;
        SWEEP_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(sweeps)
}

/// The deals' hygiene and the portfolios' measurements in the `default` database; their tables
/// are created on an instance's first use (flag-stale-deals writes them; the others read the last
/// measurement, for enforcement).
pub async fn portfolios() -> Result<SqlPortfolios<SpinDatabase>, Error> {
    let portfolios = SqlPortfolios::new(open().await?);
    if !PORTFOLIO_TABLES_READY.load(Ordering::Relaxed) {
        portfolios.create_tables().await?;
        PORTFOLIO_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(portfolios)
}

/// The `default` database as the reps' pages read it: every table they read or write is
/// created first (the handoff log, the calls, the kept scorecards and stale deals, the sharing
/// choices), whichever function created them so far.
pub async fn rep_pages() -> Result<SpinDatabase, Error> {
    handoffs().await?;
    calls().await?;
    review().await?;
    portfolios().await?;
    open().await
}

impl Database for SpinDatabase {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        let failed = |e: spin_sdk::sqlite::Error| Error::Store(format!("SQLite: {e:?}"));
        let params = params.into_iter().map(|p| match p {
            SqlValue::Integer(n) => Value::Integer(n),
            SqlValue::Real(x) => Value::Real(x),
            SqlValue::Text(t) => Value::Text(t),
            SqlValue::Blob(b) => Value::Blob(b),
            SqlValue::Null => Value::Null,
        });
        let result = self.0.execute(sql, params).await.map_err(failed)?;
        let rows = result.collect().await.map_err(failed)?;
        let rows = rows
            .into_iter()
            .map(|row| {
                row.values
                    .into_iter()
                    .map(|v| match v {
                        Value::Integer(n) => SqlValue::Integer(n),
                        Value::Real(x) => SqlValue::Real(x),
                        Value::Text(t) => SqlValue::Text(t),
                        Value::Blob(b) => SqlValue::Blob(b),
                        Value::Null => SqlValue::Null,
                    })
                    .collect()
            })
            .collect();
        Ok(rows)
    }
}
