//! Deals whose owner a sweep meant to tell but could not: their stale field may already say
//! "owner told" (the field is updated before the task is created, and only the task failed), so
//! the next sweep would take the owner as told. A failed write-back that carried a notice puts
//! the deal here; the next sweep judges it as never told (a task again) and takes it out once a
//! write-back to it succeeds. Nothing the sweep means to tell is lost to a CRM fault. A deal
//! no sweep has seen since (closed, deleted) is forgotten when the next sweep ends.

use std::collections::BTreeSet;

use time::OffsetDateTime;

use super::SqlSweeps;
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{placeholders, rows},
};

/// The table, as a `CREATE … IF NOT EXISTS` statement.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_sweep_untold (
    crm TEXT NOT NULL,
    deal TEXT NOT NULL,
    marked_at INTEGER NOT NULL,
    PRIMARY KEY (crm, deal)
)";

impl<D: Database> SqlSweeps<D> {
    /// Which of `deals` of `crm` a sweep could not tell of their state.
    pub async fn untold(&self, crm: Crm, deals: &[&str]) -> Result<BTreeSet<String>, Error> {
        if deals.is_empty() {
            return Ok(BTreeSet::new());
        }
        let sql = format!(
            "SELECT deal FROM pg_sweep_untold WHERE crm = ? AND deal IN ({})",
            placeholders(deals.len())
        );
        let params = std::iter::once(crm.name().into())
            .chain(deals.iter().map(|d| SqlValue::from(*d)))
            .collect();
        let found = self.db.execute(&sql, params).await?;
        Ok(found
            .iter()
            .filter_map(|row| row.first().and_then(SqlValue::as_text))
            .map(str::to_owned)
            .collect())
    }

    /// Keep `failed` (deals whose notice could not be written) as untold at `now`, and forget
    /// `settled` (deals written back in full, or with nothing to write).
    pub async fn settle_untold(
        &self,
        crm: Crm,
        failed: &[&str],
        settled: &[&str],
        now: OffsetDateTime,
    ) -> Result<(), Error> {
        if !failed.is_empty() {
            let sql = format!(
                "INSERT INTO pg_sweep_untold (crm, deal, marked_at) VALUES {}
                 ON CONFLICT (crm, deal) DO UPDATE SET marked_at = excluded.marked_at",
                rows(failed.len(), "(?, ?, ?)")
            );
            let params = failed
                .iter()
                .flat_map(|deal| {
                    [
                        crm.name().into(),
                        SqlValue::from(*deal),
                        now.unix_timestamp().into(),
                    ]
                })
                .collect();
            self.db.execute(&sql, params).await?;
        }
        if !settled.is_empty() {
            let sql = format!(
                "DELETE FROM pg_sweep_untold WHERE crm = ? AND deal IN ({})",
                placeholders(settled.len())
            );
            let params = std::iter::once(crm.name().into())
                .chain(settled.iter().map(|d| SqlValue::from(*d)))
                .collect();
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }

    /// Forget `crm`'s untold deals marked before `sweep` started: the sweep that just ended did
    /// not see them (closed or deleted since), or it would have told them or marked them again.
    pub async fn forget_untold_before(&self, crm: Crm, sweep: OffsetDateTime) -> Result<(), Error> {
        self.db
            .execute(
                "DELETE FROM pg_sweep_untold WHERE crm = ? AND marked_at < ?",
                vec![crm.name().into(), sweep.unix_timestamp().into()],
            )
            .await
            .map(drop)
    }
}
