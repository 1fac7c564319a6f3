//! The team's qualification playbook: what to score, how to gate, when a deal is stale.
//!
//! A playbook is a TOML file a CRM admin writes (see `fixtures/playbooks/default.toml`). It is
//! validated on load: every problem is reported at once, each with its path and a fix, and a
//! function refuses to score with a broken playbook.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// The default playbook's source, shipped with every function.
pub const DEFAULT_PLAYBOOK: &str = include_str!("../../../fixtures/playbooks/default.toml");

/// What a CRM record cannot show, listed on every scorecard unless the playbook says otherwise.
const NOT_MEASURED: &[&str] = &[
    "relationship strength and trust built with the buyer",
    "champion activity between calls",
    "email threads and conversations outside the CRM",
];

/// A validated qualification playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// The playbook's name, shown on every scorecard.
    pub name: String,
    /// The admin's version label.
    pub version: String,
    /// The qualification dimensions, in display order.
    pub dimensions: Vec<Dimension>,
    /// The BDR→AE handoff gate.
    pub handoff: Handoff,
    /// Staleness and hygiene rules.
    pub staleness: Staleness,
    /// Which CRM fields receive results.
    #[serde(default)]
    pub write_back: WriteBackFields,
    /// What the scores cannot see, listed on every scorecard.
    #[serde(default = "default_not_measured")]
    pub not_measured: Vec<String>,
    /// SHA-256 of the playbook's source text, so a scorecard names exactly what scored it.
    #[serde(skip)]
    pub content_hash: String,
}

/// One qualification dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// A stable identifier (`pain`).
    pub key: String,
    /// The name reps see (`Pain`).
    pub name: String,
    /// Its share of the score, relative to the other dimensions.
    pub weight: f64,
    /// The canonical record field that holds its evidence.
    pub field: String,
    /// How many words make the evidence complete (green).
    pub min_words: usize,
    /// The discovery question to suggest when the evidence is missing.
    pub question: String,
}

/// The BDR→AE handoff gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    /// Entering one of these stages is a handoff.
    pub stages: Vec<String>,
    /// The score (0–100) a deal needs to be handed off.
    pub threshold: u8,
    /// Where a blocked deal goes when the CRM did not say which stage it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_stage: Option<String>,
}

/// Staleness and hygiene rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staleness {
    /// Days without activity after which a deal rots, unless its stage says otherwise.
    pub default_rotting_days: u32,
    /// Per-stage rotting limits, by stage id.
    #[serde(default)]
    pub rotting_days: BTreeMap<String, u32>,
    /// Fields every open deal must have.
    pub required_fields: Vec<String>,
    /// Below this completeness (percent), a score is not trustworthy.
    pub hygiene_threshold: u8,
}

impl Staleness {
    /// The rotting limit for a stage.
    pub fn rotting_days_for(&self, stage: Option<&str>) -> u32 {
        stage
            .and_then(|s| self.rotting_days.get(s).copied())
            .unwrap_or(self.default_rotting_days)
    }
}

/// The CRM fields that receive pipeline-guard's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteBackFields {
    /// Receives the total score (0–100).
    pub score: String,
    /// Receives a one-line summary of the scorecard.
    pub summary: String,
    /// Receives the handoff decision (`validated`, `blocked`, `would_block`).
    pub handoff_status: String,
    /// Receives whether the deal is stale.
    pub stale: String,
    /// Receives the record's completeness percentage.
    pub hygiene: String,
}

impl Default for WriteBackFields {
    fn default() -> Self {
        WriteBackFields {
            score: "pg_score".into(),
            summary: "pg_summary".into(),
            handoff_status: "pg_handoff_status".into(),
            stale: "pg_stale".into(),
            hygiene: "pg_hygiene".into(),
        }
    }
}

fn default_not_measured() -> Vec<String> {
    NOT_MEASURED.iter().map(|s| s.to_string()).collect()
}

impl Playbook {
    /// Parse and validate a playbook. On failure, [`Error::InvalidPlaybook`] lists every problem.
    pub fn from_toml(source: &str) -> Result<Playbook, Error> {
        let mut playbook: Playbook = toml::from_str(source)
            .map_err(|e| Error::InvalidPlaybook(vec![e.to_string().trim_end().to_owned()]))?;
        let problems = playbook.problems();
        if !problems.is_empty() {
            return Err(Error::InvalidPlaybook(problems));
        }
        playbook.content_hash = hex::encode(Sha256::digest(source.as_bytes()));
        Ok(playbook)
    }

    /// The playbook shipped with pipeline-guard.
    pub fn default_playbook() -> Playbook {
        // The shipped file is checked by a unit test; failing here is a build defect, not input.
        Playbook::from_toml(DEFAULT_PLAYBOOK).expect("the shipped default playbook is valid")
    }

    /// A dimension by key.
    pub fn dimension(&self, key: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.key == key)
    }

    /// Every validation problem, each as `path: what is wrong; how to fix it`.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".to_owned());
        }
        if self.dimensions.is_empty() {
            problems.push("dimensions: add at least one [[dimensions]] table".to_owned());
        }
        let mut keys = BTreeSet::new();
        for (i, d) in self.dimensions.iter().enumerate() {
            let at = format!("dimensions[{i}]");
            if d.key.trim().is_empty() {
                problems.push(format!("{at}.key: must not be empty"));
            } else if !keys.insert(d.key.as_str()) {
                problems.push(format!(
                    "{at}.key: duplicate dimension {:?}; give each dimension its own key",
                    d.key
                ));
            }
            if !(d.weight.is_finite() && d.weight > 0.0) {
                problems.push(format!("{at}.weight: must be > 0 (found {})", d.weight));
            }
            if d.field.trim().is_empty() {
                problems.push(format!(
                    "{at}.field: name the record field holding the evidence"
                ));
            }
            if d.min_words == 0 {
                problems.push(format!("{at}.min_words: must be at least 1"));
            }
            if d.question.trim().is_empty() {
                problems.push(format!(
                    "{at}.question: write the discovery question reps should ask"
                ));
            }
        }
        if self.handoff.stages.is_empty() {
            problems.push("handoff.stages: list the stage(s) that hand a deal to an AE".to_owned());
        }
        if self.handoff.threshold > 100 {
            problems.push(format!(
                "handoff.threshold: must be within 0..=100 (found {})",
                self.handoff.threshold
            ));
        }
        if self.staleness.default_rotting_days == 0 {
            problems.push("staleness.default_rotting_days: must be at least 1".to_owned());
        }
        for (stage, days) in &self.staleness.rotting_days {
            if *days == 0 {
                problems.push(format!(
                    "staleness.rotting_days.{stage}: must be at least 1"
                ));
            }
        }
        if self.staleness.hygiene_threshold > 100 {
            problems.push(format!(
                "staleness.hygiene_threshold: must be within 0..=100 (found {})",
                self.staleness.hygiene_threshold
            ));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_is_valid_and_hashed() {
        let playbook = Playbook::default_playbook();
        assert_eq!(playbook.dimensions.len(), 5);
        assert_eq!(playbook.content_hash.len(), 64);
        assert_eq!(playbook.handoff.threshold, 60);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let broken = DEFAULT_PLAYBOOK
            .replace("weight = 25", "weight = 0")
            .replace("key = \"impact\"", "key = \"pain\"")
            .replace("threshold = 60", "threshold = 160");
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&broken) else {
            panic!("a broken playbook was accepted");
        };
        assert_eq!(
            problems,
            vec![
                "dimensions[1].weight: must be > 0 (found 0)",
                "dimensions[2].key: duplicate dimension \"pain\"; give each dimension its own key",
                "handoff.threshold: must be within 0..=100 (found 160)",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let typo = DEFAULT_PLAYBOOK.replace("min_words = 2", "min_word = 2");
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&typo) else {
            panic!("a typo was accepted");
        };
        assert!(problems[0].contains("min_word"), "{problems:?}");
    }

    #[test]
    fn stage_specific_rotting_overrides_the_default() {
        let s = Playbook::default_playbook().staleness;
        assert_eq!(s.rotting_days_for(Some("negotiation")), 21);
        assert_eq!(s.rotting_days_for(Some("discovery")), 14);
        assert_eq!(s.rotting_days_for(None), 14);
    }
}
