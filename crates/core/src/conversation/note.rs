//! What the rep reads after a call: a note on the call's record, addressed to them, never a
//! task and never to a manager. Their talk share and questions against the playbook's bands, the
//! dimensions they did not ask about with the question for next time, the buyer's sentences that
//! read as evidence (to confirm: the machine suggests, the rep validates by putting a quote in
//! the field, and the normal score runs), and the outlier mark. Nothing is written into a field.

use super::{Signals, history::OwnPast, upload::CallUpload};
use crate::{
    playbook::Playbook,
    writeback::{Notice, WriteBack},
};

/// The most evidence quotes a note lists.
const QUOTES: usize = 5;

/// The note on `upload`'s record for its rep, from the call's `signals`, compared with the rep's
/// own `past` calls (never with anyone else's).
pub fn note(
    upload: &CallUpload,
    signals: &Signals,
    past: &OwnPast,
    playbook: &Playbook,
) -> WriteBack {
    let mut lines = vec![
        format!(
            "Your call {} on {}: for you first, nobody else is told.",
            upload.call_id,
            upload.started_at.date()
        ),
        format!("- Talk share: {}", signals.rep_talk_share.why),
        format!("- Questions: {}", signals.rep_questions.why),
        format!(
            "- Longest monologue: {}",
            signals.longest_rep_monologue_s.why
        ),
        format!("- Next step: {}", signals.next_step.why),
    ];
    lines.push(own_past(signals, past));
    if signals.outlier.marked {
        lines.push(format!(
            "- Worth a second listen: {}.",
            signals.outlier.reasons.join("; ")
        ));
    }
    if !signals.dimensions_asked.not_asked.is_empty() {
        lines.push(String::new());
        lines.push("Not asked about, and the question for next time:".to_owned());
        for key in &signals.dimensions_asked.not_asked {
            match playbook.dimension(key) {
                Some(d) => lines.push(format!("- {}: {}", d.name, d.question)),
                None => lines.push(format!("- {key}")),
            }
        }
    }
    if !signals.evidence.is_empty() {
        lines.push(String::new());
        lines.push(
            "The buyer said, to confirm (put a quote in its field if it holds; the score reads the field, not the call):"
                .to_owned(),
        );
        for evidence in signals.evidence.iter().take(QUOTES) {
            let name = playbook
                .dimension(&evidence.dimension)
                .map_or(&*evidence.dimension, |d| d.name.as_str());
            let at = evidence
                .at_s
                .map_or_else(String::new, |s| format!(" (minute {})", (s / 60.0).floor()));
            lines.push(format!("- {name}{at}: \"{}\"", evidence.quote));
        }
    }
    WriteBack {
        record_kind: upload.record.kind,
        record_id: upload.record.id.clone(),
        fields: Default::default(),
        move_to_stage: None,
        move_only_from: None,
        notices: vec![Notice::note(
            upload.rep.id.clone(),
            format!("Your call {}: what the recording says", upload.call_id),
            lines.join("\n"),
        )],
        personal: false,
    }
}

/// This call against the rep's own last 30 days.
fn own_past(signals: &Signals, past: &OwnPast) -> String {
    let (Some(talk), Some(questions)) = (past.talk_share, past.questions) else {
        return "- Your first call kept here: the next notes compare each call with your own last 30 days.".to_owned();
    };
    let trend: Vec<String> = past
        .tracked
        .iter()
        .chain(signals.tracked.value.as_ref())
        .map(|v| format!("{}", (v * 10.0).round() / 10.0))
        .collect();
    format!(
        "- Against your own last 30 days ({} calls): talk share {:.0} % (yours: {:.0} %), questions {} (yours: {:.1}); {} call by call: {}.",
        past.calls,
        signals.rep_talk_share.share * 100.0,
        talk * 100.0,
        signals.rep_questions.count,
        questions,
        signals.tracked.behaviour.label(),
        trend.join(" → ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPLOAD: &str = r#"{"call_id": "c-9", "record": {"kind": "deal", "id": "D-7"},
        "started_at": "2026-12-07T15:00:00Z", "rep": {"id": "u-3", "name": "Sam Rivera"},
        "format": "text", "transcript": "[00:00] Sam Rivera: Let me walk you through our platform. It has dashboards, alerts, workflows and an API.\n[02:00] Dana Ruiz: Month-end close takes nine days and blocks reporting.\n[02:30] Sam Rivera: Great."}"#;

    #[test]
    fn the_rep_gets_a_note_with_their_figures_the_gaps_and_quotes_to_confirm() {
        let upload = CallUpload::from_json(UPLOAD.as_bytes()).unwrap();
        let playbook = Playbook::default_playbook();
        let signals = upload.analyse(&playbook).unwrap();
        let write_back = note(&upload, &signals, &OwnPast::default(), &playbook);
        assert!(write_back.fields.is_empty(), "nothing written into a field");
        assert_eq!(
            (write_back.record_kind, write_back.record_id.as_str()),
            (crate::model::RecordKind::Deal, "D-7")
        );
        let [note] = write_back.notices.as_slice() else {
            panic!("one notice")
        };
        assert!(!note.is_task(), "never a task");
        assert_eq!(note.to.as_deref(), Some("u-3"), "to the rep, nobody else");
        for expected in [
            "Talk share:",
            "Questions:",
            "Not asked about",
            "Month-end close takes nine days",
            "Worth a second listen",
            "Your first call kept here",
        ] {
            assert!(note.body.contains(expected), "{expected}: {}", note.body);
        }
        let past = OwnPast {
            calls: 2,
            talk_share: Some(0.5),
            questions: Some(6.0),
            tracked: vec![7.0, 5.0],
        };
        let compared = &super::note(&upload, &signals, &past, &playbook).notices[0].body;
        assert!(
            compared.contains("Against your own last 30 days (2 calls)")
                && compared.contains("(yours: 6.0)")
                && compared.contains("7 → 5 → 0"),
            "{compared}"
        );
    }

    #[test]
    fn the_note_reaches_the_rep_on_the_deal_in_every_crm() {
        use crate::crm::{
            Adapter, generic::Generic, hubspot::Hubspot, pipedrive::Pipedrive,
            salesforce::Salesforce,
        };
        let upload = CallUpload::from_json(UPLOAD.as_bytes()).unwrap();
        let playbook = Playbook::default_playbook();
        let signals = upload.analyse(&playbook).unwrap();
        let write_back = super::note(&upload, &signals, &OwnPast::default(), &playbook);
        let now = upload.started_at;
        let calls = |steps: crate::crm::Steps| -> Vec<crate::writeback::CrmCall> {
            steps.into_iter().flatten().map(|b| b.call).collect()
        };
        let find = |calls: &[crate::writeback::CrmCall], path: &str| {
            calls
                .iter()
                .find(|c| c.path.starts_with(path))
                .unwrap_or_else(|| panic!("no call to {path}: {calls:?}"))
                .body
                .clone()
        };
        let hubspot = calls(Hubspot.render(std::slice::from_ref(&write_back), now));
        let note = find(&hubspot, "/crm/v3/objects/notes/batch/create");
        assert_eq!(note["inputs"][0]["properties"]["hubspot_owner_id"], "u-3");
        assert_eq!(note["inputs"][0]["associations"][0]["to"]["id"], "D-7");
        assert!(
            hubspot.iter().all(|c| !c.path.contains("tasks")),
            "never a task"
        );
        let pipedrive = calls(Pipedrive.render(std::slice::from_ref(&write_back), now));
        let note = find(&pipedrive, "/api/v1/notes");
        assert!(
            note["content"].as_str().unwrap().contains("Talk share"),
            "{note}"
        );
        assert!(
            pipedrive.iter().all(|c| !c.path.contains("activities")),
            "never a task"
        );
        let salesforce = calls(Salesforce.render(std::slice::from_ref(&write_back), now));
        let posted = salesforce
            .iter()
            .find(|c| c.method == "POST")
            .expect("the Task is posted");
        let note = &posted.body["records"][0];
        assert_eq!(
            (&note["Status"], &note["OwnerId"], &note["WhatId"]),
            (&"Completed".into(), &"u-3".into(), &"D-7".into())
        );
        let generic = calls(Generic.render(std::slice::from_ref(&write_back), now));
        assert_eq!(generic[0].path, "/records/deals/D-7");
        assert_eq!(generic[0].body["notices"][0]["kind"], "note");
    }
}
