//! The BDR→AE handoff gate.
//!
//! Every way a deal gets into a handoff stage (the playbook's `handoff.stages`) is gated: a
//! stage change (from the app, a bulk edit, a workflow or the API alike), a creation in that
//! stage and a restore ([`route`]). The deal passes only when every rule of the playbook's
//! `[handoff]` holds ([`rules`]) and an AE is known ([`people`]): no exceptions. A blocked BDR
//! gets a task naming each failed rule and the question for each gap; a validated deal reaches
//! the AE as a task carrying the whole brief; in shadow mode the BDR gets a note only
//! ([`notices`]). CRMs deliver the change after saving it, so in enforce mode a blocked deal is
//! moved back to the stage it came from, provided it still sits in the handoff stage when the
//! CRM is read again just before the move.

pub mod brief;
pub mod notices;
pub mod people;
pub mod rules;
pub mod verdict;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use people::{People, Person};
pub use rules::RuleCheck;

use crate::{
    Error,
    event::{Change, WebhookEvent},
    mode::Mode,
    model::RecordKind,
    playbook::Playbook,
    scorecard::{self, Scorecard, Status},
    templates::Templates,
    writeback::WriteBack,
};

/// Whether the handoff may proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every rule holds and an AE is known: the AE gets the deal.
    Validated,
    /// A rule failed, or no AE is known.
    Blocked,
}

/// How the deal got into the handoff stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Way {
    /// Its stage changed (in the app, by a bulk edit, a workflow or the API).
    Moved,
    /// It was created in the stage (an import, the API, a workflow).
    Created,
    /// It was restored after a deletion, in the stage.
    Restored,
}

/// A deal entering a handoff stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// How.
    pub way: Way,
    /// The stage it left, when the CRM says.
    pub from: Option<String>,
    /// The handoff stage.
    pub to: String,
}

/// What the gate makes of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// The event puts a deal into a handoff stage: gate it.
    Enters(Entry),
    /// It does not, for this reason.
    Passes(String),
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
    /// Why an `enforce` install decided in shadow mode: its data is not good enough to block
    /// anyone yet ([`crate::portfolio::enforcement`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_because: Option<String>,
    /// How the deal entered the handoff stage.
    pub way: Way,
    /// Where the deal is moved back to (blocked, enforce mode, and a stage to return to).
    pub moved_back_to: Option<String>,
    /// Why a deal that was to be moved back was not, after all (it moved on since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_moved_back: Option<String>,
    /// The stage the deal left, when known.
    pub from_stage: Option<String>,
    /// The handoff stage it entered.
    pub to_stage: String,
    /// The score needed.
    pub threshold: u8,
    /// The rules, passed and failed (a missing AE is a failed rule too).
    pub rules: RuleCheck,
    /// The BDR and the AE.
    pub people: People,
    /// What is missing, weakest first.
    pub missing: Vec<Missing>,
    /// The decision in one line.
    pub message: String,
    /// The whole shared scorecard.
    pub scorecard: Scorecard,
}

/// Whether entering `stage` is a handoff under this playbook.
pub fn is_handoff(stage: &str, playbook: &Playbook) -> bool {
    playbook.handoff.stages.iter().any(|s| s == stage)
}

/// Whether `event` puts a deal into a handoff stage. A deal created or restored without its
/// stage is a fault of the CRM's answer, retried: it is never taken for a deal outside the gate.
pub fn route(event: &WebhookEvent, playbook: &Playbook) -> Result<Route, Error> {
    let record = &event.record;
    if record.kind == RecordKind::Lead {
        return Ok(Route::Passes("leads are not handed off".into()));
    }
    let (way, from, to) = match &event.change {
        Change::StageChanged { from, to } => (Way::Moved, from.clone(), to.clone()),
        Change::Created | Change::Restored => {
            let way = if event.change == Change::Created {
                Way::Created
            } else {
                Way::Restored
            };
            let Some(stage) = record.stage.clone() else {
                return Err(Error::CrmUnavailable {
                    call: format!("reading deal {}", record.id),
                    reason: "the CRM answered without the deal's stage, so whether it entered a handoff stage cannot be told; retried".into(),
                });
            };
            (way, None, stage)
        }
        _ => return Ok(Route::Passes("not a way into a stage".into())),
    };
    if !is_handoff(&to, playbook) {
        return Ok(Route::Passes(format!(
            "stage {to:?} is not a handoff stage"
        )));
    }
    Ok(Route::Enters(Entry { way, from, to }))
}

/// Decide the handoff `entry` of `event`'s deal; `templates` says how many of the CRM's deals
/// hold the same text as each of its dimensions.
pub fn decide(
    event: &WebhookEvent,
    entry: &Entry,
    playbook: &Playbook,
    mode: Mode,
    templates: &Templates,
    now: OffsetDateTime,
) -> HandoffDecision {
    let record = &event.record;
    let scorecard = scorecard::score_among(record, playbook, templates, event.as_of(now));
    let mut rules = rules::check(&scorecard, playbook);
    let people = people::identify(event, &playbook.handoff);
    rules.failed.extend(people.missing_ae(&playbook.handoff));
    let verdict = if rules.failed.is_empty() {
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
    let return_stage = return_stage(entry, playbook);
    let moved_back_to = match (verdict, mode) {
        (Verdict::Blocked, Mode::Enforce) => return_stage,
        _ => None,
    };
    let mut decision = HandoffDecision {
        verdict,
        mode,
        paused_because: None,
        way: entry.way,
        moved_back_to,
        not_moved_back: None,
        from_stage: entry.from.clone(),
        to_stage: entry.to.clone(),
        threshold: playbook.handoff.threshold,
        rules,
        people,
        missing,
        message: String::new(),
        scorecard,
    };
    decision.message = notices::headline(&decision, playbook);
    decision
}

/// Where a blocked deal goes back to: the stage it came from, unless that is a handoff stage too
/// (moving it there would hand it off again), else the playbook's `handoff.return_stage`.
fn return_stage(entry: &Entry, playbook: &Playbook) -> Option<String> {
    entry
        .from
        .as_deref()
        .filter(|from| !is_handoff(from, playbook))
        .map(str::to_owned)
        .or_else(|| playbook.handoff.return_stage.clone())
}

impl HandoffDecision {
    /// Give its BDR and AE the names `names` knows: the headline and notices show them.
    pub fn name_people(&mut self, names: &crate::people::Names, playbook: &Playbook) {
        self.people.name(names);
        self.message = notices::headline(self, playbook);
    }

    /// Decided in shadow mode although `enforce` is configured, because `why`.
    pub fn paused(&mut self, why: &str, playbook: &Playbook) {
        self.paused_because = Some(why.to_owned());
        self.message = notices::headline(self, playbook);
    }

    /// The deal is not moved back after all, because `why` (it moved on since the event).
    pub fn cancel_move(&mut self, why: &str, playbook: &Playbook) {
        self.moved_back_to = None;
        self.not_moved_back = Some(why.to_owned());
        self.message = notices::headline(self, playbook);
    }

    /// The status written back: `validated`, `blocked`, or `would_block` in shadow mode.
    pub fn status(&self) -> &'static str {
        match (self.verdict, self.mode) {
            (Verdict::Validated, _) => "validated",
            (Verdict::Blocked, Mode::Enforce) => "blocked",
            (Verdict::Blocked, Mode::Shadow) => "would_block",
        }
    }

    /// The CRM changes this decision makes to `record`: its status, the score as score-lead
    /// writes it (score, summary, next question, gaps, what it does not measure:
    /// [`Scorecard::fields`]), so the fields the rep reads never describe two different scores,
    /// the AE's verdict on an earlier handoff cleared, the move back (only from the handoff
    /// stage it entered), and the notices.
    pub fn write_back(&self, event: &WebhookEvent, playbook: &Playbook) -> WriteBack {
        let names = &playbook.write_back;
        let record = &event.record;
        let mut fields = self.scorecard.fields(names);
        fields.insert(names.handoff_status.clone(), self.status().into());
        // A new handoff starts without a verdict: the AE's verdict on an earlier one is cleared,
        // so it is never read as this one's.
        let verdict = &playbook.handoff.verdict;
        for field in [&verdict.field, &verdict.reason_field] {
            if record.has(field) {
                fields.insert(field.clone(), serde_json::Value::Null);
            }
        }
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields,
            move_to_stage: self.moved_back_to.clone(),
            move_only_from: self.moved_back_to.as_ref().map(|_| self.to_stage.clone()),
            notices: notices::notices(self, event, playbook),
            personal: false,
        }
    }
}

#[cfg(test)]
mod tests;
