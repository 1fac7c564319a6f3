//! The calls benchmark on real Spin: a generated 60-minute, 9,000-word call posted to
//! `POST /score-lead/generic/calls` (signed, `Connection: close`, a new `call_id` each time) on
//! `spin up` of the app's score-lead, against a fake CRM that takes the note at once. Prints the
//! analysis time the component measures inside itself (`analysed_ms`: reading the transcript,
//! finding the rep, every signal) and the whole request's wall time, p50 and the slowest.
//!
//! Run it after building the components (`./scripts/test` does):
//! `cargo run -p pipeline-guard-test-host --example bench_calls`.

mod common;

use common::{root, target_dir};

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use pipeline_guard_test_host::{
    FakeCrm,
    spin::{SpinUp, app_manifest, exchange, spin_cli},
};
use serde_json::{Value, json};

const SECRET: &str = "bench-secret";
const CALLS: usize = 20;
const WORDS: usize = 9_000;
const MINUTES: u64 = 60;

/// A sales call of about [`WORDS`] words over [`MINUTES`] minutes in plain-text format: the rep
/// and the buyer taking turns every 10 seconds; the rep asks, the buyer answers with figures,
/// consequences and dates as real buyers now and then do.
fn transcript() -> String {
    let rep_lines = [
        "Thanks for making the time today, I would like to understand how your team works and where it hurts the most right now",
        "What happens today when the month closes and who is involved in getting the numbers out to the board",
        "How much time does the team spend on reconciliations each week and what does that cost you",
        "Who else would need to be part of a decision like this, and how does budget approval work for you",
    ];
    let buyer_lines = [
        "Our close takes nine working days and it delays the board pack every single month which the CFO hates",
        "We have two FTEs doing manual matching in Excel and we had a restatement last year that cost us about 180k",
        "Priya Shah our CFO signs off on anything like this and she wants a proposal by the end of Q1",
        "Honestly it mostly works but the reporting is slow and people copy numbers between spreadsheets by hand",
    ];
    let turns = (MINUTES * 6) as usize;
    let per_turn = WORDS / turns;
    let mut text = String::new();
    for turn in 0..turns {
        let seconds = turn as u64 * 10;
        let (name, lines) = if turn % 2 == 0 {
            ("Sam Rivera", &rep_lines)
        } else {
            ("Dana Ruiz", &buyer_lines)
        };
        let line = lines[(turn / 2) % lines.len()];
        let mut words: Vec<&str> = line.split_whitespace().collect();
        while words.len() < per_turn {
            words.extend(line.split_whitespace());
        }
        words.truncate(per_turn);
        let ending = if turn % 2 == 0 && turn % 8 == 0 {
            "?"
        } else {
            "."
        };
        text.push_str(&format!(
            "[{:02}:{:02}] {name}: {}{ending}\n",
            seconds / 60,
            seconds % 60,
            words.join(" ")
        ));
    }
    text
}

fn signed(path: &str, body: Vec<u8>) -> anyhow::Result<http::Request<bytes::Bytes>> {
    let ts = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes())?;
    mac.update(format!("{ts}\nPOST\n{path}\n").as_bytes());
    mac.update(&body);
    Ok(
        http::Request::post(format!("http://pipeline-guard.bench{path}"))
            .header("content-type", "application/json")
            .header("x-pipeline-guard-timestamp", ts.to_string())
            .header(
                "x-pipeline-guard-signature",
                format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
            )
            .body(bytes::Bytes::from(body))?,
    )
}

fn p50_max(mut values: Vec<f64>) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    (values[values.len() / 2], values[values.len() - 1])
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(cli) = spin_cli() else {
        println!(
            "Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, PATH): nothing measured"
        );
        return Ok(());
    };
    let crm = FakeCrm::start().await?;
    let dir = tempfile::tempdir()?;
    let manifest = app_manifest(dir.path(), &root(), &target_dir())?;
    let variables = [
        ("generic_webhook_secret", SECRET.to_owned()),
        ("generic_api_origin", crm.url()),
        ("generic_api_token", "t".to_owned()),
    ];
    let spin = SpinUp::start_only(&cli, &manifest, None, &variables, &["score-lead"]).await?;
    let transcript = transcript();
    let words = transcript.split_whitespace().count();
    let path = "/score-lead/generic/calls";
    let (mut analysed, mut walls) = (Vec::new(), Vec::new());
    for i in 0..=CALLS {
        let body = serde_json::to_vec(&json!({
            "call_id": format!("bench-{i}"),
            "record": {"kind": "deal", "id": "D-1"},
            "started_at": "2026-12-07T15:00:00Z",
            "rep": {"id": "u-1", "name": "Sam Rivera"},
            "format": "text",
            "transcript": transcript,
        }))?;
        let started = Instant::now();
        let answer = exchange(spin.addr(), signed(path, body)?).await?;
        let wall = started.elapsed();
        let status = answer.status();
        let answer: Value = serde_json::from_slice(answer.body())?;
        anyhow::ensure!(status == 200, "{status}: {answer}");
        // The first call warms the instance up (compilation is done by `spin up`).
        if i > 0 {
            analysed.push(answer["analysed_ms"].as_f64().unwrap_or(f64::NAN));
            walls.push(wall.as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (a50, amax) = p50_max(analysed);
    let (w50, wmax) = p50_max(walls);
    println!(
        "\n| Spin 4.1, `POST /score-lead/generic/calls`, {CALLS} calls of {words} words over {MINUTES} min (text), `Connection: close` | p50 | slowest |"
    );
    println!("| --- | ---: | ---: |");
    println!("| analysis inside the component (`analysed_ms`) | {a50:.1} ms | {amax:.1} ms |");
    println!(
        "| whole request (authenticate, analyse, claim, note to the CRM, keep the metrics) | {w50:.1} ms | {wmax:.1} ms |"
    );
    Ok(())
}
