//! The handoff loop's memory: a record of every handoff attempt, the AE's verdicts on them, and
//! what is built from both (the coaching report, the BDRs' weekly summaries).
//!
//! - [`HandoffRecord`]: one attempt (deal, CRM, BDR, AE, time, the gate's verdict, the rule that
//!   decided, a compact scorecard snapshot), written by gate-handoff's pipeline for every handoff
//!   it decides.
//! - [`VerdictRecord`]: an AE's verdict (accepted, rejected with a reason, unreadable), attached
//!   to the deal's latest handoff, or kept as a verdict without handoff.
//! - [`HandoffLog`]: where both are kept (the port); [`sql::SqlHandoffs`] keeps them in Spin's
//!   SQLite and answers the [`report`] and the [`summary`] queries with indexed aggregates.
//! - [`reminder`]: the AE reminded once, by the sweep, of a verdict awaited 24 hours.

pub mod html;
pub mod memory;
pub mod reminder;
pub mod report;
pub mod rollup;
pub mod sql;
pub mod summary;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error,
    crm_id::Crm,
    event::WebhookEvent,
    gate::{HandoffDecision, Verdict},
    score::{DimensionScore, Status},
};

/// One dimension of a handoff's scorecard, as kept: its status and points, never its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionSnapshot {
    /// The dimension's key.
    pub key: String,
    /// Its status.
    pub status: Status,
    /// Its points.
    pub points: f64,
    /// The most it could score.
    pub max_points: f64,
}

impl From<&DimensionScore> for DimensionSnapshot {
    fn from(d: &DimensionScore) -> DimensionSnapshot {
        DimensionSnapshot {
            key: d.key.clone(),
            status: d.status,
            points: d.points,
            max_points: d.max_points,
        }
    }
}

/// One handoff attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffRecord {
    /// The event that made it (its de-duplication key): a redelivery records nothing new.
    pub key: String,
    /// The CRM.
    pub crm: Crm,
    /// The deal.
    pub deal_id: String,
    /// The deal's name, when known.
    pub deal_name: Option<String>,
    /// The BDR's CRM user id, when known.
    pub bdr: Option<String>,
    /// The AE's CRM user id, when known.
    pub ae: Option<String>,
    /// When the deal entered the handoff stage.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `validated`, `blocked`, or `would_block` (shadow mode).
    pub status: String,
    /// The rule that decided: the first failed one, or `all rules passed`.
    pub rule: String,
    /// The threshold in force.
    pub threshold: u8,
    /// The score the threshold was compared with.
    pub score: u8,
    /// The stage the deal came from, when the CRM said.
    pub from_stage: Option<String>,
    /// The handoff stage.
    pub to_stage: String,
    /// The scorecard, per dimension.
    pub dimensions: Vec<DimensionSnapshot>,
}

impl HandoffRecord {
    /// The record of `decision`, made for `event` from `crm`.
    pub fn of(decision: &HandoffDecision, event: &WebhookEvent, crm: Crm) -> HandoffRecord {
        let record = &event.record;
        HandoffRecord {
            key: event.dedupe_key.clone(),
            crm,
            deal_id: record.id.clone(),
            deal_name: record.name.clone(),
            bdr: decision.people.bdr.as_ref().map(|p| p.id.clone()),
            ae: decision.people.ae.as_ref().map(|p| p.id.clone()),
            at: event.occurred_at,
            status: decision.status().to_owned(),
            rule: match decision.verdict {
                Verdict::Validated => "all rules passed".to_owned(),
                Verdict::Blocked => decision.rules.failed.first().cloned().unwrap_or_default(),
            },
            threshold: decision.threshold,
            score: decision.rules.score,
            from_stage: decision.from_stage.clone(),
            to_stage: decision.to_stage.clone(),
            dimensions: decision
                .scorecard
                .dimensions
                .iter()
                .map(DimensionSnapshot::from)
                .collect(),
        }
    }

    /// The dimensions the BDR had not evidenced (red or yellow).
    pub fn gaps(&self) -> impl Iterator<Item = &DimensionSnapshot> {
        self.dimensions.iter().filter(|d| d.status != Status::Green)
    }
}

/// What the log holds for one deal when a verdict on it arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DealHistory {
    /// Its handoffs, oldest first.
    pub handoffs: Vec<RecordedHandoff>,
    /// The latest verdict recorded on it.
    pub verdict: Option<VerdictRecord>,
}

impl DealHistory {
    /// The handoff a verdict carried by the event `event_key` at `at` is about: the one that
    /// event was recorded on before (a retry), else the latest handoff made by then (a late
    /// verdict never lands on a later handoff).
    pub fn handoff_for(&self, event_key: &str, at: OffsetDateTime) -> Option<&RecordedHandoff> {
        match &self.verdict {
            Some(v) if v.key == event_key => v
                .handoff_key
                .as_ref()
                .and_then(|key| self.handoffs.iter().find(|h| &h.key == key)),
            _ => self.handoffs.iter().rev().find(|h| h.at <= at),
        }
    }

    /// Whether `handoff` is the deal's latest.
    pub fn is_latest(&self, handoff: &RecordedHandoff) -> bool {
        self.handoffs.last().is_some_and(|h| h.key == handoff.key)
    }
}

/// A deal's handoff, as a verdict finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedHandoff {
    /// The handoff's key ([`HandoffRecord::key`]).
    pub key: String,
    /// The deal.
    pub deal_id: String,
    /// The BDR, when known.
    pub bdr: Option<String>,
    /// The AE, when known.
    pub ae: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The gate's status (`validated`, `blocked`, `would_block`).
    pub status: String,
    /// The stage the deal came from.
    pub from_stage: Option<String>,
    /// The handoff stage.
    pub to_stage: String,
}

/// An AE's verdict, as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictRecord {
    /// The event that carried it.
    pub key: String,
    /// The CRM.
    pub crm: Crm,
    /// The deal.
    pub deal_id: String,
    /// The handoff it is about; `None`: a verdict without handoff.
    pub handoff_key: Option<String>,
    /// `accepted`, `rejected` or `unreadable`.
    pub verdict: String,
    /// The reason of a rejection, or the raw value of an unreadable verdict.
    pub reason: Option<String>,
    /// Who set it, when the CRM says.
    pub ae: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

/// Where handoffs and verdicts are kept. Every write is idempotent by event key, so a redelivered
/// or retried event never counts twice.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait HandoffLog {
    /// Keep `records` (those already kept stay as they are).
    async fn record_handoffs(&self, records: &[HandoffRecord]) -> Result<(), Error>;
    /// What the log holds for each of `deal_ids` in `crm`, in their order.
    async fn history(&self, crm: Crm, deal_ids: &[&str]) -> Result<Vec<DealHistory>, Error>;
    /// Keep `verdicts`, and set each on its handoff.
    async fn record_verdicts(&self, verdicts: &[VerdictRecord]) -> Result<(), Error>;
}

/// A function that keeps no handoffs (score-lead, flag-stale-deals, dry runs): nothing is
/// recorded and no deal has a handoff.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHandoffs;

impl HandoffLog for NoHandoffs {
    async fn record_handoffs(&self, _: &[HandoffRecord]) -> Result<(), Error> {
        Ok(())
    }

    async fn history(&self, _: Crm, deal_ids: &[&str]) -> Result<Vec<DealHistory>, Error> {
        Ok(vec![DealHistory::default(); deal_ids.len()])
    }

    async fn record_verdicts(&self, _: &[VerdictRecord]) -> Result<(), Error> {
        Ok(())
    }
}
