//! The review queue as an admin reads it (`GET /score-lead/review`): the records flagged when
//! last scored, highest score first. Records only: the queue names no rep and ranks nobody.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{LatestScore, ReviewQueue, Standing, window_start};
use crate::{Error, crm_id::Crm, playbook::Playbook};

/// The most records the queue lists: the highest scores first.
pub const MAX_QUEUED: usize = 500;

/// One record in review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedRecord {
    /// Its latest score.
    #[serde(flatten)]
    pub latest: LatestScore,
    /// Its standing when scored.
    pub standing: Standing,
    /// Whether its owner was told (a task, or a note in shadow mode).
    pub owner_told: bool,
}

impl QueuedRecord {
    /// Why it is flagged, in a sentence.
    pub fn why(&self) -> String {
        format!(
            "Scored {}/100, {}.",
            self.latest.score,
            self.standing.why(self.latest.kind, self.latest.score)
        )
    }
}

/// The queue, as the route answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewReport {
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The CRM asked for, or `None` for every CRM.
    pub crm: Option<Crm>,
    /// The top share flagged now.
    pub share: f64,
    /// The window now, in days.
    pub window_days: u16,
    /// The records in review, highest score first.
    pub records: Vec<QueuedEntry>,
    /// Whether more records are in review than [`MAX_QUEUED`].
    pub truncated: bool,
    /// What a high score does not measure.
    pub not_measured: Vec<String>,
}

/// A record in the report: what is kept, and why it is flagged in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEntry {
    /// The record.
    #[serde(flatten)]
    pub record: QueuedRecord,
    /// Why it is flagged.
    pub why: String,
}

/// The queue of `crm` (or every CRM) under `playbook`'s window, at `now`.
pub async fn report(
    review: &impl ReviewQueue,
    playbook: &Playbook,
    crm: Option<Crm>,
    now: OffsetDateTime,
) -> Result<ReviewReport, Error> {
    let since = window_start(now, playbook.review_window_days);
    let mut records = review.queue(crm, since, MAX_QUEUED + 1).await?;
    let truncated = records.len() > MAX_QUEUED;
    records.truncate(MAX_QUEUED);
    Ok(ReviewReport {
        generated_at: now,
        crm,
        share: playbook.review_share,
        window_days: playbook.review_window_days,
        records: records
            .into_iter()
            .map(|record| QueuedEntry {
                why: record.why(),
                record,
            })
            .collect(),
        truncated,
        not_measured: playbook.not_measured.clone(),
    })
}
