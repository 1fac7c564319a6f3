//! End to end for HubSpot: signed Webhooks API batches through the real `.wasm`, the record
//! fetched from the (fake) CRM v3 objects API, and the write-back calls HubSpot would receive.

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

async fn hubspot_host(crm: &FakeCrm) -> anyhow::Result<Host> {
    for (method, path, file) in [
        (
            "GET",
            "/crm/v3/objects/deals/9001",
            "hubspot/api/deal-9001.json",
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            "hubspot/api/contacts-batch.json",
        ),
    ] {
        crm.respond(method, path, 200, serde_json::from_slice(&fixture(file))?);
    }
    host_builder(crm)
        .variable("hubspot_client_secret", CLIENT_SECRET)
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
        .variable("mode", "enforce")
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dealstage_change_fetches_the_deal_and_writes_back_exactly_once() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm).await?;
    let case = "hubspot/deal-stage-changed-to-handoff";
    let body = fixture(&format!("{case}.json"));

    let response = host
        .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["results"][0]["decision"]["verdict"], "validated");
    assert_eq!(answer["results"][0]["decision"]["from_stage"], "discovery");
    assert_eq!(
        without(received(&crm), "/properties/hs_timestamp"),
        without(expected_calls(case), "/properties/hs_timestamp")
    );
    for request in crm.requests() {
        assert_eq!(request.header("authorization"), Some("Bearer pat-na1-test"));
    }
    let note = crm
        .requests()
        .last()
        .and_then(|r| r.json())
        .unwrap_or_default();
    assert!(
        note["properties"]["hs_timestamp"]
            .as_str()
            .is_some_and(|t| t.starts_with("20"))
    );

    // HubSpot retries the same batch: acknowledged, nothing fetched or written again.
    let calls = crm.requests().len();
    let again = host
        .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
        .await?;
    assert_eq!(again.status(), 200);
    assert_eq!(json(&again)["results"][0]["status"], "duplicate");
    assert_eq!(crm.requests().len(), calls);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_or_replayed_hubspot_requests_get_401_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm).await?;
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
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn unsupported_event_types_are_acknowledged_without_a_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = hubspot_host(&crm).await?;
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
