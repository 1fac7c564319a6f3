//! Walks `fixtures/<crm>/`: every `<case>.json` is a webhook body exactly as that CRM sends it;
//! `<case>.expected.json` gives the conditions (`function`, `mode`, `now`) and what the case must
//! produce: the delivery `outcome` and the `crm_calls`, or the `error`.
//!
//! Adding a case is adding two files. `BLESS=1 cargo test -p pipeline-guard-core --test fixtures`
//! writes what the code produces into the expected files, for review in the diff.

use std::path::{Path, PathBuf};

use futures::executor::block_on;
use pipeline_guard_core::{
    Error,
    crm::{Crm, generic},
    event::WebhookEvent,
    function::{FunctionKind, Settings},
    memory::{MemoryStore, RecordingCrm},
    mode::Mode,
    pipeline,
    playbook::Playbook,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn parse(crm: Crm, body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    match crm {
        Crm::Generic => generic::parse(body),
    }
}

fn function(name: &str) -> FunctionKind {
    serde_json::from_value(json!(name)).unwrap_or_else(|e| panic!("unknown function {name:?}: {e}"))
}

fn run_case(crm: Crm, body: &[u8], given: &Value) -> Value {
    let settings = Settings {
        playbook: Playbook::default_playbook(),
        mode: serde_json::from_value::<Mode>(given["mode"].clone()).expect("mode"),
    };
    let now = OffsetDateTime::parse(given["now"].as_str().expect("now"), &Rfc3339).expect("now");
    let (store, client) = (MemoryStore::default(), RecordingCrm::default());
    let events = match parse(crm, body) {
        Ok(events) => events,
        Err(e) => return json!({ "error": { "status": e.status(), "body": e.to_json() } }),
    };
    let function = function(given["function"].as_str().expect("function"));
    match block_on(pipeline::run(
        function, crm, events, &settings, &store, &client, now,
    )) {
        Ok(outcome) => json!({ "outcome": outcome, "crm_calls": client.calls() }),
        Err(e) => json!({ "error": { "status": e.status(), "body": e.to_json() } }),
    }
}

#[test]
fn every_fixture_produces_its_expected_decision() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut checked = 0;
    let mut failures = Vec::new();
    for crm in Crm::ALL {
        let dir = fixtures_dir().join(crm.name());
        let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("dir entry").path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".json") && !name.ends_with(".expected.json")
            })
            .collect();
        cases.sort();
        for case in cases {
            let expected_path = case.with_extension("expected.json");
            let body = std::fs::read(&case).expect("case body");
            let expected: Value = serde_json::from_slice(
                &std::fs::read(&expected_path)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
            let actual = run_case(*crm, &body, &expected);
            let mut produced = json!({
                "function": expected["function"],
                "mode": expected["mode"],
                "now": expected["now"],
            });
            for (k, v) in actual.as_object().expect("object") {
                produced[k] = v.clone();
            }
            if bless {
                let text = serde_json::to_string_pretty(&produced).expect("json") + "\n";
                std::fs::write(&expected_path, text).expect("write expected");
            } else if produced != expected {
                failures.push(format!(
                    "{}:\n--- expected\n{}\n--- produced\n{}",
                    case.display(),
                    serde_json::to_string_pretty(&expected).unwrap_or_default(),
                    serde_json::to_string_pretty(&produced).unwrap_or_default()
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} fixture cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
