//! The handoff gate replayed on closed deals: with the playbook's rules and threshold, the share
//! of won deals it would have blocked and of lost deals it would have let through; the same at
//! every threshold from 0 to 100 in steps of 5; and the threshold that blocks the most lost
//! deals while keeping at least 90 % of the won ones. Advice only: the team decides.

use serde::{Deserialize, Serialize};

use super::{
    deal::{DealRow, GateCall},
    stats::Rate,
};
use crate::playbook::Playbook;

/// The share of won deals a threshold must keep to be advised.
pub const KEEP_WON: f64 = 0.9;

/// The gate replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReplay {
    /// The playbook's threshold.
    pub threshold: u8,
    /// Won deals it would have blocked.
    pub won_blocked: Rate,
    /// Lost deals it would have let through.
    pub lost_passed: Rate,
    /// Every threshold from 0 to 100 in steps of 5.
    pub thresholds: Vec<ThresholdRow>,
    /// The threshold that blocks the most lost deals keeping at least 90 % of the won ones.
    pub advised: Option<u8>,
    /// The advice in words.
    pub advice: String,
}

/// The gate at one threshold, its other rules unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRow {
    /// The threshold.
    pub threshold: u8,
    /// Won deals it lets through.
    pub won_kept: Rate,
    /// Lost deals it blocks.
    pub lost_blocked: Rate,
}

/// Whether `deal` passes the gate at `threshold`.
pub fn passes(deal: &DealRow, threshold: u8) -> bool {
    deal.gate_other_rules == GateCall::Pass && deal.gate_score >= threshold
}

/// The gate of `playbook` replayed on `deals`' closed deals.
pub fn replay(deals: &[DealRow], playbook: &Playbook) -> GateReplay {
    let won: Vec<&DealRow> = deals.iter().filter(|d| d.won() == Some(true)).collect();
    let lost: Vec<&DealRow> = deals.iter().filter(|d| d.won() == Some(false)).collect();
    let count = |deals: &[&DealRow], pass: bool, at: Option<u8>| {
        let n = deals
            .iter()
            .filter(|d| match at {
                Some(threshold) => passes(d, threshold) == pass,
                None => (d.gate == GateCall::Pass) == pass,
            })
            .count();
        Rate::of(n as u64, deals.len() as u64)
    };
    let thresholds: Vec<ThresholdRow> = (0..=20u8)
        .map(|step| {
            let threshold = step * 5;
            ThresholdRow {
                threshold,
                won_kept: count(&won, true, Some(threshold)),
                lost_blocked: count(&lost, false, Some(threshold)),
            }
        })
        .collect();
    let advised = thresholds
        .iter()
        .filter(|row| row.won_kept.value.is_some_and(|kept| kept >= KEEP_WON))
        .filter(|row| row.lost_blocked.value.is_some())
        .max_by(|a, b| {
            a.lost_blocked
                .hits
                .cmp(&b.lost_blocked.hits)
                // Of equal blocking, the lower threshold (it keeps as many won deals or more).
                .then_with(|| b.threshold.cmp(&a.threshold))
        })
        .cloned();
    let advice = match (&advised, won.is_empty() || lost.is_empty()) {
        (_, true) => "The replay needs closed won and closed lost deals.".to_owned(),
        (Some(row), false) => format!(
            "A threshold of {} blocks the most lost deals ({} of {}) while keeping at least 90 % of the won ones ({} of {}). The playbook's is {}; the team decides.",
            row.threshold,
            row.lost_blocked.hits,
            row.lost_blocked.of,
            row.won_kept.hits,
            row.won_kept.of,
            playbook.handoff.threshold
        ),
        (None, false) => "No threshold keeps 90 % of the won deals: the gate's other rules (required dimensions, completeness) already block more than 10 % of them. Review those before the threshold.".to_owned(),
    };
    GateReplay {
        threshold: playbook.handoff.threshold,
        won_blocked: count(&won, false, None),
        lost_passed: count(&lost, true, None),
        thresholds,
        advised: advised.as_ref().map(|row| row.threshold),
        advice,
    }
}
