//! On both hosts: the `spin-*` header order (and a test host ordering them unlike Spin is
//! caught), the URL a signature is checked against, HubSpot's signature versions, and what the
//! generic signature covers.

use crate::both;
use crate::util;

use both::*;
use bytes::Bytes;
use pipeline_guard_test_host::{
    FakeCrm,
    node::{HeaderOrder, Node, NodeBuilder, Runtime},
};
use util::*;

/// The URL HubSpot signs for score-lead, as both hosts report it.
const SCORE_LEAD_URL: &str = "http://pipeline-guard.test/score-lead/hubspot";

/// Two HubSpot v3 requests to flag-stale-deals, each with a client-sent `spin-full-url` naming
/// score-lead: one signed for score-lead (a forgery replaying it to another function), one
/// signed for where it goes. Which is accepted depends on which `spin-full-url` a host puts
/// last: its own (Spin's order, read by the functions) or the client's.
fn header_order_requests() -> [http::Request<Bytes>; 2] {
    let body = b"[]";
    let mut forged = hubspot_post_signed_for("/flag-stale-deals/hubspot", SCORE_LEAD_URL, body);
    let mut honest = hubspot_post("/flag-stale-deals/hubspot", body, true, 0);
    for request in [&mut forged, &mut honest] {
        request.headers_mut().insert(
            "spin-full-url",
            http::HeaderValue::from_static(SCORE_LEAD_URL),
        );
    }
    [forged, honest]
}

/// What a host answers the two header-order requests: the forgery's status, the honest one's.
async fn header_order_answer(node: &Node) -> anyhow::Result<(u16, u16)> {
    let [forged, honest] = header_order_requests();
    Ok((
        node.request(forged).await?.status().as_u16(),
        node.request(honest).await?.status().as_u16(),
    ))
}

/// Starts the node `builder` configures and observes the header-order requests there.
async fn observe_header_order(builder: NodeBuilder, _crm: FakeCrm) -> anyhow::Result<(u16, u16)> {
    header_order_answer(&builder.start().await?).await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_spin_headers_come_in_spins_order() -> anyhow::Result<()> {
    let answer = observed_alike("spin-* header order", every_host(), observe_header_order).await?;
    // The URL checked is the host's own, never the client's: the forgery is refused.
    anyhow::ensure!(
        answer == (401, 200),
        "answered {answer:?} (forged, honest): a client-sent spin-full-url was read"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_test_host_that_disagrees_with_spin_fails_the_run() -> anyhow::Result<()> {
    let Some(spin) = Runtime::all().into_iter().find(|r| *r != Runtime::TestHost) else {
        println!("a disagreeing host: Spin not found, nothing to compare with; not run");
        return Ok(());
    };
    // With Spin's headers first, the last `spin-full-url` is the client's: the forgery passes and
    // the honest request fails, unlike on Spin. The same runner that runs every comparison must
    // fail.
    let hosts = vec![
        (spin, HeaderOrder::AsSpin),
        (Runtime::TestHost, HeaderOrder::SpinsFirst),
    ];
    let caught = observed_alike("spin-* header order", hosts, observe_header_order).await;
    let Err(error) = caught else {
        panic!("the runner did not catch a test host that orders headers unlike Spin");
    };
    assert!(
        format!("{error:#}").contains("the hosts disagree"),
        "{error:#}"
    );
    println!("a disagreeing host: caught ({error:#})");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_signature_is_checked_against_the_url_the_crm_called() -> anyhow::Result<()>
{
    on_every_host("signed URL", |runtime, crm| async move {
        let body = b"[]";
        // Signed for score-lead, replayed to gate-handoff with the signed URL in a client-sent
        // spin-full-url: the URL checked is the host's own.
        let node_default = node(runtime.clone(), &crm).start().await?;
        let mut replayed = hubspot_post_signed_for("/gate-handoff/hubspot", SCORE_LEAD_URL, body);
        replayed.headers_mut().insert(
            "spin-full-url",
            http::HeaderValue::from_static(SCORE_LEAD_URL),
        );
        let answer = node_default.request(replayed).await?;
        assert_eq!(answer.status(), 401, "replayed: {}", json(&answer));
        assert_eq!(json(&answer)["error"]["code"], "bad_signature");

        // Behind an ingress the CRM signs the public URL: the base configured, then the path and
        // query the host received.
        let public = "https://hooks.example.com";
        let behind_ingress = node(runtime.clone(), &crm)
            .variable("public_base_url", format!("{public}/"))
            .start()
            .await?;
        for (path, signed_for, status) in [
            (
                "/score-lead/hubspot",
                format!("{public}/score-lead/hubspot"),
                200,
            ),
            (
                "/score-lead/hubspot?object=deal",
                format!("{public}/score-lead/hubspot?object=deal"),
                200,
            ),
            ("/score-lead/hubspot", SCORE_LEAD_URL.to_owned(), 401),
            (
                "/gate-handoff/hubspot",
                format!("{public}/score-lead/hubspot"),
                401,
            ),
        ] {
            let mut request = hubspot_post_signed_for(path, &signed_for, body);
            // A client-sent spin-full-url changes nothing either.
            request
                .headers_mut()
                .insert("spin-full-url", signed_for.parse()?);
            let answer = behind_ingress.request(request).await?;
            assert_eq!(
                answer.status(),
                status,
                "{path} signed for {signed_for}: {}",
                json(&answer)
            );
        }

        let misconfigured = node(runtime, &crm)
            .variable("public_base_url", "hooks.example.com")
            .start()
            .await?;
        let answer = misconfigured
            .request(hubspot_post("/score-lead/hubspot", body, true, 0))
            .await?;
        assert_eq!(answer.status(), 500, "{}", json(&answer));
        assert_eq!(json(&answer)["error"]["code"], "config");
        // The caller is not yet authenticated: the log names the variable, the answer does not.
        let said = json(&answer).to_string();
        assert!(said.contains("not configured"), "{said}");
        assert!(!said.contains("hooks.example.com"), "{said}");
        assert!(crm.requests().is_empty());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_hubspot_takes_v1_and_v2_only_from_enabled_workflow_actions()
-> anyhow::Result<()> {
    on_every_host("HubSpot signature versions", |runtime, crm| async move {
        let case = "hubspot/workflow-deal-all-properties";
        let mode = expected(case)["mode"]
            .as_str()
            .unwrap_or("enforce")
            .to_owned();
        answer_as_in_fixture(&crm, case);
        let workflow = fixture(&format!("{case}.json"));
        let batch = fixture("hubspot/deal-stage-changed-to-handoff.json");
        let gate = "/gate-handoff/hubspot";
        let refused = |answer: &http::Response<Bytes>, code: &str, name: &str| {
            assert_eq!(answer.status(), 401, "{name}: {}", json(answer));
            assert_eq!(json(answer)["error"]["code"], code, "{name}");
        };

        let off = node(runtime.clone(), &crm)
            .variable("mode", &mode)
            .start()
            .await?;
        for (name, body) in [("Webhooks API", &batch), ("workflow action", &workflow)] {
            for version in ["v1", "v2"] {
                let answer = off
                    .request(hubspot_legacy_post(version, gate, body))
                    .await?;
                refused(
                    &answer,
                    "missing_signature",
                    &format!("{name} {version}, off"),
                );
            }
        }

        let on = node(runtime, &crm)
            .variable("mode", &mode)
            .variable("hubspot_workflow_signature_v1_v2", "true")
            .start()
            .await?;
        for version in ["v1", "v2"] {
            let answer = on
                .request(hubspot_legacy_post(version, gate, &batch))
                .await?;
            refused(
                &answer,
                "missing_signature",
                &format!("Webhooks API {version}, on"),
            );
        }
        assert!(
            crm.requests().is_empty(),
            "a refused request called the CRM"
        );

        let first = on
            .request(hubspot_legacy_post("v2", gate, &workflow))
            .await?;
        assert_eq!(first.status(), 200, "{}", json(&first));
        let first = json(&first);
        assert_eq!(first["status"], "processed");
        let calls = crm.requests().len();
        assert!(calls > 0);
        // No timestamp bounds a v1 or v2 replay: the body's record id and last-modified date
        // make it the same event, answered from the ledger and never applied twice.
        for version in ["v2", "v1"] {
            let again = on
                .request(hubspot_legacy_post(version, gate, &workflow))
                .await?;
            assert_eq!(again.status(), 200, "{version}: {}", json(&again));
            let again = json(&again);
            assert_eq!(again["status"], "duplicate", "{version}");
            assert_eq!(again["decision"], first["decision"], "{version}");
        }
        assert_eq!(crm.requests().len(), calls, "a replay was applied again");
        // v2 covers the URL: replayed to another function, it is refused.
        let mut elsewhere = hubspot_legacy_post("v2", gate, &workflow);
        *elsewhere.uri_mut() = "http://pipeline-guard.test/score-lead/hubspot".parse()?;
        refused(
            &on.request(elsewhere).await?,
            "bad_signature",
            "v2 replayed to score-lead",
        );
        assert_eq!(crm.requests().len(), calls);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_generic_signature_covers_the_method_and_the_path() -> anyhow::Result<()> {
    on_every_host("generic signature scope", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let body = fixture("generic/lead-created-fully-evidenced.json");
        let score = "/score-lead/generic";
        for (name, signed_method, signed_path) in [
            (
                "replayed from gate-handoff",
                "POST",
                "/gate-handoff/generic",
            ),
            (
                "replayed from flag-stale-deals",
                "POST",
                "/flag-stale-deals/generic",
            ),
            ("signed for another method", "PUT", score),
            ("signed without the function route", "POST", "/generic"),
            (
                "signed with a query it was sent without",
                "POST",
                "/score-lead/generic?a=1",
            ),
        ] {
            let answer = node
                .request(generic_post_signed_for(
                    score,
                    signed_method,
                    signed_path,
                    &body,
                ))
                .await?;
            assert_eq!(answer.status(), 401, "{name}: {}", json(&answer));
            assert_eq!(json(&answer)["error"]["code"], "bad_signature", "{name}");
        }
        assert!(crm.requests().is_empty());
        let answer = node.request(signed_post(score, &body)).await?;
        assert_eq!(answer.status(), 200, "{}", json(&answer));
        // Only the request signed for where it went was recorded.
        let rows = node.sql("SELECT count(*) FROM pg_events")?;
        assert_eq!(rows[0][0], 1);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_client_sent_spin_path_info_chooses_no_route() -> anyhow::Result<()> {
    on_every_host("client spin-path-info", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        // A HubSpot-signed request that claims, in its own spin-path-info, to be for the generic
        // adapter: the route is the one Spin reports, so HubSpot's signature is what is checked.
        let mut request = hubspot_post("/score-lead/hubspot", b"[]", true, 0);
        request
            .headers_mut()
            .insert("spin-path-info", http::HeaderValue::from_static("/generic"));
        let answer = node.request(request).await?;
        assert_eq!(
            answer.status(),
            200,
            "{}",
            String::from_utf8_lossy(answer.body())
        );
        // And a status request that claims to be the health check is still the admin route.
        let mut status = get("/score-lead/status");
        status
            .headers_mut()
            .insert("spin-path-info", http::HeaderValue::from_static("/"));
        let answer = node.request(status).await?;
        assert_ne!(
            answer.status(),
            200,
            "{}",
            String::from_utf8_lossy(answer.body())
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_an_unconfigured_endpoint_tells_an_anonymous_caller_nothing_of_its_configuration()
-> anyhow::Result<()> {
    on_every_host("unconfigured endpoint", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let request = http::Request::post("http://pipeline-guard.test/score-lead/pipedrive")
            .header("content-type", "application/json")
            .header("authorization", "Basic eDp5")
            .body(bytes::Bytes::from_static(b"{}"))?;
        let answer = node.request(request).await?;
        let text = String::from_utf8_lossy(answer.body()).into_owned();
        assert_eq!(answer.status(), 500, "{text}");
        assert!(text.contains("not configured"), "{text}");
        assert!(!text.contains("pipedrive_webhook_user"), "{text}");
        Ok(())
    })
    .await
}
