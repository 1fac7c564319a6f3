//! The handoff report benchmark: a year of handoffs from 50 BDRs (100,000 records, their gaps
//! and the AEs' verdicts) in the `default` SQLite database, and `GET /gate-handoff/report`
//! through the real gate-handoff `.wasm`, as JSON and as the HTML page, with the per-BDR rows
//! shown (the most work). Prints a Markdown table: the first report after a warm-up request,
//! then p50 and slowest of several, on the test host and, when a Spin CLI is found, on real Spin
//! (each request on its own connection).
//!
//! Run it after building the components (`./scripts/test` does):
//! `cargo run -p pipeline-guard-test-host --example bench_report`.

mod common;

use common::{Draw, root, target_dir};

use std::{
    path::Path,
    time::{Duration, Instant},
};

use pipeline_guard_core::handoffs::{rollup, sql::SCHEMA};
use pipeline_guard_test_host::{
    DEFAULT_SQLITE_DB_FILENAME, FakeCrm,
    node::{Node, Runtime},
};

const HANDOFFS: usize = 100_000;
const BDRS: usize = 50;
const REQUESTS: usize = 10;
const ADMIN: &str = "bench-admin-token";
const DIMENSIONS: [&str; 5] = ["situation", "pain", "impact", "next_step", "economic_buyer"];

/// Write a year of handoffs into the database file in `dir`: what gate-handoff would have kept.
fn seed(dir: &Path) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut db = rusqlite::Connection::open(dir.join(DEFAULT_SQLITE_DB_FILENAME))?;
    db.pragma_update(None, "journal_mode", "WAL")?;
    // The log's tables and the triggers that keep the report's weekly counts, as gate-handoff
    // creates them: every row below is counted as it is written.
    for statement in SCHEMA.iter().chain(rollup::SCHEMA) {
        db.execute(statement, [])?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let year = 365 * 86_400;
    let mut draw = Draw(0x9E37_79B9_7F4A_7C15);
    // The reasons a playbook offers AEs by default.
    let reasons = pipeline_guard_core::playbook::VerdictFields::default().reasons;
    let tx = db.transaction()?;
    {
        let mut handoff = tx.prepare(
            "INSERT INTO pg_handoffs (key, crm, deal_id, deal_name, bdr, ae, at, status, rule, \
             threshold, score, from_stage, to_stage, dimensions, verdict, reason, verdict_at, verdict_key) \
             VALUES (?, 'hubspot', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'discovery', 'sales_accepted', ?, ?, ?, ?, ?)",
        )?;
        let mut gap = tx.prepare(
            "INSERT INTO pg_handoff_gaps (handoff_key, dimension, status, crm, bdr, at) \
             VALUES (?, ?, 'red', 'hubspot', ?, ?)",
        )?;
        let mut verdict = tx.prepare(
            "INSERT INTO pg_verdicts (key, crm, deal_id, handoff_key, verdict, reason, ae, at) \
             VALUES (?, 'hubspot', ?, ?, ?, ?, 'ae-1', ?)",
        )?;
        for i in 0..HANDOFFS {
            let key = format!("hubspot:bench:{i}");
            let at = now - draw.next(year as u64) as i64;
            let bdr = format!("bdr-{:02}", draw.next(BDRS as u64));
            let gaps: Vec<&str> = DIMENSIONS
                .iter()
                .filter(|_| draw.next(4) == 0)
                .copied()
                .collect();
            let status = match draw.next(10) {
                0 | 1 => "blocked",
                2 => "would_block",
                _ => "validated",
            };
            let threshold = [55, 60, 65][draw.next(3) as usize];
            let (verdict_value, reason, verdict_at) = match (status, draw.next(10)) {
                ("validated", 0..=5) => (
                    Some("accepted"),
                    None,
                    Some(at + 3600 * draw.next(96) as i64),
                ),
                ("validated", 6..=7) => (
                    Some("rejected"),
                    Some(reasons[draw.next(reasons.len() as u64) as usize].as_str()),
                    Some(at + 3600 * draw.next(96) as i64),
                ),
                _ => (None, None, None),
            };
            let verdict_key = verdict_value.map(|_| format!("hubspot:bench:v{i}"));
            handoff.execute(rusqlite::params![
                key,
                format!("{i}"),
                format!("Deal {i}"),
                bdr,
                "ae-1",
                at,
                status,
                if status == "validated" {
                    "all rules passed"
                } else {
                    "Pain is red (required green)"
                },
                threshold,
                40 + draw.next(60) as i64,
                "[]",
                verdict_value,
                reason,
                verdict_at,
                verdict_key,
            ])?;
            for dimension in gaps {
                gap.execute(rusqlite::params![key, dimension, bdr, at])?;
            }
            if let (Some(v), Some(vk), Some(vat)) = (verdict_value, &verdict_key, verdict_at) {
                verdict.execute(rusqlite::params![vk, format!("{i}"), key, v, reason, vat])?;
            }
        }
    }
    tx.commit()?;
    Ok(started.elapsed())
}

/// One report request; its body size.
async fn measure_once(node: &Node, accept: &str) -> anyhow::Result<usize> {
    let request = http::Request::get("http://pipeline-guard.test/gate-handoff/report")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("accept", accept)
        .header("connection", "close")
        .body(bytes::Bytes::new())?;
    let answer = node.request(request).await?;
    anyhow::ensure!(
        answer.status() == 200,
        "{}",
        String::from_utf8_lossy(answer.body())
    );
    Ok(answer.body().len())
}

/// `REQUESTS` report requests (`accept`: JSON or HTML): p50, slowest, body size.
async fn measure(node: &Node, accept: &str) -> anyhow::Result<(Duration, Duration, usize)> {
    let mut times = Vec::with_capacity(REQUESTS);
    let mut size = 0;
    for _ in 0..REQUESTS {
        let started = Instant::now();
        size = measure_once(node, accept).await?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok((times[REQUESTS / 2], times[REQUESTS - 1], size))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let state = tempfile::tempdir()?;
    let seeded = seed(state.path())?;
    let db_size = std::fs::metadata(state.path().join(DEFAULT_SQLITE_DB_FILENAME))?.len();
    let default = std::fs::read_to_string(root().join("fixtures/playbooks/default.toml"))?;
    let playbook = format!("{default}\n[rollout]\nmanager_view_from = 2020-01-06\n");
    println!(
        "{HANDOFFS} handoffs from {BDRS} BDRs over a year ({} MB database, seeded in {:.1} s)\n",
        db_size / 1_000_000,
        seeded.as_secs_f64()
    );
    println!("| host | report | p50 | slowest of {REQUESTS} | body |");
    println!("| --- | --- | --- | --- | --- |");
    for runtime in Runtime::all() {
        // Each host starts from the same year, as written.
        let copy = tempfile::tempdir()?;
        std::fs::copy(
            state.path().join(DEFAULT_SQLITE_DB_FILENAME),
            copy.path().join(DEFAULT_SQLITE_DB_FILENAME),
        )?;
        let node = Node::builder(runtime.clone(), root().join("spin.toml"), target_dir())
            .variable("generic_webhook_secret", "bench")
            .variable("generic_api_origin", crm.url())
            .variable("generic_api_token", "bench")
            .variable("admin_token", ADMIN)
            .variable("playbook", playbook.clone())
            .state_dir(copy.path())
            .start()
            .await?;
        // The first report of a new instance, then the next ones.
        let health = http::Request::get("http://pipeline-guard.test/gate-handoff")
            .header("connection", "close")
            .body(bytes::Bytes::new())?;
        node.request(health).await?;
        let started = Instant::now();
        measure_once(&node, "application/json").await?;
        println!(
            "| {} | JSON, first report | {:.1} ms | | |",
            runtime.name(),
            started.elapsed().as_secs_f64() * 1000.0
        );
        for (name, accept) in [("JSON", "application/json"), ("HTML", "text/html")] {
            let (p50, slowest, size) = measure(&node, accept).await?;
            println!(
                "| {} | {name} | {:.1} ms | {:.1} ms | {} KB |",
                runtime.name(),
                p50.as_secs_f64() * 1000.0,
                slowest.as_secs_f64() * 1000.0,
                size / 1000
            );
        }
    }
    Ok(())
}
