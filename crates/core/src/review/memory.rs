//! The review queue in memory, with the same semantics as [`super::sql::SqlReview`]: for the
//! fixture tests and dry runs.

use std::cell::RefCell;

use time::OffsetDateTime;

use super::{LatestScore, Ranking, ReviewOutcome, ReviewQueue, Standing, queue::QueuedRecord};
use crate::{Error, crm_id::Crm, ledger::millis};

/// One record's row.
#[derive(Debug, Clone)]
struct Row {
    latest: LatestScore,
    /// The standing as last settled; `None` until the first settles.
    settled: Option<Standing>,
    told: bool,
    /// Who is telling the owner, and until when.
    telling: Option<(String, OffsetDateTime)>,
}

/// The latest scores in memory.
#[derive(Debug, Default)]
pub struct MemoryReview {
    rows: RefCell<Vec<Row>>,
}

impl MemoryReview {
    /// A queue that already holds `scores` as their records' latest, as earlier deliveries left
    /// them (none flagged).
    pub fn holding(scores: Vec<LatestScore>) -> MemoryReview {
        MemoryReview {
            rows: RefCell::new(
                scores
                    .into_iter()
                    .map(|latest| Row {
                        latest,
                        settled: None,
                        told: false,
                        telling: None,
                    })
                    .collect(),
            ),
        }
    }
}

fn same(a: &LatestScore, b: &LatestScore) -> bool {
    a.crm == b.crm && a.kind == b.kind && a.record_id == b.record_id
}

impl ReviewQueue for MemoryReview {
    async fn rank(
        &self,
        scores: &[LatestScore],
        ranking: &Ranking<'_>,
    ) -> Result<Vec<Standing>, Error> {
        let mut rows = self.rows.borrow_mut();
        let since = millis(ranking.since());
        rows.retain(|r| millis(r.latest.scored_at) >= since);
        for score in scores {
            match rows.iter_mut().find(|r| same(&r.latest, score)) {
                // Kept at the database's precision, as the SQL queue keeps it.
                Some(row) if millis(score.scored_at) >= millis(row.latest.scored_at) => {
                    row.latest = score.clone();
                }
                Some(_) => {}
                None => rows.push(Row {
                    latest: score.clone(),
                    settled: None,
                    told: false,
                    telling: None,
                }),
            }
        }
        let mut standings = Vec::with_capacity(scores.len());
        for score in scores {
            let kept = rows
                .iter()
                .find(|r| same(&r.latest, score))
                .map(|r| r.latest.score)
                .unwrap_or(score.score);
            let peers = rows
                .iter()
                .filter(|r| r.latest.crm == score.crm && r.latest.kind == score.kind);
            let (mut at_or_above, mut scored) = (0, 0);
            for peer in peers {
                scored += 1;
                if peer.latest.score >= kept {
                    at_or_above += 1;
                }
            }
            let mut standing = Standing::of(at_or_above, scored, ranking);
            if let Some(row) = rows.iter_mut().find(|r| same(&r.latest, score))
                && standing.flagged
                && !row.told
            {
                let free = match &row.telling {
                    None => true,
                    Some((holder, until)) => {
                        holder == ranking.claimant || millis(*until) < millis(ranking.now)
                    }
                };
                if free {
                    row.telling = Some((ranking.claimant.to_owned(), ranking.lease_until));
                    standing.tell = true;
                }
            }
            standings.push(standing);
        }
        Ok(standings)
    }

    async fn settle(
        &self,
        crm: Crm,
        claimant: &str,
        outcomes: &[ReviewOutcome],
    ) -> Result<(), Error> {
        let mut rows = self.rows.borrow_mut();
        for outcome in outcomes {
            let row = rows.iter_mut().find(|r| {
                r.latest.crm == crm
                    && r.latest.kind == outcome.kind
                    && r.latest.record_id == outcome.record_id
            });
            if let Some(row) = row {
                let told_now = row.telling.as_ref().is_some_and(|(h, _)| h == claimant);
                row.told = outcome.standing.flagged && (row.told || told_now);
                row.settled = Some(outcome.standing);
            }
        }
        for row in rows.iter_mut() {
            if row.telling.as_ref().is_some_and(|(h, _)| h == claimant) {
                row.telling = None;
            }
        }
        Ok(())
    }

    async fn queue(
        &self,
        crm: Option<Crm>,
        since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<QueuedRecord>, Error> {
        let rows = self.rows.borrow();
        let mut queued: Vec<QueuedRecord> = rows
            .iter()
            .filter(|r| crm.is_none_or(|crm| r.latest.crm == crm))
            .filter(|r| millis(r.latest.scored_at) >= millis(since))
            .filter_map(|r| {
                let standing = r.settled.filter(|s| s.flagged)?;
                Some(QueuedRecord {
                    latest: LatestScore {
                        scored_at: crate::ledger::from_millis(millis(r.latest.scored_at)),
                        ..r.latest.clone()
                    },
                    standing: Standing {
                        tell: false,
                        ..standing
                    },
                    owner_told: r.told,
                })
            })
            .collect();
        queued.sort_by(|a, b| {
            let (a, b) = (&a.latest, &b.latest);
            (b.score, b.scored_at)
                .cmp(&(a.score, a.scored_at))
                .then_with(|| {
                    (a.crm.name(), a.kind.as_str(), &a.record_id).cmp(&(
                        b.crm.name(),
                        b.kind.as_str(),
                        &b.record_id,
                    ))
                })
        });
        queued.truncate(limit);
        Ok(queued)
    }
}
