//! The handoff log in a SQL database (Spin's `spin:sqlite`, the same `default` database as the
//! ledger). Handoffs, their gaps and verdicts are rows; triggers keep the report's counts per
//! week as they are written ([`super::rollup`]), so a report never reads a year of rows. Each statement stands alone; every write is keyed by the event
//! that made it, so a retry changes nothing.

use super::{DealHistory, HandoffLog, HandoffRecord, RecordedHandoff, VerdictRecord};
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{
        columns, corrupt, create_missing, integer, optional_text, placeholders, rows, text,
    },
};

/// The statements that create the handoff log's tables, each run on its own.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_handoffs (
        key TEXT PRIMARY KEY,
        crm TEXT NOT NULL,
        deal_id TEXT NOT NULL,
        deal_name TEXT,
        bdr TEXT,
        ae TEXT,
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        rule TEXT NOT NULL,
        threshold INTEGER NOT NULL,
        score INTEGER NOT NULL,
        from_stage TEXT,
        to_stage TEXT NOT NULL,
        dimensions TEXT NOT NULL,
        verdict TEXT,
        reason TEXT,
        verdict_at INTEGER,
        verdict_key TEXT
    )",
    "CREATE INDEX IF NOT EXISTS pg_handoffs_deal ON pg_handoffs (crm, deal_id, at)",
    // Covering: a week's summaries never read the table.
    "CREATE INDEX IF NOT EXISTS pg_handoffs_week ON pg_handoffs \
        (crm, at, bdr, status, verdict, reason, deal_id, deal_name)",
    "CREATE TABLE IF NOT EXISTS pg_handoff_gaps (
        handoff_key TEXT NOT NULL,
        dimension TEXT NOT NULL,
        status TEXT NOT NULL,
        crm TEXT NOT NULL,
        bdr TEXT,
        at INTEGER NOT NULL,
        PRIMARY KEY (handoff_key, dimension)
    )",
    "CREATE INDEX IF NOT EXISTS pg_handoff_gaps_week ON pg_handoff_gaps (crm, at, bdr, dimension)",
    "CREATE TABLE IF NOT EXISTS pg_verdicts (
        key TEXT PRIMARY KEY,
        crm TEXT NOT NULL,
        deal_id TEXT NOT NULL,
        handoff_key TEXT,
        verdict TEXT NOT NULL,
        reason TEXT,
        ae TEXT,
        at INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS pg_verdicts_deal ON pg_verdicts (crm, deal_id, at)",
    "CREATE TABLE IF NOT EXISTS pg_summaries (
        crm TEXT NOT NULL,
        bdr TEXT NOT NULL,
        week INTEGER NOT NULL,
        state TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (crm, bdr, week)
    )",
];

/// The handoff log over a [`Database`].
#[derive(Debug)]
pub struct SqlHandoffs<D> {
    pub(super) db: D,
}

impl<D: Database> SqlHandoffs<D> {
    /// The log in `db`; call [`SqlHandoffs::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlHandoffs<D> {
        SqlHandoffs { db }
    }

    /// Create the tables when they do not exist yet.
    pub async fn create_tables(&self) -> Result<(), Error> {
        let statements: Vec<&str> = SCHEMA
            .iter()
            .chain(super::rollup::SCHEMA)
            .copied()
            .chain([
                super::reminder::SCHEMA,
                crate::install::SCHEMA,
                crate::rep_page::sharing::SCHEMA,
            ])
            // The report and the AE's reminder name BDRs by the names deliveries kept.
            .chain(crate::people::sql::SCHEMA.iter().copied())
            .collect();
        create_missing(&self.db, &statements).await
    }
}

impl<D: Database> HandoffLog for SqlHandoffs<D> {
    async fn record_handoffs(&self, records: &[HandoffRecord]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut params = Vec::with_capacity(records.len() * 14);
        for r in records {
            let dimensions =
                serde_json::to_string(&r.dimensions).map_err(|e| Error::Store(e.to_string()))?;
            params.extend([
                r.key.as_str().into(),
                r.crm.name().into(),
                r.deal_id.as_str().into(),
                r.deal_name.clone().into(),
                r.bdr.clone().into(),
                r.ae.clone().into(),
                r.at.unix_timestamp().into(),
                r.status.as_str().into(),
                r.rule.as_str().into(),
                i64::from(r.threshold).into(),
                i64::from(r.score).into(),
                r.from_stage.clone().into(),
                r.to_stage.as_str().into(),
                dimensions.into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO pg_handoffs (key, crm, deal_id, deal_name, bdr, ae, at, status, rule, \
             threshold, score, from_stage, to_stage, dimensions) VALUES {} ON CONFLICT DO NOTHING",
            rows(records.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        );
        // The gaps and the report's counts follow in the same statement (`super::rollup`).
        self.db.execute(&sql, params).await.map(drop)
    }

    async fn history(&self, crm: Crm, deal_ids: &[&str]) -> Result<Vec<DealHistory>, Error> {
        let mut history = vec![DealHistory::default(); deal_ids.len()];
        if deal_ids.is_empty() {
            return Ok(history);
        }
        let slots = |deal: &str| {
            deal_ids
                .iter()
                .enumerate()
                .filter(move |(_, id)| **id == deal)
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        };
        let mut params = vec![SqlValue::from(crm.name())];
        params.extend(deal_ids.iter().map(|id| SqlValue::from(*id)));
        // Rows come oldest first.
        let sql = format!(
            "SELECT key, deal_id, bdr, ae, at, status, from_stage, to_stage FROM pg_handoffs \
             WHERE crm = ? AND deal_id IN ({}) ORDER BY at, key",
            placeholders(deal_ids.len())
        );
        for row in self.db.execute(&sql, params.clone()).await? {
            let [key, deal_id, bdr, ae, at, status, from_stage, to_stage] = columns(row)?;
            let handoff = RecordedHandoff {
                key: text(&key)?,
                deal_id: text(&deal_id)?,
                bdr: optional_text(&bdr),
                ae: optional_text(&ae),
                at: timestamp(&at)?,
                status: text(&status)?,
                from_stage: optional_text(&from_stage),
                to_stage: text(&to_stage)?,
            };
            for i in slots(&handoff.deal_id) {
                history[i].handoffs.push(handoff.clone());
            }
        }
        let sql = format!(
            "SELECT key, deal_id, handoff_key, verdict, reason, ae, at FROM pg_verdicts \
             WHERE crm = ? AND deal_id IN ({}) ORDER BY at, key",
            placeholders(deal_ids.len())
        );
        for row in self.db.execute(&sql, params).await? {
            let [key, deal_id, handoff_key, verdict, reason, ae, at] = columns(row)?;
            let verdict = VerdictRecord {
                key: text(&key)?,
                crm,
                deal_id: text(&deal_id)?,
                handoff_key: optional_text(&handoff_key),
                verdict: text(&verdict)?,
                reason: optional_text(&reason),
                ae: optional_text(&ae),
                at: timestamp(&at)?,
            };
            // A later verdict of the same deal replaces an earlier.
            for i in slots(&verdict.deal_id) {
                history[i].verdict = Some(verdict.clone());
            }
        }
        Ok(history)
    }

    async fn record_verdicts(&self, verdicts: &[VerdictRecord]) -> Result<(), Error> {
        if verdicts.is_empty() {
            return Ok(());
        }
        let mut params = Vec::with_capacity(verdicts.len() * 8);
        for v in verdicts {
            params.extend([
                v.key.as_str().into(),
                v.crm.name().into(),
                v.deal_id.as_str().into(),
                v.handoff_key.clone().into(),
                v.verdict.as_str().into(),
                v.reason.clone().into(),
                v.ae.clone().into(),
                v.at.unix_timestamp().into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO pg_verdicts (key, crm, deal_id, handoff_key, verdict, reason, ae, at) \
             VALUES {} ON CONFLICT DO NOTHING",
            rows(verdicts.len(), "(?, ?, ?, ?, ?, ?, ?, ?)")
        );
        self.db.execute(&sql, params).await?;
        for v in verdicts {
            let Some(handoff) = &v.handoff_key else {
                continue;
            };
            // A verdict never replaces a later one (events of a deal can arrive out of order).
            self.db
                .execute(
                    "UPDATE pg_handoffs SET verdict = ?, reason = ?, verdict_at = ?, verdict_key = ? \
                     WHERE key = ? AND (verdict_at IS NULL OR verdict_at < ? \
                     OR (verdict_at = ? AND verdict_key <= ?))",
                    vec![
                        v.verdict.as_str().into(),
                        v.reason.clone().into(),
                        v.at.unix_timestamp().into(),
                        v.key.as_str().into(),
                        handoff.as_str().into(),
                        v.at.unix_timestamp().into(),
                        v.at.unix_timestamp().into(),
                        v.key.as_str().into(),
                    ],
                )
                .await?;
        }
        Ok(())
    }
}

/// A Unix-seconds column.
fn timestamp(value: &SqlValue) -> Result<time::OffsetDateTime, Error> {
    time::OffsetDateTime::from_unix_timestamp(integer(value)).map_err(|_| corrupt("a time column"))
}
