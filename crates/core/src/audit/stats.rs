//! The statistics the audit reports: a share with its 95 % Wilson interval, and the ROC AUC of
//! scores (whole points, 0–100) as the Mann–Whitney rank statistic, with a seeded bootstrap
//! interval.
//!
//! Scores are whole points, so ranking them is counting them: the AUC comes from two
//! 101-bucket histograms in O(n), ties counting one half, which is the rank statistic exactly.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// z for a two-sided 95 % interval.
const Z95: f64 = 1.959_963_984_540_054;

/// How many bootstrap resamples an AUC interval is drawn from.
pub const BOOTSTRAP_RESAMPLES: usize = 1000;

/// A share of a count, with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// The deals that have it.
    pub hits: u64,
    /// The deals counted.
    pub of: u64,
    /// `hits / of`; `None` without deals.
    pub value: Option<f64>,
    /// The Wilson interval's lower end.
    pub low: Option<f64>,
    /// Its upper end.
    pub high: Option<f64>,
}

impl Rate {
    /// `hits` of `of`, with its Wilson 95 % interval.
    pub fn of(hits: u64, of: u64) -> Rate {
        if of == 0 {
            return Rate {
                hits,
                of,
                value: None,
                low: None,
                high: None,
            };
        }
        let n = of as f64;
        let p = hits as f64 / n;
        let z2 = Z95 * Z95;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
        Rate {
            hits,
            of,
            value: Some(p),
            low: Some((centre - half).max(0.0)),
            high: Some((centre + half).min(1.0)),
        }
    }

    /// Whether this rate's interval and `other`'s are apart.
    pub fn apart_from(&self, other: &Rate) -> bool {
        match (self.low, self.high, other.low, other.high) {
            (Some(low), Some(high), Some(other_low), Some(other_high)) => {
                high < other_low || other_high < low
            }
            _ => false,
        }
    }
}

/// An estimate with its 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The estimate.
    pub value: f64,
    /// The interval's lower end.
    pub low: f64,
    /// Its upper end.
    pub high: f64,
}

/// Scores counted per point, 0–100.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram([u64; 101]);

impl Default for Histogram {
    fn default() -> Self {
        Histogram([0; 101])
    }
}

impl Histogram {
    /// The histogram of `scores` (above 100 counts as 100).
    pub fn of(scores: impl IntoIterator<Item = u8>) -> Histogram {
        let mut histogram = Histogram::default();
        for score in scores {
            histogram.0[usize::from(score.min(100))] += 1;
        }
        histogram
    }

    fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// The chance that a won deal scores above a lost one (ties count one half); `None` when either
/// side has no deal.
pub fn auc(won: &Histogram, lost: &Histogram) -> Option<f64> {
    let (n_won, n_lost) = (won.total(), lost.total());
    if n_won == 0 || n_lost == 0 {
        return None;
    }
    let mut lost_below = 0u64;
    let mut wins = 0.0;
    for score in 0..=100 {
        wins += won.0[score] as f64 * (lost_below as f64 + 0.5 * lost.0[score] as f64);
        lost_below += lost.0[score];
    }
    Some(wins / (n_won as f64 * n_lost as f64))
}

/// The AUC of `won` and `lost` scores with a 95 % percentile bootstrap interval: each of
/// [`BOOTSTRAP_RESAMPLES`] resamples draws as many won and as many lost deals as there are, with
/// replacement, from a generator seeded with `seed`, so a run is reproducible.
pub fn auc_with_interval(won: &[u8], lost: &[u8], seed: u64) -> Option<Interval> {
    let value = auc(
        &Histogram::of(won.iter().copied()),
        &Histogram::of(lost.iter().copied()),
    )?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let resample = |scores: &[u8], rng: &mut ChaCha8Rng| {
        let mut histogram = Histogram::default();
        for _ in 0..scores.len() {
            let score = scores[rng.random_range(0..scores.len())];
            histogram.0[usize::from(score.min(100))] += 1;
        }
        histogram
    };
    let mut aucs: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .filter_map(|_| {
            let won = resample(won, &mut rng);
            let lost = resample(lost, &mut rng);
            auc(&won, &lost)
        })
        .collect();
    aucs.sort_by(f64::total_cmp);
    let at = |q: f64| aucs[((aucs.len() - 1) as f64 * q).round() as usize];
    Some(Interval {
        value,
        low: at(0.025),
        high: at(0.975),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auc_is_the_share_of_won_lost_pairs_ordered_right() {
        let won = [90, 70, 50];
        let lost = [60, 50, 10];
        // Pairs: 90 beats 3, 70 beats 3, 50 beats 1 and ties 1: 7.5 of 9.
        let value = auc(&Histogram::of(won), &Histogram::of(lost)).unwrap();
        assert!((value - 7.5 / 9.0).abs() < 1e-12);
        assert_eq!(auc(&Histogram::of(won), &Histogram::default()), None);
    }

    #[test]
    fn separated_scores_give_one_and_a_narrow_interval() {
        let won = vec![80u8; 40];
        let lost = vec![20u8; 40];
        let interval = auc_with_interval(&won, &lost, 7).unwrap();
        assert_eq!(
            (interval.value, interval.low, interval.high),
            (1.0, 1.0, 1.0)
        );
    }

    #[test]
    fn the_interval_holds_the_estimate_and_is_reproducible() {
        let won: Vec<u8> = (0..60).map(|i| (i * 7 % 100) as u8).collect();
        let lost: Vec<u8> = (0..60).map(|i| (i * 5 % 80) as u8).collect();
        let a = auc_with_interval(&won, &lost, 42).unwrap();
        let b = auc_with_interval(&won, &lost, 42).unwrap();
        assert_eq!(a, b);
        assert!(a.low <= a.value && a.value <= a.high);
        assert!(a.high - a.low > 0.01);
    }

    #[test]
    fn a_wilson_interval_stays_in_bounds_and_holds_the_share() {
        let rate = Rate::of(0, 10);
        assert_eq!(rate.value, Some(0.0));
        assert_eq!(rate.low, Some(0.0));
        let rate = Rate::of(31, 100);
        let (low, high) = (rate.low.unwrap(), rate.high.unwrap());
        assert!(low < 0.31 && 0.31 < high);
        assert!((low - 0.2278).abs() < 0.0001 && (high - 0.4063).abs() < 0.0001);
        assert_eq!(Rate::of(0, 0).value, None);
        assert!(Rate::of(90, 100).apart_from(&Rate::of(10, 100)));
        assert!(!Rate::of(31, 100).apart_from(&Rate::of(29, 100)));
    }
}
