//! The types a score is made of, shared by the playbook's rules (evidence, fit, engagement, tier)
//! and the scorecard: a leaf, so those rules never depend on the scorecard that uses them.

use serde::{Deserialize, Serialize};

/// How well one dimension is evidenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No evidence.
    Red,
    /// Some evidence, not enough.
    Yellow,
    /// Enough evidence.
    Green,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Red => "red",
            Status::Yellow => "yellow",
            Status::Green => "green",
        })
    }
}

/// A secondary part of the score (fit, engagement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part {
    /// Points earned, out of 100 overall.
    pub points: f64,
    /// The most it can earn.
    pub max_points: f64,
    /// What was found, one line each.
    pub reasons: Vec<String>,
}

/// One dimension's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// The dimension's key.
    pub key: String,
    /// The dimension's name.
    pub name: String,
    /// Green, yellow or red.
    pub status: Status,
    /// Points earned, out of 100 overall.
    pub points: f64,
    /// The most it can earn: its weight's share of the qualification points.
    pub max_points: f64,
    /// The evidence found, as recorded in the CRM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Why it got its status, in one line.
    pub reason: String,
    /// What to ask next, when not green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_question: Option<String>,
    /// What keeps it from green, in a few words (`no date`), when not green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}
