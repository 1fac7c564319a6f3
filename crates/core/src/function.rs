//! The three pipeline-guard functions, and what each decides for one event.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error,
    event::{Change, WebhookEvent},
    gate::{self, HandoffDecision, Route, verdict::VerdictDecision},
    mode::Mode,
    model::RecordKind,
    playbook::Playbook,
    scorecard::{self, Scorecard},
    staleness::{self, StaleReport},
    templates::Templates,
    writeback::WriteBack,
};

/// One of the deployed functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FunctionKind {
    /// Scores leads and deals against the playbook and writes the score back.
    ScoreLead,
    /// Gates BDR→AE handoffs on the shared scorecard.
    GateHandoff,
    /// Flags stale deals and reports hygiene.
    FlagStaleDeals,
}

impl FunctionKind {
    /// The function's name, as in its route (`score-lead`).
    pub fn name(self) -> &'static str {
        match self {
            FunctionKind::ScoreLead => "score-lead",
            FunctionKind::GateHandoff => "gate-handoff",
            FunctionKind::FlagStaleDeals => "flag-stale-deals",
        }
    }

    /// Decide what to do about one event, knowing from `templates` how many of the CRM's
    /// records hold the same text as each of its record's dimensions. An error is a fault of the
    /// CRM's data that a retry may mend (a deal without its stage): the event stays pending.
    pub fn decide(
        self,
        event: &WebhookEvent,
        settings: &Settings,
        templates: &Templates,
        now: OffsetDateTime,
    ) -> Result<Decision, Error> {
        let record = &event.record;
        match &event.change {
            Change::Deleted => return Ok(Decision::skipped("the record was deleted")),
            Change::Unsupported { event_type } => {
                return Ok(Decision::skipped(format!(
                    "event type {event_type:?} is not acted on; acknowledged so the CRM does not retry it"
                )));
            }
            _ => {}
        }
        let playbook = &settings.playbook;
        Ok(match self {
            FunctionKind::ScoreLead => Decision::Scored(Box::new(scorecard::score_among(
                record,
                playbook,
                templates,
                event.as_of(now),
            ))),
            FunctionKind::GateHandoff => match gate::route(event, playbook)? {
                Route::Enters(entry) => {
                    let mut decision =
                        gate::decide(event, &entry, playbook, settings.mode, templates, now);
                    if let Some(why) = &settings.paused_because {
                        decision.paused(why, playbook);
                    }
                    Decision::Handoff(Box::new(decision))
                }
                Route::Passes(reason) => {
                    match gate::verdict::read(event, playbook, settings.mode) {
                        Some(verdict) => Decision::Verdict(Box::new(verdict)),
                        None => Decision::skipped(reason),
                    }
                }
            },
            FunctionKind::FlagStaleDeals => match record.kind {
                RecordKind::Deal => Decision::Stale(staleness::assess(record, playbook, now)),
                RecordKind::Lead => Decision::skipped("leads have no pipeline stage to rot in"),
            },
        })
    }
}

/// What a function is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The playbook in force.
    pub playbook: Playbook,
    /// Shadow or enforce: the mode in force.
    pub mode: Mode,
    /// Why the mode in force is shadow although `enforce` is configured (the CRM's data is not
    /// good enough to block anyone yet: [`crate::portfolio::enforcement`]).
    pub paused_because: Option<String>,
    /// How notices link each rep to their own page; `None` while `rep_link_secret` is unset
    /// (notices then carry no link).
    pub rep_links: Option<crate::rep_page::link::RepLinks>,
}

impl Settings {
    /// `playbook` in `mode`, as configured.
    pub fn new(playbook: Playbook, mode: Mode) -> Settings {
        Settings {
            playbook,
            mode,
            paused_because: None,
            rep_links: None,
        }
    }

    /// These settings for a CRM whose `enforcement` the portfolio decided: its mode, and why
    /// enforcement fell back to shadow.
    pub fn under(&self, enforcement: &crate::portfolio::Enforcement) -> Settings {
        Settings {
            playbook: self.playbook.clone(),
            mode: enforcement.mode,
            paused_because: enforcement
                .fell_back()
                .then(|| enforcement.why.clone())
                .flatten(),
            rep_links: self.rep_links.clone(),
        }
    }
}

/// A function's decision on one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// score-lead's scorecard.
    Scored(Box<Scorecard>),
    /// gate-handoff's decision (boxed: it carries the scorecard, the brief's people and rules).
    Handoff(Box<HandoffDecision>),
    /// gate-handoff's reading of an AE's verdict on a handoff.
    Verdict(Box<VerdictDecision>),
    /// flag-stale-deals' report.
    Stale(StaleReport),
    /// Nothing to decide for this event.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// A decision in a few fields: what is kept for every event, answered to a redelivery, and what a
/// CRM workflow branches on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brief {
    /// False only for a handoff gate-handoff blocks in enforce mode.
    pub allowed: bool,
    /// `validated`, `blocked`, `would_block` (shadow mode), an AE's verdict (`accepted`,
    /// `rejected`, `unreadable`, `verdict_without_handoff`), `scored`, `stale`, `not_stale` or
    /// `skipped`.
    pub decision: String,
    /// The score, for scorecards and handoffs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    /// The tier, for scorecards and handoffs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// The decision in one line.
    pub message: String,
}

impl Decision {
    /// Give the people this decision names (a handoff's BDR and AE) the names `names` knows, so
    /// its notices show them.
    pub fn name_people(&mut self, names: &crate::people::Names, playbook: &Playbook) {
        if let Decision::Handoff(handoff) = self
            && !names.is_empty()
        {
            handoff.name_people(names, playbook);
        }
    }

    /// Nothing to decide, for `reason`.
    pub fn skipped(reason: impl Into<String>) -> Decision {
        Decision::Skipped {
            reason: reason.into(),
        }
    }

    /// The CRM changes this decision makes under `settings`, if any.
    pub fn write_back(&self, event: &WebhookEvent, settings: &Settings) -> Option<WriteBack> {
        let (record, playbook) = (&event.record, &settings.playbook);
        match self {
            Decision::Scored(card) => Some(card.write_back(record, playbook)),
            Decision::Handoff(decision) => Some(decision.write_back(event, playbook)),
            Decision::Verdict(verdict) if verdict.matched => verdict.write_back(event, playbook),
            Decision::Verdict(_) => None,
            Decision::Stale(report) => Some(report.write_back(record, playbook, settings.mode)),
            Decision::Skipped { .. } => None,
        }
    }

    /// What a workflow branches on and what a redelivery gets back, in a few fields: small
    /// enough to keep for every event ([`Brief`]).
    pub fn brief(&self) -> Brief {
        let (allowed, name, score, tier) = match self {
            Decision::Handoff(d) => {
                let name = d.status();
                (
                    name != "blocked",
                    name,
                    Some(d.scorecard.total),
                    Some(d.scorecard.tier.clone()),
                )
            }
            Decision::Scored(card) => (true, "scored", Some(card.total), Some(card.tier.clone())),
            Decision::Verdict(v) => (true, v.status(), None, None),
            Decision::Stale(r) => (
                true,
                if r.stale { "stale" } else { "not_stale" },
                None,
                None,
            ),
            Decision::Skipped { .. } => (true, "skipped", None, None),
        };
        Brief {
            allowed,
            decision: name.to_owned(),
            score,
            tier,
            message: self.summary(),
        }
    }

    /// One line for logs and the key-value record.
    pub fn summary(&self) -> String {
        match self {
            Decision::Scored(card) => card.summary(),
            Decision::Handoff(d) => d.message.clone(),
            Decision::Verdict(v) => v.message.clone(),
            Decision::Stale(r) if r.stale => format!("stale: {} reason(s)", r.reasons.len()),
            Decision::Stale(_) => "not stale".to_owned(),
            Decision::Skipped { reason } => format!("skipped: {reason}"),
        }
    }
}
