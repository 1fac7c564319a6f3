//! The function's database ([`SpinDatabase`]: Spin's SQLite `default` database, or PostgreSQL
//! when `database_url` is set), and the ledger, the handoff log, the review queue, the text
//! hashes, the sweeps, the portfolios and people's names in it.

use std::sync::atomic::{AtomicBool, Ordering};

use pipeline_guard_core::{
    Error,
    conversation::history::SqlCalls,
    handoffs::sql::SqlHandoffs,
    ledger::sql::SqlLedger,
    people::sql::SqlPeople,
    portfolio::SqlPortfolios,
    ports::{Database, Dialect, SqlValue},
    review::sql::SqlReview,
    sweep::SqlSweeps,
    templates::sql::SqlTextHashes,
};

#[cfg(feature = "sqlite")]
use crate::sqlite::SpinSqlite;
use crate::{config::variable, postgres::SpinPostgres};

/// The function's database: Spin's SQLite `default` database, or PostgreSQL when
/// `database_url` is set. Every store runs on either, through the one [`Database`] port.
pub enum SpinDatabase {
    /// Spin's `default` SQLite database (the default).
    #[cfg(feature = "sqlite")]
    Sqlite(SpinSqlite),
    /// The PostgreSQL database at `database_url`.
    Postgres(SpinPostgres),
}

impl Database for SpinDatabase {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        match self {
            #[cfg(feature = "sqlite")]
            SpinDatabase::Sqlite(db) => db.execute(sql, params).await,
            SpinDatabase::Postgres(db) => db.execute(sql, params).await,
        }
    }

    fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            SpinDatabase::Sqlite(db) => db.dialect(),
            SpinDatabase::Postgres(db) => db.dialect(),
        }
    }
}

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

/// Whether this instance has made sure the names' table exists.
static PEOPLE_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// Whether this instance has made sure the portfolios' tables exist.
static PORTFOLIO_TABLES_READY: AtomicBool = AtomicBool::new(false);

/// The function's database: PostgreSQL when `database_url` is set (its host checked against
/// `database_host`), else the `default` SQLite database (a build without the `sqlite` feature
/// refuses an empty `database_url`).
async fn open() -> Result<SpinDatabase, Error> {
    let url = variable("database_url").await?;
    if url.trim().is_empty() {
        #[cfg(feature = "sqlite")]
        return Ok(SpinDatabase::Sqlite(SpinSqlite::open().await?));
        #[cfg(not(feature = "sqlite"))]
        return Err(Error::Config(
            "variable `database_url` is empty: this build has no SQLite (Akamai Functions); \
             set it to your PostgreSQL database's postgres://user:password@host:port/database URL"
                .into(),
        ));
    }
    let host = variable("database_host").await?;
    Ok(SpinDatabase::Postgres(
        SpinPostgres::open(&url, &host).await?,
    ))
}

/// The ledger in the function's database; its tables are created on an instance's first use.
pub async fn ledger() -> Result<SqlLedger<SpinDatabase>, Error> {
    let ledger = SqlLedger::new(open().await?);
    if !TABLES_READY.load(Ordering::Relaxed) {
        ledger.create_tables().await?;
        TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(ledger)
}

/// The handoff log in the function's database; its tables are created on an instance's first use.
pub async fn handoffs() -> Result<SqlHandoffs<SpinDatabase>, Error> {
    // The report shows BDRs by the names a delivery kept.
    people().await?;
    let log = SqlHandoffs::new(open().await?);
    if !HANDOFF_TABLES_READY.load(Ordering::Relaxed) {
        log.create_tables().await?;
        HANDOFF_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(log)
}

/// Each rep's calls (metrics, never transcripts) in the function's database; its table is
/// created on an instance's first use.
pub async fn calls() -> Result<SqlCalls<SpinDatabase>, Error> {
    let calls = SqlCalls::new(open().await?);
    if !CALL_TABLES_READY.load(Ordering::Relaxed) {
        calls.create_tables().await?;
        CALL_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(calls)
}

/// The review queue in the function's database; its table is created on an instance's first use.
pub async fn review() -> Result<SqlReview<SpinDatabase>, Error> {
    let review = SqlReview::new(open().await?);
    if !REVIEW_TABLES_READY.load(Ordering::Relaxed) {
        review.create_tables().await?;
        REVIEW_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(review)
}

/// The hashes of the records' texts in the function's database; its table is created on an
/// instance's first use.
pub async fn text_hashes() -> Result<SqlTextHashes<SpinDatabase>, Error> {
    let hashes = SqlTextHashes::new(open().await?);
    if !TEXT_HASH_TABLES_READY.load(Ordering::Relaxed) {
        hashes.create_tables().await?;
        TEXT_HASH_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(hashes)
}

/// CRM users' names in the function's database; its table is created on an instance's first
/// use (by a delivery that names people, and by the reports and pages that show them).
pub async fn people() -> Result<SqlPeople<SpinDatabase>, Error> {
    let people = SqlPeople::new(open().await?);
    if !PEOPLE_TABLES_READY.load(Ordering::Relaxed) {
        people.create_tables().await?;
        PEOPLE_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(people)
}

/// The sweeps' state in the function's database; its table is created on an instance's first use.
pub async fn sweeps() -> Result<SqlSweeps<SpinDatabase>, Error> {
    let sweeps = SqlSweeps::new(open().await?);
    if !SWEEP_TABLES_READY.load(Ordering::Relaxed) {
        sweeps.create_tables().await?;
        SWEEP_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(sweeps)
}

/// The deals' hygiene and the portfolios' measurements in the function's database; their tables
/// are created on an instance's first use (flag-stale-deals writes them; the others read the last
/// measurement, for enforcement).
pub async fn portfolios() -> Result<SqlPortfolios<SpinDatabase>, Error> {
    // The hygiene report shows owners by the names a delivery kept.
    people().await?;
    let portfolios = SqlPortfolios::new(open().await?);
    if !PORTFOLIO_TABLES_READY.load(Ordering::Relaxed) {
        portfolios.create_tables().await?;
        PORTFOLIO_TABLES_READY.store(true, Ordering::Relaxed);
    }
    Ok(portfolios)
}

/// The function's database as the reps' pages read it: every table they read or write is
/// created first (the handoff log, the calls, the kept scorecards and stale deals, the sharing
/// choices), whichever function created them so far.
pub async fn rep_pages() -> Result<SpinDatabase, Error> {
    handoffs().await?;
    calls().await?;
    review().await?;
    portfolios().await?;
    open().await
}
