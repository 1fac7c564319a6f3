//! What the gate tells whom. Reps first, and only what they can act on:
//!
//! - **Blocked** (enforce mode): a task for the BDR naming every failed rule, each gap with its
//!   discovery question, and what to do next.
//! - **Would block** (shadow mode): an FYI note for the BDR: what would have been blocked and why.
//!   No task, no priority: nothing was blocked.
//! - **Validated**: a task for the AE carrying the handoff brief ([`brief`]): each dimension's
//!   evidence as the BDR wrote it, the contacts with titles and buying roles, the next step and
//!   its date, the score and how it was made, and what the score does not measure
//!   ([`brief`](super::brief)). In shadow mode the brief is a note: shadow mode assigns nobody
//!   work.
//!
//! Every notice also goes on the record as a note, so the history stays with the deal.

use super::{HandoffDecision, Verdict, Way, brief};
use crate::{
    event::WebhookEvent,
    mode::Mode,
    model::Record,
    playbook::Playbook,
    writeback::{Notice, Priority},
};

/// The decision in one line.
pub fn headline(d: &HandoffDecision, playbook: &Playbook) -> String {
    let to = playbook.stage_name(&d.to_stage);
    match (d.verdict, d.mode) {
        (Verdict::Validated, _) => format!(
            "Handoff to {to} validated: {}; handed to the AE{}.",
            d.rules.passed.join("; "),
            d.people
                .ae
                .as_ref()
                .map_or(String::new(), |ae| match &ae.name {
                    Some(_) => format!(" {}", ae.labelled()),
                    None => format!(" (user {})", ae.id),
                })
        ),
        (Verdict::Blocked, Mode::Enforce) => format!(
            "Handoff to {to} blocked: {}. {}",
            d.rules.failed.join("; "),
            what_happens(d, playbook)
        ),
        (Verdict::Blocked, Mode::Shadow) => format!(
            "{}: this handoff to {to} would have been blocked: {}. Nothing was moved.",
            if d.paused_because.is_some() {
                "Blocking is paused (the data is not good enough to block anyone yet)"
            } else {
                "Shadow mode"
            },
            d.rules.failed.join("; ")
        ),
    }
}

/// What becomes of a blocked deal.
fn what_happens(d: &HandoffDecision, playbook: &Playbook) -> String {
    match (&d.moved_back_to, &d.not_moved_back) {
        (Some(stage), _) => format!("The deal was moved back to {}.", playbook.stage_name(stage)),
        (None, Some(why)) => why.clone(),
        (None, None) => "The CRM did not say which stage the deal came from and the playbook sets no handoff.return_stage, so it was not moved back.".to_owned(),
    }
}

/// The notices of a decision, in the order they are created.
pub fn notices(d: &HandoffDecision, event: &WebhookEvent, playbook: &Playbook) -> Vec<Notice> {
    let record = &event.record;
    let deal = deal_name(record);
    // Nobody else gets the BDR's notice: without a known BDR it stays with the CRM's default.
    let bdr = d.people.bdr.as_ref().map(|p| p.id.clone());
    match (d.verdict, d.mode) {
        (Verdict::Blocked, Mode::Enforce) => {
            let title = format!(
                "Handoff blocked: {deal}: {}",
                d.rules.failed.first().map_or("", String::as_str)
            );
            let body = blocked_body(d, playbook, &deal);
            vec![
                Notice::task(bdr.clone(), title.clone(), body.clone(), Priority::High),
                Notice::note(bdr, title, body),
            ]
        }
        (Verdict::Blocked, Mode::Shadow) => {
            let title = format!("FYI: this handoff of {deal} would have been blocked");
            let why = match &d.paused_because {
                Some(why) => format!(
                    "pipeline-guard is not blocking anyone yet: nothing was blocked or moved, and you need do nothing now. {why}"
                ),
                None => "pipeline-guard runs in shadow mode: nothing was blocked or moved, and you need do nothing now. \
                         Once the gate is enforced, a handoff like this one will be blocked."
                    .to_owned(),
            };
            let body = format!("{why}\n\n{}", blocked_body(d, playbook, &deal));
            vec![Notice::note(bdr, title, body)]
        }
        (Verdict::Validated, mode) => {
            let ae = d.people.ae.as_ref().map(|p| p.id.clone());
            let title = format!(
                "Handoff: {deal}, qualification validated ({}/100)",
                d.rules.score
            );
            let body = brief::brief(d, record, playbook);
            match mode {
                Mode::Enforce => vec![
                    Notice::task(ae.clone(), title.clone(), body.clone(), Priority::Normal),
                    Notice::note(ae, title, body),
                ],
                Mode::Shadow => vec![Notice::note(ae, title, body)],
            }
        }
    }
}

/// The deal as reps know it: its quoted name, else its id.
pub(super) fn deal_name(record: &Record) -> String {
    record
        .name
        .as_ref()
        .map_or_else(|| format!("deal {}", record.id), |n| format!("\"{n}\""))
}

/// The BDR's notice: every failed rule, every gap with its question, what happens now.
fn blocked_body(d: &HandoffDecision, playbook: &Playbook, deal: &str) -> String {
    let to = playbook.stage_name(&d.to_stage);
    let how = match d.way {
        Way::Moved => "moved to",
        Way::Created => "created in",
        Way::Restored => "restored in",
    };
    let mut lines = vec![
        format!(
            "The handoff of {deal} to {to} does not meet the team's handoff rules yet (the deal was {how} {to})."
        ),
        String::new(),
        "What failed:".to_owned(),
    ];
    lines.extend(d.rules.failed.iter().map(|rule| format!("- {rule}")));
    if !d.missing.is_empty() {
        lines.push(String::new());
        lines.push("What is missing, and what to ask the buyer:".to_owned());
        lines.extend(
            d.missing
                .iter()
                .map(|m| format!("- {} ({}): {}", m.dimension, m.status, m.question)),
        );
    }
    lines.push(String::new());
    let next = match d.mode {
        Mode::Enforce => what_happens(d, playbook),
        Mode::Shadow => "Nothing was moved (shadow mode).".to_owned(),
    };
    lines.push(format!(
        "{next} Record what is missing on the deal, then move it to {to} again."
    ));
    lines.push(String::new());
    lines.push(d.scorecard.explain());
    lines.join("\n")
}

/// The canonical field adapters fill with the date of the next scheduled activity.
pub const NEXT_ACTIVITY_FIELD: &str = "next_activity_date";
