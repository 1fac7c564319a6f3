//! Where each CRM's sweep stands, in SQL: one row per CRM holding the cursor, the sweep's running
//! totals and a lease. A call takes the lease with one atomic statement (an upsert whose update
//! only happens when the lease has expired, `RETURNING` the row it took), so of two calls at once
//! exactly one works, in one instance or across nodes sharing the database; the other is told the
//! sweep is busy. The lease is given back with the new cursor in one statement, only by the call
//! that holds it; a call that crashed leaves a lease that expires.

use serde::Serialize;
use time::OffsetDateTime;

use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
};

/// How long a call holds the sweep: longer than any CRM's deadline (Salesforce 55 s).
pub const LEASE: time::Duration = time::Duration::minutes(2);

pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_sweeps (
    crm TEXT PRIMARY KEY,
    claimant TEXT NOT NULL,
    lease_until INTEGER NOT NULL,
    cursor TEXT,
    started_at INTEGER NOT NULL,
    seen INTEGER NOT NULL DEFAULT 0,
    flagged INTEGER NOT NULL DEFAULT 0,
    cleared INTEGER NOT NULL DEFAULT 0,
    written INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    done INTEGER NOT NULL DEFAULT 0
)";

/// How many deals a sweep (or one call of it) saw, flagged, cleared, wrote and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Open deals judged.
    pub seen: u64,
    /// Deals found stale.
    pub flagged: u64,
    /// Deals whose stale flag went away.
    pub cleared: u64,
    /// Deals written back to.
    pub written: u64,
    /// Deals that could not be read or written.
    pub failed: u64,
}

impl Tally {
    /// This tally with `other` added.
    pub fn plus(self, other: Tally) -> Tally {
        Tally {
            seen: self.seen + other.seen,
            flagged: self.flagged + other.flagged,
            cleared: self.cleared + other.cleared,
            written: self.written + other.written,
            failed: self.failed + other.failed,
        }
    }
}

/// A sweep's state as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepState {
    /// Where the next page starts (`None`: the first page).
    pub cursor: Option<String>,
    /// When the sweep started.
    pub started_at: OffsetDateTime,
    /// Its totals so far.
    pub totals: Tally,
    /// The pages done.
    pub pages: u64,
    /// Whether it reached the last page.
    pub done: bool,
}

impl SweepState {
    /// A sweep starting at `now`.
    pub fn new(now: OffsetDateTime) -> SweepState {
        SweepState {
            cursor: None,
            started_at: now,
            totals: Tally::default(),
            pages: 0,
            done: false,
        }
    }
}

/// The sweeps' rows over a [`Database`].
#[derive(Debug)]
pub struct SqlSweeps<D> {
    pub(super) db: D,
}

impl<D: Database> SqlSweeps<D> {
    /// The sweeps in `db`; call [`SqlSweeps::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlSweeps<D> {
        SqlSweeps { db }
    }

    /// Create the tables that do not exist yet (one read when they all do).
    pub async fn create_tables(&self) -> Result<(), Error> {
        crate::statement::create_missing(&self.db, &[SCHEMA, super::untold::SCHEMA]).await
    }

    /// Take `crm`'s sweep for `claimant` until `now + LEASE`: its state, or `None` while another
    /// call holds it. A sweep never started starts at `now`.
    pub async fn claim(
        &self,
        crm: Crm,
        claimant: &str,
        now: OffsetDateTime,
    ) -> Result<Option<SweepState>, Error> {
        let rows = self
            .db
            .execute(
                "INSERT INTO pg_sweeps (crm, claimant, lease_until, started_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (crm) DO UPDATE SET claimant = excluded.claimant,
                     lease_until = excluded.lease_until
                 WHERE pg_sweeps.lease_until <= ?
                 RETURNING cursor, started_at, seen, flagged, cleared, written, failed, pages, done",
                vec![
                    crm.name().into(),
                    claimant.into(),
                    (now + LEASE).unix_timestamp().into(),
                    now.unix_timestamp().into(),
                    now.unix_timestamp().into(),
                ],
            )
            .await?;
        rows.into_iter().next().map(|row| state(&row)).transpose()
    }

    /// Every CRM's sweep as it stands (a sweep under way, or the last one when done), by CRM,
    /// read without taking any lease.
    pub async fn states(&self) -> Result<Vec<(Crm, SweepState)>, Error> {
        let rows = self
            .db
            .execute(
                "SELECT cursor, started_at, seen, flagged, cleared, written, failed, pages, done, crm
                 FROM pg_sweeps ORDER BY crm",
                Vec::new(),
            )
            .await?;
        rows.iter()
            .filter_map(|row| {
                let crm = row
                    .get(9)
                    .and_then(SqlValue::as_text)
                    .and_then(Crm::from_name)?;
                Some(state(row).map(|state| (crm, state)))
            })
            .collect()
    }

    /// Keep `state` and give the lease back, if `claimant` still holds it.
    pub async fn save(&self, crm: Crm, claimant: &str, state: &SweepState) -> Result<(), Error> {
        let int = |n: u64| SqlValue::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        self.db
            .execute(
                "UPDATE pg_sweeps SET cursor = ?, started_at = ?, seen = ?, flagged = ?,
                     cleared = ?, written = ?, failed = ?, pages = ?, done = ?, lease_until = 0
                 WHERE crm = ? AND claimant = ?",
                vec![
                    state.cursor.clone().into(),
                    state.started_at.unix_timestamp().into(),
                    int(state.totals.seen),
                    int(state.totals.flagged),
                    int(state.totals.cleared),
                    int(state.totals.written),
                    int(state.totals.failed),
                    int(state.pages),
                    i64::from(state.done).into(),
                    crm.name().into(),
                    claimant.into(),
                ],
            )
            .await
            .map(drop)
    }

    /// Give the lease back without changing the sweep (a page that failed is listed again).
    pub async fn release(&self, crm: Crm, claimant: &str) -> Result<(), Error> {
        self.db
            .execute(
                "UPDATE pg_sweeps SET lease_until = 0 WHERE crm = ? AND claimant = ?",
                vec![crm.name().into(), claimant.into()],
            )
            .await
            .map(drop)
    }
}

/// A sweep's state from its row's columns: cursor, started_at, the five totals, pages, done.
fn state(row: &[SqlValue]) -> Result<SweepState, Error> {
    let int = |i: usize| {
        row.get(i)
            .and_then(SqlValue::as_integer)
            .map_or(0, |n| u64::try_from(n).unwrap_or(0))
    };
    Ok(SweepState {
        cursor: row.first().and_then(SqlValue::as_text).map(str::to_owned),
        started_at: OffsetDateTime::from_unix_timestamp(int(1) as i64)
            .map_err(|e| Error::Store(format!("pg_sweeps.started_at: {e}")))?,
        totals: Tally {
            seen: int(2),
            flagged: int(3),
            cleared: int(4),
            written: int(5),
            failed: int(6),
        },
        pages: int(7),
        done: int(8) != 0,
    })
}
