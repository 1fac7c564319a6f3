//! The review queue in a SQL database (Spin's `spin:sqlite`, the same `default` database as the
//! ledger). One row per CRM, record kind and record id holds the record's latest score and its
//! review state. A batch costs four statements: forget scores out of the window, upsert the
//! batch's scores, count each one's rank over what is kept (two indexed counts per record), and
//! claim the telling of those entering the top share; settling costs two. Every statement stands
//! alone, atomically: a concurrent batch's scores count as soon as its upsert is done.

use std::collections::BTreeMap;

use super::{LatestScore, Ranking, ReviewOutcome, ReviewQueue, Standing, queue::QueuedRecord};
use crate::{
    Error,
    crm_id::Crm,
    ledger::{from_millis, millis},
    model::RecordKind,
    ports::{Database, SqlValue},
    rep_page::{card::DealCard, kept},
    statement::{columns, corrupt, create_missing, integer, rows, text},
};

/// The statements that create the review queue's table, each run on its own.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_review (
        crm TEXT NOT NULL,
        kind TEXT NOT NULL,
        record_id TEXT NOT NULL,
        score INTEGER NOT NULL,
        tier TEXT NOT NULL,
        scored_at INTEGER NOT NULL,
        flagged INTEGER NOT NULL DEFAULT 0,
        at_or_above INTEGER NOT NULL DEFAULT 0,
        scored INTEGER NOT NULL DEFAULT 0,
        share REAL NOT NULL DEFAULT 0,
        window_days INTEGER NOT NULL DEFAULT 0,
        told INTEGER NOT NULL DEFAULT 0,
        telling TEXT,
        telling_until INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (crm, kind, record_id)
    )",
    // Covering: a rank's two counts never read the table.
    "CREATE INDEX IF NOT EXISTS pg_review_rank ON pg_review (crm, kind, score, scored_at)",
    "CREATE INDEX IF NOT EXISTS pg_review_scored ON pg_review (scored_at)",
    "CREATE INDEX IF NOT EXISTS pg_review_queue ON pg_review (flagged, score)",
    "CREATE INDEX IF NOT EXISTS pg_review_telling ON pg_review (telling)",
];

/// The review queue over a [`Database`].
#[derive(Debug)]
pub struct SqlReview<D> {
    db: D,
}

impl<D: Database> SqlReview<D> {
    /// The queue in `db`; call [`SqlReview::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlReview<D> {
        SqlReview { db }
    }

    /// Create the table when it does not exist yet.
    pub async fn create_tables(&self) -> Result<(), Error> {
        let statements: Vec<&str> = SCHEMA.iter().chain(kept::SCHEMA).copied().collect();
        create_missing(&self.db, &statements).await
    }

    /// The batch's records, as a `VALUES` list of `(kind, record_id)` and its parameters.
    fn records(scores: &[LatestScore]) -> (String, Vec<SqlValue>) {
        let params = scores
            .iter()
            .flat_map(|s| [s.kind.as_str().into(), s.record_id.as_str().into()])
            .collect();
        (rows(scores.len(), "(?, ?)"), params)
    }
}

impl<D: Database> ReviewQueue for SqlReview<D> {
    async fn keep_cards(&self, crm: Crm, cards: &[DealCard]) -> Result<(), Error> {
        kept::keep_cards(&self.db, crm, cards).await
    }

    async fn rank(
        &self,
        scores: &[LatestScore],
        ranking: &Ranking<'_>,
    ) -> Result<Vec<Standing>, Error> {
        let Some(first) = scores.first() else {
            return Ok(Vec::new());
        };
        let crm = first.crm;
        if scores.iter().any(|s| s.crm != crm) {
            return Err(Error::Store("one batch ranks one CRM's scores".into()));
        }
        let since = millis(ranking.since());
        self.db
            .execute(
                "DELETE FROM pg_review WHERE scored_at < ?",
                vec![since.into()],
            )
            .await?;
        // One row per record, its latest score: PostgreSQL refuses an upsert that meets a row
        // twice (a batch may carry two changes of one deal).
        let mut latest: BTreeMap<(&str, &str), &LatestScore> = BTreeMap::new();
        for s in scores {
            let kept = latest
                .entry((s.kind.as_str(), s.record_id.as_str()))
                .or_insert(s);
            if s.scored_at >= kept.scored_at {
                *kept = s;
            }
        }
        let mut params = Vec::with_capacity(latest.len() * 6);
        for s in latest.values() {
            params.extend([
                crm.name().into(),
                s.kind.as_str().into(),
                s.record_id.as_str().into(),
                i64::from(s.score).into(),
                s.tier.as_str().into(),
                millis(s.scored_at).into(),
            ]);
        }
        let sql = format!(
            "INSERT INTO pg_review (crm, kind, record_id, score, tier, scored_at) VALUES {} \
             ON CONFLICT (crm, kind, record_id) DO UPDATE SET score = excluded.score, \
             tier = excluded.tier, scored_at = excluded.scored_at \
             WHERE excluded.scored_at >= pg_review.scored_at",
            rows(latest.len(), "(?, ?, ?, ?, ?, ?)")
        );
        self.db.execute(&sql, params).await?;

        let (batch, mut params) = Self::records(scores);
        params.extend([since.into(), since.into(), crm.name().into()]);
        let sql = format!(
            "WITH batch (kind, record_id) AS (VALUES {batch}) \
             SELECT r.kind, r.record_id, \
             (SELECT COUNT(*) FROM pg_review o WHERE o.crm = r.crm AND o.kind = r.kind \
              AND o.score >= r.score AND o.scored_at >= ?), \
             (SELECT COUNT(*) FROM pg_review o WHERE o.crm = r.crm AND o.kind = r.kind \
              AND o.scored_at >= ?) \
             FROM pg_review r JOIN batch b ON r.kind = b.kind AND r.record_id = b.record_id \
             WHERE r.crm = ?"
        );
        let mut ranked = Vec::new();
        for row in self.db.execute(&sql, params).await? {
            let [kind, record_id, at_or_above, scored] = columns(row)?;
            ranked.push((
                text(&kind)?,
                text(&record_id)?,
                Standing::of(count(&at_or_above), count(&scored), ranking),
            ));
        }
        let mut standings = scores
            .iter()
            .map(|s| {
                ranked
                    .iter()
                    .find(|(kind, id, _)| kind == s.kind.as_str() && *id == s.record_id)
                    .map(|(_, _, standing)| *standing)
                    .ok_or_else(|| corrupt("pg_review: a score just kept"))
            })
            .collect::<Result<Vec<Standing>, Error>>()?;

        let entering: Vec<LatestScore> = scores
            .iter()
            .zip(&standings)
            .filter(|(_, standing)| standing.flagged)
            .map(|(s, _)| s.clone())
            .collect();
        if entering.is_empty() {
            return Ok(standings);
        }
        let (batch, batch_params) = Self::records(&entering);
        let mut params: Vec<SqlValue> = vec![
            ranking.claimant.into(),
            millis(ranking.lease_until).into(),
            crm.name().into(),
            ranking.claimant.into(),
            millis(ranking.now).into(),
        ];
        params.extend(batch_params);
        // A claim held by a worker that died expires with its lease; this claimant's own (a
        // retry within the same attempt) is taken again.
        let sql = format!(
            "UPDATE pg_review SET telling = ?, telling_until = ? \
             WHERE crm = ? AND told = 0 \
             AND (telling IS NULL OR telling = ? OR telling_until < ?) \
             AND (kind, record_id) IN (VALUES {batch}) RETURNING kind, record_id"
        );
        for row in self.db.execute(&sql, params).await? {
            let [kind, record_id] = columns(row)?;
            let (kind, record_id) = (text(&kind)?, text(&record_id)?);
            for (s, standing) in scores.iter().zip(standings.iter_mut()) {
                if s.kind.as_str() == kind && s.record_id == record_id {
                    standing.tell = true;
                }
            }
        }
        Ok(standings)
    }

    async fn settle(
        &self,
        crm: Crm,
        claimant: &str,
        outcomes: &[ReviewOutcome],
    ) -> Result<(), Error> {
        if !outcomes.is_empty() {
            let mut params = Vec::with_capacity(outcomes.len() * 7 + 2);
            for o in outcomes {
                let s = &o.standing;
                params.extend([
                    o.kind.as_str().into(),
                    o.record_id.as_str().into(),
                    i64::from(s.flagged).into(),
                    i64::from(s.at_or_above).into(),
                    i64::from(s.scored).into(),
                    SqlValue::Real(s.share),
                    i64::from(s.window_days).into(),
                ]);
            }
            params.extend([claimant.into(), crm.name().into()]);
            // Leaving the top share forgets the telling: entering it again tells again.
            let sql = format!(
                "WITH settled (kind, record_id, flagged, at_or_above, scored, share, window_days) \
                 AS (VALUES {}) \
                 UPDATE pg_review SET flagged = settled.flagged, \
                 at_or_above = settled.at_or_above, scored = settled.scored, \
                 share = settled.share, window_days = settled.window_days, \
                 told = CASE WHEN settled.flagged = 0 THEN 0 \
                   WHEN pg_review.telling = ? THEN 1 ELSE pg_review.told END \
                 FROM settled WHERE pg_review.crm = ? AND pg_review.kind = settled.kind \
                 AND pg_review.record_id = settled.record_id",
                rows(outcomes.len(), "(?, ?, ?, ?, ?, ?, ?)")
            );
            self.db.execute(&sql, params).await?;
        }
        self.db
            .execute(
                "UPDATE pg_review SET telling = NULL, telling_until = 0 WHERE telling = ?",
                vec![claimant.into()],
            )
            .await
            .map(drop)
    }

    async fn queue(
        &self,
        crm: Option<Crm>,
        since: time::OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<QueuedRecord>, Error> {
        let mut params = vec![millis(since).into()];
        let only_crm = match crm {
            Some(crm) => {
                params.push(crm.name().into());
                " AND crm = ?"
            }
            None => "",
        };
        params.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        let sql = format!(
            "SELECT crm, kind, record_id, score, tier, scored_at, at_or_above, scored, share, \
             window_days, told FROM pg_review WHERE flagged = 1 AND scored_at >= ?{only_crm} \
             ORDER BY score DESC, scored_at DESC, crm, kind, record_id LIMIT ?"
        );
        let mut queued = Vec::new();
        for row in self.db.execute(&sql, params).await? {
            let [
                crm,
                kind,
                record_id,
                score,
                tier,
                scored_at,
                at_or_above,
                scored,
                share,
                window_days,
                told,
            ] = columns(row)?;
            queued.push(QueuedRecord {
                latest: LatestScore {
                    crm: Crm::from_name(&text(&crm)?).ok_or_else(|| corrupt("pg_review.crm"))?,
                    kind: record_kind(&text(&kind)?)?,
                    record_id: text(&record_id)?,
                    score: u8::try_from(integer(&score)).map_err(|_| corrupt("pg_review.score"))?,
                    tier: text(&tier)?,
                    scored_at: from_millis(integer(&scored_at)),
                },
                standing: Standing {
                    at_or_above: count(&at_or_above),
                    scored: count(&scored),
                    share: match share {
                        SqlValue::Real(x) => x,
                        other => integer(&other) as f64,
                    },
                    window_days: u16::try_from(integer(&window_days)).unwrap_or(u16::MAX),
                    flagged: true,
                    tell: false,
                },
                owner_told: integer(&told) == 1,
            });
        }
        Ok(queued)
    }
}

/// A count column.
fn count(value: &SqlValue) -> u32 {
    u32::try_from(integer(value)).unwrap_or(u32::MAX)
}

/// A record kind column.
fn record_kind(name: &str) -> Result<RecordKind, Error> {
    match name {
        "lead" => Ok(RecordKind::Lead),
        "deal" => Ok(RecordKind::Deal),
        _ => Err(corrupt("pg_review.kind")),
    }
}
