//! The backtest on closed deals: win rate by tier and by score band, the ROC AUC with its
//! interval, the lift of the top 20 % and calibration. An AUC is never given without its
//! interval; below [`MIN_EACH`] won or lost deals the data is too thin to judge, and only the
//! win rates with their counts are given.

use serde::{Deserialize, Serialize};

use super::{
    deal::DealRow,
    stats::{Interval, Rate, auc_with_interval},
};
use crate::playbook::Playbook;

/// The fewest won and the fewest lost deals the backtest judges on.
pub const MIN_EACH: u64 = 30;

/// The share of the best-scored closed deals whose win rate the lift compares.
pub const TOP_SHARE: f64 = 0.2;

/// The backtest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backtest {
    /// Closed won deals.
    pub won: u64,
    /// Closed lost deals.
    pub lost: u64,
    /// Open deals (not in the backtest).
    pub open: u64,
    /// Every closed deal's win rate.
    pub win_rate: Rate,
    /// Whether there are too few won or lost deals to judge.
    pub too_thin: bool,
    /// What the backtest can say, in words.
    pub verdict: String,
    /// Win rate per tier, in the playbook's order.
    pub by_tier: Vec<TierRate>,
    /// Win rate per band of 10 points, each with the mean score: the calibration.
    pub by_band: Vec<BandRate>,
    /// The ROC AUC of the score with its bootstrap 95 % interval (none when too thin).
    pub auc: Option<Interval>,
    /// The lift of the top 20 % (none when too thin).
    pub lift: Option<Lift>,
    /// The mean gap between the score read as a chance (score / 100) and the band's win rate,
    /// weighted by deals: how far the score is from a probability.
    pub calibration_gap: Option<f64>,
}

/// One tier's closed deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierRate {
    /// The tier.
    pub tier: String,
    /// Won of closed.
    pub win_rate: Rate,
}

/// One score band's closed deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandRate {
    /// Its lowest score.
    pub from: u8,
    /// Its highest score.
    pub to: u8,
    /// Won of closed.
    pub win_rate: Rate,
    /// The mean score of its deals (none without deals).
    pub mean_score: Option<f64>,
}

/// The top 20 % of closed deals by score against every closed deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lift {
    /// The top deals counted (20 % of the closed, rounded up; ties at the cut broken by id).
    pub top: u64,
    /// Their win rate.
    pub top_win_rate: Rate,
    /// Their win rate over every closed deal's.
    pub lift: f64,
}

/// The backtest of `deals` under `playbook`, the AUC interval drawn with `seed`.
pub fn backtest(deals: &[DealRow], playbook: &Playbook, seed: u64) -> Backtest {
    let closed: Vec<(&DealRow, bool)> = deals
        .iter()
        .filter_map(|d| d.won().map(|won| (d, won)))
        .collect();
    let won = closed.iter().filter(|(_, won)| *won).count() as u64;
    let lost = closed.len() as u64 - won;
    let open = deals.len() as u64 - closed.len() as u64;
    let rate = |deals: &[&(&DealRow, bool)]| {
        Rate::of(
            deals.iter().filter(|(_, won)| *won).count() as u64,
            deals.len() as u64,
        )
    };
    let by_tier = playbook
        .tiers
        .iter()
        .map(|tier| {
            let in_tier: Vec<_> = closed.iter().filter(|(d, _)| d.tier == tier.name).collect();
            TierRate {
                tier: tier.name.clone(),
                win_rate: rate(&in_tier),
            }
        })
        .collect();
    let by_band: Vec<BandRate> = (0..10u8)
        .map(|band| {
            let (from, to) = (band * 10, if band == 9 { 100 } else { band * 10 + 9 });
            let in_band: Vec<_> = closed
                .iter()
                .filter(|(d, _)| (from..=to).contains(&d.score))
                .collect();
            let mean_score = (!in_band.is_empty()).then(|| {
                in_band.iter().map(|(d, _)| f64::from(d.score)).sum::<f64>() / in_band.len() as f64
            });
            BandRate {
                from,
                to,
                win_rate: rate(&in_band),
                mean_score,
            }
        })
        .collect();
    let calibration_gap = (!closed.is_empty()).then(|| {
        by_band
            .iter()
            .filter_map(|b| {
                Some(b.win_rate.of as f64 * (b.mean_score? / 100.0 - b.win_rate.value?).abs())
            })
            .sum::<f64>()
            / closed.len() as f64
    });
    let too_thin = won < MIN_EACH || lost < MIN_EACH;
    let (auc, lift) = if too_thin {
        (None, None)
    } else {
        let scores = |outcome: bool| -> Vec<u8> {
            closed
                .iter()
                .filter(|(_, won)| *won == outcome)
                .map(|(d, _)| d.score)
                .collect()
        };
        (
            auc_with_interval(&scores(true), &scores(false), seed),
            lift(&closed),
        )
    };
    let verdict = verdict(won, lost, auc.as_ref());
    Backtest {
        won,
        lost,
        open,
        win_rate: Rate::of(won, won + lost),
        too_thin,
        verdict,
        by_tier,
        by_band,
        auc,
        lift,
        calibration_gap,
    }
}

fn lift(closed: &[(&DealRow, bool)]) -> Option<Lift> {
    let mut ranked: Vec<&(&DealRow, bool)> = closed.iter().collect();
    ranked.sort_by(|(a, _), (b, _)| b.score.cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    let top = ((closed.len() as f64 * TOP_SHARE).ceil() as usize).max(1);
    let won_top = ranked[..top.min(ranked.len())]
        .iter()
        .filter(|(_, won)| *won)
        .count();
    let won_all = closed.iter().filter(|(_, won)| *won).count();
    let all_rate = won_all as f64 / closed.len() as f64;
    let top_win_rate = Rate::of(won_top as u64, top as u64);
    Some(Lift {
        top: top as u64,
        lift: top_win_rate.value? / all_rate,
        top_win_rate,
    })
}

fn verdict(won: u64, lost: u64, auc: Option<&Interval>) -> String {
    if won + lost == 0 {
        return "No closed deals: the backtest needs closed won and closed lost deals; only the hygiene part is given.".to_owned();
    }
    let Some(auc) = auc else {
        return format!(
            "Too thin to judge: {won} won and {lost} lost deals, and the backtest needs at least {MIN_EACH} of each. Win rates are shown with their counts only."
        );
    };
    let figure = format!(
        "AUC {:.2} (95 % interval {:.2}–{:.2})",
        auc.value, auc.low, auc.high
    );
    if auc.low > 0.5 {
        format!("The score separates won from lost deals better than chance: {figure}.")
    } else if auc.high < 0.5 {
        format!(
            "Lower scores won more often than higher ones: {figure}. Review the playbook before the gate blocks anyone."
        )
    } else {
        format!(
            "In your data the score does not separate won from lost deals better than chance: {figure}."
        )
    }
}
