//! The admin's command, run as a real process.

use std::process::Command;

fn pipeline_guard(args: &[&str]) -> (bool, String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline-guard"))
        .current_dir(root)
        .args(args)
        .output()
        .expect("run pipeline-guard");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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

#[test]
fn explain_prints_the_scorecard_for_one_record() {
    let dir = std::env::temp_dir().join(format!("pg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let case: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fixtures/scoring/default-engagement-heavy-without-pain.json"),
        )
        .expect("case"),
    )
    .expect("json");
    let record = dir.join("record.json");
    std::fs::write(&record, case["record"].to_string()).expect("write record");
    let record = record.to_string_lossy().into_owned();
    let (ok, out, err) = pipeline_guard(&[
        "check",
        "fixtures/playbooks/default.toml",
        "--explain",
        &record,
        "--now",
        "2026-11-21T12:00:00Z",
    ]);
    assert!(ok, "{err}");
    assert!(out.starts_with("80/100 warm"), "{out}");
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
