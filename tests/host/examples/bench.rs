//! The delivery benchmarks: prints a table (Markdown) of
//! - one signed 100-event HubSpot batch through the real gate-handoff `.wasm`, against a fake CRM
//!   that answers every call after 150 ms: wall time, CRM calls, store operations;
//! - the same batch natively (the core with in-memory fakes, the same 150 ms per call);
//! - a single-event duplicate delivery (authenticate, parse, find it settled, answer) over TCP
//!   with `Connection: close` from several clients: p50, p99, requests per second, beside a
//!   minimal component that reads one variable and writes one key-value entry, in the same run;
//! - the components' sizes.
//!
//! Each figure is taken on the test host and, when a Spin CLI is found (`PIPELINE_GUARD_SPIN`,
//! `../shared/bin/spin`, or `spin` on `PATH`), on real Spin too, in the same table; and when
//! `PIPELINE_GUARD_POSTGRES_URL` names a PostgreSQL server, on real Spin with the stores in it
//! (`database_url` set).
//!
//! Run it after building the components (`./scripts/test` does):
//! `cargo run -p pipeline-guard-test-host --example bench`.

mod common;

use common::{root, target_dir};

use std::{
    cell::RefCell,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use base64::Engine;
use hmac::{Hmac, Mac};
use pipeline_guard_core::{
    crm::hubspot::Hubspot,
    function::{FunctionKind, Settings},
    ledger::Retention,
    memory::{MemoryLedger, RecordingCrm},
    mode::Mode,
    pipeline::{self, Job, Limits, Ports},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};
use pipeline_guard_test_host::{
    FakeCrm, Host, Scripted,
    postgres::{self, PostgresServer},
    spin::{SpinUp, spin_cli},
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLIENT_SECRET: &str = "bench-client-secret";
const GENERIC_SECRET: &str = "bench-secret";
const LATENCY: Duration = Duration::from_millis(150);
const EVENTS: usize = 100;
const REQUESTS: usize = 2000;
const CLIENTS: usize = 8;

fn fixture(path: &str) -> Value {
    let path = root().join("fixtures").join(path);
    serde_json::from_slice(&std::fs::read(&path).expect("fixture")).expect("fixture json")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A Webhooks API batch: `EVENTS` deals, from `first_id`, entering the handoff stage.
fn hubspot_batch(first_id: u64) -> Vec<u8> {
    let events: Vec<Value> = (0..EVENTS as u64)
        .map(|i| {
            json!({
                "eventId": first_id + i, "subscriptionId": 77, "portalId": 62515, "appId": 5,
                "occurredAt": now_secs() * 1000, "subscriptionType": "deal.propertyChange",
                "propertyName": "dealstage", "propertyValue": "sales_accepted",
                "objectId": first_id + i, "changeSource": "CRM_UI", "attemptNumber": 0,
            })
        })
        .collect();
    serde_json::to_vec(&events).expect("json")
}

/// What HubSpot's batch APIs answer for every deal id from `first_id`: each deal with two
/// contacts, a timeline of two calls, a meeting, an email and a note, and one company.
fn hubspot_answers(first_id: u64) -> Vec<(&'static str, &'static str, Value)> {
    let template = fixture("hubspot/api/deals-batch-9001.json")["results"][0].clone();
    let deals: Vec<Value> = (0..EVENTS as u64)
        .map(|i| {
            let mut deal = template.clone();
            deal["id"] = (first_id + i).to_string().into();
            deal
        })
        .collect();
    let associations: Vec<Value> = (0..EVENTS as u64)
        .map(|i| {
            json!({"from": {"id": (first_id + i).to_string()}, "to": [
                {"toObjectId": 501, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]},
                {"toObjectId": 502, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3}]},
            ]})
        })
        .collect();
    let mut answers = vec![
        (
            "POST",
            "/crm/v3/objects/deals/batch/read",
            json!({"status": "COMPLETE", "results": deals}),
        ),
        (
            "POST",
            "/crm/v4/associations/deals/contacts/batch/read",
            json!({"status": "COMPLETE", "results": associations}),
        ),
        (
            "POST",
            "/crm/v3/objects/contacts/batch/read",
            fixture("hubspot/api/contacts-batch.json"),
        ),
        // The BDR who moved the deals (the history's user), as the owner tasks are assigned to.
        (
            "GET",
            "/crm/v3/owners/",
            fixture("hubspot/api/owner-user-31337.json"),
        ),
    ];
    answers.extend(timeline_answers(first_id));
    answers
}

/// Each deal's timeline (calls, meetings, emails, notes) and company, as associations v4 and
/// the objects' batch reads answer them.
fn timeline_answers(first_id: u64) -> Vec<(&'static str, &'static str, Value)> {
    let kinds: [(&str, &str, u64, Value); 5] = [
        (
            "/crm/v4/associations/deals/calls/batch/read",
            "/crm/v3/objects/calls/batch/read",
            2,
            json!({"hs_timestamp": "2026-11-18T15:00:00.000Z", "hs_call_status": "COMPLETED", "hs_call_body": "<p>Pain: close takes nine days.</p>"}),
        ),
        (
            "/crm/v4/associations/deals/meetings/batch/read",
            "/crm/v3/objects/meetings/batch/read",
            1,
            json!({"hs_timestamp": "2026-11-19T14:00:00.000Z", "hs_meeting_start_time": "2026-11-19T14:00:00.000Z", "hs_meeting_outcome": "COMPLETED"}),
        ),
        (
            "/crm/v4/associations/deals/emails/batch/read",
            "/crm/v3/objects/emails/batch/read",
            1,
            json!({"hs_timestamp": "2026-11-20T16:45:00.000Z", "hs_email_direction": "INCOMING_EMAIL"}),
        ),
        (
            "/crm/v4/associations/deals/notes/batch/read",
            "/crm/v3/objects/notes/batch/read",
            1,
            json!({"hs_timestamp": "2026-11-20T17:00:00.000Z", "hs_note_body": "Demo booked with the CFO on 3 December."}),
        ),
        (
            "/crm/v4/associations/deals/companies/batch/read",
            "/crm/v3/objects/companies/batch/read",
            0,
            json!({"numberofemployees": "420", "industry": "COMPUTER_SOFTWARE", "country": "Germany"}),
        ),
    ];
    let mut answers = Vec::new();
    for (n, (associations, batch_read, per_deal, properties)) in kinds.into_iter().enumerate() {
        // Activities are the deal's own; every deal shares one company.
        let ids = |deal: u64| -> Vec<String> {
            if per_deal == 0 {
                vec!["8801".to_owned()]
            } else {
                (0..per_deal)
                    .map(|k| format!("{}{deal}{k}", n + 1))
                    .collect()
            }
        };
        let deals = (0..EVENTS as u64).map(|i| first_id + i);
        let associated: Vec<Value> = deals
            .clone()
            .map(|deal| {
                let to: Vec<Value> = ids(deal)
                    .into_iter()
                    .map(|id| json!({"toObjectId": id, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 5}]}))
                    .collect();
                json!({"from": {"id": deal.to_string()}, "to": to})
            })
            .collect();
        let mut objects: Vec<Value> = deals
            .flat_map(ids)
            .map(|id| json!({"id": id, "properties": properties, "archived": false}))
            .collect();
        objects.dedup();
        answers.push((
            "POST",
            associations,
            json!({"status": "COMPLETE", "results": associated}),
        ));
        answers.push((
            "POST",
            batch_read,
            json!({"status": "COMPLETE", "results": objects}),
        ));
    }
    answers
}

fn sign_v3(url: &str, body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(CLIENT_SECRET.as_bytes()).expect("key");
    for part in [
        b"POST".as_slice(),
        url.as_bytes(),
        body,
        timestamp.as_bytes(),
    ] {
        mac.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

struct Batch {
    wall: Duration,
    crm_calls: usize,
    store_ops: Option<usize>,
    statuses: String,
}

/// One 100-event batch through the real `.wasm` served at `addr`; `store_ops` counts the store
/// operations it made, where the host can tell.
async fn batch_at(
    addr: SocketAddr,
    crm: &FakeCrm,
    first_id: u64,
    store_ops: impl Fn() -> Option<usize>,
) -> anyhow::Result<Batch> {
    for (method, path, answer) in hubspot_answers(first_id) {
        crm.script(method, path, Scripted::json(200, &answer).after(LATENCY));
    }
    crm.clear();
    let url = format!("http://{addr}/gate-handoff/hubspot");
    let body = hubspot_batch(first_id);
    let timestamp = (now_secs() * 1000).to_string();
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("x-hubspot-request-timestamp", timestamp.clone()),
        ("x-hubspot-signature-v3", sign_v3(&url, &body, &timestamp)),
    ];
    let request = raw_request(addr, "POST", "/gate-handoff/hubspot", &headers, &body);
    let before = store_ops();
    let started = Instant::now();
    let (status, answer) = exchange(addr, &request).await?;
    let wall = started.elapsed();
    let answer: Value = serde_json::from_slice(&answer)?;
    Ok(Batch {
        wall,
        crm_calls: crm.requests().len(),
        store_ops: store_ops()
            .zip(before)
            .map(|(after, before)| after - before),
        statuses: summary(&answer, status),
    })
}

/// Send `request` on its own connection; the answer's status and body.
async fn exchange(addr: SocketAddr, request: &[u8]) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let Some(at) = text.find("\r\n\r\n") else {
        return Ok((status, Vec::new()));
    };
    let chunked = text[..at]
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = &answer[at + 4..];
    Ok((
        status,
        if chunked {
            dechunk(body)
        } else {
            body.to_vec()
        },
    ))
}

/// A chunked HTTP/1.1 body's content.
fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut content = Vec::new();
    while let Some(line_end) = body.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 || body.len() < line_end + 2 + size {
            break;
        }
        content.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[(line_end + 4 + size).min(body.len())..];
    }
    content
}

fn summary(answer: &Value, status: u16) -> String {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for result in answer["results"].as_array().into_iter().flatten() {
        *counts
            .entry(result["status"].as_str().unwrap_or("?").to_owned())
            .or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!("{status}: {}", counts.join(", "))
}

/// The core's CRM client with `LATENCY` per call, answering like the fake CRM.
struct SlowCrm {
    answers: RecordingCrm,
    latency: Duration,
    calls: RefCell<usize>,
    /// Each call with its answer, checked against the contract once the batch is timed.
    answered: RefCell<Vec<(CrmCall, Value)>>,
}

impl CrmClient for SlowCrm {
    async fn send(
        &self,
        call: &CrmCall,
        timeout: Duration,
    ) -> Result<Value, pipeline_guard_core::Error> {
        *self.calls.borrow_mut() += 1;
        tokio::time::sleep(self.latency).await;
        let answer = self.answers.send(call, timeout).await?;
        self.answered
            .borrow_mut()
            .push((call.clone(), answer.clone()));
        Ok(answer)
    }
}

/// Panics when `call`, or the canned `answer` to it, is outside HubSpot's API description, as
/// the fake CRM does for the `.wasm` runs.
fn within_contract(call: &CrmCall, answer: &Value) {
    let contracts = pipeline_guard_contract::contracts().unwrap_or_else(|e| panic!("{e}"));
    let checked = pipeline_guard_contract::Call {
        method: &call.method,
        path_and_query: &call.path,
        body: (!call.body.is_null()).then_some(&call.body),
        answer: Some(answer),
    };
    if let Err(violation) = contracts.check(&checked) {
        panic!("the bench's native fake answered outside the contract: {violation}");
    }
}

struct TokioClock(Instant);

impl Clock for TokioClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// The same batch natively: parsed and run through the core with in-memory fakes.
async fn batch_native(latency: Duration) -> anyhow::Result<Batch> {
    let answers = RecordingCrm::default();
    for (method, path, answer) in hubspot_answers(9_000_000) {
        answers.answer(method, path, answer);
    }
    let crm = SlowCrm {
        answers,
        latency,
        calls: RefCell::new(0),
        answered: RefCell::default(),
    };
    let ledger = MemoryLedger::default();
    let settings = Settings::new(Playbook::default_playbook(), Mode::Enforce);
    let started = Instant::now();
    let delivery = pipeline_guard_core::event::Delivery::webhook(
        pipeline_guard_core::crm::hubspot::parse(&hubspot_batch(9_000_000))?,
    );
    let clock = TokioClock(Instant::now());
    let job = Job {
        function: FunctionKind::GateHandoff,
        settings: &settings,
        now: time::OffsetDateTime::now_utc(),
        claimant: "bench".into(),
        limits: Limits::within(Duration::from_secs(5)),
        retention: Retention::default(),
    };
    let ports = Ports {
        ledger: &ledger,
        client: &crm,
        clock: &clock,
        handoffs: &pipeline_guard_core::handoffs::NoHandoffs,
        review: &pipeline_guard_core::review::NoReview,
        text_hashes: &pipeline_guard_core::templates::NoTextHashes,
        people: &pipeline_guard_core::people::NoPeople,
    };
    let outcome = pipeline::run(&Hubspot, &job, delivery, ports).await?;
    let answer = serde_json::to_value(&outcome)?;
    let wall = started.elapsed();
    for (call, answer) in crm.answered.borrow().iter() {
        within_contract(call, answer);
    }
    Ok(Batch {
        wall,
        crm_calls: *crm.calls.borrow(),
        store_ops: None,
        statuses: summary(&answer, if outcome.complete { 200 } else { 503 }),
    })
}

/// Latencies of `REQUESTS` requests from `CLIENTS` clients, each on its own connection with
/// `Connection: close`.
async fn load(addr: SocketAddr, request: Vec<u8>) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let request = request.clone();
        clients.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(REQUESTS / CLIENTS);
            for _ in 0..REQUESTS / CLIENTS {
                let sent = Instant::now();
                let mut stream = tokio::net::TcpStream::connect(addr).await?;
                stream.write_all(&request).await?;
                let mut answer = Vec::new();
                stream.read_to_end(&mut answer).await?;
                anyhow::ensure!(
                    answer.starts_with(b"HTTP/1.1 200"),
                    "{}",
                    String::from_utf8_lossy(&answer)
                );
                latencies.push(sent.elapsed());
            }
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for client in clients {
        all.extend(client.await??);
    }
    all.sort();
    Ok((all, started.elapsed()))
}

/// An HTTP/1.1 request to `addr` that closes its connection.
fn raw_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn generic_signed(path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = now_secs();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(GENERIC_SECRET.as_bytes()).expect("key");
    mac.update(format!("{ts}\nPOST\n{path}\n").as_bytes());
    mac.update(body);
    vec![
        ("content-type", "application/json".into()),
        ("x-pipeline-guard-timestamp", ts.to_string()),
        (
            "x-pipeline-guard-signature",
            format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
        ),
    ]
}

struct Load {
    p50: Duration,
    p99: Duration,
    per_second: f64,
}

fn stats((latencies, wall): (Vec<Duration>, Duration)) -> Load {
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    Load {
        p50: at(0.5),
        p99: at(0.99),
        per_second: latencies.len() as f64 / wall.as_secs_f64(),
    }
}

/// Duplicate deliveries of one generic event to score-lead at `addr`.
async fn duplicate_load(addr: SocketAddr) -> anyhow::Result<Load> {
    let body = serde_json::to_vec(&fixture("generic/lead-created-fully-evidenced.json"))?;
    let request = raw_request(
        addr,
        "POST",
        "/score-lead/generic",
        &generic_signed("/score-lead/generic", &body),
        &body,
    );
    let (status, _) = exchange(addr, &request).await?; // processed; every one after is a duplicate
    anyhow::ensure!(status == 200, "the first delivery answered {status}");
    load(addr, request.clone()).await?; // warm-up
    Ok(stats(load(addr, request).await?))
}

/// The minimal component at `addr`.
async fn minimal_load(addr: SocketAddr) -> anyhow::Result<Load> {
    let request = raw_request(addr, "GET", "/probe/minimal", &[], b"");
    load(addr, request.clone()).await?; // warm-up
    Ok(stats(load(addr, request).await?))
}

/// A manifest serving the probe (its `minimal` route) from `wasm`.
fn minimal_manifest(dir: &Path, wasm: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("spin.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"spin_manifest_version = 2
[application]
name = "minimal"
[[trigger.http]]
route = "/probe/..."
component = "probe"
[component.probe]
source = "{}"
key_value_stores = ["default"]
[component.probe.variables]
greeting = "hello"
"#,
            wasm.display()
        ),
    )?;
    Ok(manifest)
}

/// The app's variables, pointed at `crm`.
fn variables(crm: &FakeCrm) -> Vec<(&'static str, String)> {
    vec![
        ("generic_webhook_secret", GENERIC_SECRET.into()),
        ("generic_api_origin", crm.url()),
        ("generic_api_token", "t".into()),
        ("hubspot_client_secret", CLIENT_SECRET.into()),
        ("hubspot_api_origin", crm.url()),
        ("hubspot_api_token", "t".into()),
        ("mode", "enforce".into()),
    ]
}

/// One host's figures.
struct Figures {
    cold: Batch,
    warm: Batch,
    duplicate: Load,
    minimal: Load,
}

/// Measure on the test host.
async fn on_test_host(crm: &FakeCrm, probe_wasm: &Path) -> anyhow::Result<Figures> {
    let mut builder = Host::builder(root().join("spin.toml")).target_dir(target_dir());
    for (name, value) in variables(crm) {
        builder = builder.variable(name, value);
    }
    let host = builder.build()?;
    let addr = host.serve("127.0.0.1:0".parse()?).await?;
    let ops = || Some(host.store_operations().total());
    let cold = batch_at(addr, crm, 100_000, ops).await?;
    let warm = batch_at(addr, crm, 200_000, ops).await?;
    let duplicate = duplicate_load(addr).await?;
    let dir = tempfile::tempdir()?;
    let minimal = Host::builder(minimal_manifest(dir.path(), probe_wasm)?).build()?;
    let minimal = minimal_load(minimal.serve("127.0.0.1:0".parse()?).await?).await?;
    Ok(Figures {
        cold,
        warm,
        duplicate,
        minimal,
    })
}

/// Measure on real Spin.
async fn on_spin(cli: &Path, crm: &FakeCrm, probe_wasm: &Path) -> anyhow::Result<Figures> {
    // Spin resolves `source` against the manifest's folder: serve the app from a copy of spin.toml
    // next to the target dir's components.
    let dir = tempfile::tempdir()?;
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        std::fs::read_to_string(root().join("spin.toml"))?,
    )?;
    std::os::unix::fs::symlink(target_dir(), dir.path().join("target"))?;
    std::os::unix::fs::symlink(root().join("functions"), dir.path().join("functions"))?;
    let app = SpinUp::start(cli, &manifest, None, &variables(crm)).await?;
    let cold = batch_at(app.addr(), crm, 300_000, || None).await?;
    let warm = batch_at(app.addr(), crm, 400_000, || None).await?;
    let duplicate = duplicate_load(app.addr()).await?;
    drop(app);
    let minimal_dir = tempfile::tempdir()?;
    let minimal = SpinUp::start(
        cli,
        &minimal_manifest(minimal_dir.path(), probe_wasm)?,
        None,
        &[],
    )
    .await?;
    let minimal_figures = minimal_load(minimal.addr()).await?;
    Ok(Figures {
        cold,
        warm,
        duplicate,
        minimal: minimal_figures,
    })
}

/// Measure on real Spin with the stores in PostgreSQL on `server`: the batch (new instance,
/// then again) and the duplicate delivery.
async fn on_spin_postgres(
    cli: &Path,
    crm: &FakeCrm,
    server: &PostgresServer,
) -> anyhow::Result<(Batch, Batch, Load)> {
    let dir = tempfile::tempdir()?;
    let manifest = dir.path().join("spin.toml");
    std::fs::write(
        &manifest,
        std::fs::read_to_string(root().join("spin.toml"))?,
    )?;
    std::os::unix::fs::symlink(target_dir(), dir.path().join("target"))?;
    std::os::unix::fs::symlink(root().join("functions"), dir.path().join("functions"))?;
    let state = tempfile::tempdir()?;
    let database = server.database_for(state.path())?;
    let mut variables = variables(crm);
    variables.push(("database_url", server.database_url(&database)));
    variables.push(("database_host", server.host()));
    let app = SpinUp::start(cli, &manifest, Some(state.path()), &variables).await?;
    let cold = batch_at(app.addr(), crm, 500_000, || None).await?;
    let warm = batch_at(app.addr(), crm, 600_000, || None).await?;
    let duplicate = duplicate_load(app.addr()).await?;
    Ok((cold, warm, duplicate))
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn batch_row(name: &str, b: &Batch) {
    let ops = b
        .store_ops
        .map_or_else(|| "n/a".to_owned(), |n| n.to_string());
    println!(
        "| {name} | {} | {} | {ops} | {} |",
        ms(b.wall),
        b.crm_calls,
        b.statuses
    );
}

fn load_rows(host: &str, figures: &Figures) {
    let (d, m) = (&figures.duplicate, &figures.minimal);
    for (name, l) in [
        ("score-lead, generic webhook already processed", d),
        ("minimal component (one variable, one key-value write)", m),
    ] {
        println!(
            "| {host} | {name} | {} | {} | {:.0} |",
            ms(l.p50),
            ms(l.p99),
            l.per_second
        );
    }
    println!(
        "| {host} | ratio (duplicate / minimal) | {:.2}× | {:.2}× | {:.2}× |",
        d.p50.as_secs_f64() / m.p50.as_secs_f64(),
        d.p99.as_secs_f64() / m.p99.as_secs_f64(),
        d.per_second / m.per_second
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    // Every call answers after 150 ms, write-backs included.
    crm.script("*", "/", Scripted::json(200, &json!({})).after(LATENCY));
    let probe_wasm = pipeline_guard_test_host::probe::build()?
        .join("wasm32-wasip2/release/test_host_probe.wasm");
    let host = on_test_host(&crm, &probe_wasm).await?;
    let spin = match spin_cli() {
        Some(cli) => Some(on_spin(&cli, &crm, &probe_wasm).await?),
        None => {
            eprintln!(
                "Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, PATH): test host only"
            );
            None
        }
    };
    let on_postgres = match (spin_cli(), postgres::server()) {
        (Some(cli), Some(server)) => Some(on_spin_postgres(&cli, &crm, &server).await?),
        _ => {
            eprintln!("Spin or PIPELINE_GUARD_POSTGRES_URL missing: no PostgreSQL figures");
            None
        }
    };
    let native = batch_native(LATENCY).await?;
    let native_cpu = batch_native(Duration::ZERO).await?;

    println!(
        "| 100-event HubSpot batch, 150 ms per CRM call | wall | CRM calls | store ops | answer |"
    );
    println!("| --- | --- | --- | --- | --- |");
    batch_row("test host, first batch (new instance)", &host.cold);
    batch_row("test host, next batch", &host.warm);
    if let Some(spin) = &spin {
        batch_row("Spin 4.1, first batch (new instance)", &spin.cold);
        batch_row("Spin 4.1, next batch", &spin.warm);
    }
    if let Some((cold, warm, _)) = &on_postgres {
        batch_row("Spin 4.1 on PostgreSQL, first batch (new instance)", cold);
        batch_row("Spin 4.1 on PostgreSQL, next batch", warm);
    }
    batch_row("native core, in-memory fakes", &native);
    batch_row("native core, CRM answering at once", &native_cpu);
    println!(
        "\n| host | single-event duplicate delivery, {REQUESTS} requests, {CLIENTS} clients, `Connection: close` | p50 | p99 | req/s |"
    );
    println!("| --- | --- | --- | --- | --- |");
    load_rows("test host", &host);
    if let Some(spin) = &spin {
        load_rows("Spin 4.1", spin);
    }
    if let Some((_, _, duplicate)) = &on_postgres {
        println!(
            "| Spin 4.1 on PostgreSQL | score-lead, generic webhook already processed | {} | {} | {:.0} |",
            ms(duplicate.p50),
            ms(duplicate.p99),
            duplicate.per_second
        );
    }
    println!("\n| component | size |");
    println!("| --- | --- |");
    for name in ["score_lead", "gate_handoff", "flag_stale_deals"] {
        let path = target_dir().join(format!("wasm32-wasip2/release/{name}.wasm"));
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!("| {name}.wasm | {} KB |", size / 1000);
    }
    Ok(())
}
