//! End to end for Pipedrive: webhooks v2 with HTTP Basic credentials through the real `.wasm`,
//! the deal's person fetched from the (fake) API v2, and the write-back calls Pipedrive would
//! receive, with its `x-api-token`. The handoff gate: every fixture case decided as the core
//! decides it, the re-read before a move back, who is told what, and a stage change delivered
//! after a newer update.

use crate::util;

use base64::Engine;
use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host};
use serde_json::Value;
use util::*;

const USER: &str = "pipedrive";
const PASSWORD: &str = "q8T!x2vLr9#mZ4";
const API_TOKEN: &str = "pd-api-token";
const PLAYBOOK: &str = "pipedrive/playbook.toml";
/// Where an activity carries the day it was written.
const DUE_DATE: &str = "/due_date";

fn pipedrive_post(path: &str, body: &[u8], password: Option<&str>) -> http::Request<Bytes> {
    let mut request = http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/json")
        .header("user-agent", "Pipedrive-Webhook");
    if let Some(password) = password {
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
        request = request.header("authorization", format!("Basic {credentials}"));
    }
    request.body(Bytes::copy_from_slice(body)).expect("request")
}

fn pipedrive_host(crm: &FakeCrm, mode: &str) -> anyhow::Result<Host> {
    host_with(crm, PLAYBOOK, mode)
}

/// A host with the playbook fixture `playbook` in `mode`, against `crm`.
fn host_with(crm: &FakeCrm, playbook: &str, mode: &str) -> anyhow::Result<Host> {
    host_builder(crm)
        .variable("pipedrive_webhook_user", USER)
        .variable("pipedrive_webhook_password", PASSWORD)
        .variable("pipedrive_api_origin", crm.url())
        .variable("pipedrive_api_token", API_TOKEN)
        .variable("playbook", String::from_utf8(fixture(playbook))?)
        .variable("mode", mode)
        .build()
}

/// A host configured as the fixture `case` says (its mode and playbook), against `crm`
/// answering as the case says.
fn case_host(crm: &FakeCrm, case: &str) -> anyhow::Result<Host> {
    answer_as_in_fixture(crm, case);
    let walked = expected(case);
    host_with(
        crm,
        walked["playbook"].as_str().unwrap_or(PLAYBOOK),
        walked["mode"].as_str().unwrap_or("shadow"),
    )
}

/// Delivers the fixture `case` to the gate: the HTTP status and the answer's one result.
async fn gate(host: &Host, case: &str) -> anyhow::Result<(u16, Value)> {
    let response = host
        .request(pipedrive_post(
            "/gate-handoff/pipedrive",
            &fixture(&format!("{case}.json")),
            Some(PASSWORD),
        ))
        .await?;
    let answer = json(&response);
    let result = answer["results"][0].clone();
    Ok((
        response.status().as_u16(),
        if result.is_null() { answer } else { result },
    ))
}

/// The calls `crm` received, in a fixed order (a write-back's activity and note go side by side)
/// and without the activities' due date (the fixtures ran on a fixed day).
fn calls(crm: &FakeCrm) -> Vec<Value> {
    sorted(without(received(crm), DUE_DATE))
}

/// The fixture `case`'s calls, as [`calls`] gives them.
fn expected_sorted(case: &str) -> Vec<Value> {
    sorted(without(expected_calls(case), DUE_DATE))
}

/// The calls to `path` with `method`.
fn made<'a>(calls: &'a [Value], method: &str, path: &str) -> Vec<&'a Value> {
    calls
        .iter()
        .filter(|c| {
            c["method"] == method && c["path"].as_str().is_some_and(|p| p.starts_with(path))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_handoff_is_read_again_moved_back_and_tasks_the_bdr_once() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-stage-changed-to-handoff-blocked";
    let host = case_host(&crm, case)?;
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "processed");
    assert_eq!(result["decision"]["verdict"], "blocked");
    assert_eq!(result["decision"]["from_stage"], "3");
    assert_eq!(calls(&crm), expected_sorted(case));
    // The deal is read again before it is moved back; the BDR who moved it gets the task.
    let received = received(&crm);
    let at = |method: &str, path: &str| {
        received
            .iter()
            .position(|c| c["method"] == method && c["path"].as_str() == Some(path))
    };
    let read_again = at("GET", "/api/v2/deals?ids=102&limit=100").expect("read again");
    let moved = at("PATCH", "/api/v2/deals/102").expect("moved back");
    assert!(read_again < moved, "{received:?}");
    assert_eq!(received[moved]["body"]["stage_id"], 3);
    let task = made(&received, "POST", "/api/v2/activities");
    assert_eq!(task.len(), 1);
    assert_eq!(task[0]["body"]["owner_id"], 12415231, "meta.user_id");
    assert_eq!(made(&received, "POST", "/api/v1/notes").len(), 1);
    for request in crm.requests() {
        assert_eq!(request.header("x-api-token"), Some(API_TOKEN));
        assert_eq!(request.header("authorization"), None);
    }
    let event_id = result["event_id"].as_str().unwrap_or_default();
    let entry = ledger_entry(&host, "gate-handoff", event_id);
    assert_eq!(entry["crm"], "pipedrive");
    assert_eq!(entry["state"], "processed");

    // Pipedrive retries the same event (a slow answer, say): acknowledged, nothing written again.
    let calls = crm.requests().len();
    let (status, again) = gate(&host, case).await?;
    assert_eq!(status, 200);
    assert_duplicate_of(&again, &result);
    assert_eq!(crm.requests().len(), calls);
    assert_eq!(ledger_entry(&host, "gate-handoff", event_id), entry);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_deal_is_scored_with_its_person_and_its_echo_is_skipped() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = pipedrive_host(&crm, "shadow")?;
    let case = "pipedrive/deal-created";
    answer_as_in_fixture(&crm, case);
    let response = host
        .request(pipedrive_post(
            "/score-lead/pipedrive",
            &fixture(&format!("{case}.json")),
            Some(PASSWORD),
        ))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(json(&response)["results"][0]["status"], "processed");
    // The reads go out side by side: their order is the network's.
    assert_eq!(sorted(received(&crm)), sorted(expected_calls(case)));

    // Pipedrive then sends the change pipeline-guard itself made: no fetch, no write.
    crm.clear();
    let echo = fixture("pipedrive/deal-own-write-back-echo.json");
    let response = host
        .request(pipedrive_post(
            "/score-lead/pipedrive",
            &echo,
            Some(PASSWORD),
        ))
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(
        json(&response)["results"][0]["decision"]["decision"],
        "skipped"
    );
    assert!(crm.requests().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_or_missing_credentials_get_401_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = pipedrive_host(&crm, "enforce")?;
    let body = fixture("pipedrive/deal-stage-changed-to-handoff-blocked.json");
    for (name, password, code) in [
        ("wrong password", Some("guess"), "bad_credentials"),
        ("no credentials", None, "missing_signature"),
    ] {
        let response = host
            .request(pipedrive_post("/gate-handoff/pipedrive", &body, password))
            .await?;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(json(&response)["error"]["code"], code, "{name}");
    }
    assert!(crm.requests().is_empty());
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty());
    Ok(())
}

/// The Pipedrive gate fixtures: each rule, each way into the handoff stage, the re-read before a
/// move back, the BDR and the AE, the three notices, and a deal without its stage.
const GATE_CASES: &[&str] = &[
    "pipedrive/deal-stage-changed-to-handoff-blocked",
    "pipedrive/deal-bulk-edit-to-handoff-validated",
    "pipedrive/deal-handoff-buying-role-option",
    "pipedrive/deal-handoff-validated-to-new-owner",
    "pipedrive/deal-handoff-ae-field",
    "pipedrive/deal-handoff-no-ae",
    "pipedrive/deal-handoff-pain-red-high-total",
    "pipedrive/deal-handoff-placeholder-pain",
    "pipedrive/deal-handoff-below-threshold",
    "pipedrive/deal-handoff-incomplete-record",
    "pipedrive/deal-handoff-shadow-would-block",
    "pipedrive/deal-handoff-moved-on-since",
    "pipedrive/deal-created-in-handoff-stage",
    "pipedrive/deal-created-without-stage",
    "pipedrive/deal-stage-change-without-stage",
    "pipedrive/deal-updated-after-handoff",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_decides_every_pipedrive_case_as_the_core_does() -> anyhow::Result<()> {
    for case in GATE_CASES {
        let walked = expected(case);
        let crm = FakeCrm::start().await?;
        let host = case_host(&crm, case)?;
        let (status, result) = gate(&host, case).await?;
        if let Some(error) = walked.get("error") {
            assert_eq!(status, error["status"], "{case}: {result}");
            assert_eq!(result, error["body"], "{case}");
            assert!(crm.requests().is_empty(), "{case}");
            continue;
        }
        let walked_result = &walked["outcome"]["results"][0];
        assert_eq!(
            result["status"], walked_result["status"],
            "{case}: {result}"
        );
        assert_eq!(result["brief"], walked_result["brief"], "{case}");
        assert_eq!(calls(&crm), expected_sorted(case), "{case}");
        let pending = walked_result["status"] == "pending";
        assert_eq!(status, if pending { 503 } else { 200 }, "{case}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_validated_handoff_tasks_the_ae_with_the_evidence_as_written() -> anyhow::Result<()> {
    // The AE is the owner the move gave the deal, or the deal's "AE" user field.
    for (case, ae) in [
        ("pipedrive/deal-handoff-validated-to-new-owner", 12415240),
        ("pipedrive/deal-handoff-ae-field", 12415252),
    ] {
        let crm = FakeCrm::start().await?;
        let host = case_host(&crm, case)?;
        let (status, result) = gate(&host, case).await?;
        assert_eq!(status, 200, "{case}: {result}");
        assert_eq!(result["decision"]["verdict"], "validated", "{case}");
        let received = received(&crm);
        let patch = made(&received, "PATCH", "/api/v2/deals/");
        assert!(patch[0]["body"].get("stage_id").is_none(), "{case}: moved");
        let task = made(&received, "POST", "/api/v2/activities");
        assert_eq!(task.len(), 1, "{case}");
        assert_eq!(task[0]["body"]["owner_id"], ae, "{case}");
        let brief = task[0]["body"]["note"].as_str().unwrap_or_default();
        for evidence in [
            "Month-end close takes twelve days and audit found three reconciliation errors last quarter",
            "Demo with CFO Dana Ortiz on 2026-11-26 at 10:00",
            "Dana Ortiz, CFO, buying role: economic buyer",
            "What this score does not measure",
        ] {
            assert!(
                brief.contains(evidence),
                "{case}: {evidence:?} not in {brief}"
            );
        }
        // The brief stays with the deal as a note too.
        let note = made(&received, "POST", "/api/v1/notes");
        assert_eq!(note.len(), 1, "{case}");
        assert_eq!(note[0]["body"]["deal_id"], task[0]["body"]["deal_id"]);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn shadow_mode_only_notes_what_would_have_been_blocked() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-handoff-shadow-would-block";
    let host = case_host(&crm, case)?;
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["brief"]["decision"], "would_block");
    let received = received(&crm);
    assert!(
        made(&received, "GET", "/api/v2/deals").is_empty(),
        "no re-read"
    );
    assert!(
        made(&received, "POST", "/api/v2/activities").is_empty(),
        "a task"
    );
    let patch = made(&received, "PATCH", "/api/v2/deals/118");
    assert!(patch[0]["body"].get("stage_id").is_none(), "moved");
    let note = made(&received, "POST", "/api/v1/notes");
    assert_eq!(note.len(), 1);
    let content = note[0]["body"]["content"].as_str().unwrap_or_default();
    assert!(content.starts_with("FYI: this handoff"), "{content}");
    assert!(
        content.contains("Pain is yellow (required green)"),
        "{content}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deal_created_in_the_handoff_stage_is_gated() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-created-in-handoff-stage";
    let host = case_host(&crm, case)?;
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["decision"]["way"], "created");
    assert_eq!(result["decision"]["verdict"], "blocked");
    let received = received(&crm);
    let patch = made(&received, "PATCH", "/api/v2/deals/114");
    assert_eq!(patch[0]["body"]["stage_id"], 3, "to handoff.return_stage");
    let task = made(&received, "POST", "/api/v2/activities");
    assert_eq!(task[0]["body"]["owner_id"], 12415231);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_change_delivered_after_a_newer_update_is_still_gated() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-stage-changed-to-handoff-blocked";
    let host = case_host(&crm, case)?;
    // Pipedrive delivers the BDR's edit of a minute later first: no way into a stage.
    let (status, update) = gate(&host, "pipedrive/deal-updated-after-handoff").await?;
    assert_eq!(status, 200, "{update}");
    assert_eq!(update["status"], "processed");
    assert_eq!(update["decision"]["decision"], "skipped");
    // Only the deal's activities and organization were read for it: nothing was written.
    assert!(
        crm.requests().iter().all(|r| r.method == http::Method::GET),
        "{:?}",
        crm.requests()
    );
    crm.clear();
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "processed", "superseded: {result}");
    assert_eq!(result["decision"]["verdict"], "blocked");
    assert_eq!(calls(&crm), expected_sorted(case));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deal_moved_on_before_the_re_read_is_not_moved_back() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-handoff-moved-on-since";
    let host = case_host(&crm, case)?;
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["decision"]["verdict"], "blocked");
    let received = received(&crm);
    assert_eq!(made(&received, "GET", "/api/v2/deals?ids=115").len(), 1);
    let patch = made(&received, "PATCH", "/api/v2/deals/115");
    assert!(patch[0]["body"].get("stage_id").is_none(), "moved back");
    let task = made(&received, "POST", "/api/v2/activities");
    let body = task[0]["body"]["note"].as_str().unwrap_or_default();
    assert!(
        body.contains("The deal was not moved back: it has moved on to Proposal made since."),
        "{body}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_ae_the_handoff_is_blocked_and_the_bdr_asked_to_assign_one() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let case = "pipedrive/deal-handoff-no-ae";
    let host = case_host(&crm, case)?;
    let (status, result) = gate(&host, case).await?;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["decision"]["verdict"], "blocked");
    assert_eq!(result["decision"]["people"]["ae"], Value::Null);
    let received = received(&crm);
    let patch = made(&received, "PATCH", "/api/v2/deals/117");
    assert_eq!(patch[0]["body"]["stage_id"], 3);
    let task = made(&received, "POST", "/api/v2/activities");
    assert_eq!(task[0]["body"]["owner_id"], 12415231, "the BDR");
    let subject = task[0]["body"]["subject"].as_str().unwrap_or_default();
    assert!(subject.contains("no AE assigned"), "{subject}");
    Ok(())
}
