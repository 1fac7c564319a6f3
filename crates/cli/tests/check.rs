//! The admin's command, run as a real process.

mod common;

use common::pipeline_guard;

#[test]
fn a_shipped_playbook_checks_clean() {
    for playbook in ["default", "meddicc", "bant"] {
        let (ok, _, err) =
            pipeline_guard(&["check", &format!("fixtures/playbooks/{playbook}.toml")]);
        assert!(ok, "{err}");
        assert!(err.contains("is valid"), "{err}");
    }
}

#[test]
fn a_valid_playbook_shows_its_gate_rules() {
    let (ok, _, err) = pipeline_guard(&["check", "fixtures/playbooks/default.toml"]);
    assert!(ok);
    assert!(err.contains("Must be green: Pain, Next step."), "{err}");
    assert!(
        err.contains("Score: qualification must reach 60/100"),
        "{err}"
    );
}

#[test]
fn unknown_gate_dimensions_are_refused_with_their_path() {
    let dir = std::env::temp_dir().join(format!("pg-cli-gate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let source = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/playbooks/default.toml"),
    )
    .expect("default playbook")
    .replace("threshold = 60", "threshold = 60\nrequires_not_red = [\"impakt\"]\nae_field = \"ae_owner\"\n[handoff.crm_fields.hubspot]\nae_ownr = \"ae\"\n");
    let path = dir.join("gate.toml");
    std::fs::write(&path, source).expect("write playbook");
    let (ok, _, err) = pipeline_guard(&["check", path.to_str().expect("utf-8 path")]);
    assert!(!ok);
    assert!(
        err.contains("handoff.requires_not_red[0]: unknown dimension \"impakt\""),
        "{err}"
    );
    assert!(
        err.contains("handoff.crm_fields.hubspot.ae_ownr: not a field the handoff names"),
        "{err}"
    );
}

#[test]
fn a_broken_playbook_lists_every_problem_and_fails() {
    let (ok, _, err) = pipeline_guard(&["check", "fixtures/scoring/invalid-evidence-rules.toml"]);
    assert!(!ok);
    assert!(err.contains("11 problem(s)"), "{err}");
    assert!(
        err.contains("dimensions[0].evidence.min: 50000 is above max 1000"),
        "{err}"
    );
    assert!(
        err.contains("dimensions[4].crm_fields.zoho: unknown CRM"),
        "{err}"
    );
    assert!(
        err.contains(
            "dimensions[5].evidence.requires[1]: Next step requires \"persn\", which is no check"
        ),
        "{err}"
    );
}

/// The record of the scoring case `case`, written to a file of its own; its path.
fn record_file(case: &str) -> String {
    let dir = std::env::temp_dir().join(format!("pg-cli-{}-{case}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../../fixtures/scoring/{case}.json")),
        )
        .expect("case"),
    )
    .expect("json");
    let record = dir.join("record.json");
    std::fs::write(&record, case["record"].to_string()).expect("write record");
    record.to_string_lossy().into_owned()
}

#[test]
fn explain_as_json_prints_each_dimension_and_what_score_lead_would_write() {
    let record = record_file("default-engagement-decayed");
    let (ok, out, err) = pipeline_guard(&[
        "check",
        "fixtures/playbooks/default.toml",
        "--explain",
        &record,
        "--now",
        "2026-11-21T12:00:00Z",
        "--json",
    ]);
    assert!(ok, "{err}");
    let explained: serde_json::Value = serde_json::from_str(&out).expect("JSON on stdout");
    let dimensions = explained["scorecard"]["dimensions"]
        .as_array()
        .expect("scorecard.dimensions[]");
    let statuses: Vec<(&str, &str)> = dimensions
        .iter()
        .map(|d| (d["key"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("situation", "red"),
            ("pain", "green"),
            ("impact", "red"),
            ("next_step", "red"),
            ("economic_buyer", "red"),
        ]
    );
    assert_eq!(dimensions[4]["gap"], "no contact with the role");
    let written = &explained["write_back"];
    assert_eq!(written["pg_score"], explained["scorecard"]["total"]);
    assert_eq!(
        written["pg_summary"],
        "Qualification 25/100 · Fit D · Engagement 2/10 · Tier cold · record only 0% complete: score not trustworthy"
    );
    assert_eq!(
        written["pg_next_question"],
        "What changes for them, in numbers, if this is solved, and by when?"
    );
    assert_eq!(
        written["pg_gaps"],
        "Impact: nothing recorded · Next step: nothing recorded · Economic buyer: no contact with the role · Situation: nothing recorded"
    );
    assert!(
        written["pg_not_measured"]
            .as_str()
            .is_some_and(|m| m.starts_with("Not measured: relationship strength")),
        "{written}"
    );
}

#[test]
fn explain_prints_the_scorecard_for_one_record() {
    let record = record_file("default-engagement-heavy-without-pain");
    let (ok, out, err) = pipeline_guard(&[
        "check",
        "fixtures/playbooks/default.toml",
        "--explain",
        &record,
        "--now",
        "2026-11-21T12:00:00Z",
    ]);
    assert!(ok, "{err}");
    assert!(
        out.starts_with(
            "Qualification 75/100 · Fit A · Engagement 10/10 · Tier warm · record only 50% complete"
        ),
        "{out}"
    );
    assert!(
        out.contains("\nAsk next: What is broken today, and what does it cost them"),
        "{out}"
    );
    assert!(out.contains("\nGaps: Pain: nothing recorded\n"), "{out}");
    assert!(
        out.contains("not hot: it needs Pain green (it is red)"),
        "{out}"
    );
    assert!(
        out.contains("- Pain [red]: no evidence in `pain`. Ask: What is broken today"),
        "{out}"
    );
    assert!(out.contains("Not measured:"), "{out}");
    assert!(
        out.contains("A handoff now would be blocked:\n  failed: Pain is red (required green)"),
        "{out}"
    );
}
