//! Flagging the top share of recent scores for a human to review.
//!
//! Recent scores are kept as a histogram (one count per score 0..=100), so the state is bounded
//! whatever the volume; counts are halved once they pass [`RECENT`], which keeps it about recent
//! scores.

use serde::{Deserialize, Serialize};

use crate::{Error, ports::Store};

/// How many scores the histogram holds before its counts are halved.
pub const RECENT: u32 = 1000;

/// The store key of a playbook's histogram.
pub fn histogram_key(playbook_name: &str) -> String {
    format!("review/histogram/{playbook_name}")
}

/// Counts of recent scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreHistogram {
    counts: Vec<u32>,
}

impl Default for ScoreHistogram {
    fn default() -> Self {
        ScoreHistogram {
            counts: vec![0; 101],
        }
    }
}

impl ScoreHistogram {
    /// How many scores it holds.
    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Add a score, halving every count first when it is full.
    pub fn record(&mut self, score: u8) {
        if self.total() >= RECENT {
            for count in &mut self.counts {
                *count /= 2;
            }
        }
        if let Some(count) = self.counts.get_mut(usize::from(score.min(100))) {
            *count += 1;
        }
    }

    /// Whether `score`, counted among the recent scores, is in their top `share`.
    pub fn in_top_share(&self, score: u8, share: f64) -> bool {
        let score = usize::from(score.min(100));
        let at_or_above: u32 = self.counts[score..].iter().sum::<u32>() + 1;
        let total = self.total() + 1;
        f64::from(at_or_above) <= share * f64::from(total)
    }

    /// Load a histogram from the store (empty when there is none or it is unreadable).
    pub async fn load(store: &impl Store, key: &str) -> Result<ScoreHistogram, Error> {
        Ok(store
            .get(key)
            .await?
            .and_then(|bytes| serde_json::from_slice::<ScoreHistogram>(&bytes).ok())
            .filter(|h| h.counts.len() == 101)
            .unwrap_or_default())
    }

    /// Save it.
    pub async fn save(&self, store: &impl Store, key: &str) -> Result<(), Error> {
        let bytes = serde_json::to_vec(self).map_err(|e| Error::Store(e.to_string()))?;
        store.set(key, &bytes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_top_share_is_flagged() {
        let mut h = ScoreHistogram::default();
        for score in 0..100u8 {
            h.record(score);
        }
        assert!(h.in_top_share(95, 0.2));
        assert!(h.in_top_share(82, 0.2));
        assert!(!h.in_top_share(75, 0.2));
        assert!(!h.in_top_share(10, 0.2));
    }

    #[test]
    fn the_first_score_is_not_flagged_and_the_state_stays_bounded() {
        let mut h = ScoreHistogram::default();
        assert!(!h.in_top_share(100, 0.2));
        for _ in 0..10_000 {
            h.record(50);
        }
        assert!(h.total() <= RECENT);
    }
}
