//! The audit's bench: 100,000 generated deals (`PIPELINE_GUARD_BENCH_DEALS` for another count)
//! written in every export format, each audited by the real command (JSON and HTML written), its
//! wall time, CPU time (user and system, every core) and peak memory (the child's maximum
//! resident set) printed as the table in docs/benchmarks.md, with the machine's load: on shared
//! cores the wall time says as much about the neighbours as about the audit.
//!
//! ```sh
//! cargo bench --profile cli -p pipeline-guard-cli --bench audit
//! ```

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

const NOW: &str = "2026-12-07T12:00:00Z";

/// What one run took.
struct Took {
    wall: Duration,
    cpu: Duration,
    /// Peak memory, KiB.
    peak: i64,
}

/// Run `pipeline-guard args`; what it took.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its peak memory"
)]
fn run(args: &[&str]) -> Took {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_pipeline-guard"))
        .current_dir(root)
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run pipeline-guard");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, reaped here
    // instead of by `Child::wait`.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = started.elapsed();
    assert_eq!(reaped, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "pipeline-guard {args:?} failed"
    );
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Took {
        wall: elapsed,
        cpu: time(usage.ru_utime) + time(usage.ru_stime),
        // Linux reports ru_maxrss in KiB.
        peak: usage.ru_maxrss,
    }
}

fn main() {
    let deals: usize = std::env::var("PIPELINE_GUARD_BENCH_DEALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("pg-audit-bench-{}", std::process::id()));
    let out = dir.display().to_string();
    let count = deals.to_string();
    let generated = run(&[
        "sample-data",
        "--out",
        &out,
        "--deals",
        &count,
        "--seed",
        "7",
        "--now",
        NOW,
    ]);
    println!(
        "{deals} deals generated in {:.1} s\n",
        generated.wall.as_secs_f64()
    );
    println!("| export | size | wall | CPU (all cores) | peak memory | deals/s (wall) |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (crm, file) in [
        ("hubspot", "hubspot-deals.csv"),
        ("pipedrive", "pipedrive-deals.csv"),
        ("salesforce", "salesforce-opportunities.csv"),
        ("generic", "deals.jsonl"),
    ] {
        let export = dir.join(file);
        let size = std::fs::metadata(&export).map_or(0, |m| m.len());
        let json = dir.join(format!("{crm}.json")).display().to_string();
        let html = dir.join(format!("{crm}.html")).display().to_string();
        let took = run(&[
            "audit",
            "--playbook",
            "fixtures/playbooks/default.toml",
            "--crm",
            crm,
            "--export",
            &export.display().to_string(),
            "--now",
            NOW,
            "--json",
            &json,
            "--html",
            &html,
        ]);
        println!(
            "| {crm} ({file}) | {:.1} MB | {:.1} s | {:.1} s | {} MiB | {:.0} |",
            size as f64 / 1e6,
            took.wall.as_secs_f64(),
            took.cpu.as_secs_f64(),
            took.peak / 1024,
            deals as f64 / took.wall.as_secs_f64()
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "\n{} cores; load average (1, 5, 15 min) at the end: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
