//! End to end for Salesforce: outbound messages (SOAP) and Flow callouts (JSON) through the real
//! `.wasm`, with the shared token, contact roles read from the (fake) REST API with one SOQL
//! query, and the sObject collection calls Salesforce would receive. The SOAP Ack is only sent
//! once the delivery is done; while anything is pending the answer is a SOAP fault. The handoff
//! gate: every fixture case decided as the core decides it, the re-read before a move back, who
//! is told what, and a handoff delivered after a newer notification.

use crate::util;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, Scripted};
use serde_json::{Value, json};
use util::*;

const TOKEN_VALUE: &str = "sf-7Qw9-Lm2x-Vb4n";
const PLAYBOOK: &str = "salesforce/playbook.toml";
const ACCESS_TOKEN: &str = "00D5g000004XyZa!access";
/// sObject collections: `PATCH` updates records, `POST` creates them (the tasks).
const COLLECTIONS: &str = "/services/data/v65.0/composite/sobjects";
/// Where the tasks carry the day they were written.
const ACTIVITY_DATE: &str = "/records/*/ActivityDate";
/// In `opportunities-outbound-batch`: the opportunity's notification (written back) and an
/// account's (skipped, nothing to call).
const OPPORTUNITY_NOTIFICATION: &str = "04l5g00000ABcdEAAT";
const ACCOUNT_NOTIFICATION: &str = "04l5g00000ABcdFAAT";

fn salesforce_post(
    path: &str,
    body: &[u8],
    token: Option<&str>,
    content_type: &str,
) -> http::Request<Bytes> {
    let query = token.map(|t| format!("?token={t}")).unwrap_or_default();
    http::Request::post(format!("http://pipeline-guard.test{path}{query}"))
        .header("content-type", content_type)
        .header("soapaction", "\"\"")
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

fn outbound(path: &str, body: &[u8], token: Option<&str>) -> http::Request<Bytes> {
    salesforce_post(path, body, token, "text/xml; charset=utf-8")
}

/// Salesforce saving every record of an sObject collection call: one result per record, in
/// order (these cases write one record a call).
fn collections_save(crm: &FakeCrm) {
    let saved = |id: &str| json!([{ "id": id, "success": true, "errors": [] }]);
    crm.respond("PATCH", COLLECTIONS, 200, saved("0065g00000AbCdEAAZ"));
    crm.respond("POST", COLLECTIONS, 200, saved("00T5g00000XyZaBAAV"));
}

/// A host with a fixed API token, against a CRM that saves what it is sent.
fn salesforce_host(crm: &FakeCrm, mode: &str) -> anyhow::Result<Host> {
    host_with(crm, PLAYBOOK, mode)
}

/// A host with the playbook fixture `playbook` in `mode` and a fixed API token, against a CRM
/// that saves what it is sent.
fn host_with(crm: &FakeCrm, playbook: &str, mode: &str) -> anyhow::Result<Host> {
    collections_save(crm);
    host_builder(crm)
        .variable("salesforce_webhook_token", TOKEN_VALUE)
        .variable("salesforce_api_origin", crm.url())
        .variable("salesforce_api_token", ACCESS_TOKEN)
        .variable("playbook", String::from_utf8(fixture(playbook))?)
        .variable("mode", mode)
        .build()
}

fn body_text(response: &http::Response<Bytes>) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

fn is_ack(response: &http::Response<Bytes>) -> bool {
    response.status() == 200
        && is_xml(response)
        && body_text(response).contains(
            r#"<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>"#,
        )
}

fn is_xml(response: &http::Response<Bytes>) -> bool {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/xml"))
}

/// Asserts `response` is a server-side SOAP fault asking Salesforce to deliver again (503: some
/// notification is pending), with no Ack.
fn assert_retry_fault(response: &http::Response<Bytes>) {
    let text = body_text(response);
    assert_eq!(response.status(), 503, "{text}");
    assert!(is_xml(response), "{text}");
    assert!(
        text.contains("<faultcode>soapenv:Server</faultcode>"),
        "{text}"
    );
    assert!(!text.contains("<Ack>"), "{text}");
}

/// Asserts the ledger left the opportunity's notification of `opportunities-outbound-batch` to
/// Salesforce's retry (claimed, released, not settled) and settled the account's, which needed no
/// call.
fn assert_only_the_account_settled(host: &Host, function: &str) {
    let opportunity = ledger_entry(host, function, OPPORTUNITY_NOTIFICATION);
    assert_eq!(opportunity["state"], "claimed", "{opportunity}");
    assert_eq!(opportunity["lease_until"], 0, "not released: {opportunity}");
    let settled = settled(host);
    assert_eq!(settled.len(), 1, "{settled:?}");
    assert_eq!(settled[0]["event_id"], ACCOUNT_NOTIFICATION);
    assert_eq!(settled[0]["state"], "processed");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbound_message_is_written_back_then_acked_and_a_redelivery_writes_nothing()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce")?;
    let case = "salesforce/opportunity-handoff-blocked";
    answer_as_in_fixture_in_call_order(&crm, case);
    let body = fixture(&format!("{case}.xml"));

    let response = host
        .request(outbound(
            "/gate-handoff/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    // The contact roles, activities and Account, the stage read again, the opportunity moved
    // back, then the BDR's task and the note. Reads made side by side arrive in either order.
    assert_eq!(
        sorted(without(received(&crm), ACTIVITY_DATE)),
        sorted(without(expected_calls(case), ACTIVITY_DATE))
    );
    for request in crm.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str())
        );
    }
    let received = received(&crm);
    let created = received
        .iter()
        .find(|c| c["method"] == "POST" && c["path"] == COLLECTIONS)
        .expect("the BDR's task");
    let task = &created["body"]["records"][0];
    assert!(
        task["ActivityDate"]
            .as_str()
            .is_some_and(|d| d.starts_with("20")),
        "{task}"
    );
    let recorded = ledger(&host);
    let expected = expected(case);
    let walked = expected["outcome"]["results"].as_array();
    assert_eq!(recorded.len(), walked.map_or(0, Vec::len), "{recorded:?}");
    for result in walked.into_iter().flatten() {
        let event_id = result["event_id"].as_str().unwrap_or_default();
        let entry = ledger_entry(&host, "gate-handoff", event_id);
        assert_eq!(entry["crm"], "salesforce");
        assert_eq!(entry["state"], "processed");
        assert_eq!(entry["outcome"]["brief"], result["brief"]);
    }

    // Salesforce delivers the same notification again: acked, nothing fetched or written.
    let calls = crm.requests().len();
    let again = host
        .request(outbound(
            "/gate-handoff/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&again), "{}", body_text(&again));
    assert_eq!(crm.requests().len(), calls);
    assert_eq!(ledger(&host), recorded);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn no_ack_until_the_write_back_succeeds() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "shadow")?;
    let case = "salesforce/opportunities-outbound-batch";
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.xml"));

    // The roles query succeeds, the update fails for now: a SOAP fault, so Salesforce retries.
    crm.script(
        "PATCH",
        COLLECTIONS,
        Scripted::json(
            503,
            &json!([{ "message": "Server busy", "errorCode": "SERVER_UNAVAILABLE" }]),
        )
        .times(1),
    );
    let response = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert_retry_fault(&response);
    assert_only_the_account_settled(&host, "score-lead");

    // The retry finds the API back and is acked after exactly the fixture's calls.
    crm.clear();
    let retry = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert!(is_ack(&retry), "{}", body_text(&retry));
    assert_eq!(sorted(received(&crm)), sorted(expected_calls(case)));
    let entry = ledger_entry(&host, "score-lead", OPPORTUNITY_NOTIFICATION);
    assert_eq!(entry["state"], "processed");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_token_gets_401_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce")?;
    let body = fixture("salesforce/opportunity-handoff-blocked.xml");
    for (name, token) in [("wrong token", Some("sf-guess")), ("no token", None)] {
        let response = host
            .request(outbound("/gate-handoff/salesforce", &body, token))
            .await?;
        assert_eq!(response.status(), 401, "{name}");
        assert!(
            body_text(&response).contains("<faultcode>soapenv:Client</faultcode>"),
            "{name}: {}",
            body_text(&response)
        );
    }
    assert!(crm.requests().is_empty());
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flow_callout_gets_a_decision_to_branch_on_and_nothing_is_written() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce")?;
    let case = "salesforce/flow-callout-handoff";
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.json"));
    let request = http::Request::post("http://pipeline-guard.test/gate-handoff/salesforce")
        .header("content-type", "application/json")
        .header("x-pipeline-guard-token", TOKEN_VALUE)
        .body(Bytes::from(body))?;
    let response = host.request(request).await?;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    // Flat fields the Flow branches on (docs/admin-salesforce.md, "Deciding before the save").
    let answer = json(&response);
    assert_eq!(answer["allowed"], true, "{answer}");
    assert_eq!(answer["decision"], "validated");
    assert_eq!(answer["status"], "decided");
    assert!(
        answer["score"].as_u64().is_some_and(|s| s >= 60),
        "{answer}"
    );
    // Only the contact roles were read; the Flow acts on the answer itself.
    assert_eq!(sorted(received(&crm)), sorted(expected_calls(case)));
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty(), "a Flow callout was recorded");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_get_a_token_keep_it_and_renew_it_when_refused() -> anyhow::Result<()> {
    const TOKEN_PATH: &str = "/services/oauth2/token";
    let crm = FakeCrm::start().await?;
    let token_answer = |token: &str| {
        json!({
            "access_token": token,
            "instance_url": crm.url(),
            "token_type": "Bearer",
            "issued_at": "1795262370000",
        })
    };
    crm.respond("POST", TOKEN_PATH, 200, token_answer("00D!first"));
    let case = "salesforce/opportunities-outbound-batch";
    answer_as_in_fixture(&crm, case);
    collections_save(&crm);
    let host = host_builder(&crm)
        .variable("salesforce_webhook_token", TOKEN_VALUE)
        .variable("salesforce_api_origin", crm.url())
        .variable("salesforce_client_id", "3MVG9pipeline&guard")
        .variable("salesforce_client_secret", "C1ient=Secret")
        .variable(
            "playbook",
            String::from_utf8(fixture("salesforce/playbook.toml"))?,
        )
        .variable("mode", "shadow")
        .build()?;
    let body = fixture(&format!("{case}.xml"));
    let bearer = |request: &pipeline_guard_test_host::RecordedRequest| {
        request.header("authorization").map(str::to_owned)
    };

    // First delivery: a token first, then exactly the fixture's calls with it.
    let response = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    let requests = crm.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path(), TOKEN_PATH);
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        String::from_utf8_lossy(&requests[0].body),
        "grant_type=client_credentials&client_id=3MVG9pipeline%26guard&client_secret=C1ient%3DSecret"
    );
    assert_eq!(
        sorted(received(&crm)[1..].to_vec()),
        sorted(expected_calls(case))
    );
    for request in &requests[1..] {
        assert_eq!(bearer(request).as_deref(), Some("Bearer 00D!first"));
    }

    // The next request (another instance) reuses the kept token: no token call.
    crm.clear();
    let response = host
        .request(outbound(
            "/flag-stale-deals/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    assert!(!crm.requests().is_empty());
    for request in crm.requests() {
        assert_ne!(request.path(), TOKEN_PATH);
        assert_eq!(bearer(&request).as_deref(), Some("Bearer 00D!first"));
    }

    // The token expired: the API answers 401 once, a new token is requested, the call retried.
    crm.clear();
    crm.respond("POST", TOKEN_PATH, 200, token_answer("00D!second"));
    crm.fail_next(1, 401);
    let response = host
        .request(outbound(
            "/gate-handoff/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    // Calls run side by side: the refused one asks for one new token, and it and every call
    // after the token use it.
    let requests = crm.requests();
    assert_eq!(bearer(&requests[0]).as_deref(), Some("Bearer 00D!first"));
    let tokens: Vec<usize> = (0..requests.len())
        .filter(|&i| requests[i].path() == TOKEN_PATH)
        .collect();
    assert_eq!(tokens.len(), 1, "one new token");
    let retried = requests[tokens[0] + 1..]
        .iter()
        .any(|r| r.path_and_query == requests[0].path_and_query);
    assert!(retried, "the refused call, retried");
    for request in &requests[tokens[0] + 1..] {
        assert_eq!(bearer(request).as_deref(), Some("Bearer 00D!second"));
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_client_credentials_fault_with_what_to_check() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    crm.respond(
        "POST",
        "/services/oauth2/token",
        400,
        json!({"error": "invalid_client", "error_description": "invalid client credentials"}),
    );
    let host = host_builder(&crm)
        .variable("salesforce_webhook_token", TOKEN_VALUE)
        .variable("salesforce_api_origin", crm.url())
        .variable("salesforce_client_id", "3MVG9pipeline")
        .variable("salesforce_client_secret", "wrong")
        .build()?;
    let body = fixture("salesforce/opportunities-outbound-batch.xml");
    let response = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    // A refused key or secret is the configuration's to fix, like a refused token
    // (docs/admin-salesforce.md, step 2): a fault naming what to check, and Salesforce keeps
    // retrying.
    assert_retry_fault(&response);
    let text = body_text(&response);
    assert!(
        text.contains("invalid_client: invalid client credentials"),
        "{text}"
    );
    assert!(text.contains("salesforce_client_secret"), "{text}");
    assert_eq!(crm.requests().len(), 1, "nothing but the token request");
    assert_only_the_account_settled(&host, "score-lead");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_host_as_the_api_origin_faults_asking_for_the_my_domain() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm)
        .variable("salesforce_webhook_token", TOKEN_VALUE)
        .variable("salesforce_api_origin", "https://login.salesforce.com")
        .variable("salesforce_api_token", ACCESS_TOKEN)
        .build()?;
    let body = fixture("salesforce/opportunities-outbound-batch.xml");
    let response = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert_retry_fault(&response);
    let text = body_text(&response);
    assert!(
        text.contains("salesforce_api_origin") && text.contains("My Domain"),
        "{text}"
    );
    assert!(crm.requests().is_empty());
    assert!(host.denied_outbound().is_empty(), "no call was even tried");
    assert_only_the_account_settled(&host, "score-lead");
    Ok(())
}

/// A host configured as the fixture `case` says (its mode and playbook), against a CRM that
/// saves what it is sent and answers as the case says.
fn case_host(crm: &FakeCrm, case: &str) -> anyhow::Result<Host> {
    let walked = expected(case);
    let host = host_with(
        crm,
        walked["playbook"].as_str().unwrap_or(PLAYBOOK),
        walked["mode"].as_str().unwrap_or("shadow"),
    )?;
    answer_as_in_fixture_in_call_order(crm, case);
    Ok(host)
}

/// Delivers the outbound message of the fixture `case` to the gate.
async fn gate(host: &Host, case: &str) -> anyhow::Result<http::Response<Bytes>> {
    let body = fixture(&format!("{case}.xml"));
    host.request(outbound(
        "/gate-handoff/salesforce",
        &body,
        Some(TOKEN_VALUE),
    ))
    .await
}

/// The calls `crm` received, without the tasks' activity date (the fixtures ran on a fixed day).
fn calls(crm: &FakeCrm) -> Vec<Value> {
    without(received(crm), ACTIVITY_DATE)
}

/// The records of the sObject collection calls with `method` (`PATCH` updates, `POST` tasks).
fn records(calls: &[Value], method: &str) -> Vec<Value> {
    calls
        .iter()
        .filter(|c| c["method"] == method && c["path"] == COLLECTIONS)
        .flat_map(|c| c["body"]["records"].as_array().cloned().unwrap_or_default())
        .collect()
}

/// The queries made, by their SOQL's start (`SELECT%20Id%2C%20StageName` is the re-read).
fn queries(calls: &[Value], soql: &str) -> usize {
    let prefix = format!("/services/data/v65.0/query?q={soql}");
    calls
        .iter()
        .filter(|c| c["path"].as_str().is_some_and(|p| p.starts_with(&prefix)))
        .count()
}

/// The re-read of the opportunities' stages before a move back.
const REREAD: &str = "SELECT%20Id%2C%20StageName";

/// The decision recorded for the notification `id` (Salesforce only gets an Ack).
fn recorded(host: &Host, id: &str) -> Value {
    ledger_entry(host, "gate-handoff", id)["outcome"].clone()
}

/// The Salesforce gate fixtures: each rule, each way into the handoff stage (a mass update, a
/// creation), the re-read before a move back, the BDR and the AE, and the three notices.
const GATE_CASES: &[&str] = &[
    "salesforce/opportunity-handoff-blocked",
    "salesforce/opportunity-handoff-validated",
    "salesforce/opportunity-handoff-ae-field",
    "salesforce/opportunity-handoff-no-ae",
    "salesforce/opportunity-handoff-pain-red-high-total",
    "salesforce/opportunity-handoff-placeholder-pain",
    "salesforce/opportunity-handoff-below-threshold",
    "salesforce/opportunity-handoff-incomplete-record",
    "salesforce/opportunity-handoff-shadow-would-block",
    "salesforce/opportunity-handoff-moved-on-since",
    "salesforce/opportunity-created-in-handoff-stage",
    "salesforce/opportunities-bulk-handoff",
    "salesforce/opportunity-moved-on-after-handoff",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_decides_every_salesforce_case_as_the_core_does() -> anyhow::Result<()> {
    for case in GATE_CASES {
        let crm = FakeCrm::start().await?;
        let host = case_host(&crm, case)?;
        let response = gate(&host, case).await?;
        assert!(is_ack(&response), "{case}: {}", body_text(&response));
        assert_eq!(
            sorted(calls(&crm)),
            sorted(without(expected_calls(case), ACTIVITY_DATE)),
            "{case}"
        );
        for walked in expected(case)["outcome"]["results"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let id = walked["event_id"].as_str().unwrap_or_default();
            let outcome = recorded(&host, id);
            assert_eq!(outcome["status"], walked["status"], "{case} {id}");
            assert_eq!(outcome["brief"], walked["brief"], "{case} {id}");
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_handoff_is_read_again_moved_back_and_tasks_the_bdr() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunity-handoff-pain-red-high-total";
    let host = case_host(&crm, case)?;
    assert!(is_ack(&gate(&host, case).await?));
    let calls = calls(&crm);
    // Contact roles, activities and Account side by side, then the BDR's and AE's names in one
    // User query, then the re-read, then the move back, then the tasks.
    assert_eq!(
        queries(&calls[3..4], "SELECT%20Id%2C%20Name%20FROM%20User"),
        1,
        "{calls:?}"
    );
    assert_eq!(queries(&calls[4..5], REREAD), 1, "{calls:?}");
    let update = &records(&calls, "PATCH")[0];
    assert_eq!(update["StageName"], "Discovery", "handoff.return_stage");
    let tasks = records(&calls, "POST");
    let statuses: Vec<(&str, &str, &str)> = tasks
        .iter()
        .map(|t| {
            (
                t["OwnerId"].as_str().unwrap_or_default(),
                t["Status"].as_str().unwrap_or_default(),
                t["Priority"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    // The task for the BDR who moved it (LastModifiedById), and the note on the record.
    assert_eq!(
        statuses,
        [
            ("0055g00000BhqR0AAJ", "Not Started", "High"),
            ("0055g00000BhqR0AAJ", "Completed", "Normal"),
        ]
    );
    let description = tasks[0]["Description"].as_str().unwrap_or_default();
    assert!(
        description.contains("- Pain is red (required green)"),
        "{description}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validated_handoff_tasks_the_ae_with_the_evidence_as_written() -> anyhow::Result<()> {
    // The AE is the owner when someone else made the move, or the AE_Owner__c lookup.
    for (case, ae) in [
        (
            "salesforce/opportunity-handoff-validated",
            "0055g00000AeKz4AAF",
        ),
        (
            "salesforce/opportunity-handoff-ae-field",
            "0055g00000AeTm9AAB",
        ),
    ] {
        let crm = FakeCrm::start().await?;
        let host = case_host(&crm, case)?;
        assert!(is_ack(&gate(&host, case).await?), "{case}");
        let calls = calls(&crm);
        assert_eq!(queries(&calls, REREAD), 0, "{case}: nothing to move");
        assert!(
            records(&calls, "PATCH")[0].get("StageName").is_none(),
            "{case}"
        );
        let tasks = records(&calls, "POST");
        assert_eq!(tasks.len(), 2, "{case}");
        assert_eq!(tasks[0]["OwnerId"], ae, "{case}");
        assert_eq!(tasks[0]["Status"], "Not Started", "{case}");
        assert_eq!(tasks[1]["OwnerId"], ae, "{case}: the note");
        assert_eq!(tasks[1]["Status"], "Completed", "{case}");
        let brief = tasks[0]["Description"].as_str().unwrap_or_default();
        for evidence in [
            "Month-end close takes twelve days and audit found three reconciliation errors",
            "Demo with CFO Dana Ortiz on 2026-11-26 at 10:00",
            "Dana Ortiz, CFO, buying role: economic buyer",
            "by user 0055g00000BhqR0AAJ (the user who made the move)",
            "What this score does not measure",
        ] {
            assert!(
                brief.contains(evidence),
                "{case}: {evidence:?} not in {brief}"
            );
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn shadow_mode_only_logs_a_note_of_what_would_have_been_blocked() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunity-handoff-shadow-would-block";
    let host = case_host(&crm, case)?;
    assert!(is_ack(&gate(&host, case).await?));
    let calls = calls(&crm);
    assert_eq!(queries(&calls, REREAD), 0);
    assert!(records(&calls, "PATCH")[0].get("StageName").is_none());
    let tasks = records(&calls, "POST");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["Status"], "Completed");
    assert_eq!(tasks[0]["Priority"], "Normal");
    let subject = tasks[0]["Subject"].as_str().unwrap_or_default();
    assert!(subject.starts_with("FYI: this handoff"), "{subject}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_opportunity_created_in_the_handoff_stage_is_gated() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunity-created-in-handoff-stage";
    let host = case_host(&crm, case)?;
    assert!(is_ack(&gate(&host, case).await?));
    let outcome = recorded(&host, "04l5g00000Nt114AAT");
    assert_eq!(outcome["status"], "processed");
    assert_eq!(outcome["brief"]["decision"], "blocked");
    let calls = calls(&crm);
    assert_eq!(records(&calls, "PATCH")[0]["StageName"], "Discovery");
    let description = records(&calls, "POST")[0]["Description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains("the deal was created in Sales Accepted"),
        "{description}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mass_update_into_the_handoff_stage_is_gated_record_by_record() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunities-bulk-handoff";
    let host = case_host(&crm, case)?;
    assert!(is_ack(&gate(&host, case).await?));
    assert_eq!(
        recorded(&host, "04l5g00000Nt120AAT")["brief"]["decision"],
        "validated"
    );
    assert_eq!(
        recorded(&host, "04l5g00000Nt121AAT")["brief"]["decision"],
        "blocked"
    );
    let calls = calls(&crm);
    // One query for both opportunities' roles, one for their activities, one for their Accounts,
    // one for the names of every BDR and AE of both, one re-read of the blocked one, one update
    // call and one task call for both.
    assert_eq!(calls.len(), 7, "{calls:?}");
    let updates = records(&calls, "PATCH");
    assert!(updates[0].get("StageName").is_none());
    assert_eq!(updates[1]["StageName"], "Discovery");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handoff_delivered_after_a_newer_notification_is_still_gated_and_not_moved_back()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunity-handoff-moved-on-since";
    let host = salesforce_host(&crm, "enforce")?;
    // Salesforce first delivers the AE's later move to Proposal/Price Quote: no handoff.
    let later = "salesforce/opportunity-moved-on-after-handoff";
    answer_as_in_fixture_in_call_order(&crm, later);
    assert!(is_ack(&gate(&host, later).await?));
    assert_eq!(recorded(&host, "04l5g00000Nt215AAT")["status"], "processed");
    crm.clear();
    // Then the older notification of the move into Sales Accepted: gated, not superseded; the
    // re-read finds the opportunity moved on, so it stays where it is.
    answer_as_in_fixture_in_call_order(&crm, case);
    assert!(is_ack(&gate(&host, case).await?));
    let calls = calls(&crm);
    assert_eq!(
        sorted(calls.clone()),
        sorted(without(expected_calls(case), ACTIVITY_DATE))
    );
    assert!(records(&calls, "PATCH")[0].get("StageName").is_none());
    let description = records(&calls, "POST")[0]["Description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        description.contains("not moved back: it has moved on to Proposal/Price Quote since"),
        "{description}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_ae_the_handoff_is_blocked_and_the_bdr_asked_to_assign_one() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let case = "salesforce/opportunity-handoff-no-ae";
    let host = case_host(&crm, case)?;
    assert!(is_ack(&gate(&host, case).await?));
    let calls = calls(&crm);
    assert_eq!(records(&calls, "PATCH")[0]["StageName"], "Discovery");
    let task = &records(&calls, "POST")[0];
    assert_eq!(task["OwnerId"], "0055g00000BhqR0AAJ", "the BDR");
    assert_eq!(task["Priority"], "High");
    let subject = task["Subject"].as_str().unwrap_or_default();
    assert!(subject.contains("no AE assigned"), "{subject}");
    Ok(())
}
