//! Every fixture against the vendors' descriptions: each `crm_calls` entry of
//! `fixtures/<crm>/<case>.expected.json` with the answer the case gives it (`crm_answers` over
//! `api/defaults.json`, the first whose `"METHOD path-prefix"` matches, as the core's recording
//! CRM picks it), and each incoming webhook body `fixtures/<crm>/<case>.json|xml` against the
//! vendor's documented payload. Cases named `invalid-…` are off-shape on purpose.

use std::path::{Path, PathBuf};

use pipeline_guard_contract::{Call, contracts, webhooks};
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cases(crm: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(fixtures().join(crm))
        .expect("fixtures folder")
        .map(|entry| entry.expect("fixture").path())
        .filter(|path| path.to_string_lossy().ends_with(".expected.json"))
        .collect();
    found.sort();
    found
}

/// `(method, path prefix, answer)` in the order a case's answers are looked up.
fn answers(crm: &str, expected: &Value) -> Vec<(String, String, Value)> {
    let dir = fixtures().join(crm);
    let defaults = dir.join("api/defaults.json");
    let defaults = if defaults.exists() {
        read_json(&defaults)
    } else {
        Value::Null
    };
    let mut found = Vec::new();
    for (key, answer) in expected["crm_answers"]
        .as_object()
        .into_iter()
        .flatten()
        .chain(defaults.as_object().into_iter().flatten())
    {
        let (method, prefix) = key.split_once(' ').expect("\"METHOD path\"");
        let answer = match answer.as_str() {
            Some(file) => read_json(&dir.join(file)),
            None => answer.clone(),
        };
        found.push((method.to_owned(), prefix.to_owned(), answer));
    }
    found
}

fn check_calls(crm: &str) -> Vec<String> {
    let contracts = contracts().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for case in cases(crm) {
        let expected = read_json(&case);
        let answers = answers(crm, &expected);
        for call in expected["crm_calls"].as_array().into_iter().flatten() {
            let method = call["method"].as_str().expect("method");
            let path = call["path"].as_str().expect("path");
            let answer = answers
                .iter()
                .find(|(m, prefix, _)| m == method && path.starts_with(prefix.as_str()))
                .map(|(_, _, answer)| answer);
            let call = Call {
                method,
                path_and_query: path,
                body: call.get("body").filter(|body| !body.is_null()),
                answer,
            };
            if let Err(violation) = contracts.check(&call) {
                failures.push(format!("{}: {violation}", case.display()));
            }
        }
    }
    failures
}

fn assert_none(failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{} outside the contract:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn hubspot_calls_and_answers_are_in_the_description() {
    assert_none(check_calls("hubspot"));
}

#[test]
fn pipedrive_calls_and_answers_are_in_the_description() {
    assert_none(check_calls("pipedrive"));
}

#[test]
fn salesforce_calls_and_answers_are_in_the_description() {
    assert_none(check_calls("salesforce"));
}

/// The webhook bodies of `crm` (not `invalid-…` ones), with their contents.
fn bodies(crm: &str, extension: &str) -> Vec<(PathBuf, String)> {
    cases(crm)
        .into_iter()
        .map(|case| PathBuf::from(case.to_string_lossy().replace(".expected.json", extension)))
        .filter(|body| body.exists())
        .filter(|body| {
            !body
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("invalid-"))
        })
        .map(|body| {
            let text = std::fs::read_to_string(&body).expect("webhook body");
            (body, text)
        })
        .collect()
}

#[test]
fn hubspot_webhooks_are_documented_payloads() {
    let mut failures = Vec::new();
    for (path, text) in bodies("hubspot", ".json") {
        let body: Value = serde_json::from_str(&text).expect("JSON");
        // A workflow's "Send a webhook" action sends a body the customer defines.
        if body.is_array()
            && let Err(violation) = webhooks::hubspot(&body)
        {
            failures.push(format!("{}: {violation}", path.display()));
        }
    }
    assert_none(failures);
}

#[test]
fn pipedrive_webhooks_are_documented_payloads() {
    let mut failures = Vec::new();
    for (path, text) in bodies("pipedrive", ".json") {
        let body: Value = serde_json::from_str(&text).expect("JSON");
        if let Err(violation) = webhooks::pipedrive(&body) {
            failures.push(format!("{}: {violation}", path.display()));
        }
    }
    assert_none(failures);
}

#[test]
fn salesforce_outbound_messages_are_documented_payloads() {
    let contracts = contracts().unwrap_or_else(|e| panic!("{e}"));
    let mut failures = Vec::new();
    for (path, text) in bodies("salesforce", ".xml") {
        if let Err(violation) = webhooks::salesforce(contracts, &text) {
            failures.push(format!("{}: {violation}", path.display()));
        }
    }
    assert_none(failures);
}
