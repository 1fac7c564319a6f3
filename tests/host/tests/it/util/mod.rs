//! Shared helpers for the end-to-end tests: where things are, signed requests, a host wired to a
//! fake CRM.

#![allow(dead_code)] // each test file uses a different subset

use std::path::Path;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, HostBuilder};

/// The generic webhook secret the tests configure.
pub const SECRET: &str = "e2e-secret";
/// The API token the tests configure.
pub const TOKEN: &str = "e2e-token";

pub use super::paths::{root, target_dir};

/// The built component of `crate_name` (`score_lead`).
pub fn component(crate_name: &str) -> Vec<u8> {
    let path = target_dir().join(format!("wasm32-wasip2/release/{crate_name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the components first (./scripts/test does)",
            path.display()
        )
    })
}

/// A fixture file's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = root().join("fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture's `<case>.expected.json`.
pub fn expected(case: &str) -> serde_json::Value {
    serde_json::from_slice(&fixture(&format!("{case}.expected.json"))).expect("expected json")
}

/// A fixture's expected CRM calls (`crm_calls` in `<case>.expected.json`), without the link to
/// the rep's page a case with `rep_links` signs into its notices: the nodes here set no
/// `rep_link_secret` (`both_rep_page.rs` follows the link end to end).
pub fn expected_calls(case: &str) -> Vec<serde_json::Value> {
    let mut calls = expected(case)["crm_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    calls.iter_mut().for_each(without_rep_link);
    calls
}

/// `value` with the sentence linking to the rep's page cut from every text.
fn without_rep_link(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            for break_ in ["\n\n", "<br><br>"] {
                let lead = format!("{break_}Your own coaching page");
                if let Some(at) = text.find(&lead) {
                    let end = text[at..]
                        .find("sig=")
                        .map(|sig| at + sig + "sig=".len())
                        .map(|sig| {
                            sig + text[sig..]
                                .find(|c: char| !c.is_ascii_hexdigit())
                                .unwrap_or(text.len() - sig)
                        })
                        .unwrap_or(text.len());
                    text.replace_range(at..end, "");
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_rep_link),
        serde_json::Value::Object(map) => map.values_mut().for_each(without_rep_link),
        _ => {}
    }
}

/// Has `crm` answer what the fixture `case` says the CRM's API answers: `crm_answers` in
/// `<case>.expected.json`, `"METHOD /path"` prefixes to files beside the case.
pub fn answer_as_in_fixture(crm: &FakeCrm, case: &str) {
    let dir = case.rsplit_once('/').map_or("", |(dir, _)| dir);
    answer_defaults(crm, dir);
    for (call, file) in expected(case)["crm_answers"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
        let file = format!("{dir}/{}", file.as_str().expect("a file name"));
        let body = serde_json::from_slice(&fixture(&file)).expect("answer json");
        crm.respond(method, path, 200, body);
    }
}

/// Has `crm` answer what `<crm dir>/api/defaults.json` says the CRM answers when a case says
/// nothing of a call (an empty timeline, no company), as the fixture walker does; a case's own
/// answers, scripted later, take precedence.
pub fn answer_defaults(crm: &FakeCrm, dir: &str) {
    let path = root().join("fixtures").join(dir).join("api/defaults.json");
    let Ok(text) = std::fs::read(&path) else {
        return;
    };
    let defaults: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (call, body) in defaults {
        let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
        crm.respond(method, path, 200, body);
    }
}

/// The current Unix time.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// The generic signature header value: `HMAC-SHA256(secret, "<ts>\n<METHOD>\n<path>\n<body>")`,
/// computed independently of the code under test (`path` as sent, with its query).
pub fn sign(secret: &str, timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{timestamp}\n{method}\n{path}\n").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A generic webhook POST to `path`, signed for it now with [`SECRET`].
pub fn signed_post(path: &str, body: &[u8]) -> http::Request<Bytes> {
    generic_post_signed_for(path, "POST", path, body)
}

/// A GET to `path`.
pub fn get(path: &str) -> http::Request<Bytes> {
    http::Request::get(format!("http://pipeline-guard.test{path}"))
        .body(Bytes::new())
        .expect("request")
}

/// The app's spin.toml, with its required variables pointed at `crm`.
pub fn host_builder(crm: &FakeCrm) -> HostBuilder {
    host_builder_for(&root().join("spin.toml"), crm)
}

/// Like [`host_builder`], for another manifest.
pub fn host_builder_for(manifest: &Path, crm: &FakeCrm) -> HostBuilder {
    Host::builder(manifest)
        .target_dir(target_dir())
        .variable("generic_webhook_secret", SECRET)
        .variable("generic_api_origin", crm.url())
        .variable("generic_api_token", TOKEN)
}

/// A response body as JSON.
pub fn json(response: &http::Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(response.body())
        )
    })
}

/// What the fake CRM received, as `{method, path, body}` like the fixtures' `crm_calls`.
pub fn received(crm: &FakeCrm) -> Vec<serde_json::Value> {
    crm.requests()
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method.as_str(),
                "path": r.path_and_query,
                "body": r.json().unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// The write-backs the generic CRM received for deal `deal`: each `PATCH` body.
pub fn deal_patches(crm: &FakeCrm, deal: &str) -> Vec<serde_json::Value> {
    received(crm)
        .into_iter()
        .filter(|c| c["method"] == "PATCH" && c["path"] == format!("/records/deals/{deal}"))
        .map(|c| c["body"].clone())
        .collect()
}

/// Calls as the fixtures record them, without the time-dependent field at `pointer` in each body
/// (`/inputs/*/properties/hs_timestamp`; `*` is every element of an array): the fixtures ran at a
/// fixed time, the `.wasm` runs now.
pub fn without(mut calls: Vec<serde_json::Value>, pointer: &str) -> Vec<serde_json::Value> {
    let path: Vec<&str> = pointer
        .strip_prefix('/')
        .expect("a JSON pointer")
        .split('/')
        .collect();
    for call in &mut calls {
        if let Some(body) = call.get_mut("body") {
            remove(body, &path);
        }
    }
    calls
}

fn remove(value: &mut serde_json::Value, path: &[&str]) {
    match (path, value) {
        ([field], serde_json::Value::Object(object)) => {
            object.remove(*field);
        }
        (["*", rest @ ..], serde_json::Value::Array(items)) => {
            for item in items {
                remove(item, rest);
            }
        }
        ([step, rest @ ..], value) => {
            let next = match value {
                serde_json::Value::Object(object) => object.get_mut(*step),
                serde_json::Value::Array(items) => {
                    step.parse::<usize>().ok().and_then(|i| items.get_mut(i))
                }
                _ => None,
            };
            if let Some(next) = next {
                remove(next, rest);
            }
        }
        ([], _) => {}
    }
}

/// Calls in a fixed order of their own, to compare calls the `.wasm` makes side by side (which
/// reach the fake CRM in the network's order) with the fixture's.
pub fn sorted(mut calls: Vec<serde_json::Value>) -> Vec<serde_json::Value> {
    calls.sort_by_cached_key(serde_json::Value::to_string);
    calls
}

/// Runs `sql` on the app's `default` SQLite database, where the ledger lives. It blocks, so the
/// tests that call it run on tokio's multi-thread runtime.
pub fn sql(host: &Host, sql: &str) -> Vec<Vec<serde_json::Value>> {
    tokio::task::block_in_place(|| host.sqlite_query("default", sql))
        .unwrap_or_else(|e| panic!("{e:#}"))
}

/// The ledger's columns the tests read.
const LEDGER_COLUMNS: [&str; 7] = [
    "function",
    "crm",
    "event_id",
    "record_id",
    "state",
    "lease_until",
    "outcome",
];

/// Every event in the ledger (`pg_events`), oldest first, as an object of [`LEDGER_COLUMNS`]
/// with `outcome` parsed; none before a delivery created the table.
pub fn ledger(host: &Host) -> Vec<serde_json::Value> {
    let tables = sql(
        host,
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pg_events'",
    );
    if tables[0][0] == 0 {
        return Vec::new();
    }
    let query = format!(
        "SELECT {} FROM pg_events ORDER BY at, event_id",
        LEDGER_COLUMNS.join(", ")
    );
    sql(host, &query)
        .into_iter()
        .map(|row| {
            let mut entry: serde_json::Map<String, serde_json::Value> = LEDGER_COLUMNS
                .iter()
                .map(|column| column.to_string())
                .zip(row)
                .collect();
            if let Some(text) = entry["outcome"].as_str() {
                let outcome = serde_json::from_str(text).expect("outcome is JSON");
                entry.insert("outcome".into(), outcome);
            }
            entry.into()
        })
        .collect()
}

/// The ledger's one entry for `function`'s event `event_id` (panics when there is none, or more).
pub fn ledger_entry(host: &Host, function: &str, event_id: &str) -> serde_json::Value {
    let entries: Vec<serde_json::Value> = ledger(host)
        .into_iter()
        .filter(|e| e["function"] == function && e["event_id"] == event_id)
        .collect();
    match <[serde_json::Value; 1]>::try_from(entries) {
        Ok([entry]) => entry,
        Err(entries) => panic!("{function} {event_id}: ledger entries {entries:?}"),
    }
}

/// The events the ledger settled (processed, superseded or failed): what it remembers as done.
/// Claims (held, or released for the CRM's retry) are not.
pub fn settled(host: &Host) -> Vec<serde_json::Value> {
    ledger(host)
        .into_iter()
        .filter(|e| !matches!(e["state"].as_str(), Some("claimed" | "reopened")))
        .collect()
}

/// Asserts the ledger holds nothing settled, and that every claim left was released (its lease
/// ended), so the CRM's next delivery takes its event over at once.
pub fn assert_nothing_settled(host: &Host) {
    assert_eq!(settled(host), Vec::<serde_json::Value>::new(), "settled");
    for claim in ledger(host) {
        assert_eq!(claim["lease_until"], 0, "a claim was not released: {claim}");
    }
}

/// Asserts the result `again` is the result `first` redelivered: a duplicate, with the first
/// decision's brief and neither the decision nor a CRM call.
pub fn assert_duplicate_of(again: &serde_json::Value, first: &serde_json::Value) {
    assert_eq!(again["status"], "duplicate", "{again}");
    assert_eq!(again["event_id"], first["event_id"]);
    assert!(first["brief"].is_object(), "{first}");
    assert_eq!(again["brief"], first["brief"]);
    assert!(again.get("decision").is_none(), "{again}");
    assert!(again.get("crm_calls").is_none(), "{again}");
}

/// Like [`answer_as_in_fixture`], for a fixture whose `crm_answers` tell calls apart by their
/// query (Salesforce's SOQL queries share one path) and whose calls repeat one (a stage read
/// again): each answer keyed with a query serves one call whose path and query start with it, as
/// many times as the fixture's `crm_calls` make it, whatever order calls made side by side
/// arrive in. Answers keyed by a path alone serve every call, as in [`answer_as_in_fixture`].
pub fn answer_as_in_fixture_in_call_order(crm: &FakeCrm, case: &str) {
    let dir = case.rsplit_once('/').map_or("", |(dir, _)| dir);
    answer_defaults(crm, dir);
    let answers = expected(case)["crm_answers"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let body = |file: &serde_json::Value| -> serde_json::Value {
        let file = format!("{dir}/{}", file.as_str().expect("a file name"));
        serde_json::from_slice(&fixture(&file)).expect("answer json")
    };
    for (call, file) in answers.iter().filter(|(call, _)| !call.contains('?')) {
        let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
        crm.respond(method, path, 200, body(file));
    }
    // The fake CRM answers with the latest script that matches: the last call is scripted first.
    for made in expected_calls(case).iter().rev() {
        let made = format!(
            "{} {}",
            made["method"].as_str().unwrap_or_default(),
            made["path"].as_str().unwrap_or_default()
        );
        let keyed = answers
            .iter()
            .find(|(call, _)| call.contains('?') && made.starts_with(call.as_str()));
        if let Some((call, file)) = keyed {
            // Keyed by path and query: calls made side by side get their own answers.
            let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
            crm.script(
                method,
                path,
                pipeline_guard_test_host::Scripted::json(200, &body(file)).times(1),
            );
        }
    }
}

/// The HubSpot app's client secret the tests configure.
pub const HUBSPOT_SECRET: &str = "hubspot-client-secret";

/// HubSpot's v3 signature, computed here independently of the code under test.
pub fn sign_v3(method: &str, url: &str, body: &[u8], timestamp_ms: &str) -> String {
    use base64::Engine as _;
    use hmac::{Hmac, Mac as _};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HUBSPOT_SECRET.as_bytes()).expect("any key");
    mac.update(method.as_bytes());
    mac.update(url.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A Webhooks API request to `path`, signed with v3 for its URL `age_seconds` ago (with the
/// right secret, or over another body when `secret_ok` is false).
pub fn hubspot_post(
    path: &str,
    body: &[u8],
    secret_ok: bool,
    age_seconds: i64,
) -> http::Request<Bytes> {
    let url = format!("http://pipeline-guard.test{path}");
    let ts = ((now() - age_seconds) * 1000).to_string();
    let mut signature = sign_v3("POST", &url, body, &ts);
    if !secret_ok {
        signature = sign_v3("POST", &url, b"something else", &ts);
    }
    http::Request::post(url)
        .header("content-type", "application/json")
        .header("x-hubspot-request-timestamp", ts)
        .header("x-hubspot-signature-v3", signature)
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// A HubSpot request to `path`, signed with v3 now for another URL, `signed_url` (the URL a
/// CRM called through an ingress, or another route's).
pub fn hubspot_post_signed_for(path: &str, signed_url: &str, body: &[u8]) -> http::Request<Bytes> {
    let ts = (now() * 1000).to_string();
    http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/json")
        .header("x-hubspot-request-timestamp", &ts)
        .header(
            "x-hubspot-signature-v3",
            sign_v3("POST", signed_url, body, &ts),
        )
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// A HubSpot request to `path` signed with the older `version` alone (`v1`: hex SHA-256 of the
/// secret and the body; `v2`: of the secret, method, URL and body), computed here independently
/// of the code under test.
pub fn hubspot_legacy_post(version: &str, path: &str, body: &[u8]) -> http::Request<Bytes> {
    use sha2::Digest;
    let url = format!("http://pipeline-guard.test{path}");
    let mut digest = sha2::Sha256::new();
    digest.update(HUBSPOT_SECRET);
    if version == "v2" {
        digest.update(format!("POST{url}"));
    }
    digest.update(body);
    http::Request::post(url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-version", version)
        .header("x-hubspot-signature", hex::encode(digest.finalize()))
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// A generic webhook POST to `path`, signed now with [`SECRET`] as if it were `signed_method`
/// to `signed_path`.
pub fn generic_post_signed_for(
    path: &str,
    signed_method: &str,
    signed_path: &str,
    body: &[u8],
) -> http::Request<Bytes> {
    let ts = now();
    http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/json")
        .header("x-pipeline-guard-timestamp", ts.to_string())
        .header(
            "x-pipeline-guard-signature",
            sign(SECRET, ts, signed_method, signed_path, body),
        )
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// A generic event scoring lead `record` (the fixture's fully evidenced lead).
pub fn lead_event(event_id: &str, record: &str) -> serde_json::Value {
    let mut event: serde_json::Value =
        serde_json::from_slice(&fixture("generic/lead-created-fully-evidenced.json"))
            .expect("fixture");
    event["event_id"] = event_id.into();
    event["record"]["id"] = record.into();
    event
}

/// A generic event (`kind`: `stage_changed`, `updated`) on the deal `deal` in the handoff stage
/// `sales_accepted`, made by `by` `ago` minutes ago (so a deal's events keep their order), with
/// `fields` and `contacts`; its owner is the AE `ae-7`.
pub fn deal_event(
    id: &str,
    kind: &str,
    deal: &str,
    by: &str,
    fields: serde_json::Value,
    contacts: serde_json::Value,
    ago: i64,
) -> serde_json::Value {
    let at = time::OffsetDateTime::now_utc() - time::Duration::minutes(ago);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a time");
    let mut event = serde_json::json!({
        "event_id": id,
        "occurred_at": at,
        "type": kind,
        "record": {
            "kind": "deal", "id": deal, "name": format!("Deal {deal}"), "owner_id": "ae-7",
            "stage": "sales_accepted", "amount": 48000, "close_date": "2027-03-01",
            "fields": fields, "contacts": contacts,
        },
        "changed_by": by,
        "previous_owner_id": by,
    });
    if kind == "stage_changed" {
        event["previous_stage"] = "discovery".into();
    }
    event
}

/// A generic delivery of `events`.
pub fn batch(events: &[serde_json::Value]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "events": events })).expect("json")
}

/// The status of each event in a delivery's answer.
pub fn statuses(answer: &serde_json::Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["status"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// How many calls the fake CRM received for `path`.
pub fn calls_to(crm: &FakeCrm, method: &str, path: &str) -> usize {
    crm.requests()
        .iter()
        .filter(|r| r.method.as_str() == method && r.path() == path)
        .count()
}
