//! On both hosts: tenant pinning, a function's own HubSpot secret, the Salesforce token, and the
//! bounds on what a delivery may carry.

use crate::both;
use crate::util;

use anyhow::Context as _;
use both::*;
use bytes::Bytes;
use pipeline_guard_test_host::node::Node;
use util::*;

// Tenant pinning, a function's own HubSpot secret, the Salesforce token and the bounds on what a
// delivery may carry: whatever is refused is refused before the CRM is called or anything is
// recorded.

const PORTAL: &str = "62515";
const OTHER_PORTAL: &str = "99001";
const SF_TOKEN: &str = "sf-7Qw9-Lm2x-Vb4n";
const SF_NEXT_TOKEN: &str = "sf-next-3Rt8-Kp1z";
/// Production's org id, as the admin copies it (15 characters); messages carry the 18.
const SF_ORG: &str = "00D5g000004XyZa";
const PD_USER: &str = "pipedrive";
const PD_PASSWORD: &str = "q8T!x2vLr9#mZ4";
const PD_COMPANY: &str = "7315220";

/// How many events the ledger holds, claimed or settled (none before a delivery made the table).
fn recorded(node: &Node) -> anyhow::Result<i64> {
    let tables =
        node.sql("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pg_events'");
    if tables.map_or(true, |t| t[0][0] == 0) {
        return Ok(0);
    }
    Ok(node.sql("SELECT count(*) FROM pg_events")?[0][0]
        .as_i64()
        .unwrap_or_default())
}

/// Asserts `response` is a JSON error with `status` and `code`, naming `path` when given.
fn assert_error(
    response: &http::Response<Bytes>,
    status: u16,
    code: &str,
    path: Option<&str>,
) -> anyhow::Result<()> {
    let body = json(response);
    anyhow::ensure!(response.status() == status, "{}: {body}", response.status());
    anyhow::ensure!(body["error"]["code"] == code, "{body}");
    if let Some(path) = path {
        anyhow::ensure!(body["error"]["path"] == path, "{body}");
    }
    Ok(())
}

/// A fixture's body with the portal id replaced.
fn from_portal(case: &str, portal: &str) -> Vec<u8> {
    String::from_utf8(fixture(case))
        .expect("UTF-8")
        .replace(PORTAL, portal)
        .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_delivery_from_a_portal_not_served_is_refused_with_403_and_nothing_done()
-> anyhow::Result<()> {
    on_every_host("HubSpot portal pinning", |runtime, crm| async move {
        let node = node(runtime, &crm)
            .variable("hubspot_portal_ids", format!("7001, {PORTAL}"))
            .start()
            .await?;
        let case = "hubspot/signed-v3";
        let foreign = from_portal(&format!("{case}.json"), OTHER_PORTAL);
        let answer = node
            .request(hubspot_post("/score-lead/hubspot", &foreign, true, 0))
            .await?;
        assert_error(&answer, 403, "wrong_tenant", Some("[0].portalId"))?;
        let message = json(&answer)["error"]["message"].to_string();
        anyhow::ensure!(message.contains("hubspot_portal_ids"), "{message}");
        // A workflow action names its portal too.
        let workflow = from_portal("hubspot/workflow-deal-all-properties.json", OTHER_PORTAL);
        let answer = node
            .request(hubspot_post("/gate-handoff/hubspot", &workflow, true, 0))
            .await?;
        assert_error(&answer, 403, "wrong_tenant", Some("portalId"))?;
        anyhow::ensure!(crm.requests().is_empty(), "the CRM was called");
        anyhow::ensure!(recorded(&node)? == 0, "something was recorded");

        // The portal served is processed as ever.
        answer_as_in_fixture(&crm, case);
        let ours = fixture(&format!("{case}.json"));
        let answer = node
            .request(hubspot_post("/score-lead/hubspot", &ours, true, 0))
            .await?;
        anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
        let results = json(&answer)["results"].clone();
        anyhow::ensure!(results[0]["status"] == "processed", "{results}");
        anyhow::ensure!(!crm.requests().is_empty(), "not written back");
        anyhow::ensure!(recorded(&node)? == 2);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_function_s_own_hubspot_secret_is_its_alone() -> anyhow::Result<()> {
    on_every_host("per-function HubSpot secret", |runtime, crm| async move {
        // gate-handoff's own app signs with the tests' secret; the shared app's is another.
        let node = node(runtime, &crm)
            .variable("hubspot_client_secret", "shared-app-secret")
            .variable("gate_handoff_hubspot_client_secret", HUBSPOT_SECRET)
            .start()
            .await?;
        // An event no function acts on: acknowledged, nothing to call.
        let body = br#"[{"eventId":7,"subscriptionId":12399,"portalId":62515,"occurredAt":1795262300000,"subscriptionType":"ticket.creation","attemptNumber":0,"objectId":777}]"#;
        let answer = node
            .request(hubspot_post("/gate-handoff/hubspot", body, true, 0))
            .await?;
        anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
        for other in ["/score-lead/hubspot", "/flag-stale-deals/hubspot"] {
            let answer = node.request(hubspot_post(other, body, true, 0)).await?;
            assert_error(&answer, 401, "bad_signature", None).context(other)?;
        }
        anyhow::ensure!(crm.requests().is_empty());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_hubspot_batch_of_101_events_is_refused_before_anything_is_done()
-> anyhow::Result<()> {
    on_every_host("HubSpot batch cap", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let batch = fixture("hubspot/invalid-batch-of-101-events.json");
        let answer = node
            .request(hubspot_post("/flag-stale-deals/hubspot", &batch, true, 0))
            .await?;
        assert_error(&answer, 400, "invalid_body", Some("."))?;
        let message = json(&answer)["error"]["message"].to_string();
        anyhow::ensure!(message.contains("at most 100"), "{message}");
        anyhow::ensure!(crm.requests().is_empty());
        anyhow::ensure!(recorded(&node)? == 0);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_record_id_that_is_a_dot_segment_is_refused_with_400_and_no_call()
-> anyhow::Result<()> {
    on_every_host("record ids", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let body = fixture("generic/invalid-record-id-dot-segment.json");
        let answer = node
            .request(signed_post("/gate-handoff/generic", &body))
            .await?;
        assert_error(&answer, 400, "invalid_body", Some("record.id"))?;
        anyhow::ensure!(crm.requests().is_empty());
        anyhow::ensure!(recorded(&node)? == 0);
        Ok(())
    })
    .await
}

fn pipedrive_post(path: &str, body: &[u8]) -> http::Request<Bytes> {
    use base64::Engine as _;
    let credentials =
        base64::engine::general_purpose::STANDARD.encode(format!("{PD_USER}:{PD_PASSWORD}"));
    http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Basic {credentials}"))
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_pipedrive_webhook_from_another_company_is_refused_with_403_and_nothing_done()
-> anyhow::Result<()> {
    on_every_host("Pipedrive company pinning", |runtime, crm| async move {
        let node = node(runtime, &crm)
            .variable("pipedrive_webhook_user", PD_USER)
            .variable("pipedrive_webhook_password", PD_PASSWORD)
            .variable("pipedrive_api_origin", crm.url())
            .variable("pipedrive_api_token", "pd-api-token")
            .variable("pipedrive_company_id", PD_COMPANY)
            .variable(
                "playbook",
                String::from_utf8(fixture("pipedrive/playbook.toml"))?,
            )
            .start()
            .await?;
        let foreign = fixture("pipedrive/tenant-webhook-from-another-company.json");
        let answer = node
            .request(pipedrive_post("/score-lead/pipedrive", &foreign))
            .await?;
        assert_error(&answer, 403, "wrong_tenant", Some("meta.company_id"))?;
        let dots = fixture("pipedrive/invalid-entity-id-dot-segment.json");
        let answer = node
            .request(pipedrive_post("/score-lead/pipedrive", &dots))
            .await?;
        assert_error(&answer, 400, "invalid_body", Some("meta.entity_id"))?;
        anyhow::ensure!(crm.requests().is_empty(), "the CRM was called");
        anyhow::ensure!(recorded(&node)? == 0, "something was recorded");

        let case = "pipedrive/deal-created";
        answer_as_in_fixture(&crm, case);
        let answer = node
            .request(pipedrive_post(
                "/score-lead/pipedrive",
                &fixture(&format!("{case}.json")),
            ))
            .await?;
        anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
        anyhow::ensure!(json(&answer)["results"][0]["status"] == "processed");
        anyhow::ensure!(recorded(&node)? == 1);
        Ok(())
    })
    .await
}

/// An outbound message to score-lead, with `token` in the header and `query` on the URL.
fn outbound(body: &[u8], header: Option<&str>, query: &str) -> http::Request<Bytes> {
    let mut request = http::Request::post(format!(
        "http://pipeline-guard.test/score-lead/salesforce{query}"
    ))
    .header("content-type", "text/xml; charset=utf-8")
    .header("soapaction", "\"\"");
    if let Some(token) = header {
        request = request.header("x-pipeline-guard-token", token);
    }
    request.body(Bytes::copy_from_slice(body)).expect("request")
}

/// The SOAP answer's status, whether it is the Ack, and its fault code if it is a fault.
fn soap(response: &http::Response<Bytes>) -> (u16, bool, Option<String>) {
    let text = String::from_utf8_lossy(response.body());
    let fault = text
        .split_once("<faultcode>")
        .and_then(|(_, rest)| rest.split_once("</faultcode>"))
        .map(|(code, _)| code.to_owned());
    (
        response.status().as_u16(),
        text.contains("<Ack>true</Ack>"),
        fault,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_salesforce_takes_its_token_in_the_header_the_query_or_the_next_one_and_only_its_org()
-> anyhow::Result<()> {
    on_every_host("Salesforce token and org", |runtime, crm| async move {
        let node = node(runtime, &crm)
            .variable("salesforce_webhook_token", SF_TOKEN)
            .variable("salesforce_webhook_token_next", SF_NEXT_TOKEN)
            .variable("salesforce_org_id", SF_ORG)
            .variable("salesforce_api_origin", crm.url())
            .variable("salesforce_api_token", "00D5g000004XyZa!access")
            .variable(
                "playbook",
                String::from_utf8(fixture("salesforce/playbook.toml"))?,
            )
            .start()
            .await?;
        // A sandbox refreshed from production: the same URL and token, another org.
        let sandbox = fixture("salesforce/tenant-outbound-from-a-sandbox.xml");
        let answer = node.request(outbound(&sandbox, Some(SF_TOKEN), "")).await?;
        let text = String::from_utf8_lossy(answer.body()).into_owned();
        anyhow::ensure!(
            soap(&answer) == (403, false, Some("soapenv:Client".into())),
            "{text}"
        );
        anyhow::ensure!(text.contains("salesforce_org_id"), "{text}");
        let body = fixture("salesforce/lead-outbound.xml");
        for (header, query) in [
            (Some("sf-guess"), ""),
            (None, "?token=sf-guess"),
            // The header is the one checked when both are sent.
            (Some("sf-guess"), "?token=sf-7Qw9-Lm2x-Vb4n"),
        ] {
            let answer = node.request(outbound(&body, header, query)).await?;
            anyhow::ensure!(
                soap(&answer) == (401, false, Some("soapenv:Client".into())),
                "{header:?} {query}: {}",
                String::from_utf8_lossy(answer.body())
            );
        }
        anyhow::ensure!(crm.requests().is_empty(), "the CRM was called");
        anyhow::ensure!(recorded(&node)? == 0, "something was recorded");

        answer_as_in_fixture(&crm, "salesforce/lead-outbound");
        for (header, query) in [
            (Some(SF_TOKEN), ""),
            (None, "?token=sf-7Qw9-Lm2x-Vb4n"),
            (Some(SF_NEXT_TOKEN), ""),
            (None, "?token=sf-next-3Rt8-Kp1z"),
        ] {
            let answer = node.request(outbound(&body, header, query)).await?;
            anyhow::ensure!(
                soap(&answer) == (200, true, None),
                "{header:?} {query}: {}",
                String::from_utf8_lossy(answer.body())
            );
        }
        // Written back once; the others were the same notification again.
        let patches = crm
            .requests()
            .iter()
            .filter(|r| r.method == "PATCH")
            .count();
        anyhow::ensure!(patches == 1, "{patches} write-backs");
        anyhow::ensure!(recorded(&node)? == 1);
        Ok(())
    })
    .await
}

/// A HubSpot-only install sets no generic variable: the app starts, HubSpot's deliveries are
/// handled, and the generic route answers 500 naming the variable it lacks, recording nothing.
#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_hubspot_only_install_needs_no_generic_variable() -> anyhow::Result<()> {
    on_every_host("HubSpot-only install", |runtime, crm| async move {
        let node = Node::builder(runtime, root().join("spin.toml"), target_dir())
            .variable("hubspot_client_secret", HUBSPOT_SECRET)
            .variable("hubspot_api_origin", crm.url())
            .variable("hubspot_api_token", "pat-na1-test")
            .start()
            .await?;
        let case = "hubspot/signed-v3";
        answer_as_in_fixture(&crm, case);
        let body = fixture(&format!("{case}.json"));
        let answer = node
            .request(hubspot_post("/score-lead/hubspot", &body, true, 0))
            .await?;
        anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
        let handled = recorded(&node)?;
        anyhow::ensure!(handled > 0, "the HubSpot delivery recorded nothing");

        let generic = fixture("generic/lead-created-fully-evidenced.json");
        let refused = node
            .request(signed_post("/score-lead/generic", &generic))
            .await?;
        assert_error(&refused, 500, "config", None)?;
        let message = json(&refused)["error"]["message"].to_string();
        anyhow::ensure!(message.contains("generic_webhook_secret"), "{message}");
        anyhow::ensure!(
            recorded(&node)? == handled,
            "the refused delivery was recorded"
        );
        Ok(())
    })
    .await
}
