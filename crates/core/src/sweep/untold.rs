//! Deals whose owner a sweep meant to tell but could not: their stale field may already say
//! "owner told" (the field is updated before the task is created, and only the task failed), so
//! the next sweep would take the owner as told. A failed write-back that carried a notice puts
//! the deal here; the next sweep judges it as never told (a task again) and takes it out once a
//! write-back to it succeeds. Nothing the sweep means to tell is lost to a CRM fault.

use std::collections::BTreeSet;

use super::SqlSweeps;
use crate::{
    Error,
    crm::Crm,
    ports::{Database, SqlValue},
    statement::{placeholders, rows},
};

/// The table, as a `CREATE … IF NOT EXISTS` statement.
pub(super) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS pg_sweep_untold (
    crm TEXT NOT NULL,
    deal TEXT NOT NULL,
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

    /// Keep `failed` (deals whose notice could not be written) as untold, and forget `settled`
    /// (deals written back in full, or with nothing to write).
    pub async fn settle_untold(
        &self,
        crm: Crm,
        failed: &[&str],
        settled: &[&str],
    ) -> Result<(), Error> {
        if !failed.is_empty() {
            let sql = format!(
                "INSERT OR IGNORE INTO pg_sweep_untold (crm, deal) VALUES {}",
                rows(failed.len(), "(?, ?)")
            );
            let params = failed
                .iter()
                .flat_map(|deal| [crm.name().into(), SqlValue::from(*deal)])
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
}
