//! The end-to-end scenarios on every host: the test host always, and real `spin up` wherever
//! Spin is found (`PIPELINE_GUARD_SPIN`, `../shared/bin/spin`, `spin` on `PATH`). The same
//! scenario code runs on both, so where the test host copies Spin wrongly a test fails; each
//! test prints the hosts it passed on. Run with `--nocapture` to see them (`scripts/test` does).

mod util;

use std::future::Future;

use anyhow::Context as _;
use bytes::Bytes;
use pipeline_guard_test_host::{
    DEFAULT_SQLITE_DB_FILENAME, FakeCrm,
    node::{HeaderOrder, Node, NodeBuilder, Runtime},
};
use serde_json::Value;
use util::*;

/// The app's manifest on `runtime`, its variables pointed at `crm`.
fn node(runtime: Runtime, crm: &FakeCrm) -> NodeBuilder {
    Node::builder(runtime, root().join("spin.toml"), target_dir())
        .variable("generic_webhook_secret", SECRET)
        .variable("generic_api_origin", crm.url())
        .variable("generic_api_token", TOKEN)
        .variable("hubspot_client_secret", HUBSPOT_SECRET)
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
}

/// Runs `scenario` on every host, each with its own fake CRM, and says where it passed.
async fn on_every_host<F, Fut>(name: &str, scenario: F) -> anyhow::Result<()>
where
    F: Fn(Runtime, FakeCrm) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut passed = Vec::new();
    for runtime in Runtime::all() {
        let host = runtime.name();
        let crm = FakeCrm::start().await?;
        scenario(runtime, crm)
            .await
            .with_context(|| format!("{name} on {host}"))?;
        passed.push(host);
    }
    println!("{name}: passed on {}", passed.join(", "));
    Ok(())
}

/// Runs `observe` on each of `hosts` (a runtime, and the test host's header order), each with
/// its own fake CRM, and fails unless every host observed the same thing: where the test host
/// copies Spin wrongly, this is what fails.
async fn observed_alike<F, Fut, T>(
    name: &str,
    hosts: Vec<(Runtime, HeaderOrder)>,
    observe: F,
) -> anyhow::Result<T>
where
    F: Fn(NodeBuilder, FakeCrm) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
    T: PartialEq + std::fmt::Debug,
{
    let mut observed = Vec::new();
    for (runtime, order) in hosts {
        let host = match (&runtime, order) {
            (Runtime::TestHost, HeaderOrder::SpinsFirst) => "test host with Spin's headers first",
            (runtime, _) => runtime.name(),
        };
        let crm = FakeCrm::start().await?;
        let builder = node(runtime, &crm).header_order(order);
        let seen = observe(builder, crm)
            .await
            .with_context(|| format!("{name} on {host}"))?;
        observed.push((host, seen));
    }
    same_everywhere(&observed).with_context(|| name.to_owned())?;
    let hosts: Vec<&str> = observed.iter().map(|(host, _)| *host).collect();
    println!("{name}: observed alike on {}", hosts.join(", "));
    observed
        .pop()
        .map(|(_, seen)| seen)
        .context("no host to observe on")
}

/// [`observed_alike`] on every host, as Spin orders headers.
fn every_host() -> Vec<(Runtime, HeaderOrder)> {
    Runtime::all()
        .into_iter()
        .map(|runtime| (runtime, HeaderOrder::AsSpin))
        .collect()
}

/// The ledger's row for `event_id` of `function`: CRM, record, state and outcome.
fn ledger_row(node: &Node, function: &str, event_id: &str) -> anyhow::Result<Value> {
    let rows = node.sql(&format!(
        "SELECT crm, record_id, state, outcome FROM pg_events \
         WHERE function = '{function}' AND event_id = '{event_id}'"
    ))?;
    let row = rows.first().context("no ledger row")?;
    Ok(serde_json::json!({
        "crm": row[0],
        "record_id": row[1],
        "state": row[2],
        "outcome": serde_json::from_str::<Value>(row[3].as_str().unwrap_or("null"))?,
    }))
}

/// Asserts the ledger holds nothing settled and every claim left was released (its lease ended),
/// so the CRM's next delivery takes the event over at once.
fn assert_nothing_settled_on(node: &Node) -> anyhow::Result<()> {
    let tables =
        node.sql("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pg_events'")?;
    if tables[0][0] == 0 {
        return Ok(());
    }
    let settled =
        node.sql("SELECT count(*) FROM pg_events WHERE state NOT IN ('claimed', 'reopened')")?;
    anyhow::ensure!(settled[0][0] == 0, "settled: {settled:?}");
    let held = node.sql("SELECT count(*) FROM pg_events WHERE lease_until <> 0")?;
    anyhow::ensure!(held[0][0] == 0, "a claim was not released");
    Ok(())
}

/// The three functions, with a fixture each must decide and write back.
const CASES: &[(&str, &str)] = &[
    ("score-lead", "generic/lead-created-fully-evidenced"),
    ("gate-handoff", "generic/deal-handoff-blocked-shadow"),
    ("flag-stale-deals", "generic/deal-deleted"),
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_delivery_is_applied_once_and_its_redelivery_answered() -> anyhow::Result<()>
{
    on_every_host("delivery and redelivery", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        for (function, case) in CASES {
            crm.clear();
            let body = fixture(&format!("{case}.json"));
            let path = format!("/{function}/generic");
            let first = node.request(signed_post(&path, &body)).await?;
            assert_eq!(first.status(), 200, "{function}: {}", json(&first));
            let first = json(&first);
            assert_eq!(first["function"], *function);
            assert_eq!(first["complete"], true);
            let result = &first["results"][0];
            let walked = &expected(case)["outcome"]["results"][0];
            assert_eq!(result["status"], "processed", "{function}");
            assert_eq!(result["brief"], walked["brief"], "{function}");
            assert_eq!(result["crm_calls"], walked["crm_calls"], "{function}");
            // The write-back the fixture walk expects from the core, byte for byte in JSON.
            assert_eq!(received(&crm), expected_calls(case), "{function}");
            for request in crm.requests() {
                assert_eq!(request.header("authorization"), Some("Bearer e2e-token"));
                assert_eq!(request.header("content-type"), Some("application/json"));
            }
            // Recorded in the ledger with the brief a redelivery answers.
            let event_id = result["event_id"].as_str().unwrap_or_default();
            let row = ledger_row(&node, function, event_id)?;
            assert_eq!(row["crm"], "generic");
            assert_eq!(row["record_id"], result["record_id"]);
            assert_eq!(row["state"], "processed", "{function}");
            assert_eq!(
                row["outcome"],
                serde_json::json!({ "status": "processed", "brief": result["brief"] }),
                "{function}"
            );

            let again = node.request(signed_post(&path, &body)).await?;
            assert_eq!(again.status(), 200);
            assert_duplicate_of(&json(&again)["results"][0], result);
            assert_eq!(
                received(&crm),
                expected_calls(case),
                "{function} wrote twice"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_mode_variable_turns_shadow_into_enforce() -> anyhow::Result<()> {
    on_every_host("mode override", |runtime, crm| async move {
        let case = "generic/deal-handoff-blocked";
        answer_as_in_fixture(&crm, case);
        for (mode, status, stage, notices) in [
            ("shadow", "would_block", None, vec!["note"]),
            (
                "enforce",
                "blocked",
                Some("discovery"),
                vec!["task", "note"],
            ),
        ] {
            crm.clear();
            let node = node(runtime.clone(), &crm)
                .variable("mode", mode)
                .start()
                .await?;
            let answer = node
                .request(signed_post(
                    "/gate-handoff/generic",
                    &fixture(&format!("{case}.json")),
                ))
                .await?;
            assert_eq!(json(&answer)["mode"], mode);
            let calls = received(&crm);
            let patch = calls
                .iter()
                .find(|c| c["method"] == "PATCH")
                .context("a write-back")?;
            assert_eq!(patch["body"]["fields"]["pg_handoff_status"], status);
            assert_eq!(patch["body"]["stage"].as_str(), stage);
            let kinds: Vec<&str> = patch["body"]["notices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["kind"].as_str())
                .collect();
            assert_eq!(kinds, notices, "{mode}");
            assert!(
                patch["body"]["notices"][0]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Economic buyer (red): Who signs off on the budget")
            );
        }
        Ok(())
    })
    .await
}

/// The generic gate cases: each rule, each way into the handoff stage, the re-read before a
/// move back, the BDR and the AE, and the notices.
const GATE_CASES: &[&str] = &[
    "generic/deal-handoff-validated",
    "generic/deal-handoff-pain-red-with-high-total",
    "generic/deal-handoff-incomplete-record",
    "generic/deal-handoff-qualification-below-threshold",
    "generic/deal-handoff-placeholder-evidence",
    "generic/deal-handoff-no-ae",
    "generic/deal-handoff-moved-on-before-move-back",
    "generic/deal-created-in-handoff-stage",
    "generic/deal-restored-in-handoff-stage",
    "generic/deal-created-without-stage",
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_gate_decides_every_case_as_the_core_does() -> anyhow::Result<()> {
    on_every_host("gate cases", |runtime, crm| async move {
        for case in GATE_CASES {
            crm.clear();
            let walked = expected(case);
            answer_as_in_fixture(&crm, case);
            let mut builder = node(runtime.clone(), &crm)
                .variable("mode", walked["mode"].as_str().unwrap_or("shadow"));
            if let Some(playbook) = walked["playbook"].as_str() {
                builder = builder.variable("playbook", String::from_utf8(fixture(playbook))?);
            }
            let node = builder.start().await?;
            let answer = node
                .request(signed_post(
                    "/gate-handoff/generic",
                    &fixture(&format!("{case}.json")),
                ))
                .await?;
            let result = &json(&answer)["results"][0];
            let walked = &walked["outcome"]["results"][0];
            assert_eq!(result["status"], walked["status"], "{case}");
            assert_eq!(result["brief"], walked["brief"], "{case}");
            assert_eq!(received(&crm), expected_calls(case), "{case}");
            let status = if walked["status"] == "pending" {
                503
            } else {
                200
            };
            assert_eq!(answer.status(), status, "{case}");
        }
        Ok(())
    })
    .await
}

/// HubSpot gate cases: a v3 signature over the URL each host reports, the batch reads, the owner
/// lookup, the re-read before a move back, and the batch write-back.
const HUBSPOT_CASES: &[&str] = &[
    "hubspot/deal-stage-changed-to-handoff",
    "hubspot/deal-stage-changed-to-handoff-blocked",
    "hubspot/deal-handoff-blocked-shadow",
    "hubspot/deal-handoff-moved-on-before-move-back",
    "hubspot/deal-created-in-handoff-stage",
    "hubspot/deal-handoff-no-ae",
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_hubspot_handoffs_are_gated_as_the_core_gates_them() -> anyhow::Result<()> {
    on_every_host("HubSpot gate cases", |runtime, crm| async move {
        for case in HUBSPOT_CASES {
            crm.clear();
            let walked = expected(case);
            answer_as_in_fixture(&crm, case);
            let mut builder = node(runtime.clone(), &crm)
                .variable("mode", walked["mode"].as_str().unwrap_or("enforce"));
            if let Some(playbook) = walked["playbook"].as_str() {
                builder = builder.variable("playbook", String::from_utf8(fixture(playbook))?);
            }
            let node = builder.start().await?;
            let body = fixture(&format!("{case}.json"));
            let answer = node
                .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
                .await?;
            assert_eq!(answer.status(), 200, "{case}: {}", json(&answer));
            let results = json(&answer)["results"].clone();
            let walked = &walked["outcome"]["results"];
            let briefs = |results: &Value| -> Vec<Value> {
                results
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| serde_json::json!([r["status"], r["brief"]]))
                    .collect()
            };
            assert_eq!(briefs(&results), briefs(walked), "{case}");
            let timestamps = "/inputs/*/properties/hs_timestamp";
            assert_eq!(
                sorted(without(received(&crm), timestamps)),
                sorted(without(expected_calls(case), timestamps)),
                "{case}"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_crm_fault_is_retried_and_applied_once() -> anyhow::Result<()> {
    on_every_host("CRM fault and retry", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let case = "generic/lead-created-fully-evidenced";
        let body = fixture(&format!("{case}.json"));
        crm.fail_next(1, 503);
        let failed = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(failed.status(), 503, "{}", json(&failed));
        let answer = json(&failed);
        assert_eq!(answer["complete"], false);
        assert_eq!(answer["results"][0]["status"], "pending");
        assert!(
            answer["results"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("503")),
            "{answer}"
        );
        assert_nothing_settled_on(&node)?;
        let retried = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(retried.status(), 200, "{}", json(&retried));
        assert_eq!(json(&retried)["results"][0]["status"], "processed");
        // One refused attempt, one applied write.
        assert_eq!(
            received(&crm),
            [expected_calls(case), expected_calls(case)].concat()
        );
        assert_eq!(
            ledger_row(&node, "score-lead", "evt-1001")?["state"],
            "processed"
        );
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_what_was_applied_survives_a_restart() -> anyhow::Result<()> {
    on_every_host("restart", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let body = fixture("generic/lead-created-fully-evidenced.json");
        let first = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        let first = json(&first)["results"][0].clone();
        assert_eq!(first["status"], "processed");
        // The ledger is the SQLite file Spin keeps in its state directory.
        assert!(node.state_dir().join(DEFAULT_SQLITE_DB_FILENAME).is_file());
        let node = node.restart().await?;
        let again = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(again.status(), 200);
        assert_duplicate_of(&json(&again)["results"][0], &first);
        assert_eq!(crm.requests().len(), 1, "applied once across the restart");
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_stage_change_delivered_after_a_newer_update_is_still_gated()
-> anyhow::Result<()> {
    on_every_host("out of order", |runtime, crm| async move {
        let case = "generic/deal-handoff-pain-red-with-high-total";
        answer_as_in_fixture(&crm, case);
        let node = node(runtime, &crm)
            .variable("mode", "enforce")
            .start()
            .await?;
        let stage_change: Value = serde_json::from_slice(&fixture(&format!("{case}.json")))?;
        // The CRM delivers an unrelated update made a minute after the move first.
        let mut update = stage_change.clone();
        update["event_id"] = "evt-2011-update".into();
        update["type"] = "updated".into();
        update["occurred_at"] = "2026-11-21T09:01:00Z".into();
        update.as_object_mut().map(|o| o.remove("previous_stage"));
        let answer = node
            .request(signed_post(
                "/gate-handoff/generic",
                &serde_json::to_vec(&update)?,
            ))
            .await?;
        assert_eq!(json(&answer)["results"][0]["status"], "processed");
        assert!(
            received(&crm).is_empty(),
            "an update is no way into a stage"
        );
        let answer = node
            .request(signed_post(
                "/gate-handoff/generic",
                &serde_json::to_vec(&stage_change)?,
            ))
            .await?;
        let result = &json(&answer)["results"][0];
        assert_eq!(result["status"], "processed", "{result}");
        assert_eq!(result["brief"]["decision"], "blocked");
        assert_eq!(received(&crm), expected_calls(case));
        Ok(())
    })
    .await
}

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

/// Fails, naming every host's answer, unless the hosts all answered alike.
fn same_everywhere<T: PartialEq + std::fmt::Debug>(answers: &[(&str, T)]) -> anyhow::Result<()> {
    anyhow::ensure!(
        answers.windows(2).all(|pair| pair[0].1 == pair[1].1),
        "the hosts disagree: {answers:?}"
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
        assert!(json(&answer).to_string().contains("public_base_url"));
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

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_request_without_credentials_is_refused_before_its_body_is_read()
-> anyhow::Result<()> {
    on_every_host("no credentials, body unread", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        // Larger than the body limit: a host that read it would answer 413, not 401.
        let oversized = Bytes::from(vec![b'x'; 2 * 1024 * 1024]);
        for (path, header) in [
            ("/score-lead/generic", "x-pipeline-guard-signature"),
            ("/gate-handoff/hubspot", "x-hubspot-signature-v3"),
            ("/gate-handoff/pipedrive", "authorization"),
            ("/gate-handoff/salesforce", "x-pipeline-guard-token"),
        ] {
            let request = http::Request::post(format!("http://pipeline-guard.test{path}"))
                .header("content-type", "application/json")
                .body(oversized.clone())?;
            let answer = node.request(request).await?;
            assert_eq!(answer.status(), 401, "{path}");
            let message = String::from_utf8_lossy(answer.body()).into_owned();
            assert!(message.contains(header), "{path}: {message}");
        }
        assert!(crm.requests().is_empty());
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_body_trickling_in_past_the_deadline_is_refused() -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    on_every_host("body deadline", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let addr = node.tcp_addr().await?;
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let ts = now().to_string();
        // Signed headers, a declared body of 100 bytes, and only ten of them sent.
        let head = format!(
            "POST /score-lead/generic HTTP/1.1\r\nhost: pipeline-guard.test\r\n\
             content-type: application/json\r\ncontent-length: 100\r\n\
             x-pipeline-guard-timestamp: {ts}\r\nx-pipeline-guard-signature: sha256=00\r\n\
             connection: close\r\n\r\n{{\"events\":"
        );
        stream.write_all(head.as_bytes()).await?;
        let started = std::time::Instant::now();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(20),
            stream.read_to_end(&mut answer),
        )
        .await
        .context("no answer while the body trickles")??;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
        let waited = started.elapsed();
        assert!(
            waited >= std::time::Duration::from_secs(2),
            "answered after {waited:?}, before the deadline"
        );
        assert!(crm.requests().is_empty());
        Ok(())
    })
    .await
}

/// A node as the delivery tests run it: a 2.5 s generic CRM timeout.
async fn delivery_node(runtime: Runtime, crm: &FakeCrm) -> anyhow::Result<Node> {
    node(runtime, crm)
        .variable("generic_timeout_ms", "2500")
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_rate_limit_is_waited_out_when_it_fits_the_deadline_and_left_to_the_retry_otherwise()
-> anyhow::Result<()> {
    use pipeline_guard_test_host::Scripted;
    use std::time::{Duration, Instant};
    on_every_host("rate limit", |runtime, crm| async move {
        crm.script(
            "PATCH",
            "/records/leads/L-1",
            Scripted::json(429, &serde_json::json!({"message": "slow down"}))
                .header("retry-after", "1")
                .times(1),
        );
        let node = delivery_node(runtime, &crm).await?;
        let started = Instant::now();
        let response = node
            .request(signed_post(
                "/score-lead/generic",
                &batch(&[lead_event("evt-r1", "L-1")]),
            ))
            .await?;
        assert_eq!(response.status(), 200, "{}", json(&response));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited for Retry-After"
        );
        assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 2);
        // A Retry-After past the deadline is not waited for: the CRM's retry comes later.
        crm.script(
            "PATCH",
            "/records/leads/L-2",
            Scripted::json(429, &serde_json::json!({}))
                .header("retry-after", "30")
                .times(1),
        );
        let started = Instant::now();
        let body = batch(&[lead_event("evt-r2", "L-2")]);
        let response = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(response.status(), 503);
        assert_eq!(statuses(&json(&response)), ["pending"]);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "no tight loop, no long wait"
        );
        assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-2"), 1);
        let retry = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(statuses(&json(&retry)), ["processed"]);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_crm_that_never_answers_is_cut_off_within_the_deadline()
-> anyhow::Result<()> {
    use pipeline_guard_test_host::Scripted;
    use std::time::{Duration, Instant};
    on_every_host("CRM never answers", |runtime, crm| async move {
        crm.script(
            "PATCH",
            "/records/leads/L-1",
            Scripted::json(200, &serde_json::json!({}))
                .after(Duration::from_secs(60))
                .times(1),
        );
        let node = delivery_node(runtime, &crm).await?;
        let body = batch(&[lead_event("evt-h1", "L-1")]);
        let started = Instant::now();
        let response = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        let took = started.elapsed();
        assert_eq!(response.status(), 503);
        assert!(
            took < Duration::from_millis(2500),
            "answered in {took:?}, before the CRM gives up"
        );
        let answer = json(&response);
        assert_eq!(statuses(&answer), ["pending"]);
        assert!(
            answer["results"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("no answer within"),
            "{answer}"
        );
        let retry = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(statuses(&json(&retry)), ["processed"]);
        assert_eq!(
            ledger_row(&node, "score-lead", "evt-h1")?["state"],
            "processed"
        );
        Ok(())
    })
    .await
}
