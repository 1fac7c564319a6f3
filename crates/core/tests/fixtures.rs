//! Walks `fixtures/<crm>/`: every `<case>.json` is a webhook body exactly as that CRM sends it;
//! `<case>.expected.json` gives the conditions (`function`, `mode`, `now`) and what the case must
//! produce: the delivery `outcome` and the `crm_calls`, or the `error`.
//!
//! Adding a case is adding two files. `BLESS=1 cargo test -p pipeline-guard-core --test fixtures`
//! writes what the code produces into the expected files, for review in the diff. A new case's
//! expected file starts as `{"function": "score-lead", "mode": "shadow", "now": "…"}`.

mod common;

use futures::executor::block_on;
use pipeline_guard_core::{
    Error,
    crm::{Crm, generic, hubspot},
    event::WebhookEvent,
    function::{FunctionKind, Settings},
    memory::{MemoryStore, RecordingCrm},
    mode::Mode,
    pipeline,
    playbook::Playbook,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn parse(crm: Crm, body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    match crm {
        Crm::Generic => generic::parse(body),
        Crm::Hubspot => hubspot::parse(body),
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
    // What the CRM's API answers, as `{"GET /crm/v3/objects/deals/88": "api/deal-88.json"}`,
    // files relative to the CRM's fixture folder.
    for (call, file) in given["crm_answers"].as_object().into_iter().flatten() {
        let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
        let file = common::fixtures_dir()
            .join(crm.name())
            .join(file.as_str().expect("file name"));
        let body = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        client.answer(
            method,
            path,
            serde_json::from_slice(&body).expect("answer json"),
        );
    }
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
    let mut checked = 0;
    for crm in Crm::ALL {
        checked += common::check_cases(
            &common::fixtures_dir().join(crm.name()),
            &[".json"],
            |case, expected| {
                let body = std::fs::read(case).expect("case body");
                // The conditions stay as written; what the case produces follows them.
                let mut produced = json!({});
                for given in ["function", "mode", "now", "crm_answers"] {
                    if !expected[given].is_null() {
                        produced[given] = expected[given].clone();
                    }
                }
                for (k, v) in run_case(*crm, &body, expected).as_object().expect("object") {
                    produced[k] = v.clone();
                }
                produced
            },
        );
    }
    assert!(checked >= 10, "only {checked} fixture cases found");
}
