//! A portfolio's hygiene: the team's checklist measured across a CRM's open deals, by check and
//! by owner, and what it means for enforcement.
//!
//! The sweep ([`crate::sweep`]) judges every open deal of a CRM against the checklist
//! ([`crate::hygiene::checklist()`]) and records each deal's result as it goes ([`DealHygiene`],
//! kept by [`SqlPortfolios`]); when it reaches its last page it concludes the measurement: the
//! hygiene % across every open deal it saw, or across a random sample of them
//! (`[staleness.portfolio]`), broken down by check and by owner ([`Portfolio`]). The last
//! measurement of each CRM is kept until the next sweep ends.
//!
//! Below the portfolio threshold (70 % by default) scores cannot be trusted, so an `enforce`
//! install stops blocking until the data is fixed ([`enforcement`]); the health view and the
//! hygiene report ([`report`], [`html`]) say why.

pub mod enforcement;
pub mod html;
pub mod report;
mod sql;
#[cfg(test)]
mod tests;

use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use enforcement::Enforcement;
pub use sql::{SCHEMA, SqlPortfolios};

use crate::{
    hygiene::{Check, Checklist, Outcome},
    model::Record,
};

/// One deal's checklist result, as the sweep records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DealHygiene {
    /// The deal's CRM id.
    pub deal_id: String,
    /// Its owner's CRM user id, if the CRM says.
    pub owner: Option<String>,
    /// Its weighted checklist score (0–100).
    pub score_pct: u8,
    /// Each check's outcome in [`Check::ALL`] order: passed, failed, or `None` (not applicable).
    pub outcomes: [Option<bool>; Check::ALL.len()],
}

impl DealHygiene {
    /// `record`'s result from its `checklist`.
    pub fn of(record: &Record, checklist: &Checklist) -> DealHygiene {
        DealHygiene {
            deal_id: record.id.clone(),
            owner: record.owner_id.clone().filter(|o| !o.trim().is_empty()),
            score_pct: checklist.score_pct,
            outcomes: Check::ALL.map(|check| {
                checklist.result(check).and_then(|r| match r.outcome {
                    Outcome::Passed => Some(true),
                    Outcome::Failed => Some(false),
                    Outcome::NotApplicable => None,
                })
            }),
        }
    }

    /// Where the deal falls in a sweep's random order: a draw from the sweep (started at
    /// `sweep`) and the deal's id, the same on every call of that sweep and new for the next.
    /// A sample is the deals with the lowest draws: a uniform random sample that needs no
    /// deal held in memory.
    pub fn draw(&self, sweep: i64) -> i64 {
        let mut hasher = std::hash::DefaultHasher::new();
        sweep.hash(&mut hasher);
        self.deal_id.hash(&mut hasher);
        // The top bit cleared: SQLite's integers are signed, and an order over positives reads
        // naturally.
        (hasher.finish() >> 1) as i64
    }
}

/// A portfolio's hygiene at the end of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Portfolio {
    /// The CRM measured.
    pub crm: String,
    /// When the sweep that measured it ended.
    #[serde(with = "time::serde::rfc3339")]
    pub measured_at: OffsetDateTime,
    /// When that sweep started.
    #[serde(with = "time::serde::rfc3339")]
    pub sweep_started_at: OffsetDateTime,
    /// The open deals the sweep judged.
    pub open_deals: u64,
    /// The deals measured: all of them, or the sample.
    pub measured: u64,
    /// The sample's size asked for (`None`: every open deal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
    /// The measured deals' mean checklist score (0–100, rounded down; 100 without deals).
    pub hygiene_pct: u8,
    /// Measured deals whose own score reaches `staleness.hygiene_threshold`.
    pub trustworthy: u64,
    /// Each check across the measured deals, in [`Check::ALL`] order.
    pub checks: Vec<CheckFigure>,
    /// Each owner's measured deals, sorted by owner id (never by a figure), deals without an
    /// owner last.
    pub owners: Vec<OwnerRow>,
}

/// One check across a portfolio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckFigure {
    /// Which check.
    pub check: Check,
    /// What it checks, in words.
    pub label: String,
    /// Its weight in the playbook when measured.
    pub weight: u32,
    /// Deals that pass it.
    pub passed: u64,
    /// Deals that fail it.
    pub failed: u64,
    /// Deals it does not apply to.
    pub not_applicable: u64,
}

impl CheckFigure {
    /// The share of the deals it applies to that pass it (0–100, rounded down).
    pub fn passed_pct(&self) -> Option<u8> {
        let applicable = self.passed + self.failed;
        (applicable > 0).then(|| (self.passed * 100 / applicable) as u8)
    }
}

/// One owner's deals in a portfolio: figures for coaching them on their data, not for comparing
/// owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerRow {
    /// The owner's CRM user id (`unknown` for deals without one).
    pub owner: String,
    /// The owner's name, when a delivery kept it ([`crate::people`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their measured deals.
    pub deals: u64,
    /// Their deals' mean checklist score (0–100, rounded down).
    pub hygiene_pct: u8,
    /// How many of their deals fail each check, for the checks any fails.
    pub failed: Vec<(Check, u64)>,
    /// The check their deals fail most often: the one to fix first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_first: Option<Check>,
}

/// The id shown for deals whose owner the CRM did not say.
pub const UNKNOWN_OWNER: &str = "unknown";

/// A mean score over `deals` from their `sum` (100 without deals: nothing to fault).
fn mean_pct(sum: u64, deals: u64) -> u8 {
    sum.checked_div(deals)
        .map_or(100, |mean| mean.min(100) as u8)
}
