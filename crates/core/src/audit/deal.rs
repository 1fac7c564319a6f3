//! One deal as the audit sees it: scored, gated and checked exactly as the functions do, then
//! kept as a small row every figure of the report is computed from (and can be recomputed from:
//! the rows are in the report's JSON).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, Time, macros::time};

use crate::{
    gate::rules,
    hygiene::Check,
    model::{DealStatus, Record},
    playbook::Playbook,
    score::Status,
    scorecard, staleness,
    templates::Templates,
};

const NOON: Time = time!(12:00);

/// How a deal ended, as its export says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealOutcome {
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
    /// Still being worked.
    Open,
}

impl From<DealStatus> for DealOutcome {
    fn from(status: DealStatus) -> Self {
        match status {
            DealStatus::Won => DealOutcome::Won,
            DealStatus::Lost => DealOutcome::Lost,
            DealStatus::Open => DealOutcome::Open,
        }
    }
}

/// What the handoff gate would have done with the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateCall {
    /// Every rule passed.
    Pass,
    /// At least one rule failed.
    Block,
}

/// How one hygiene check came out for the deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCall {
    /// Met.
    Passed,
    /// Not met.
    Failed,
    /// Does not apply to this deal.
    NotApplicable,
}

/// One deal's row in the audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealRow {
    /// The CRM's id.
    pub id: String,
    /// The deal's name, for a person checking it by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its owner as the export names them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Won, lost or open.
    pub outcome: DealOutcome,
    /// The total score, 0–100.
    pub score: u8,
    /// The tier it lands in.
    pub tier: String,
    /// The gate's call with the playbook's rules and threshold.
    pub gate: GateCall,
    /// The score the gate's threshold is compared with (the parts that count, scaled to 100).
    pub gate_score: u8,
    /// Whether the gate's rules other than its threshold pass: with `gate_score`, what the
    /// gate would decide at any threshold.
    pub gate_other_rules: GateCall,
    /// Each dimension's status, by key.
    pub dimensions: BTreeMap<String, Status>,
    /// The weighted hygiene checklist score, 0–100.
    pub hygiene_pct: u8,
    /// Each hygiene check, by key.
    pub checks: BTreeMap<String, CheckCall>,
}

impl DealRow {
    /// Whether the deal is closed won (`Some(true)`), closed lost (`Some(false)`) or open.
    pub fn won(&self) -> Option<bool> {
        match self.outcome {
            DealOutcome::Won => Some(true),
            DealOutcome::Lost => Some(false),
            DealOutcome::Open => None,
        }
    }

    /// How `check` came out.
    pub fn check(&self, check: Check) -> CheckCall {
        self.checks
            .get(check.key())
            .copied()
            .unwrap_or(CheckCall::NotApplicable)
    }
}

/// Judges deals with one playbook at one time: the scorecard, the gate rules and the staleness
/// rules (whose hygiene checklist the sweep uses), each the functions' own code.
#[derive(Debug, Clone)]
pub struct Judge<'a> {
    playbook: &'a Playbook,
    /// The same playbook with a gate threshold of 0: what the other rules decide.
    no_threshold: Playbook,
    staleness: staleness::Rules<'a>,
    now: OffsetDateTime,
}

impl<'a> Judge<'a> {
    /// A judge of deals under `playbook`, open deals as of `now`.
    pub fn new(playbook: &'a Playbook, now: OffsetDateTime) -> Judge<'a> {
        let mut no_threshold = playbook.clone();
        no_threshold.handoff.threshold = 0;
        Judge {
            playbook,
            no_threshold,
            staleness: staleness::Rules::of(playbook),
            now,
        }
    }

    /// When `record` is judged: an open deal now; a closed deal as of noon on its close date
    /// (a date its evidence names is read as it was then), else now.
    pub fn judged_at(&self, record: &Record) -> OffsetDateTime {
        match (record.status, record.close_date) {
            (DealStatus::Won | DealStatus::Lost, Some(day)) => day.with_time(NOON).assume_utc(),
            _ => self.now,
        }
    }

    /// `record`'s row, its texts compared with the other deals' (`templates`).
    pub fn row(&self, record: &Record, templates: &Templates) -> DealRow {
        let at = self.judged_at(record);
        let card = scorecard::score_among(record, self.playbook, templates, at);
        let gate = rules::check(&card, self.playbook);
        let others = rules::check(&card, &self.no_threshold);
        let call = |passed: bool| {
            if passed {
                GateCall::Pass
            } else {
                GateCall::Block
            }
        };
        let hygiene = self.staleness.assess(record, at).hygiene;
        DealRow {
            id: record.id.clone(),
            name: record.name.clone(),
            owner: record.owner_id.clone().filter(|o| !o.trim().is_empty()),
            outcome: record.status.into(),
            score: card.total,
            tier: card.tier,
            gate: call(gate.failed.is_empty()),
            gate_score: gate.score,
            gate_other_rules: call(others.failed.is_empty()),
            dimensions: card
                .dimensions
                .iter()
                .map(|d| (d.key.clone(), d.status))
                .collect(),
            hygiene_pct: hygiene.score_pct,
            checks: Check::ALL
                .iter()
                .map(|check| {
                    let outcome = match hygiene.passed(*check) {
                        Some(true) => CheckCall::Passed,
                        Some(false) => CheckCall::Failed,
                        None => CheckCall::NotApplicable,
                    };
                    (check.key().to_owned(), outcome)
                })
                .collect(),
        }
    }
}
