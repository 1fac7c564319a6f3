//! Walks `fixtures/scoring/`: a `<case>.json` (`{"playbook": "<file in fixtures/playbooks>",
//! "now": "…", "record": {…}}`) must produce the scorecard in `<case>.expected.json`; a
//! `<case>.toml` is a broken playbook whose `<case>.expected.json` lists every problem found.

mod common;

use pipeline_guard_core::{Error, model::Record, playbook::Playbook, scorecard};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn load_playbook(name: &str) -> Playbook {
    let path = common::fixtures_dir().join("playbooks").join(name);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Playbook::from_toml(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_scoring_case_produces_its_scorecard() {
    let checked = common::check_cases(
        &common::fixtures_dir().join("scoring"),
        &[".json", ".toml"],
        |case, _| {
            let text = std::fs::read_to_string(case).expect("case");
            if case.extension().is_some_and(|e| e == "toml") {
                return match Playbook::from_toml(&text) {
                    Err(Error::InvalidPlaybook(problems)) => json!({ "problems": problems }),
                    Err(other) => json!({ "error": other.to_string() }),
                    Ok(_) => json!({ "problems": [] }),
                };
            }
            let input: Value = serde_json::from_str(&text).expect("case json");
            let playbook = load_playbook(input["playbook"].as_str().expect("playbook"));
            let now =
                OffsetDateTime::parse(input["now"].as_str().expect("now"), &Rfc3339).expect("now");
            let record: Record = serde_json::from_value(input["record"].clone()).expect("record");
            serde_json::to_value(scorecard::score(&record, &playbook, now)).expect("json")
        },
    );
    assert!(checked >= 12, "only {checked} scoring cases found");
}

#[test]
fn every_shipped_playbook_is_valid() {
    let dir = common::fixtures_dir().join("playbooks");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("playbooks")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    assert_eq!(names, ["bant.toml", "default.toml", "meddicc.toml"]);
    for name in names {
        load_playbook(&name);
    }
}
