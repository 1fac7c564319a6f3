//! End to end for Salesforce: outbound messages (SOAP) and Flow callouts (JSON) through the real
//! `.wasm`, with the shared token, contact roles read from the (fake) REST API, and the
//! write-back calls Salesforce would receive. The SOAP Ack is only sent once the work is done.

mod util;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host};
use serde_json::Value;
use util::*;

const TOKEN_VALUE: &str = "sf-7Qw9-Lm2x-Vb4n";
const ACCESS_TOKEN: &str = "00D5g000004XyZa!access";
/// The SOQL endpoint (the fake CRM matches paths without their query).
const QUERY_PATH: &str = "/services/data/v65.0/query";

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

fn answer_contact_roles(crm: &FakeCrm) -> anyhow::Result<()> {
    crm.respond(
        "GET",
        QUERY_PATH,
        200,
        serde_json::from_slice(&fixture(
            "salesforce/api/contact-roles-0065g00000AbCdEAAZ.json",
        ))?,
    );
    Ok(())
}

async fn salesforce_host(crm: &FakeCrm, mode: &str) -> anyhow::Result<Host> {
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
        && response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/xml"))
        && body_text(response).contains(
            r#"<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse>"#,
        )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outbound_message_is_written_back_then_acked_and_a_redelivery_writes_nothing()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce").await?;
    let case = "salesforce/opportunity-handoff-blocked";
    let body = fixture(&format!("{case}.xml"));

    let response = host
        .request(outbound(
            "/gate-handoff/salesforce",
            &body,
            Some(TOKEN_VALUE),
        ))
        .await?;
    assert!(is_ack(&response), "{}", body_text(&response));
    assert_eq!(
        without(received(&crm), "/ActivityDate"),
        without(expected_calls(case), "/ActivityDate")
    );
    for request in crm.requests() {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {ACCESS_TOKEN}").as_str())
        );
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
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn no_ack_until_the_write_back_succeeds() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "shadow").await?;
    let case = "salesforce/opportunities-outbound-batch";
    let body = fixture(&format!("{case}.xml"));

    // The roles query succeeds, the PATCH fails: a SOAP fault, so Salesforce retries.
    answer_contact_roles(&crm)?;
    crm.respond("PATCH", "/services/data/v65.0/sobjects/", 503, Value::Null);
    let response = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert_eq!(response.status(), 502, "{}", body_text(&response));
    assert!(body_text(&response).contains("<faultcode>soapenv:Server</faultcode>"));
    assert!(!body_text(&response).contains("<Ack>"));
    assert!(
        host.kv("default")
            .keys()
            .all(|k| !k.starts_with("processed/"))
    );

    // The retry finds the API back and is acked after exactly the fixture's calls.
    crm.clear();
    crm.respond("PATCH", "/services/data/v65.0/sobjects/", 204, Value::Null);
    let retry = host
        .request(outbound("/score-lead/salesforce", &body, Some(TOKEN_VALUE)))
        .await?;
    assert!(is_ack(&retry), "{}", body_text(&retry));
    assert_eq!(received(&crm), expected_calls(case));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_or_missing_token_gets_401_and_no_call() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce").await?;
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
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flow_callout_gets_a_decision_to_branch_on_and_nothing_is_written() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let host = salesforce_host(&crm, "enforce").await?;
    answer_contact_roles(&crm)?;
    let body = fixture("salesforce/flow-callout-handoff.json");
    let request = http::Request::post("http://pipeline-guard.test/gate-handoff/salesforce")
        .header("content-type", "application/json")
        .header("x-pipeline-guard-token", TOKEN_VALUE)
        .body(Bytes::from(body))?;
    let response = host.request(request).await?;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    let answer = json(&response);
    assert_eq!(answer["allowed"], true);
    assert_eq!(answer["decision"], "validated");
    assert!(
        answer["score"].as_u64().is_some_and(|s| s >= 60),
        "{answer}"
    );
    // Only the contact roles were read; the Flow acts on the answer itself.
    let calls = crm.requests();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].path_and_query.starts_with(QUERY_PATH));
    assert!(host.kv("default").is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_credentials_get_a_token_keep_it_and_renew_it_when_refused() -> anyhow::Result<()> {
    const TOKEN_PATH: &str = "/services/oauth2/token";
    let crm = FakeCrm::start().await?;
    let token_answer = |token: &str| {
        serde_json::json!({
            "access_token": token,
            "instance_url": crm.url(),
            "token_type": "Bearer",
            "issued_at": "1795262370000",
        })
    };
    crm.respond("POST", TOKEN_PATH, 200, token_answer("00D!first"));
    answer_contact_roles(&crm)?;
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
    let case = "salesforce/opportunities-outbound-batch";
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
        serde_json::json!({"error": "invalid_client", "error_description": "invalid client credentials"}),
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
    assert_eq!(response.status(), 500, "{}", body_text(&response));
    let text = body_text(&response);
    assert!(
        text.contains("invalid_client: invalid client credentials"),
        "{text}"
    );
    assert!(text.contains("salesforce_client_secret"), "{text}");
    assert!(!text.contains("<Ack>"));
    assert_eq!(crm.requests().len(), 1, "nothing but the token request");
    assert!(
        host.kv("default")
            .keys()
            .all(|k| !k.starts_with("processed/"))
    );
    Ok(())
}
