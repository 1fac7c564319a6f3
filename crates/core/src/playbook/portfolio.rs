//! The playbook's `[staleness.portfolio]` table: what a portfolio's hygiene is measured over, and
//! when poor data pauses blocking.
//!
//! Below the threshold (70 % by default) the team's checklist says scores cannot be trusted, so
//! an `enforce` install stops blocking handoffs until the data is fixed: the gate falls back to
//! shadow mode on its own, and says why ([`crate::portfolio::enforcement`]).

use serde::{Deserialize, Serialize};

/// How a portfolio's hygiene is measured and acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortfolioRules {
    /// Every open deal a sweep sees, or a random sample of them.
    pub measure: Measure,
    /// How many deals a sample holds (`measure = "sample"`).
    pub sample_size: u32,
    /// The portfolio hygiene (percent) below which the data is not good enough to block anyone.
    pub threshold: u8,
    /// Whether `enforce` falls back to shadow mode while the portfolio is below `threshold`.
    pub fallback_to_shadow: bool,
}

/// What a portfolio's hygiene is measured over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Every open deal the sweep saw.
    #[default]
    All,
    /// A random sample of `sample_size` of them (drawn anew for each sweep).
    Sample,
}

impl Default for PortfolioRules {
    fn default() -> Self {
        PortfolioRules {
            measure: Measure::All,
            sample_size: 50,
            threshold: 70,
            fallback_to_shadow: true,
        }
    }
}

impl PortfolioRules {
    /// The most deals a measurement takes: `None` for every open deal.
    pub fn sample(&self) -> Option<u32> {
        (self.measure == Measure::Sample).then_some(self.sample_size)
    }

    /// Every problem of the table, each as `staleness.portfolio.<key>: what is wrong`.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.measure == Measure::Sample && self.sample_size == 0 {
            problems.push(
                "staleness.portfolio.sample_size: a sample needs at least 1 deal (50 is the checklist's advice)"
                    .to_owned(),
            );
        }
        if self.threshold > 100 {
            problems.push(format!(
                "staleness.portfolio.threshold: must be within 0..=100 (found {})",
                self.threshold
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Doc {
        portfolio: PortfolioRules,
    }

    #[test]
    fn defaults_measure_every_deal_and_fall_back_below_70() {
        let doc: Doc = toml::from_str("[portfolio]\n").unwrap();
        assert_eq!(doc.portfolio, PortfolioRules::default());
        assert_eq!(doc.portfolio.sample(), None);
        assert!(doc.portfolio.problems().is_empty());
    }

    #[test]
    fn a_sample_and_its_size_are_read_and_checked() {
        let doc: Doc = toml::from_str("[portfolio]\nmeasure = \"sample\"\n").unwrap();
        assert_eq!(doc.portfolio.sample(), Some(50));
        let doc: Doc =
            toml::from_str("[portfolio]\nmeasure = \"sample\"\nsample_size = 0\nthreshold = 101\n")
                .unwrap();
        let problems = doc.portfolio.problems();
        assert!(
            problems[0].starts_with("staleness.portfolio.sample_size"),
            "{problems:?}"
        );
        assert!(
            problems[1].starts_with("staleness.portfolio.threshold"),
            "{problems:?}"
        );
        assert!(toml::from_str::<Doc>("[portfolio]\nmeasure = \"some\"\n").is_err());
    }
}
