//! Walks `fixtures/<crm>/`: every `<case>.json` (or `.xml`) is a webhook body exactly as that CRM
//! sends it; `<case>.expected.json` gives the conditions and what the case must produce: the
//! delivery `outcome` (and, for a CRM workflow, the flat `answer` it branches on) and the
//! `crm_calls`, or the `error`.
//!
//! Conditions: `function`, `mode`, `now`; optionally `playbook` (a file under `fixtures/`, else
//! the default), `crm_answers` (what the CRM's API answers, over `<crm>/api/defaults.json`),
//! `handoffs` and `verdicts` (what the handoff log holds from earlier deliveries; what a case
//! adds shows as `handoff_log`), `review_scores` (records' latest scores as earlier deliveries
//! left them in the review queue, which the case's scores are ranked among), `other_texts`
//! (texts other records of the CRM hold, as `{"record": "D-2", "dimension": "pain", "text":
//! "…"}`, a `"kind"` of `"lead"` for a lead's: kept as their hashes before the delivery), and
//! `people` (the names kept before the delivery, as `{"id", "name", "fetched_at"}`; the
//! others the notices name are looked up from the CRM), `rep_links` (`{"secret": "…", "base": "https://hooks.example.com"}`: notices to people carry
//! the signed link to their page, signed with that secret), and
//! `request` with `secrets`: the
//! request's `url` and `headers` as the CRM sent them and the Spin variables they are checked
//! against; with those the case goes through the adapter's authentication too.
//!
//! Adding a case is adding two files. `BLESS=1 cargo test -p pipeline-guard-core --test fixtures`
//! writes what the code produces into the expected files, for review in the diff. A new case's
//! expected file starts as `{"function": "score-lead", "mode": "shadow", "now": "…"}`.

mod common;

use std::time::Duration;

use futures::executor::block_on;
use pipeline_guard_core::{
    Error,
    crm::{Adapter, Crm, Secrets, generic, hubspot, pipedrive, salesforce},
    event::Delivery,
    function::{FunctionKind, Settings},
    handoffs::{HandoffLog, HandoffRecord, VerdictRecord},
    inbound::InboundRequest,
    ledger::Retention,
    memory::{MemoryHandoffs, MemoryLedger, MemoryReview, RecordingCrm, StoppedClock},
    mode::Mode,
    model::RecordKind,
    people::{KnownName, PeopleStore, memory::MemoryPeople},
    pipeline::{self, Job, Limits, Ports},
    playbook::Playbook,
    rep_page::link::RepLinks,
    secret::Secret,
    templates::{DimensionText, TextHash, TextHashes, memory::MemoryTextHashes},
    with_adapter,
};
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

fn parse(crm: Crm, body: &[u8], now: OffsetDateTime) -> Result<Delivery, Error> {
    match crm {
        Crm::Generic => generic::parse(body),
        Crm::Hubspot => hubspot::parse(body),
        Crm::Pipedrive => pipedrive::parse(body),
        Crm::Salesforce if body.starts_with(b"{") => return salesforce::parse_callout(body, now),
        Crm::Salesforce => salesforce::parse(body, now),
    }
    .map(Delivery::webhook)
}

fn function(name: &str) -> FunctionKind {
    serde_json::from_value(json!(name)).unwrap_or_else(|e| panic!("unknown function {name:?}: {e}"))
}

fn playbook(given: &Value) -> Playbook {
    match given["playbook"].as_str() {
        None => Playbook::default_playbook(),
        Some(file) => {
            let path = common::fixtures_dir().join(file);
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Playbook::from_toml(&source).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }
    }
}

/// Authenticate and parse the request the case describes.
fn accept(
    adapter: &impl Adapter,
    body: &[u8],
    given: &Value,
    now: OffsetDateTime,
) -> Result<Delivery, Error> {
    let request = &given["request"];
    let mut headers = http::HeaderMap::new();
    for (name, value) in request["headers"].as_object().expect("request.headers") {
        headers.insert(
            http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value
                .as_str()
                .expect("header value")
                .parse()
                .expect("header value"),
        );
    }
    let mut secrets = Secrets::new();
    for name in adapter.facts().secret_variables {
        let value = given["secrets"][*name].as_str().unwrap_or_default();
        secrets.insert(*name, value.to_owned());
    }
    let inbound = InboundRequest {
        method: request["method"].as_str().unwrap_or("POST"),
        url: request["url"].as_str().expect("request.url"),
        headers: &headers,
        body,
    };
    adapter.accept(&inbound, &adapter.credentials(&secrets)?, now)
}

fn run_case(adapter: &impl Adapter, body: &[u8], given: &Value) -> Value {
    let crm = adapter.crm();
    let mut settings = Settings::new(
        playbook(given),
        serde_json::from_value::<Mode>(given["mode"].clone()).expect("mode"),
    );
    // `rep_links`: `{"secret": "…", "base": "https://…"}` signs the link to each rep's page that
    // every notice to a person carries.
    if let Some(links) = given["rep_links"].as_object() {
        let field = |name: &str| links[name].as_str().expect("rep_links: secret and base");
        settings.rep_links = Some(RepLinks::new(Secret::new(field("secret")), field("base")));
    }
    let now = OffsetDateTime::parse(given["now"].as_str().expect("now"), &Rfc3339).expect("now");
    let review = MemoryReview::holding(match &given["review_scores"] {
        Value::Null => Vec::new(),
        scores => serde_json::from_value(scores.clone()).expect("review_scores"),
    });
    let (ledger, client, clock) = (
        MemoryLedger::default(),
        RecordingCrm::default(),
        StoppedClock::default(),
    );
    // What the CRM's API answers, as `{"GET /crm/v3/objects/deals/88": "api/deal-88.json"}`,
    // files relative to the CRM's fixture folder.
    // What the CRM answers when a case says nothing of a call (`<crm>/api/defaults.json`: an
    // empty timeline, no company), before the case's own answers, which take precedence.
    let defaults = common::fixtures_dir()
        .join(crm.name())
        .join("api/defaults.json");
    if let Ok(text) = std::fs::read(&defaults) {
        let defaults: serde_json::Map<String, Value> =
            serde_json::from_slice(&text).expect("api/defaults.json");
        for (call, body) in defaults {
            let (method, path) = call.split_once(' ').expect("\"METHOD /path\"");
            client.answer(method, path, body);
        }
    }
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
    // The handoff log as earlier deliveries left it: `handoffs` and `verdicts` records.
    let handoffs = MemoryHandoffs::default();
    let earlier: Vec<HandoffRecord> =
        serde_json::from_value(given["handoffs"].clone()).unwrap_or_default();
    let verdicts: Vec<VerdictRecord> =
        serde_json::from_value(given["verdicts"].clone()).unwrap_or_default();
    block_on(handoffs.record_handoffs(&earlier)).expect("seed handoffs");
    block_on(handoffs.record_verdicts(&verdicts)).expect("seed verdicts");
    let text_hashes = MemoryTextHashes::default();
    block_on(text_hashes.keep(crm, &other_texts(given, &settings.playbook))).expect("seed texts");
    let events = if given["request"].is_null() {
        parse(crm, body, now)
    } else {
        accept(adapter, body, given, now)
    };
    let delivery = match events {
        Ok(events) => events,
        Err(e) => return json!({ "error": { "status": e.status(), "body": e.to_json() } }),
    };
    let function = function(given["function"].as_str().expect("function"));
    let job = Job {
        function,
        settings: &settings,
        now,
        claimant: "fixture".into(),
        limits: Limits::within(Duration::from_secs(10)),
        retention: Retention::default(),
    };
    let people = people(crm, given);
    let ports = Ports {
        ledger: &ledger,
        client: &client,
        clock: &clock,
        handoffs: &handoffs,
        review: &review,
        text_hashes: &text_hashes,
        people: &people,
    };
    let mut produced = match block_on(pipeline::run(adapter, &job, delivery, ports)) {
        Ok(outcome) if outcome.workflow => {
            // A CRM workflow branches on the flat answer: check it too.
            let reply = adapter.reply(Some("application/json"), &Ok(outcome.clone()));
            let answer: Value = serde_json::from_str(&reply.body).expect("answer json");
            json!({ "outcome": outcome, "answer": answer, "crm_calls": client.calls() })
        }
        Ok(outcome) => json!({ "outcome": outcome, "crm_calls": client.calls() }),
        Err(e) => return json!({ "error": { "status": e.status(), "body": e.to_json() } }),
    };
    // What the delivery added to the handoff log, when it added anything.
    let (kept_handoffs, kept_verdicts) = (handoffs.handoffs(), handoffs.verdicts());
    let added_handoffs = &kept_handoffs[earlier.len()..];
    let added_verdicts = &kept_verdicts[verdicts.len()..];
    if !added_handoffs.is_empty() || !added_verdicts.is_empty() {
        produced["handoff_log"] = json!({ "handoffs": added_handoffs, "verdicts": added_verdicts });
    }
    produced
}

/// The names kept before the delivery (`people`: `[{"id": "52001", "name": "Jo Park",
/// "fetched_at": "…"}]`, a `null` name for a user the CRM answered without one); the others
/// are looked up from the CRM, as on the edge.
fn people(crm: Crm, given: &Value) -> MemoryPeople {
    let known: Vec<KnownName> = given["people"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|k| KnownName {
            id: k["id"].as_str().expect("people: id").to_owned(),
            name: k["name"].as_str().map(str::to_owned),
            fetched_at: OffsetDateTime::parse(
                k["fetched_at"].as_str().expect("people: fetched_at"),
                &Rfc3339,
            )
            .expect("people: fetched_at"),
        })
        .collect();
    let memory = MemoryPeople::default();
    block_on(memory.keep(crm, &known)).expect("seed people");
    memory
}

/// The texts other records hold (`other_texts`), as the text hashes keep them.
fn other_texts(given: &Value, playbook: &Playbook) -> Vec<DimensionText> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct OtherText {
        record: String,
        dimension: String,
        text: String,
        #[serde(default)]
        kind: Option<RecordKind>,
    }
    let texts: Vec<OtherText> = match &given["other_texts"] {
        Value::Null => Vec::new(),
        texts => serde_json::from_value(texts.clone()).expect("other_texts"),
    };
    texts
        .into_iter()
        .map(|t| DimensionText {
            kind: t.kind.unwrap_or(RecordKind::Deal),
            record_id: t.record,
            dimension: t.dimension,
            hash: TextHash::of(&t.text, &playbook.handoff.placeholders),
        })
        .collect()
}

#[test]
fn every_fixture_produces_its_expected_decision() {
    let mut checked = 0;
    for crm in Crm::ALL {
        checked += common::check_cases(
            &common::fixtures_dir().join(crm.name()),
            &[".json", ".xml"],
            |case, expected| {
                let body = std::fs::read(case).expect("case body");
                // The conditions stay as written; what the case produces follows them.
                let mut produced = json!({});
                for given in [
                    "function",
                    "mode",
                    "now",
                    "playbook",
                    "request",
                    "secrets",
                    "crm_answers",
                    "handoffs",
                    "verdicts",
                    "review_scores",
                    "other_texts",
                    "rep_links",
                ] {
                    if !expected[given].is_null() {
                        produced[given] = expected[given].clone();
                    }
                }
                let produced_now =
                    with_adapter!(*crm, adapter => run_case(adapter, &body, expected));
                for (k, v) in produced_now.as_object().expect("object") {
                    produced[k] = v.clone();
                }
                produced
            },
        );
    }
    assert!(checked >= 10, "only {checked} fixture cases found");
}
