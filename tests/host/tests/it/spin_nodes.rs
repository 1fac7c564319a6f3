//! On real Spin, where it is installed: two Spin nodes sharing one store (SQLite, and PostgreSQL
//! where `PIPELINE_GUARD_POSTGRES_URL` names a server) apply a delivery once,
//! however its copies are spread over them (HubSpot sends up to 10 requests at once; behind a
//! load balancer they land on different nodes); and one function deployed alone
//! (`spin up --component-id`) does its work with none of the others' routes. Without Spin this
//! says so and checks nothing.

use crate::util;

use std::time::Duration;

use pipeline_guard_test_host::{
    FakeCrm, Scripted,
    postgres::{self, PostgresServer},
    spin::{SpinUp, app_manifest, send, spin_cli},
};
use util::*;

#[tokio::test(flavor = "multi_thread")]
async fn two_spin_nodes_sharing_the_store_apply_a_delivery_once() -> anyhow::Result<()> {
    let Some(cli) = spin_cli() else {
        eprintln!("Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, PATH): not run");
        return Ok(());
    };
    copies_over_two_nodes_apply_once(&cli, None).await
}

#[tokio::test(flavor = "multi_thread")]
async fn two_spin_nodes_sharing_postgres_apply_a_delivery_once() -> anyhow::Result<()> {
    let Some(cli) = spin_cli() else {
        eprintln!("Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, PATH): not run");
        return Ok(());
    };
    let Some(server) = postgres::server() else {
        eprintln!("PIPELINE_GUARD_POSTGRES_URL not set (no PostgreSQL server): not run");
        return Ok(());
    };
    copies_over_two_nodes_apply_once(&cli, Some(server)).await
}

/// Six copies of each of three deliveries sent at once over two Spin nodes sharing one state
/// directory (SQLite) or, given `postgres`, one PostgreSQL database: one is processed, one
/// write reaches the CRM.
async fn copies_over_two_nodes_apply_once(
    cli: &std::path::Path,
    postgres: Option<PostgresServer>,
) -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    crm.script(
        "PATCH",
        "/records/",
        Scripted::json(200, &serde_json::json!({})).after(Duration::from_millis(300)),
    );
    let dir = tempfile::tempdir()?;
    let manifest = app_manifest(dir.path(), &root(), &target_dir())?;
    let state = tempfile::tempdir()?;
    let mut variables = vec![
        ("generic_webhook_secret", SECRET.to_owned()),
        ("generic_api_origin", crm.url()),
        ("generic_api_token", TOKEN.to_owned()),
    ];
    if let Some(server) = &postgres {
        let database = server.database_for(state.path())?;
        variables.push(("database_url", server.database_url(&database)));
        variables.push(("database_host", server.host()));
    }
    // Each node its own state directory on PostgreSQL: they share nothing but the database.
    let second_state = tempfile::tempdir()?;
    let second = match postgres {
        Some(_) => second_state.path(),
        None => state.path(),
    };
    let nodes = [
        SpinUp::start(cli, &manifest, Some(state.path()), &variables).await?,
        SpinUp::start(cli, &manifest, Some(second), &variables).await?,
    ];
    for round in 0..3 {
        crm.clear();
        let mut event: serde_json::Value =
            serde_json::from_slice(&fixture("generic/lead-created-fully-evidenced.json"))?;
        event["event_id"] = format!("evt-nodes-{round}").into();
        let body = serde_json::to_vec(&event)?;
        let copies = (0..6).map(|i| {
            send(
                nodes[i % 2].addr(),
                signed_post("/score-lead/generic", &body),
            )
        });
        let answers = futures::future::join_all(copies).await;
        let mut processed = 0;
        for answer in answers {
            let (status, body) = answer?;
            let answer: serde_json::Value = serde_json::from_slice(&body)?;
            let outcome = answer["results"][0]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            match (status, outcome.as_str()) {
                (200, "processed") => processed += 1,
                (200, "duplicate") | (503, "in_progress") => {}
                other => panic!("unexpected answer {other:?}: {answer}"),
            }
        }
        assert_eq!(processed, 1, "round {round}");
        let writes = crm
            .requests()
            .iter()
            .filter(|r| r.method == http::Method::PATCH)
            .count();
        assert_eq!(
            writes, 1,
            "round {round}: six copies over two nodes, one write"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn gate_handoff_deployed_alone_decides_handoffs_and_serves_no_other_function()
-> anyhow::Result<()> {
    let Some(cli) = spin_cli() else {
        eprintln!("Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, PATH): not run");
        return Ok(());
    };
    let crm = FakeCrm::start().await?;
    let dir = tempfile::tempdir()?;
    let manifest = app_manifest(dir.path(), &root(), &target_dir())?;
    // Only what a generic install of gate-handoff needs: no HubSpot, Pipedrive or Salesforce
    // variable, nothing of the other functions.
    let variables = [
        ("generic_webhook_secret", SECRET.to_owned()),
        ("generic_api_origin", crm.url()),
        ("generic_api_token", TOKEN.to_owned()),
    ];
    let alone = SpinUp::start_only(&cli, &manifest, None, &variables, &["gate-handoff"]).await?;
    let buyer = serde_json::json!([{"id": "C-1", "name": "Priya Shah", "title": "CFO", "role": "economic_buyer"}]);
    let handoff = deal_event(
        "evt-alone-1",
        "stage_changed",
        "D-1",
        "bdr-1",
        serde_json::json!({"pain": "TBD"}),
        buyer,
        5,
    );
    let body = batch(&[handoff]);
    let (status, answer) = send(alone.addr(), signed_post("/gate-handoff/generic", &body)).await?;
    let answer: serde_json::Value = serde_json::from_slice(&answer)?;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"][0]["brief"]["decision"], "would_block",
        "{answer}"
    );
    assert!(
        crm.requests()
            .iter()
            .any(|r| r.method == http::Method::PATCH),
        "the BDR was told"
    );
    for other in ["/score-lead/generic", "/flag-stale-deals/generic"] {
        let (status, _) = send(alone.addr(), signed_post(other, &body)).await?;
        assert_eq!(status, 404, "{other} is not deployed");
    }
    Ok(())
}
