//! The AE's handoff brief: everything needed to take the deal on without asking the BDR, in
//! sections: who handed what, the qualification as the BDR recorded it, the contacts, the next
//! step, the score and how it was made, and what the score does not measure.

use super::{
    HandoffDecision,
    notices::{NEXT_ACTIVITY_FIELD, deal_name},
};
use crate::{model::Record, playbook::Playbook, scorecard::Scorecard};

/// The brief of a validated handoff.
pub fn brief(d: &HandoffDecision, record: &Record, playbook: &Playbook) -> String {
    [
        header(d, record, playbook),
        qualification(&d.scorecard),
        contacts(record),
        next_step(record, playbook),
        score(d),
        format!(
            "What this score does not measure: {}.",
            d.scorecard.not_measured.join("; ")
        ),
    ]
    .join("\n\n")
}

/// Who handed which deal, and its amount, close date and stage.
fn header(d: &HandoffDecision, record: &Record, playbook: &Playbook) -> String {
    let name = deal_name(record);
    let by = d
        .people
        .bdr
        .as_ref()
        .map_or(String::new(), |bdr| match &bdr.name {
            Some(name) => format!(" by {name} (user {}, {})", bdr.id, bdr.from),
            None => format!(" by user {} ({})", bdr.id, bdr.from),
        });
    let mut text = format!("{name} is handed to you{by}. It meets the team's handoff rules.");
    let facts: Vec<String> = [
        record.amount.map(|a| format!("amount {a}")),
        record.close_date.map(|c| format!("close date {c}")),
        record
            .stage
            .as_deref()
            .map(|s| format!("stage {}", playbook.stage_name(s))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !facts.is_empty() {
        text.push_str(&format!("\nDeal: {}.", facts.join(", ")));
    }
    text
}

/// Each dimension's evidence as written, and what is still open.
fn qualification(card: &Scorecard) -> String {
    let mut lines = vec!["Qualification, as the BDR recorded it:".to_owned()];
    for dim in &card.dimensions {
        let evidence = dim
            .evidence
            .as_deref()
            .map_or_else(|| "(nothing recorded)".to_owned(), |e| format!("\"{e}\""));
        let mut line = format!("- {} [{}]: {evidence}", dim.name, dim.status);
        if let Some(question) = &dim.next_question {
            line.push_str(&format!(" (still open; ask: {question})"));
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// The contacts with their titles, buying roles and emails.
fn contacts(record: &Record) -> String {
    if record.contacts.is_empty() {
        return "Contacts: none on the deal.".to_owned();
    }
    let mut lines = vec!["Contacts:".to_owned()];
    for c in &record.contacts {
        let parts: Vec<String> = [
            c.name.clone().or_else(|| Some(format!("contact {}", c.id))),
            c.title.clone(),
            c.role
                .as_deref()
                .map(|r| format!("buying role: {}", r.replace('_', " "))),
            c.email.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        lines.push(format!("- {}", parts.join(", ")));
    }
    lines.join("\n")
}

/// The next step and the date of the next scheduled activity, as the record has them.
fn next_step(record: &Record, playbook: &Playbook) -> String {
    let text = playbook
        .dimension("next_step")
        .and_then(|d| record.text(d.field()))
        .or_else(|| record.text("next_step"));
    let date = record.text(NEXT_ACTIVITY_FIELD);
    match (text, date) {
        (Some(text), Some(date)) => format!("Next step: \"{text}\", next activity on {date}."),
        (Some(text), None) => {
            format!("Next step: \"{text}\"; no next activity is scheduled in the CRM.")
        }
        (None, Some(date)) => format!("Next step: none recorded; next activity on {date}."),
        (None, None) => {
            "Next step: none recorded, and no next activity is scheduled in the CRM.".to_owned()
        }
    }
}

/// The score, how it was made, and the rules it passed.
fn score(d: &HandoffDecision) -> String {
    let card = &d.scorecard;
    let points: Vec<String> = card
        .dimensions
        .iter()
        .map(|dim| format!("{} {:.0}/{:.0}", dim.name, dim.points, dim.max_points))
        .chain(
            card.fit
                .iter()
                .map(|p| format!("fit {:.0}/{:.0}", p.points, p.max_points)),
        )
        .chain(
            card.engagement
                .iter()
                .map(|p| format!("engagement {:.0}/{:.0}", p.points, p.max_points)),
        )
        .collect();
    let mut lines = vec![
        format!(
            "Score: {} {}/100 against the threshold of {} (only {} counts toward it). Whole scorecard {}/100, tier {}.",
            d.rules.counted, d.rules.score, d.threshold, d.rules.counted, card.total, card.tier
        ),
        format!("Points: {}.", points.join(", ")),
        format!("Rules passed: {}.", d.rules.passed.join("; ")),
    ];
    if let Some(ae) = &d.people.ae {
        lines.push(format!("You are the AE as {}.", ae.from));
    }
    lines.push(format!(
        "Playbook \"{}\" v{}.",
        card.playbook.name, card.playbook.version
    ));
    lines.join("\n")
}
