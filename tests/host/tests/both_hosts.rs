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

/// A HubSpot v3 request signed for one URL, sent to another route with the signed URL in a
/// client-sent `spin-full-url` header: whether it is accepted depends on where a host puts
/// its own `spin-full-url` against the client's.
fn forged_url_request() -> http::Request<Bytes> {
    let signed_for = "http://pipeline-guard.test/score-lead/hubspot";
    let body = b"[]";
    let timestamp = (now() * 1000).to_string();
    http::Request::post("http://pipeline-guard.test/flag-stale-deals/hubspot")
        .header("content-type", "application/json")
        .header("spin-full-url", signed_for)
        .header("x-hubspot-request-timestamp", &timestamp)
        .header(
            "x-hubspot-signature-v3",
            sign_v3("POST", signed_for, body, &timestamp),
        )
        .body(Bytes::from_static(body))
        .expect("request")
}

/// What a host answers the forged-URL request: its status.
async fn header_order_answer(node: &Node) -> anyhow::Result<u16> {
    Ok(node.request(forged_url_request()).await?.status().as_u16())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_spin_headers_come_in_spins_order() -> anyhow::Result<()> {
    let mut answers = Vec::new();
    for runtime in Runtime::all() {
        let crm = FakeCrm::start().await?;
        let node = node(runtime, &crm).start().await?;
        answers.push((node.runtime(), header_order_answer(&node).await?));
    }
    println!("spin-* header order: {answers:?}");
    same_everywhere(&answers)
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
    let crm = FakeCrm::start().await?;
    let spin = node(spin, &crm).start().await?;
    let wrong = node(Runtime::TestHost, &crm)
        .header_order(HeaderOrder::SpinsFirst)
        .start()
        .await?;
    let answers = [
        ("spin", header_order_answer(&spin).await?),
        (
            "test host with Spin's headers first",
            header_order_answer(&wrong).await?,
        ),
    ];
    let caught = same_everywhere(&answers);
    assert!(
        caught.is_err(),
        "the runner did not catch a test host that orders headers unlike Spin: {answers:?}"
    );
    println!("a disagreeing host: caught ({})", caught.unwrap_err());
    Ok(())
}
