//! The BDR→AE handoff gate.
//!
//! Moving a deal into a handoff stage (the playbook's `handoff.stages`) is allowed only when the
//! shared scorecard reaches the playbook's threshold: no exceptions. A blocked BDR is told exactly
//! which dimensions are missing and what to ask; a validated deal reaches the AE with the whole
//! scorecard. HubSpot, Pipedrive and generic CRMs deliver the change after saving it, so in
//! enforce mode a blocked deal is moved back to the stage it came from.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    mode::Mode,
    model::Record,
    playbook::Playbook,
    scorecard::{self, Scorecard, Status},
    writeback::{Note, WriteBack},
};

/// Whether the handoff may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The scorecard reaches the threshold: the AE gets the deal.
    Validated,
    /// The scorecard is below the threshold.
    Blocked,
}

/// A dimension the BDR still has to evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    /// The dimension's name.
    pub dimension: String,
    /// Red (nothing) or yellow (not enough).
    pub status: Status,
    /// What to ask the buyer.
    pub question: String,
}

/// The gate's decision on one handoff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffDecision {
    /// Validated or blocked.
    pub verdict: Verdict,
    /// The mode the decision was made in.
    pub mode: Mode,
    /// Whether the deal is moved back (blocked, enforce mode, and a stage to return to).
    pub moved_back_to: Option<String>,
    /// The stage the deal left, when known.
    pub from_stage: Option<String>,
    /// The handoff stage it entered.
    pub to_stage: String,
    /// The score needed.
    pub threshold: u8,
    /// What is missing, weakest first (empty when validated).
    pub missing: Vec<Missing>,
    /// What the BDR (blocked) or AE (validated) reads.
    pub message: String,
    /// The whole shared scorecard.
    pub scorecard: Scorecard,
}

/// Whether entering `stage` is a handoff under this playbook.
pub fn is_handoff(stage: &str, playbook: &Playbook) -> bool {
    playbook.handoff.stages.iter().any(|s| s == stage)
}

/// Decide a handoff of `record` from `from_stage` into the handoff stage `to_stage`.
pub fn decide(
    record: &Record,
    from_stage: Option<&str>,
    to_stage: &str,
    playbook: &Playbook,
    mode: Mode,
    now: OffsetDateTime,
) -> HandoffDecision {
    let scorecard = scorecard::score(record, playbook, now);
    let threshold = playbook.handoff.threshold;
    let verdict = if scorecard.total >= threshold {
        Verdict::Validated
    } else {
        Verdict::Blocked
    };
    let missing: Vec<Missing> = scorecard
        .gaps()
        .map(|d| Missing {
            dimension: d.name.clone(),
            status: d.status,
            question: d.next_question.clone().unwrap_or_default(),
        })
        .collect();
    let return_stage = from_stage
        .filter(|s| *s != to_stage)
        .map(str::to_owned)
        .or_else(|| playbook.handoff.return_stage.clone());
    let moved_back_to = match (verdict, mode) {
        (Verdict::Blocked, Mode::Enforce) => return_stage,
        _ => None,
    };
    let message = message(
        verdict,
        mode,
        &scorecard,
        threshold,
        &missing,
        moved_back_to
            .as_deref()
            .map(|stage| playbook.stage_name(stage)),
    );
    HandoffDecision {
        verdict,
        mode,
        moved_back_to,
        from_stage: from_stage.map(str::to_owned),
        to_stage: to_stage.to_owned(),
        threshold,
        missing,
        message,
        scorecard,
    }
}

fn message(
    verdict: Verdict,
    mode: Mode,
    scorecard: &Scorecard,
    threshold: u8,
    missing: &[Missing],
    moved_back_to: Option<&str>,
) -> String {
    let total = scorecard.total;
    match verdict {
        Verdict::Validated => format!(
            "Handoff validated: {total}/100 meets the {threshold} threshold. The full scorecard is attached for the AE."
        ),
        Verdict::Blocked => {
            let what = missing
                .iter()
                .map(|m| format!("{} (ask: {})", m.dimension, m.question))
                .collect::<Vec<_>>()
                .join("; ");
            let action = match (mode, moved_back_to) {
                (Mode::Shadow, _) => {
                    "Shadow mode: nothing was moved; in enforce mode this handoff would be blocked."
                        .to_owned()
                }
                (Mode::Enforce, Some(stage)) => format!("The deal was moved back to {stage}."),
                (Mode::Enforce, None) => "The CRM did not say which stage the deal came from and the playbook sets no handoff.return_stage, so it was not moved back.".to_owned(),
            };
            format!(
                "Handoff blocked: {total}/100 is below the {threshold} threshold. Missing: {what}. {action}"
            )
        }
    }
}

impl HandoffDecision {
    /// The CRM changes this decision makes to `record`.
    pub fn write_back(&self, record: &Record, playbook: &Playbook) -> WriteBack {
        let names = &playbook.write_back;
        let status = match (self.verdict, self.mode) {
            (Verdict::Validated, _) => "validated",
            (Verdict::Blocked, Mode::Enforce) => "blocked",
            (Verdict::Blocked, Mode::Shadow) => "would_block",
        };
        let fields = [
            (names.handoff_status.clone(), status.into()),
            (names.score.clone(), self.scorecard.total.into()),
            (names.summary.clone(), self.scorecard.summary().into()),
        ]
        .into_iter()
        .collect();
        let title = match self.verdict {
            Verdict::Validated => "pipeline-guard: handoff validated".to_owned(),
            Verdict::Blocked => "pipeline-guard: handoff blocked".to_owned(),
        };
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            owner_id: record.owner_id.clone(),
            fields,
            move_to_stage: self.moved_back_to.clone(),
            note: Some(Note {
                title,
                body: format!("{}\n\n{}", self.message, self.scorecard.explain()),
                action_required: self.verdict == Verdict::Blocked,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn deal_with(fields: &[(&str, &str)]) -> Record {
        let mut deal = Record::new_deal("D-7");
        for (k, v) in fields {
            deal.fields.insert((*k).into(), (*v).into());
        }
        deal
    }

    #[test]
    fn below_threshold_is_blocked_even_with_a_strong_dimension() {
        let playbook = Playbook::default_playbook();
        let deal = deal_with(&[("pain", "Month-end close takes nine days every single month")]);
        let d = decide(
            &deal,
            Some("discovery"),
            "sales_accepted",
            &playbook,
            Mode::Enforce,
            NOW,
        );
        assert_eq!(d.verdict, Verdict::Blocked);
        assert_eq!(d.moved_back_to.as_deref(), Some("discovery"));
        assert_eq!(d.missing.len(), 4);
        assert!(d.message.contains("Economic buyer (ask: Who signs off"));
        let wb = d.write_back(&deal, &playbook);
        assert_eq!(wb.move_to_stage.as_deref(), Some("discovery"));
        assert_eq!(wb.fields["pg_handoff_status"], "blocked");
    }

    #[test]
    fn the_message_names_the_stage_and_the_write_back_moves_by_id() {
        let mut playbook = Playbook::default_playbook();
        playbook
            .stage_names
            .insert("discovery".into(), "Discovery call".into());
        let deal = deal_with(&[]);
        let d = decide(
            &deal,
            Some("discovery"),
            "sales_accepted",
            &playbook,
            Mode::Enforce,
            NOW,
        );
        assert!(
            d.message
                .ends_with("The deal was moved back to Discovery call."),
            "{}",
            d.message
        );
        let wb = d.write_back(&deal, &playbook);
        assert_eq!(wb.move_to_stage.as_deref(), Some("discovery"));
    }

    #[test]
    fn shadow_mode_tells_but_never_moves() {
        let playbook = Playbook::default_playbook();
        let deal = deal_with(&[]);
        let d = decide(
            &deal,
            Some("discovery"),
            "sales_accepted",
            &playbook,
            Mode::Shadow,
            NOW,
        );
        assert_eq!(d.verdict, Verdict::Blocked);
        assert_eq!(d.moved_back_to, None);
        let wb = d.write_back(&deal, &playbook);
        assert_eq!(wb.move_to_stage, None);
        assert_eq!(wb.fields["pg_handoff_status"], "would_block");
        assert!(wb.note.unwrap().body.contains("Shadow mode"));
    }

    #[test]
    fn at_threshold_is_validated_with_the_whole_scorecard() {
        let mut playbook = Playbook::default_playbook();
        // situation 12 + pain 20 + next step 16 + economic buyer 16 = 64 of the 80
        // qualification points.
        playbook.handoff.threshold = 64;
        let mut deal = deal_with(&[
            (
                "situation",
                "Finance team of 12 closes books in spreadsheets",
            ),
            (
                "pain",
                "Month-end close takes nine days and delays reporting",
            ),
            ("next_step", "Demo with the CFO on Friday"),
        ]);
        deal.contacts.push(crate::model::Contact {
            id: "C-1".into(),
            name: Some("Dana Ruiz".into()),
            email: None,
            title: None,
            role: Some("economic_buyer".into()),
        });
        let d = decide(&deal, None, "sales_accepted", &playbook, Mode::Enforce, NOW);
        assert_eq!(d.scorecard.total, 64);
        assert_eq!(d.verdict, Verdict::Validated);
        let note = d.write_back(&deal, &playbook).note.unwrap();
        assert!(note.body.contains("- Impact [red]"), "{}", note.body);
        playbook.handoff.threshold = 65;
        let d = decide(&deal, None, "sales_accepted", &playbook, Mode::Enforce, NOW);
        assert_eq!(d.verdict, Verdict::Blocked);
    }
}
