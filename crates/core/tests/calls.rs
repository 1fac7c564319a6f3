//! Walks `fixtures/calls/`: every transcript (`.vtt`, `.json`, `.txt`) as a recorder exports it,
//! next to `<case>.expected.json`, which holds the conditions (`format`, `rep`, `started_at`,
//! optionally `competitors` added to the default playbook) and what the case must produce: the
//! call's `signals`, exactly as `pipeline-guard call --json` prints them, or the `error` as an
//! endpoint would answer it (`status` and the error body).
//!
//! Adding a case is adding two files; the expected file starts as its conditions, and
//! `BLESS=fixtures/calls/ cargo test -p pipeline-guard-core --test calls` writes what the code
//! produces, for review in the diff.

mod common;

use pipeline_guard_core::{
    conversation::{self, Format, rep::RepRef},
    playbook::Playbook,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn produce(case: &std::path::Path, expected: &Value) -> Value {
    let name = case.display();
    let format: Format = expected["format"]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: no format"))
        .parse()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let rep = RepRef::named(
        expected["rep"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no rep")),
    );
    let started_at = OffsetDateTime::parse(
        expected["started_at"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no started_at")),
        &Rfc3339,
    )
    .unwrap_or_else(|e| panic!("{name}: started_at: {e}"));
    let mut playbook = Playbook::default_playbook();
    if let Some(competitors) = expected["competitors"].as_array() {
        playbook.conversation.competitors = competitors
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
    }
    let source = std::fs::read(case).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut produced = json!({
        "format": expected["format"],
        "rep": expected["rep"],
        "started_at": expected["started_at"],
    });
    if !expected["competitors"].is_null() {
        produced["competitors"] = expected["competitors"].clone();
    }
    match conversation::analyse(format, &source, &rep, &playbook, started_at) {
        Ok(signals) => produced["signals"] = serde_json::to_value(signals).expect("signals json"),
        Err(e) => {
            produced["status"] = e.status().into();
            produced["error"] = e.to_json()["error"].clone();
        }
    }
    produced
}

#[test]
fn every_call_transcript_gives_its_expected_signals_or_error() {
    let dir = common::fixtures_dir().join("calls");
    let checked = common::check_cases(&dir, &[".vtt", ".json", ".txt"], produce);
    assert!(checked >= 7, "only {checked} call fixtures found");
}
