//! End to end for HubSpot: signed Webhooks API batches and workflow webhook actions through the
//! real `.wasm`, the records completed with the (fake) CRM's batch reads, and the batch
//! write-back calls HubSpot would receive.

mod util;

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use pipeline_guard_test_host::{FakeCrm, Host};
use util::*;

const CLIENT_SECRET: &str = "hubspot-client-secret";

/// HubSpot's v3 signature, computed here independently of the code under test.
fn sign_v3(method: &str, url: &str, body: &[u8], timestamp_ms: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("any key");
    mac.update(method.as_bytes());
    mac.update(url.as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn hubspot_post(
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
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
        .variable("mode", "enforce")
        .build()
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
    assert_eq!(answer["score"], 10);
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
    assert_eq!(retried["score"], 10);
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
