//! The runner every `both_*.rs` scenario file shares: the app started on every host (the test
//! host always, real `spin up` wherever Spin is found: `PIPELINE_GUARD_SPIN`, `../shared/bin/spin`,
//! `spin` on `PATH`), the same scenario code run on each, and what each observed compared. Where the
//! test host copies Spin wrongly a test fails; each scenario prints the hosts it passed on (run with
//! `--nocapture`, as `scripts/test` does).

#![allow(dead_code)] // each scenario file uses a different subset

use std::future::Future;

use anyhow::Context as _;
use pipeline_guard_test_host::{
    FakeCrm,
    node::{HeaderOrder, Node, NodeBuilder, Runtime},
};
use serde_json::Value;

use super::util::*;

/// The app's manifest on `runtime`, its variables pointed at `crm`.
pub fn node(runtime: Runtime, crm: &FakeCrm) -> NodeBuilder {
    Node::builder(runtime, root().join("spin.toml"), target_dir())
        .variable("generic_webhook_secret", SECRET)
        .variable("generic_api_origin", crm.url())
        .variable("generic_api_token", TOKEN)
        .variable("hubspot_client_secret", HUBSPOT_SECRET)
        .variable("hubspot_api_origin", crm.url())
        .variable("hubspot_api_token", "pat-na1-test")
}

/// Runs `scenario` on every host, each with its own fake CRM, and says where it passed.
pub async fn on_every_host<F, Fut>(name: &str, scenario: F) -> anyhow::Result<()>
where
    F: Fn(Runtime, FakeCrm) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    on_hosts(name, Runtime::all(), scenario).await
}

/// [`on_every_host`], and on Spin against PostgreSQL where a server is found
/// ([`Runtime::all_and_postgres`]).
pub async fn on_every_host_and_postgres<F, Fut>(name: &str, scenario: F) -> anyhow::Result<()>
where
    F: Fn(Runtime, FakeCrm) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    on_hosts(name, Runtime::all_and_postgres(), scenario).await
}

async fn on_hosts<F, Fut>(name: &str, runtimes: Vec<Runtime>, scenario: F) -> anyhow::Result<()>
where
    F: Fn(Runtime, FakeCrm) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let mut passed = Vec::new();
    for runtime in runtimes {
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
pub async fn observed_alike<F, Fut, T>(
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
pub fn every_host() -> Vec<(Runtime, HeaderOrder)> {
    Runtime::all()
        .into_iter()
        .map(|runtime| (runtime, HeaderOrder::AsSpin))
        .collect()
}

/// [`every_host`], and Spin against PostgreSQL where a server is found.
pub fn every_host_and_postgres() -> Vec<(Runtime, HeaderOrder)> {
    Runtime::all_and_postgres()
        .into_iter()
        .map(|runtime| (runtime, HeaderOrder::AsSpin))
        .collect()
}

/// The node for the fixture `case`: the fake CRM answering as the case says, and the case's mode
/// (`default_mode` when it names none) and playbook.
pub async fn case_node(
    runtime: Runtime,
    crm: &FakeCrm,
    case: &str,
    default_mode: &str,
) -> anyhow::Result<Node> {
    let given = expected(case);
    answer_as_in_fixture(crm, case);
    let mut builder =
        node(runtime, crm).variable("mode", given["mode"].as_str().unwrap_or(default_mode));
    if let Some(playbook) = given["playbook"].as_str() {
        builder = builder.variable("playbook", String::from_utf8(fixture(playbook))?);
    }
    builder.start().await
}

/// The ledger's row for `event_id` of `function`: CRM, record, state and outcome.
pub fn ledger_row(node: &Node, function: &str, event_id: &str) -> anyhow::Result<Value> {
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
pub fn assert_nothing_settled_on(node: &Node) -> anyhow::Result<()> {
    let catalog = if node.on_postgres() {
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'pg_events'"
    } else {
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'pg_events'"
    };
    let tables = node.sql(catalog)?;
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

/// Fails, naming every host's answer, unless the hosts all answered alike.
pub fn same_everywhere<T: PartialEq + std::fmt::Debug>(
    answers: &[(&str, T)],
) -> anyhow::Result<()> {
    anyhow::ensure!(
        answers.windows(2).all(|pair| pair[0].1 == pair[1].1),
        "the hosts disagree: {answers:?}"
    );
    Ok(())
}
