//! The hygiene checklist across an export: over every deal and over a reproducible random
//! sample for a person to verify by hand, per check and per owner, and the go/no-go at the
//! playbook's portfolio threshold.
//!
//! The figures are the sweep's ([`crate::portfolio`]): per check, passed / failed / not
//! applicable; per owner, sorted by owner (never by a figure) with the check to fix first.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::deal::{CheckCall, DealRow};
use crate::{
    hygiene::Check,
    playbook::{ChecklistWeights, Playbook, rollout::PerRep},
    portfolio::{CheckFigure, OwnerRow, UNKNOWN_OWNER},
    rep_page::sharing::Sharers,
};

/// The checklist across the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HygieneAudit {
    /// The portfolio threshold (percent): below it scores cannot be trusted.
    pub threshold: u8,
    /// Every deal's figures.
    pub all: HygieneFigures,
    /// The ids of the sampled deals, in the export's order, for a person to verify by hand.
    pub sample: Vec<String>,
    /// The seed the sample was drawn with.
    pub seed: u64,
    /// The sample's figures.
    pub sampled: HygieneFigures,
    /// Figures per owner over every deal and over the sample, from the rollout date.
    pub per_owner: PerRep<OwnerHygiene>,
    /// Whether every deal's mean checklist score reaches the threshold.
    pub go: bool,
    /// The go/no-go in words.
    pub verdict: String,
}

/// The checklist over a set of deals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HygieneFigures {
    /// The deals measured.
    pub deals: u64,
    /// Their mean checklist score (0–100, rounded down; 100 without deals).
    pub hygiene_pct: u8,
    /// Each check, in [`Check::ALL`] order.
    pub checks: Vec<CheckFigure>,
}

/// One owner's deals: figures for fixing their data, not for comparing owners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerHygiene {
    /// Over every deal of theirs.
    pub all: OwnerRow,
    /// Over their sampled deals (none sampled: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampled: Option<OwnerRow>,
}

/// The checklist across `deals`, sampling `sample` of them with `seed`; figures per owner as the
/// playbook's rollout allows at `now`.
pub fn hygiene(
    deals: &[DealRow],
    playbook: &Playbook,
    sample: usize,
    seed: u64,
    now: OffsetDateTime,
) -> HygieneAudit {
    let threshold = playbook.staleness.portfolio.threshold;
    let picked = draw(deals.len(), sample, seed);
    let sampled: Vec<&DealRow> = picked.iter().map(|i| &deals[*i]).collect();
    let all: Vec<&DealRow> = deals.iter().collect();
    let weights = &playbook.staleness.checklist;
    let figures = figures(&all, weights);
    let go = figures.hygiene_pct >= threshold;
    let verdict = if deals.is_empty() {
        "No deals: nothing to judge.".to_owned()
    } else if go {
        format!(
            "Go: the deals' hygiene is {} %, at or above the playbook's {threshold} %: their scores can be trusted.",
            figures.hygiene_pct
        )
    } else {
        format!(
            "No-go: the deals' hygiene is {} %, below the playbook's {threshold} %: fix the data before the gate blocks anyone.",
            figures.hygiene_pct
        )
    };
    // An audit runs before the install decides anything: the rollout's clock has not started,
    // and no rep has chosen to share anything yet.
    let nobody = Sharers::nobody();
    let visibility = playbook.rollout.per_rep(
        now,
        None,
        "owner",
        "each owner sees the flags on their own deals first",
        &nobody,
    );
    let per_owner = if visibility.open() {
        visibility.view(owners(&all, &sampled))
    } else {
        visibility.view(Vec::new())
    };
    HygieneAudit {
        threshold,
        sampled: self::figures(&sampled, weights),
        all: figures,
        sample: sampled.iter().map(|d| d.id.clone()).collect(),
        seed,
        per_owner,
        go,
        verdict,
    }
}

/// `size` of `deals` positions drawn without replacement with `seed`, in order.
fn draw(deals: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut picked = rand::seq::index::sample(&mut rng, deals, size.min(deals)).into_vec();
    picked.sort_unstable();
    picked
}

fn figures(deals: &[&DealRow], weights: &ChecklistWeights) -> HygieneFigures {
    let checks = Check::ALL
        .iter()
        .map(|check| {
            let count = |call: CheckCall| deals.iter().filter(|d| d.check(*check) == call).count();
            CheckFigure {
                check: *check,
                label: check.label().to_owned(),
                weight: check.weight(weights),
                passed: count(CheckCall::Passed) as u64,
                failed: count(CheckCall::Failed) as u64,
                not_applicable: count(CheckCall::NotApplicable) as u64,
            }
        })
        .collect();
    HygieneFigures {
        deals: deals.len() as u64,
        hygiene_pct: mean_pct(deals),
        checks,
    }
}

/// The deals' mean checklist score, rounded down (100 without deals: nothing to fault).
fn mean_pct(deals: &[&DealRow]) -> u8 {
    let sum: u64 = deals.iter().map(|d| u64::from(d.hygiene_pct)).sum();
    sum.checked_div(deals.len() as u64)
        .map_or(100, |mean| mean.min(100) as u8)
}

/// Each owner's rows, sorted by owner, deals without an owner last.
fn owners(all: &[&DealRow], sampled: &[&DealRow]) -> Vec<OwnerHygiene> {
    let sampled = group(sampled);
    let mut rows: Vec<(Option<String>, OwnerHygiene)> = group(all)
        .into_iter()
        .map(|(owner, deals)| {
            let row = OwnerHygiene {
                all: owner_row(owner.as_deref(), &deals),
                sampled: sampled.get(&owner).map(|d| owner_row(owner.as_deref(), d)),
            };
            (owner, row)
        })
        .collect();
    rows.sort_by(|(a, _), (b, _)| match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (Some(_), None) => std::cmp::Ordering::Less,
        (Some(a), Some(b)) => a.cmp(b),
    });
    rows.into_iter().map(|(_, row)| row).collect()
}

fn group<'d>(deals: &[&'d DealRow]) -> BTreeMap<Option<String>, Vec<&'d DealRow>> {
    let mut by_owner: BTreeMap<Option<String>, Vec<&DealRow>> = BTreeMap::new();
    for deal in deals {
        by_owner.entry(deal.owner.clone()).or_default().push(deal);
    }
    by_owner
}

fn owner_row(owner: Option<&str>, deals: &[&DealRow]) -> OwnerRow {
    let failed: Vec<(Check, u64)> = Check::ALL
        .iter()
        .map(|check| {
            let n = deals
                .iter()
                .filter(|d| d.check(*check) == CheckCall::Failed)
                .count();
            (*check, n as u64)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    // The most failed; of a tie, the first in the checklist's order (as the sweep's rows).
    let fix_first = failed
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map(|(check, _)| *check);
    OwnerRow {
        owner: owner.unwrap_or(UNKNOWN_OWNER).to_owned(),
        name: None,
        deals: deals.len() as u64,
        hygiene_pct: mean_pct(deals),
        failed,
        fix_first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_the_same_for_a_seed_and_another_for_another() {
        let a = draw(1000, 50, 7);
        assert_eq!(a, draw(1000, 50, 7));
        assert_ne!(a, draw(1000, 50, 8));
        assert_eq!(a.len(), 50);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "in order, no repeat");
        assert_eq!(
            draw(10, 50, 7),
            (0..10).collect::<Vec<_>>(),
            "fewer deals: all"
        );
    }
}
