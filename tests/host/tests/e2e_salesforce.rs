//! End to end for Salesforce: outbound messages (SOAP) and Flow callouts (JSON) through the real
//! `.wasm`, with the shared token, contact roles read from the (fake) REST API with one SOQL
//! query, and the sObject collection calls Salesforce would receive. The SOAP Ack is only sent
//! once the delivery is done; while anything is pending the answer is a SOAP fault.

mod util;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, Scripted};
use serde_json::json;
use util::*;

const TOKEN_VALUE: &str = "sf-7Qw9-Lm2x-Vb4n";
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
    collections_save(crm);
    let playbook = String::from_utf8(fixture("salesforce/playbook.toml"))?;
    host_builder(crm)
        .variable("salesforce_webhook_token", TOKEN_VALUE)
        .variable("salesforce_api_origin", crm.url())
        .variable("salesforce_api_token", ACCESS_TOKEN)
        .variable("playbook", &playbook)
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
    answer_as_in_fixture(&crm, case);
    let body = fixture(&format!("{case}.xml"));

    let response = host
        .request(outbound(
            "/gate-handoff/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    // The contact roles, the opportunity's update, then its owner's task.
    assert_eq!(
        without(received(&crm), ACTIVITY_DATE),
        without(expected_calls(case), ACTIVITY_DATE)
    );
    for request in crm.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str())
        );
    }
    let task = &received(&crm)[2]["body"]["records"][0];
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
    assert_eq!(received(&crm), expected_calls(case));
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
    // Flat fields the Flow branches on (README, "Deciding before the save").
    let answer = json(&response);
    assert_eq!(answer["allowed"], true, "{answer}");
    assert_eq!(answer["decision"], "validated");
    assert_eq!(answer["status"], "decided");
    assert!(
        answer["score"].as_u64().is_some_and(|s| s >= 60),
        "{answer}"
    );
    // Only the contact roles were read; the Flow acts on the answer itself.
    assert_eq!(received(&crm), expected_calls(case));
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
    assert_eq!(received(&crm)[1..], expected_calls(case)[..]);
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
    let requests = crm.requests();
    assert_eq!(bearer(&requests[0]).as_deref(), Some("Bearer 00D!first"));
    assert_eq!(requests[1].path(), TOKEN_PATH);
    assert_eq!(
        requests[2].path(),
        requests[0].path(),
        "the refused call, retried"
    );
    for request in &requests[2..] {
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
    // A refused key or secret is the configuration's to fix, like a refused token (README,
    // Salesforce step 2): a fault naming what to check, and Salesforce keeps retrying.
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
