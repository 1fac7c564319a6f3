//! End to end for Pipedrive: webhooks v2 with HTTP Basic credentials through the real `.wasm`,
//! the deal's person fetched from the (fake) API v2, and the write-back calls Pipedrive would
//! receive, with its `x-api-token`.

mod util;

use base64::Engine;
use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host};
use util::*;

const USER: &str = "pipedrive";
const PASSWORD: &str = "q8T!x2vLr9#mZ4";
const API_TOKEN: &str = "pd-api-token";

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
    let playbook = String::from_utf8(fixture("pipedrive/playbook.toml"))?;
    host_builder(crm)
        .variable("pipedrive_webhook_user", USER)
        .variable("pipedrive_webhook_password", PASSWORD)
        .variable("pipedrive_api_origin", crm.url())
        .variable("pipedrive_api_token", API_TOKEN)
        .variable("playbook", &playbook)
        .variable("mode", mode)
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blocked_handoff_moves_the_deal_back_and_tasks_the_owner_once() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = pipedrive_host(&crm, "enforce")?;
    let case = "pipedrive/deal-stage-changed-to-handoff-blocked";
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.json"));

    let response = host
        .request(pipedrive_post(
            "/gate-handoff/pipedrive",
            &body,
            Some(PASSWORD),
        ))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["complete"], true);
    let result = &answer["results"][0];
    assert_eq!(result["status"], "processed");
    assert_eq!(result["decision"]["verdict"], "blocked");
    assert_eq!(result["decision"]["from_stage"], "3");
    assert_eq!(
        without(received(&crm), "/due_date"),
        without(expected_calls(case), "/due_date")
    );
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
    let again = host
        .request(pipedrive_post(
            "/gate-handoff/pipedrive",
            &body,
            Some(PASSWORD),
        ))
        .await?;
    assert_eq!(again.status(), 200);
    assert_duplicate_of(&json(&again)["results"][0], result);
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
    assert_eq!(received(&crm), expected_calls(case));

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
