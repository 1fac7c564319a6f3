//! The ledger in a SQL database: Spin's `spin:sqlite` (SQLite embedded in `spin up`, libSQL
//! shared by several nodes). A delivery costs a handful of statements whatever its size: one to
//! read what the ledger holds for its events (a redelivery of settled events stops there, without
//! a write), one to claim the others (an upsert that takes the rows it may and returns every row
//! as it stands), one to read the records' newest changes, one to settle and one to move those
//! forward (and the first settlement keeps the install's first decision: [`crate::install`]).
//! Every statement stands alone, atomically, so nothing depends on a transaction
//! a remote database would not keep across calls.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{
    Claim, Claiming, FailedEvent, Ledger, Retention, Settled, Settlement, from_millis, millis,
};
use crate::{
    Error,
    crm_id::Crm,
    event::WebhookEvent,
    function::FunctionKind,
    install,
    outcome::EventStatus,
    ports::{Database, SqlValue},
    statement::{columns, corrupt, create_missing, placeholders, rows, text},
};

/// The statements that create the ledger's tables, each run on its own.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_events (
        key TEXT PRIMARY KEY,
        function TEXT NOT NULL,
        crm TEXT NOT NULL,
        event_id TEXT NOT NULL,
        record_id TEXT NOT NULL,
        state TEXT NOT NULL,
        claimant TEXT,
        lease_until INTEGER NOT NULL DEFAULT 0,
        keep_until INTEGER NOT NULL,
        at INTEGER NOT NULL,
        outcome TEXT,
        event TEXT,
        partial INTEGER NOT NULL DEFAULT 0
    )",
    "CREATE INDEX IF NOT EXISTS pg_events_keep ON pg_events (keep_until)",
    "CREATE INDEX IF NOT EXISTS pg_events_state ON pg_events (function, state, at)",
    "CREATE TABLE IF NOT EXISTS pg_newest (
        key TEXT PRIMARY KEY,
        occurred_at INTEGER NOT NULL,
        keep_until INTEGER NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS pg_newest_keep ON pg_newest (keep_until)",
    install::SCHEMA,
];

const CLAIMED: &str = "claimed";
const REOPENED: &str = "reopened";

/// The ledger over a [`Database`].
#[derive(Debug)]
pub struct SqlLedger<D> {
    db: D,
}

impl<D: Database> SqlLedger<D> {
    /// A ledger in `db`; call [`SqlLedger::create_tables`] once per database connection's life.
    pub fn new(db: D) -> SqlLedger<D> {
        SqlLedger { db }
    }

    /// Create the tables when they do not exist yet. An embedded SQLite file is switched to
    /// write-ahead logging, so readers never wait for a writer (a remote libSQL database keeps its
    /// own mode: a refusal there is not an error).
    pub async fn create_tables(&self) -> Result<(), Error> {
        let _ = self
            .db
            .execute("PRAGMA journal_mode = WAL", Vec::new())
            .await;
        create_missing(&self.db, SCHEMA).await
    }

    /// Claim `claims` (none settled or held, as last read) in one statement: a row that is new,
    /// whose lease expired, or that an admin reopened, becomes this claimant's; any other keeps
    /// what it had and comes back as it is (`excluded.at` is now).
    async fn take(
        &self,
        claims: &[&Claiming],
        claimant: &str,
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<BTreeMap<String, Claim>, Error> {
        let lease_until = millis(now + retention.lease);
        let keep_until = millis(now + retention.keep);
        let mut params = Vec::with_capacity(claims.len() * 9 + 1);
        for claim in claims.iter().copied() {
            params.extend([
                claim.key.as_str().into(),
                claim.function.name().into(),
                claim.crm.name().into(),
                claim.event_id.as_str().into(),
                claim.record_id.as_str().into(),
                claimant.into(),
                lease_until.into(),
                keep_until.into(),
                millis(now).into(),
            ]);
        }
        let take = "pg_events.state = 'reopened' OR (pg_events.state = 'claimed' AND pg_events.lease_until < excluded.at)";
        let kept = |column: &str| {
            format!(
                "{column} = CASE WHEN {take} THEN excluded.{column} ELSE pg_events.{column} END"
            )
        };
        let sql = format!(
            "INSERT INTO pg_events (key, function, crm, event_id, record_id, claimant, lease_until, keep_until, at, state) \
             VALUES {} \
             ON CONFLICT (key) DO UPDATE SET {}, {}, {}, {}, {} \
             RETURNING key, state, claimant, outcome, partial",
            rows(claims.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'claimed')"),
            kept("state"),
            kept("claimant"),
            kept("lease_until"),
            kept("keep_until"),
            kept("at"),
        );
        let mut answers = BTreeMap::new();
        for row in self.db.execute(&sql, params).await? {
            let [key, state, holder, outcome, partial] = columns(row)?;
            let claim = match text(&state)?.as_str() {
                CLAIMED if holder.as_text() == Some(claimant) => {
                    if partial.as_integer() == Some(1) {
                        Claim::Resume
                    } else {
                        Claim::Mine
                    }
                }
                CLAIMED | REOPENED => Claim::Busy,
                _ => Claim::Settled(decode(&outcome)?),
            };
            answers.insert(text(&key)?, claim);
        }
        Ok(answers)
    }

    /// What the ledger holds now for those of `claims` that are settled, or held by a claim whose
    /// lease has not expired.
    async fn current(
        &self,
        claims: &[Claiming],
        now: OffsetDateTime,
    ) -> Result<BTreeMap<String, Claim>, Error> {
        let sql = format!(
            "SELECT key, state, lease_until, outcome FROM pg_events WHERE key IN ({})",
            placeholders(claims.len())
        );
        let rows = self
            .db
            .execute(&sql, claims.iter().map(|c| c.key.as_str().into()).collect())
            .await?;
        let mut found = BTreeMap::new();
        for row in rows {
            let [key, state, lease_until, outcome] = columns(row)?;
            let claim = match text(&state)?.as_str() {
                REOPENED => continue,
                CLAIMED if lease_until.as_integer().unwrap_or(0) < millis(now) => continue,
                CLAIMED => Claim::Busy,
                _ => Claim::Settled(decode(&outcome)?),
            };
            found.insert(text(&key)?, claim);
        }
        Ok(found)
    }
}

impl<D: Database> Ledger for SqlLedger<D> {
    async fn claim(
        &self,
        claims: &[Claiming],
        claimant: &str,
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<Vec<Claim>, Error> {
        if claims.is_empty() {
            return Ok(Vec::new());
        }
        // Read first: a redelivery of settled events, the usual retry, is answered without a
        // write (no lock taken, nothing for concurrent deliveries to wait on).
        let mut answers = self.current(claims, now).await?;
        let open: Vec<&Claiming> = claims
            .iter()
            .filter(|c| !answers.contains_key(&c.key))
            .collect();
        if !open.is_empty() {
            answers.extend(self.take(&open, claimant, now, retention).await?);
        }
        claims
            .iter()
            .map(|c| {
                answers
                    .remove(&c.key)
                    .ok_or_else(|| corrupt("the claim's answer"))
            })
            .collect()
    }

    async fn newest(&self, streams: &[String]) -> Result<BTreeMap<String, OffsetDateTime>, Error> {
        if streams.is_empty() {
            return Ok(BTreeMap::new());
        }
        let sql = format!(
            "SELECT key, occurred_at FROM pg_newest WHERE key IN ({})",
            placeholders(streams.len())
        );
        let rows = self
            .db
            .execute(&sql, streams.iter().map(|s| s.as_str().into()).collect())
            .await?;
        rows.into_iter()
            .map(|row| {
                let [key, at] = columns(row)?;
                let at = at
                    .as_integer()
                    .ok_or_else(|| corrupt("pg_newest.occurred_at"))?;
                Ok((text(&key)?, from_millis(at)))
            })
            .collect()
    }

    async fn settle(
        &self,
        claimant: &str,
        settlements: &[Settlement],
        newest: &[(String, OffsetDateTime)],
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<(), Error> {
        let keep_until = millis(now + retention.keep);
        if !settlements.is_empty() {
            let mut params = Vec::with_capacity(settlements.len() * 11);
            for s in settlements {
                let outcome = serde_json::to_string(&s.settled).map_err(store_error)?;
                let event = s
                    .event
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(store_error)?;
                params.extend([
                    s.claim.key.as_str().into(),
                    s.claim.function.name().into(),
                    s.claim.crm.name().into(),
                    s.claim.event_id.as_str().into(),
                    s.claim.record_id.as_str().into(),
                    state(s.settled.status).into(),
                    claimant.into(),
                    keep_until.into(),
                    millis(now).into(),
                    outcome.into(),
                    event.into(),
                ]);
            }
            let sql = format!(
                "INSERT INTO pg_events (key, function, crm, event_id, record_id, state, claimant, keep_until, at, outcome, event) \
                 VALUES {} \
                 ON CONFLICT (key) DO UPDATE SET state = excluded.state, lease_until = 0, \
                 keep_until = excluded.keep_until, at = excluded.at, outcome = excluded.outcome, event = excluded.event \
                 WHERE pg_events.state = 'claimed' AND pg_events.claimant = excluded.claimant",
                rows(settlements.len(), "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            );
            self.db.execute(&sql, params).await?;
            install::record(&self.db, now).await?;
        }
        if !newest.is_empty() {
            // One row per stream: PostgreSQL refuses an upsert that meets a row twice.
            let mut latest: BTreeMap<&str, OffsetDateTime> = BTreeMap::new();
            for (key, at) in newest {
                let kept = latest.entry(key.as_str()).or_insert(*at);
                *kept = (*kept).max(*at);
            }
            let mut params = Vec::with_capacity(latest.len() * 3);
            for (key, at) in &latest {
                params.extend([(*key).into(), millis(*at).into(), keep_until.into()]);
            }
            let sql = format!(
                "INSERT INTO pg_newest (key, occurred_at, keep_until) VALUES {} \
                 ON CONFLICT (key) DO UPDATE SET occurred_at = max(pg_newest.occurred_at, excluded.occurred_at), \
                 keep_until = excluded.keep_until",
                rows(latest.len(), "(?, ?, ?)")
            );
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }

    async fn mark_partial(&self, claimant: &str, keys: &[String]) -> Result<(), Error> {
        if keys.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE pg_events SET partial = 1 WHERE claimant = ? AND key IN ({})",
            placeholders(keys.len())
        );
        let mut params = vec![claimant.into()];
        params.extend(keys.iter().map(|k| k.as_str().into()));
        self.db.execute(&sql, params).await.map(drop)
    }

    async fn release(&self, claimant: &str) -> Result<(), Error> {
        self.db
            .execute(
                "UPDATE pg_events SET lease_until = 0 WHERE claimant = ? AND state = 'claimed'",
                vec![claimant.into()],
            )
            .await
            .map(drop)
    }

    async fn reopen(
        &self,
        function: FunctionKind,
        crm: Crm,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Vec<WebhookEvent>, Error> {
        let rows = self
            .db
            .execute(
                "UPDATE pg_events SET state = 'reopened', lease_until = 0 WHERE key IN \
                 (SELECT key FROM pg_events WHERE function = ? AND crm = ? AND event IS NOT NULL \
                  AND (state IN ('failed', 'reopened') OR (state = 'claimed' AND lease_until < ?)) \
                  ORDER BY at LIMIT ?) RETURNING event",
                vec![
                    function.name().into(),
                    crm.name().into(),
                    millis(now).into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let event = first_text(row)?;
                serde_json::from_str(&event).map_err(|_| corrupt("pg_events.event"))
            })
            .collect()
    }

    async fn failed(
        &self,
        function: FunctionKind,
        limit: usize,
    ) -> Result<Vec<FailedEvent>, Error> {
        let rows = self
            .db
            .execute(
                "SELECT event_id, record_id, outcome, at FROM pg_events \
                 WHERE function = ? AND state = 'failed' ORDER BY at DESC LIMIT ?",
                vec![
                    function.name().into(),
                    i64::try_from(limit).unwrap_or(i64::MAX).into(),
                ],
            )
            .await?;
        rows.into_iter()
            .map(|row| {
                let [event_id, record_id, outcome, at] = columns(row)?;
                let settled = decode(&outcome)?;
                Ok(FailedEvent {
                    event_id: text(&event_id)?,
                    record_id: text(&record_id)?,
                    reason: settled.reason.unwrap_or_default(),
                    failed_at: from_millis(at.as_integer().unwrap_or_default()),
                })
            })
            .collect()
    }

    async fn forget_expired(&self, now: OffsetDateTime) -> Result<(), Error> {
        let now = millis(now);
        // A claim outlives its keep time only if its worker died; its lease has expired long ago.
        self.db
            .execute(
                "DELETE FROM pg_events WHERE keep_until < ?",
                vec![now.into()],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM pg_newest WHERE keep_until < ?",
                vec![now.into()],
            )
            .await
            .map(drop)
    }
}

/// The state column for a settled status.
fn state(status: EventStatus) -> &'static str {
    match status {
        EventStatus::Failed => "failed",
        EventStatus::Superseded => "superseded",
        _ => "processed",
    }
}

fn first_text(row: &[SqlValue]) -> Result<String, Error> {
    row.first().map_or_else(|| Err(corrupt("a row")), text)
}

fn decode(outcome: &SqlValue) -> Result<Settled, Error> {
    let text = text(outcome)?;
    serde_json::from_str(&text).map_err(|_| corrupt("pg_events.outcome"))
}

fn store_error(e: serde_json::Error) -> Error {
    Error::Store(e.to_string())
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use time::macros::datetime;

    use super::*;
    use crate::{ledger::event_key, test_sqlite::Sqlite};

    #[test]
    fn the_first_settlement_keeps_the_install_s_first_decision() {
        let ledger = SqlLedger::new(Sqlite::in_memory());
        block_on(ledger.create_tables()).unwrap();
        let settle = |id: &str, at: OffsetDateTime| {
            let claim = Claiming {
                key: event_key(FunctionKind::ScoreLead, id),
                function: FunctionKind::ScoreLead,
                crm: Crm::Generic,
                event_id: id.into(),
                record_id: "D-1".into(),
            };
            let settled = Settled {
                status: EventStatus::Processed,
                brief: None,
                reason: None,
            };
            let settlement = Settlement {
                claim,
                settled,
                event: None,
            };
            block_on(ledger.settle("a", &[settlement], &[], at, Retention::default())).unwrap();
        };
        assert_eq!(block_on(install::first_decision(&ledger.db)).unwrap(), None);
        let first = datetime!(2026-12-07 09:00 UTC);
        settle("e1", first);
        settle("e2", first + time::Duration::days(3));
        assert_eq!(
            block_on(install::first_decision(&ledger.db)).unwrap(),
            Some(first)
        );
    }
}
