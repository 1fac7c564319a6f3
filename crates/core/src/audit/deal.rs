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

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::hygiene::Outcome;

    const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

    fn deal(status: DealStatus) -> Record {
        let mut deal = Record::new_deal("D-1");
        deal.status = status;
        deal.owner_id = Some("Dana Ruiz".into());
        deal.amount = Some(12_000.0);
        deal.close_date = Some(date!(2026 - 10 - 01));
        deal.fields.insert(
            "pain".into(),
            "Month-end close takes nine days and delays reporting".into(),
        );
        deal.fields.insert(
            "next_step".into(),
            "Kick-off with the CFO on 2026-10-08".into(),
        );
        deal
    }

    #[test]
    fn a_row_is_what_the_scorecard_the_gate_and_the_checklist_say() {
        let playbook = Playbook::default_playbook();
        let judge = Judge::new(&playbook, NOW);
        let record = deal(DealStatus::Open);
        let row = judge.row(&record, &Templates::default());
        let card = scorecard::score(&record, &playbook, NOW);
        let gate = rules::check(&card, &playbook);
        let hygiene = staleness::assess(&record, &playbook, NOW).hygiene;
        assert_eq!((row.score, &row.tier), (card.total, &card.tier));
        assert_eq!(row.gate == GateCall::Pass, gate.failed.is_empty());
        assert_eq!(row.gate_score, gate.score);
        assert_eq!(row.hygiene_pct, hygiene.score_pct);
        for d in &card.dimensions {
            assert_eq!(row.dimensions[&d.key], d.status);
        }
        for result in &hygiene.checks {
            let call = match result.outcome {
                Outcome::Passed => CheckCall::Passed,
                Outcome::Failed => CheckCall::Failed,
                Outcome::NotApplicable => CheckCall::NotApplicable,
            };
            assert_eq!(row.check(result.check), call);
        }
    }

    #[test]
    fn a_closed_deal_is_judged_as_of_its_close_date() {
        let playbook = Playbook::default_playbook();
        let judge = Judge::new(&playbook, NOW);
        let won = deal(DealStatus::Won);
        assert_eq!(judge.judged_at(&won), datetime!(2026-10-01 12:00 UTC));
        let row = judge.row(&won, &Templates::default());
        assert_eq!(row.outcome, DealOutcome::Won);
        assert_eq!(
            row.dimensions["next_step"],
            Status::Green,
            "a step dated a week after it closed was ahead then"
        );
        let open = deal(DealStatus::Open);
        assert_ne!(
            judge.row(&open, &Templates::default()).dimensions["next_step"],
            Status::Green,
            "the same step is past for an open deal judged today"
        );
    }

    #[test]
    fn the_gate_at_any_threshold_follows_from_the_row() {
        let playbook = Playbook::default_playbook();
        let row = Judge::new(&playbook, NOW).row(&deal(DealStatus::Won), &Templates::default());
        let at = |threshold: u8| {
            let mut playbook = playbook.clone();
            playbook.handoff.threshold = threshold;
            Judge::new(&playbook, NOW)
                .row(&deal(DealStatus::Won), &Templates::default())
                .gate
        };
        for threshold in [0, 20, 40, 60, 80, 100] {
            let passes = row.gate_other_rules == GateCall::Pass && row.gate_score >= threshold;
            assert_eq!(at(threshold) == GateCall::Pass, passes, "at {threshold}");
        }
    }
}
