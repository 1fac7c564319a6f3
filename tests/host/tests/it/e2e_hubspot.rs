//! End to end for HubSpot: signed Webhooks API batches and workflow webhook actions through the
//! real `.wasm`, the records completed with the (fake) CRM's batch reads and owner lookups, and the
//! batch write-back calls HubSpot would receive. The handoff gate's cases are the fixtures'
//! (`fixtures/hubspot/`), run with the fixture's mode, playbook and CRM answers.

use crate::util;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, Scripted};
use util::*;

const CLIENT_SECRET: &str = HUBSPOT_SECRET;

/// A workflow action's request, signed with signature v2 (hex SHA-256 of secret, method, URL and
/// body), computed here independently of the code under test.
fn workflow_post(path: &str, body: &[u8], secret: &str) -> http::Request<Bytes> {
    use sha2::Digest;
    let url = format!("http://pipeline-guard.test{path}");
    let mut digest = sha2::Sha256::new();
    for part in [secret.as_bytes(), b"POST", url.as_bytes(), body] {
        digest.update(part);
    }
    http::Request::post(url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-version", "v2")
        .header("x-hubspot-signature", hex::encode(digest.finalize()))
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// Where the task and note bodies carry the time they were written.
const HS_TIMESTAMP: &str = "/inputs/*/properties/hs_timestamp";

fn hubspot_host(crm: &FakeCrm) -> anyhow::Result<Host> {
    host_builder(crm)
        .variable("hubspot_client_secret", CLIENT_SECRET)
        // `workflow_post` signs with v2, which workflow actions may use only when enabled.
        .variable("hubspot_workflow_signature_v1_v2", "true")
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
        .variable("mode", "enforce")
        .build()
}

/// A host run as the fixture `case` says (its mode and playbook), the fake CRM answering what the
/// fixture's CRM answers.
fn host_for_case(crm: &FakeCrm, case: &str) -> anyhow::Result<Host> {
    let given = expected(case);
    let mut builder = host_builder(crm)
        .variable("hubspot_client_secret", CLIENT_SECRET)
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
        .variable("mode", given["mode"].as_str().unwrap_or("enforce"));
    if let Some(playbook) = given["playbook"].as_str() {
        builder = builder.variable("playbook", String::from_utf8(fixture(playbook))?);
    }
    answer_as_in_fixture(crm, case);
    builder.build()
}

/// Sends `events` (a Webhooks API batch) to gate-handoff, signed; the answer, which must be a 200.
async fn gate(host: &Host, events: &[u8]) -> anyhow::Result<serde_json::Value> {
    let response = host
        .request(hubspot_post("/gate-handoff/hubspot", events, true, 0))
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", json(&response));
    Ok(json(&response))
}

/// Runs the fixture `case` through gate-handoff and checks the fake CRM received exactly the
/// fixture's calls: the CRM (kept alive), the host and the answer.
async fn gate_case(case: &str) -> anyhow::Result<(FakeCrm, Host, serde_json::Value)> {
    let crm = FakeCrm::start().await?;
    let host = host_for_case(&crm, case)?;
    let answer = gate(&host, &fixture(&format!("{case}.json"))).await?;
    assert_calls_as_in_fixture(&crm, case);
    Ok((crm, host, answer))
}

/// The one task created: asserts there is one, for `owner`, with `priority`.
fn the_task(crm: &FakeCrm, owner: &str, priority: &str) -> serde_json::Value {
    let tasks = created(crm, "tasks");
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(tasks[0]["hubspot_owner_id"], owner, "{tasks:?}");
    assert_eq!(tasks[0]["hs_task_priority"], priority, "{tasks:?}");
    tasks[0].clone()
}

/// The properties of every task (`tasks`) or note (`notes`) the fake CRM was asked to create.
fn created(crm: &FakeCrm, object: &str) -> Vec<serde_json::Value> {
    let path = format!("/crm/v3/objects/{object}/batch/create");
    crm.requests()
        .iter()
        .filter(|r| r.path() == path)
        .filter_map(|r| r.json())
        .flat_map(|body| body["inputs"].as_array().cloned().unwrap_or_default())
        .map(|input| input["properties"].clone())
        .collect()
}

/// The properties of every deal update the fake CRM received.
fn deal_updates(crm: &FakeCrm) -> Vec<serde_json::Value> {
    crm.requests()
        .iter()
        .filter(|r| r.path() == "/crm/v3/objects/deals/batch/update")
        .filter_map(|r| r.json())
        .flat_map(|body| body["inputs"].as_array().cloned().unwrap_or_default())
        .map(|input| input["properties"].clone())
        .collect()
}

/// The paths the fake CRM received, with the re-read of the deals' stages (a batch read of
/// `dealstage` alone) named `re-read`.
fn call_paths(crm: &FakeCrm) -> Vec<String> {
    crm.requests()
        .iter()
        .map(|r| {
            let stages_only = r
                .json()
                .is_some_and(|body| body["properties"] == serde_json::json!(["dealstage"]));
            if r.path() == "/crm/v3/objects/deals/batch/read" && stages_only {
                "re-read".to_owned()
            } else {
                format!("{} {}", r.method, r.path())
            }
        })
        .collect()
}

/// The body of a task or note as text, whichever it is.
fn body_text(notice: &serde_json::Value) -> &str {
    notice["hs_task_body"]
        .as_str()
        .or_else(|| notice["hs_note_body"].as_str())
        .unwrap_or_default()
}

/// Asserts the fake CRM received exactly the fixture `case`'s calls (but their time stamps), the
/// batch reads before the property updates, and those before any task or note is created, so
/// that a retry after a failure never creates one twice. The reads made side by side may
/// arrive in either order.
fn assert_calls_as_in_fixture(crm: &FakeCrm, case: &str) {
    let calls = received(crm);
    assert_eq!(
        sorted(without(calls.clone(), HS_TIMESTAMP)),
        sorted(without(expected_calls(case), HS_TIMESTAMP))
    );
    let paths: Vec<&str> = calls
        .iter()
        .map(|c| c["path"].as_str().unwrap_or_default())
        .collect();
    let before = |earlier: &str, later: &str| {
        let last = paths.iter().rposition(|p| p.contains(earlier));
        let first = paths.iter().position(|p| p.contains(later));
        assert!(
            last.zip(first).is_none_or(|(last, first)| last < first),
            "{earlier} after {later}: {paths:?}"
        );
    };
    before("/batch/read", "/batch/update");
    before("/batch/update", "/batch/create");
    for request in crm.requests() {
        assert_eq!(request.header("authorization"), Some("Bearer pat-na1-test"));
        if request.path().ends_with("/batch/create") {
            let body = request.json().unwrap_or_default();
            for input in body["inputs"].as_array().into_iter().flatten() {
                assert!(
                    input["properties"]["hs_timestamp"]
                        .as_str()
                        .is_some_and(|t| t.starts_with("20")),
                    "{input}"
                );
            }
        }
    }
}

/// Issue 23 §4: people are named by name, the id beside it. The BDR and the AE are read from
/// HubSpot's owners API (`GET /crm/v3/owners/{ownerId}`), side by side, and the headline and the
/// AE's brief show them; the names are kept for the next deliveries.
#[tokio::test(flavor = "multi_thread")]
async fn a_handoff_names_the_bdr_and_the_ae_by_their_owner_names() -> anyhow::Result<()> {
    let (crm, _host, answer) = gate_case("hubspot/deal-handoff-people-named").await?;
    let decision = &answer["results"][0]["decision"];
    let message = decision["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("handed to the AE Priya Shah (user 52002)"),
        "{message}"
    );
    assert_eq!(decision["people"]["bdr"]["name"], "Jo Park", "{decision}");
    assert_eq!(decision["people"]["bdr"]["id"], "52001", "{decision}");
    let task = the_task(&crm, "52002", "MEDIUM");
    let brief = body_text(&task);
    assert!(
        brief.contains("handed to you by Jo Park (user 52001, the user who made the move)"),
        "{brief}"
    );
    let paths = call_paths(&crm);
    for owner in ["52001", "52002"] {
        let asked = format!("GET /crm/v3/owners/{owner}");
        assert_eq!(
            paths.iter().filter(|p| **p == asked).count(),
            1,
            "{paths:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dealstage_change_fetches_the_deal_and_writes_back_exactly_once() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let case = "hubspot/deal-stage-changed-to-handoff";
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.json"));

    let response = host
        .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["complete"], true);
    let result = &answer["results"][0];
    assert_eq!(result["status"], "processed");
    assert_eq!(result["decision"]["verdict"], "validated");
    assert_eq!(result["decision"]["from_stage"], "discovery");
    assert_calls_as_in_fixture(&crm, case);
    // The AE (the owner the move gave the deal) gets the brief as a task, with the evidence as
    // the BDR wrote it; the BDR is the mover's owner id, looked up from the event's user id.
    let task = the_task(&crm, "52002", "MEDIUM");
    let brief = body_text(&task);
    for text in [
        "Picking errors cost them 2% of revenue in returns every quarter",
        "Dana Ruiz, CFO, buying role: economic buyer",
        "next activity on 2026-12-03",
        "by user 52001",
        "What this score does not measure",
    ] {
        assert!(brief.contains(text), "{text:?} not in {brief}");
    }
    let notes = created(&crm, "notes");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["hubspot_owner_id"], "52002");
    assert!(deal_updates(&crm)[0].get("dealstage").is_none());
    assert!(
        call_paths(&crm).contains(&"GET /crm/v3/owners/31337".to_owned()),
        "{:?}",
        call_paths(&crm)
    );
    let event_id = result["event_id"].as_str().unwrap_or_default();
    let entry = ledger_entry(&host, "gate-handoff", event_id);
    assert_eq!(entry["crm"], "hubspot");
    assert_eq!(entry["state"], "processed");

    // HubSpot retries the same batch: acknowledged, nothing fetched or written again.
    let calls = crm.requests().len();
    let again = host
        .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
        .await?;
    assert_eq!(again.status(), 200);
    assert_duplicate_of(&json(&again)["results"][0], result);
    assert_eq!(crm.requests().len(), calls);
    assert_eq!(ledger_entry(&host, "gate-handoff", event_id), entry);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_or_replayed_hubspot_requests_get_401_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let body = fixture("hubspot/deal-stage-changed-to-handoff.json");
    for (name, request, code) in [
        (
            "forged",
            hubspot_post("/gate-handoff/hubspot", &body, false, 0),
            "bad_signature",
        ),
        (
            "replayed",
            hubspot_post("/gate-handoff/hubspot", &body, true, 600),
            "stale_timestamp",
        ),
        (
            "unsigned",
            http::Request::post("http://pipeline-guard.test/gate-handoff/hubspot")
                .header("content-type", "application/json")
                .body(Bytes::from(body.clone()))?,
            "missing_signature",
        ),
    ] {
        let response = host.request(request).await?;
        assert_eq!(response.status(), 401, "{name}");
        assert_eq!(json(&response)["error"]["code"], code, "{name}");
    }
    assert!(crm.requests().is_empty());
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_event_types_are_acknowledged_without_a_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let body = br#"[{"eventId":2,"subscriptionId":12399,"portalId":62515,"occurredAt":1764000000000,"subscriptionType":"ticket.creation","attemptNumber":0,"objectId":777}]"#;
    let response = host
        .request(hubspot_post("/score-lead/hubspot", body, true, 0))
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
async fn a_workflow_action_is_gated_answered_flat_and_its_retry_repeats_the_answer()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let case = "hubspot/workflow-deal-all-properties";
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.json"));

    // A forged signature: refused before anything is read or written.
    let forged = host
        .request(workflow_post(
            "/gate-handoff/hubspot",
            &body,
            "not-the-secret",
        ))
        .await?;
    assert_eq!(forged.status(), 401);
    assert_eq!(json(&forged)["error"]["code"], "bad_signature");
    assert!(crm.requests().is_empty());
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty());

    let response = host
        .request(workflow_post("/gate-handoff/hubspot", &body, CLIENT_SECRET))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["allowed"], false);
    assert_eq!(answer["decision"], "blocked");
    assert_eq!(answer["status"], "processed");
    // The score the core gives the same body (a thin deal: no evidence, no AE).
    assert_eq!(answer["score"], expected(case)["answer"]["score"]);
    assert_eq!(answer["details"]["moved_back_to"], "discovery");
    assert_calls_as_in_fixture(&crm, case);
    let entries = ledger(&host);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["record_id"], "9004");
    assert_eq!(entries[0]["state"], "processed");

    // HubSpot retries (say the first answer timed out): the same answer, nothing written again.
    let calls = crm.requests().len();
    let again = host
        .request(workflow_post("/gate-handoff/hubspot", &body, CLIENT_SECRET))
        .await?;
    assert_eq!(again.status(), 200);
    let retried = json(&again);
    assert_eq!(retried["status"], "duplicate");
    assert_eq!(retried["allowed"], false);
    assert_eq!(retried["decision"], "blocked");
    assert_eq!(retried["score"], answer["score"]);
    assert_eq!(retried["message"], answer["message"]);
    assert_eq!(crm.requests().len(), calls);
    assert_eq!(ledger(&host), entries);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_body_that_names_no_object_gets_400_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let body = fixture("hubspot/workflow-custom-body-without-object-type.json");
    let response = host
        .request(workflow_post("/gate-handoff/hubspot", &body, CLIENT_SECRET))
        .await?;
    assert_eq!(response.status(), 400);
    let error = json(&response);
    assert_eq!(error["error"]["path"], "objectType");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("?object=deal"))
    );
    assert!(crm.requests().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_answered_empty_fails_its_event_and_nothing_is_written_or_moved()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm)?;
    let case = "hubspot/deal-stage-changed-to-handoff";
    answer_as_in_fixture(&crm, case);
    // HubSpot answers 200 but without the deal: never scored as an empty deal (which, in enforce
    // mode, would be blocked and moved back).
    crm.respond(
        "POST",
        "/crm/v3/objects/deals/batch/read",
        200,
        serde_json::json!({}),
    );
    let body = fixture(&format!("{case}.json"));
    let response = host
        .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let result = &json(&response)["results"][0];
    assert_eq!(result["status"], "failed");
    let reason = result["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("does not hold record 9001"), "{reason}");
    assert!(
        crm.requests()
            .iter()
            .all(|r| r.path().ends_with("/batch/read")),
        "only reads: {:?}",
        received(&crm)
    );
    let event_id = result["event_id"].as_str().unwrap_or_default();
    assert_eq!(
        ledger_entry(&host, "gate-handoff", event_id)["state"],
        "failed"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_handoff_tasks_the_mover_and_moves_the_deal_back_after_reading_it_again()
-> anyhow::Result<()> {
    let (crm, _host, answer) = gate_case("hubspot/deal-stage-changed-to-handoff-blocked").await?;
    let decision = &answer["results"][0]["decision"];
    assert_eq!(decision["verdict"], "blocked", "{answer}");
    assert_eq!(decision["people"]["bdr"]["id"], "52001");
    // The event names HubSpot user 31337; the task goes to that user's owner id.
    let task = the_task(&crm, "52001", "HIGH");
    let body = body_text(&task);
    assert!(
        body.contains("What is missing, and what to ask the buyer"),
        "{body}"
    );
    assert!(body.contains("moved back to discovery"), "{body}");
    let notes = created(&crm, "notes");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["hubspot_owner_id"], "52001");
    assert_eq!(deal_updates(&crm)[0]["dealstage"], "discovery");
    let paths = call_paths(&crm);
    let reread = paths.iter().position(|p| p == "re-read");
    let update = paths
        .iter()
        .position(|p| p.ends_with("/deals/batch/update"));
    assert!(
        reread.zip(update).is_some_and(|(r, u)| r < u),
        "the stage is read again before the move: {paths:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deal_moved_on_before_the_move_back_stays_where_it_is_and_the_notices_say_so()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "hubspot/deal-stage-changed-to-handoff-blocked";
    let host = host_for_case(&crm, case)?;
    // The fetch finds the deal in the handoff stage; by the re-read, an AE has moved it on.
    let in_handoff =
        serde_json::from_slice::<serde_json::Value>(&fixture("hubspot/api/deals-batch-9004.json"))?;
    let mut moved_on = in_handoff.clone();
    moved_on["results"][0]["properties"]["dealstage"] = "qualifiedtobuy".into();
    crm.respond("POST", "/crm/v3/objects/deals/batch/read", 200, moved_on);
    crm.script(
        "POST",
        "/crm/v3/objects/deals/batch/read",
        Scripted::json(200, &in_handoff).times(1),
    );

    let answer = gate(&host, &fixture(&format!("{case}.json"))).await?;
    assert_eq!(answer["results"][0]["status"], "processed", "{answer}");
    assert_eq!(answer["results"][0]["decision"]["verdict"], "blocked");
    assert!(call_paths(&crm).contains(&"re-read".to_owned()));
    let updates = deal_updates(&crm);
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert!(
        updates[0].get("dealstage").is_none(),
        "moved back: {updates:?}"
    );
    assert_eq!(updates[0]["pg_handoff_status"], "blocked");
    let task = the_task(&crm, "52001", "HIGH");
    let body = body_text(&task);
    assert!(body.contains("not moved back"), "{body}");
    assert!(body.contains("qualifiedtobuy"), "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn in_shadow_mode_a_handoff_that_would_be_blocked_leaves_a_note_and_no_task()
-> anyhow::Result<()> {
    let (crm, _host, answer) = gate_case("hubspot/deal-handoff-blocked-shadow").await?;
    let decision = &answer["results"][0]["decision"];
    assert_eq!(decision["verdict"], "blocked", "{answer}");
    assert_eq!(decision["mode"], "shadow");
    assert!(created(&crm, "tasks").is_empty(), "a task in shadow mode");
    let notes = created(&crm, "notes");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["hubspot_owner_id"], "52001");
    assert!(body_text(&notes[0]).contains("would have been blocked"));
    assert!(deal_updates(&crm)[0].get("dealstage").is_none());
    assert!(!call_paths(&crm).contains(&"re-read".to_owned()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deal_created_or_restored_in_the_handoff_stage_is_gated() -> anyhow::Result<()> {
    for (case, way) in [
        ("hubspot/deal-created-in-handoff-stage", "created"),
        ("hubspot/deal-restored-in-handoff-stage", "restored"),
    ] {
        let (crm, _host, answer) = gate_case(case).await?;
        let result = &answer["results"][0];
        assert_eq!(result["status"], "processed", "{case}: {answer}");
        assert_eq!(result["decision"]["way"], way, "{case}");
        assert_eq!(result["decision"]["verdict"], "blocked", "{case}");
        the_task(&crm, "52001", "HIGH");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_delivered_before_an_older_stage_change_never_supersedes_it() -> anyhow::Result<()>
{
    let case = "hubspot/deal-handoff-update-arrives-before-the-stage-change";
    let events: Vec<serde_json::Value> = serde_json::from_slice(&fixture(&format!("{case}.json")))?;
    let (update, stage_change) = (&events[0], &events[1]);
    assert!(update["occurredAt"].as_i64() > stage_change["occurredAt"].as_i64());

    // In one delivery: the stage change decides the deal.
    let (_crm, _host, answer) = gate_case(case).await?;
    assert_eq!(answer["results"][0]["status"], "superseded", "{answer}");
    assert_eq!(answer["results"][1]["status"], "processed");
    assert_eq!(answer["results"][1]["decision"]["verdict"], "validated");

    // In two deliveries, the newer update first: the stage change is still gated.
    let crm = FakeCrm::start().await?;
    let host = host_for_case(&crm, case)?;
    let first = gate(&host, serde_json::json!([update]).to_string().as_bytes()).await?;
    assert_eq!(first["results"][0]["status"], "processed", "{first}");
    let second = gate(
        &host,
        serde_json::json!([stage_change]).to_string().as_bytes(),
    )
    .await?;
    let result = &second["results"][0];
    assert_eq!(result["status"], "processed", "{second}");
    assert_eq!(result["decision"]["verdict"], "validated");
    the_task(&crm, "52002", "MEDIUM");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn without_an_ae_a_qualified_handoff_is_blocked_and_the_bdr_told_to_assign_one()
-> anyhow::Result<()> {
    let (crm, _host, answer) = gate_case("hubspot/deal-handoff-no-ae").await?;
    let decision = &answer["results"][0]["decision"];
    assert_eq!(decision["verdict"], "blocked", "{answer}");
    assert_eq!(
        decision["rules"]["failed"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        decision["rules"]["failed"][0]
            .as_str()
            .is_some_and(|rule| rule.starts_with("no AE assigned")),
        "{decision}"
    );
    let task = the_task(&crm, "52001", "HIGH");
    assert!(body_text(&task).contains("no AE assigned"));
    assert_eq!(deal_updates(&crm)[0]["dealstage"], "discovery");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ae_named_in_a_deal_property_gets_the_handoff() -> anyhow::Result<()> {
    let (crm, _host, answer) = gate_case("hubspot/deal-handoff-ae-from-a-named-field").await?;
    let decision = &answer["results"][0]["decision"];
    assert_eq!(decision["verdict"], "validated", "{answer}");
    assert_eq!(decision["people"]["ae"]["id"], "52002");
    let task = the_task(&crm, "52002", "MEDIUM");
    assert!(body_text(&task).contains("You are the AE as the \"ae_owner\" field"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deal_answered_without_its_stage_is_retried_never_scored() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "hubspot/deal-read-without-stage";
    let host = host_for_case(&crm, case)?;
    let response = host
        .request(hubspot_post(
            "/gate-handoff/hubspot",
            &fixture(&format!("{case}.json")),
            true,
            0,
        ))
        .await?;
    assert_eq!(response.status(), 503, "{}", json(&response));
    let answer = json(&response);
    for result in answer["results"].as_array().into_iter().flatten() {
        assert_eq!(result["status"], "pending", "{result}");
    }
    assert_calls_as_in_fixture(&crm, case);
    assert_nothing_settled(&host);
    Ok(())
}
