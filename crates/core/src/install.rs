//! When this install began to decide: the time of its first recorded decision, kept in the
//! database once and never moved. Managers' per-rep views unlock a number of days after it
//! ([`crate::playbook::Rollout`]), so a team's reps have their own figures first whatever day
//! the install happens to be read.
//!
//! Written by whatever decides first: a delivery's settled events ([`crate::ledger::sql`]) or a
//! sweep's judged page ([`crate::portfolio::SqlPortfolios::record`]). A write that finds the
//! time already kept changes nothing.

use time::OffsetDateTime;

use crate::{
    Error,
    ports::Database,
    statement::{corrupt, integer},
};

/// The statement that creates the table: one row, the first decision's time (Unix seconds).
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_install (
    id INTEGER PRIMARY KEY,
    first_decision_at INTEGER NOT NULL
)";

/// Keep `at` as the install's first decision, unless one is kept already.
pub async fn record(db: &impl Database, at: OffsetDateTime) -> Result<(), Error> {
    db.execute(
        "INSERT INTO pg_install (id, first_decision_at) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
        vec![at.unix_timestamp().into()],
    )
    .await
    .map(drop)
}

/// The install's first decision; `None` before anything was decided.
pub async fn first_decision(db: &impl Database) -> Result<Option<OffsetDateTime>, Error> {
    let rows = db
        .execute(
            "SELECT first_decision_at FROM pg_install WHERE id = 1",
            Vec::new(),
        )
        .await?;
    rows.first()
        .and_then(|row| row.first())
        .map(|at| {
            OffsetDateTime::from_unix_timestamp(integer(at))
                .map_err(|_| corrupt("pg_install.first_decision_at"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use time::macros::datetime;

    use super::*;
    use crate::test_sqlite::Sqlite;

    #[test]
    fn the_first_decision_is_kept_and_never_moved() {
        let db = Sqlite::in_memory();
        block_on(db.execute(SCHEMA, Vec::new())).unwrap();
        assert_eq!(block_on(first_decision(&db)).unwrap(), None);
        let first = datetime!(2026-12-07 09:30 UTC);
        block_on(record(&db, first)).unwrap();
        block_on(record(&db, datetime!(2026-12-08 10:00 UTC))).unwrap();
        block_on(record(&db, datetime!(2026-12-01 10:00 UTC))).unwrap();
        assert_eq!(block_on(first_decision(&db)).unwrap(), Some(first));
    }
}
