//! Flagging the top share of recent scores for a person to review.
//!
//! Each record's latest score is kept, one row per CRM, record kind and record id: a re-score
//! replaces it, so nothing counts twice, and scores older than the playbook's
//! `review_window_days` are forgotten. A score is in the top share (`review_share`) when the
//! latest scores at or above it, its own included, are at most that share of the latest scores of
//! its CRM and kind in the window: the rank is two counts over what is kept, taken after the
//! batch's own scores are written, so concurrent batches count each other's. Counting ties with
//! the record means a run of equal scores never floods the queue, and nothing is flagged before
//! there are `1 / review_share` scores to compare with.
//!
//! A record entering the top share has its `review` field set, and its owner is told once, with
//! what to check (a task; a note in shadow mode, which assigns nobody work: [`notice`]); leaving
//! the top share clears the field, and entering it again tells again. Who tells is claimed like a
//! ledger claim, so of concurrent deliveries one does, and a telling whose write-back failed is
//! let go for the retry.
//!
//! - [`ReviewQueue`]: where the latest scores are kept (the port); [`sql::SqlReview`] keeps them
//!   in Spin's SQLite, [`memory::MemoryReview`] in memory for the fixtures and dry runs.
//! - [`queue`]: the records in review, for `GET /score-lead/review`, and [`html`] its page.

pub mod html;
pub mod memory;
mod notice;
pub mod queue;
pub mod sql;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use notice::notice;

use crate::{Error, crm_id::Crm, model::RecordKind, rep_page::card::DealCard};

/// A record's latest score, as the review queue keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatestScore {
    /// The record's CRM.
    pub crm: Crm,
    /// Lead or deal: each kind is ranked among its own.
    pub kind: RecordKind,
    /// The CRM record's id.
    pub record_id: String,
    /// The score, 0–100.
    pub score: u8,
    /// Its tier.
    pub tier: String,
    /// When it was scored.
    #[serde(with = "time::serde::rfc3339")]
    pub scored_at: OffsetDateTime,
}

/// How a batch's scores are ranked, and who tells the owners of those entering the top share.
#[derive(Debug, Clone, Copy)]
pub struct Ranking<'a> {
    /// The top share flagged (the playbook's `review_share`).
    pub share: f64,
    /// How many days back scores count (the playbook's `review_window_days`).
    pub window_days: u16,
    /// Now: the window ends here.
    pub now: OffsetDateTime,
    /// The delivery that tells: unique to its attempt (the ledger's claimant).
    pub claimant: &'a str,
    /// Until when its claim to tell holds, should it never settle (its worker died).
    pub lease_until: OffsetDateTime,
}

impl Ranking<'_> {
    /// The window's start: scores from then on count.
    pub fn since(&self) -> OffsetDateTime {
        window_start(self.now, self.window_days)
    }
}

/// The start of a window of `days` ending `now`.
pub fn window_start(now: OffsetDateTime, days: u16) -> OffsetDateTime {
    now - time::Duration::days(i64::from(days))
}

/// A score's place among the latest scores of its CRM and kind in the window, and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standing {
    /// Latest scores in the window at or above it, its own included.
    pub at_or_above: u32,
    /// Latest scores in the window.
    pub scored: u32,
    /// The top share in force.
    pub share: f64,
    /// The window, in days.
    pub window_days: u16,
    /// Whether it is in the top share.
    pub flagged: bool,
    /// Whether this delivery tells the owner: the record is flagged, nobody told them since it
    /// entered the top share, and no other delivery is telling them now.
    pub tell: bool,
}

impl Standing {
    /// The standing of a score with `at_or_above` of `scored` latest scores at or above it, for
    /// `ranking`; nobody tells yet.
    pub fn of(at_or_above: u32, scored: u32, ranking: &Ranking<'_>) -> Standing {
        Standing {
            at_or_above,
            scored,
            share: ranking.share,
            window_days: ranking.window_days,
            flagged: at_or_above > 0 && f64::from(at_or_above) <= ranking.share * f64::from(scored),
            tell: false,
        }
    }

    /// Why a record of `kind` scored `score` is flagged, in words: `in the top 20 % of the 41
    /// deals scored in the last 30 days: 3 of them, its own included, score 82 or more`.
    pub fn why(&self, kind: RecordKind, score: u8) -> String {
        let kinds = match (kind, self.scored) {
            (RecordKind::Lead, 1) => "lead",
            (RecordKind::Lead, _) => "leads",
            (RecordKind::Deal, 1) => "deal",
            (RecordKind::Deal, _) => "deals",
        };
        let verb = if self.at_or_above == 1 {
            "scores"
        } else {
            "score"
        };
        format!(
            "in the top {:.0} % of the {} {kinds} scored in the last {} days: {} of them, its own \
             included, {verb} {score} or more",
            self.share * 100.0,
            self.scored,
            self.window_days,
            self.at_or_above,
        )
    }
}

/// What the CRM holds for a record once its write-back is done: kept by
/// [`ReviewQueue::settle`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewOutcome {
    /// Lead or deal.
    pub kind: RecordKind,
    /// The CRM record's id.
    pub record_id: String,
    /// Its standing, as written back.
    pub standing: Standing,
}

/// Where each record's latest score is kept, and its review state.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait ReviewQueue {
    /// Keep `scores` as their records' latest (a re-score replaces; an older score never
    /// replaces a newer one), forget the scores scored before the window, and answer each one's
    /// [`Standing`] in order, counted after they are kept. Of those that entered the top share
    /// and whose owner nobody told, the ones no other delivery is telling are claimed for
    /// `ranking.claimant` ([`Standing::tell`]).
    async fn rank(
        &self,
        scores: &[LatestScore],
        ranking: &Ranking<'_>,
    ) -> Result<Vec<Standing>, Error>;
    /// The write-backs of `outcomes` (records of `crm`) are done: keep their standing (a record
    /// that left the top share may be told again when it enters it again), mark the owners
    /// `claimant` told as told, and let go of its other claims to tell.
    async fn settle(
        &self,
        crm: Crm,
        claimant: &str,
        outcomes: &[ReviewOutcome],
    ) -> Result<(), Error>;
    /// Keep `cards` (records of `crm` with an owner) as their records' latest, for each owner's
    /// own page ([`crate::rep_page`]). Where nothing is kept for the reps' pages, nothing is
    /// done.
    async fn keep_cards(&self, crm: Crm, cards: &[DealCard]) -> Result<(), Error> {
        let _ = (crm, cards);
        Ok(())
    }
    /// The records in review (flagged when last scored, scored since `since`), of `crm` or of
    /// every CRM, highest score first, at most `limit`.
    async fn queue(
        &self,
        crm: Option<Crm>,
        since: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<queue::QueuedRecord>, Error>;
}

/// A function that flags nothing for review (gate-handoff, flag-stale-deals): no standing, so no
/// review field is written.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReview;

impl ReviewQueue for NoReview {
    async fn rank(&self, _: &[LatestScore], _: &Ranking<'_>) -> Result<Vec<Standing>, Error> {
        Ok(Vec::new())
    }

    async fn settle(&self, _: Crm, _: &str, _: &[ReviewOutcome]) -> Result<(), Error> {
        Ok(())
    }

    async fn queue(
        &self,
        _: Option<Crm>,
        _: OffsetDateTime,
        _: usize,
    ) -> Result<Vec<queue::QueuedRecord>, Error> {
        Ok(Vec::new())
    }
}
