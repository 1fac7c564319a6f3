//! `pipeline-guard audit` and `sample-data`, run as real processes on the exports under
//! `fixtures/audit/<crm>/` and on generated sample data; every figure checked against one
//! recomputed here from the report's per-deal rows.

mod common;

use std::path::PathBuf;

use common::pipeline_guard;
use serde_json::Value;

const NOW: &str = "2026-12-07T12:00:00Z";

fn scratch_dir(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("pg-audit-{}-{name}", std::process::id()))
}

/// A fresh folder of this test's own.
fn scratch(name: &str) -> PathBuf {
    let dir = scratch_dir(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a scratch folder");
    dir
}

/// The audit of `export` as JSON, and what it printed.
fn audit(crm: &str, export: &str, name: &str, more: &[&str]) -> (Value, String) {
    let out = scratch(name).join("audit.json");
    let out_arg = out.display().to_string();
    let mut args = vec![
        "audit",
        "--playbook",
        "fixtures/playbooks/default.toml",
        "--crm",
        crm,
        "--export",
        export,
        "--now",
        NOW,
        "--json",
        &out_arg,
    ];
    args.extend_from_slice(more);
    let (ok, stdout, stderr) = pipeline_guard(&args);
    assert!(ok, "audit of {export} failed: {stderr}");
    let json = std::fs::read_to_string(&out).expect("the JSON report");
    let _ = std::fs::remove_dir_all(scratch_dir(name));
    (serde_json::from_str(&json).expect("JSON"), stdout)
}

#[test]
fn a_broken_row_is_counted_and_listed_with_its_line_never_dropped_silently() {
    let (report, stdout) = audit(
        "hubspot",
        "fixtures/audit/hubspot/broken-row.csv",
        "broken",
        &[],
    );
    let source = &report["source"];
    assert_eq!(source["rows"], 4);
    assert_eq!(source["broken"], 1);
    assert_eq!(source["first_broken"][0]["line"], 4);
    assert!(
        source["first_broken"][0]["problem"]
            .as_str()
            .unwrap()
            .contains("9 fields where the header has 8")
    );
    assert_eq!(report["deals"].as_array().unwrap().len(), 3);
    assert!(stdout.contains("line 4: 9 fields"), "{stdout}");
    let outcomes: Vec<&str> = report["deals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["won", "lost", "lost"],
        "Closed Won / Closed Lost stages"
    );
}

#[test]
fn a_delimiter_other_than_a_comma_is_named() {
    let (report, _) = audit(
        "pipedrive",
        "fixtures/audit/pipedrive/semicolons.csv",
        "semicolons",
        &[],
    );
    let notes = report["source"]["notes"].to_string();
    assert!(notes.contains("semicolon-separated"), "{notes}");
    let deals = report["deals"].as_array().unwrap();
    assert_eq!(deals.len(), 3);
    assert_eq!(deals[0]["outcome"], "won");
    assert_eq!(deals[1]["outcome"], "lost");
    assert_eq!(deals[2]["outcome"], "open");
    assert_eq!(
        deals[0]["dimensions"]["pain"], "green",
        "Deal - Pain maps to pain"
    );

    let (ok, _, stderr) = pipeline_guard(&[
        "audit",
        "--playbook",
        "fixtures/playbooks/default.toml",
        "--crm",
        "hubspot",
        "--export",
        "fixtures/audit/hubspot/pipe-separated.csv",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("its delimiter is none of comma, semicolon or tab"),
        "{stderr}"
    );
}

#[test]
fn an_encoding_problem_is_named_with_its_line() {
    let (ok, _, stderr) = pipeline_guard(&[
        "audit",
        "--playbook",
        "fixtures/playbooks/default.toml",
        "--crm",
        "hubspot",
        "--export",
        "fixtures/audit/hubspot/latin1.csv",
    ]);
    assert!(!ok);
    assert!(stderr.contains("is not UTF-8 (line 2"), "{stderr}");
    assert!(stderr.contains("CSV UTF-8"), "{stderr}");
}

#[test]
fn an_export_without_closed_deals_gives_the_hygiene_and_says_the_backtest_needs_them() {
    let (report, stdout) = audit(
        "salesforce",
        "fixtures/audit/salesforce/open-only.csv",
        "open-only",
        &[],
    );
    assert_eq!(
        report["source"]["broken"], 0,
        "the trailer is no broken row"
    );
    assert!(report["source"]["notes"].to_string().contains("trailer"));
    assert_eq!(report["hygiene"]["all"]["deals"], 3);
    assert_eq!(report["backtest"]["won"], 0);
    assert!(report["backtest"]["auc"].is_null());
    assert!(
        report["backtest"]["verdict"]
            .as_str()
            .unwrap()
            .contains("the backtest needs closed won and closed lost deals")
    );
    assert!(stdout.contains("Hygiene:"), "{stdout}");
}

#[test]
fn a_line_of_json_lines_that_is_not_a_record_is_listed() {
    let (report, _) = audit(
        "generic",
        "fixtures/audit/generic/broken-line.jsonl",
        "jsonl",
        &[],
    );
    assert_eq!(report["source"]["broken"], 1);
    assert_eq!(report["source"]["first_broken"][0]["line"], 3);
    assert_eq!(report["deals"].as_array().unwrap().len(), 3);
}

#[test]
fn every_file_audit_warns_that_an_export_has_no_history() {
    let (report, stdout) = audit(
        "generic",
        "fixtures/audit/generic/broken-line.jsonl",
        "history",
        &[],
    );
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("flatters the playbook")
    );
    assert!(stdout.contains("Warning: An export has no history"));
}

/// Sample data written once per test that asks: 1,200 deals, seed 11.
fn sample(name: &str) -> PathBuf {
    let dir = scratch(name);
    let out = dir.display().to_string();
    let (ok, _, stderr) = pipeline_guard(&[
        "sample-data",
        "--out",
        &out,
        "--deals",
        "1200",
        "--seed",
        "11",
        "--now",
        NOW,
    ]);
    assert!(ok, "{stderr}");
    dir
}

#[test]
fn the_generators_known_relationship_is_found_in_every_format() {
    let dir = sample("formats");
    let mut counts = Vec::new();
    for (crm, file) in [
        ("hubspot", "hubspot-deals.csv"),
        ("pipedrive", "pipedrive-deals.csv"),
        ("salesforce", "salesforce-opportunities.csv"),
        ("generic", "deals.jsonl"),
    ] {
        let export = dir.join(file).display().to_string();
        let (report, _) = audit(crm, &export, &format!("formats-{crm}"), &[]);
        let auc = &report["backtest"]["auc"];
        assert!(
            auc["low"].as_f64().unwrap() > 0.5,
            "{crm}: the AUC's interval is above chance: {auc}"
        );
        assert_eq!(report["source"]["broken"], 0, "{crm}");
        assert_eq!(report["deals"].as_array().unwrap().len(), 1200, "{crm}");
        counts.push((
            report["backtest"]["won"].clone(),
            report["backtest"]["lost"].clone(),
        ));
        // Pain written well goes with winning, by construction.
        let pain = report["dimensions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == "pain")
            .unwrap();
        assert_eq!(pain["predicts"], "yes", "{crm}: {pain}");
    }
    assert!(
        counts.windows(2).all(|w| w[0] == w[1]),
        "the same deals in every format: {counts:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn rows(report: &Value) -> &Vec<Value> {
    report["deals"].as_array().unwrap()
}

fn close(a: f64, b: &Value) -> bool {
    (a - b.as_f64().unwrap()).abs() < 1e-9
}

#[test]
fn every_figure_recomputes_from_the_per_deal_rows() {
    let dir = sample("recompute");
    let export = dir.join("hubspot-deals.csv").display().to_string();
    let (report, _) = audit("hubspot", &export, "recompute-run", &["--seed", "5"]);
    let deals = rows(&report);
    let closed: Vec<(&Value, bool)> = deals
        .iter()
        .filter(|d| d["outcome"] != "open")
        .map(|d| (d, d["outcome"] == "won"))
        .collect();
    let won: Vec<f64> = closed
        .iter()
        .filter(|(_, w)| *w)
        .map(|(d, _)| d["score"].as_f64().unwrap())
        .collect();
    let lost: Vec<f64> = closed
        .iter()
        .filter(|(_, w)| !*w)
        .map(|(d, _)| d["score"].as_f64().unwrap())
        .collect();
    assert_eq!(report["backtest"]["won"], won.len());
    assert_eq!(report["backtest"]["lost"], lost.len());

    // The AUC by its definition, pair by pair.
    let mut pairs = 0.0;
    for w in &won {
        for l in &lost {
            pairs += if w > l {
                1.0
            } else if w == l {
                0.5
            } else {
                0.0
            };
        }
    }
    let auc = pairs / (won.len() * lost.len()) as f64;
    let reported = &report["backtest"]["auc"];
    assert!(close(auc, &reported["value"]), "{auc} vs {reported}");
    assert!(reported["low"].as_f64().unwrap() <= auc && auc <= reported["high"].as_f64().unwrap());

    // Win rate by tier.
    for tier in report["backtest"]["by_tier"].as_array().unwrap() {
        let name = tier["tier"].as_str().unwrap();
        let in_tier: Vec<_> = closed.iter().filter(|(d, _)| d["tier"] == name).collect();
        assert_eq!(tier["win_rate"]["of"], in_tier.len(), "{name}");
        assert_eq!(
            tier["win_rate"]["hits"],
            in_tier.iter().filter(|(_, w)| *w).count(),
            "{name}"
        );
    }

    // The gate at the playbook's threshold, and at every threshold from the gate's rows.
    let gate = &report["gate"];
    let blocked_won = closed
        .iter()
        .filter(|(d, w)| *w && d["gate"] == "block")
        .count();
    let passed_lost = closed
        .iter()
        .filter(|(d, w)| !*w && d["gate"] == "pass")
        .count();
    assert_eq!(gate["won_blocked"]["hits"], blocked_won);
    assert_eq!(gate["lost_passed"]["hits"], passed_lost);
    for row in gate["thresholds"].as_array().unwrap() {
        let threshold = row["threshold"].as_u64().unwrap();
        let passes = |d: &Value| {
            d["gate_other_rules"] == "pass" && d["gate_score"].as_u64().unwrap() >= threshold
        };
        let kept = closed.iter().filter(|(d, w)| *w && passes(d)).count();
        let blocked = closed.iter().filter(|(d, w)| !*w && !passes(d)).count();
        assert_eq!(row["won_kept"]["hits"], kept, "at {threshold}");
        assert_eq!(row["lost_blocked"]["hits"], blocked, "at {threshold}");
        if threshold == 60 {
            assert_eq!(
                kept,
                won.len() - blocked_won,
                "the playbook's threshold replays the gate"
            );
        }
    }

    // Each dimension green or not.
    for dimension in report["dimensions"].as_array().unwrap() {
        let key = dimension["key"].as_str().unwrap();
        let green: Vec<_> = closed
            .iter()
            .filter(|(d, _)| d["dimensions"][key] == "green")
            .collect();
        assert_eq!(dimension["green"]["of"], green.len(), "{key}");
        assert_eq!(
            dimension["green"]["hits"],
            green.iter().filter(|(_, w)| *w).count(),
            "{key}"
        );
        assert_eq!(
            dimension["not_green"]["of"],
            closed.len() - green.len(),
            "{key}"
        );
    }

    // Hygiene over every deal and the sample.
    let mean = deals
        .iter()
        .map(|d| d["hygiene_pct"].as_u64().unwrap())
        .sum::<u64>()
        / deals.len() as u64;
    assert_eq!(report["hygiene"]["all"]["hygiene_pct"], mean);
    let sample = report["hygiene"]["sample"].as_array().unwrap();
    assert_eq!(sample.len(), 50);
    let sampled: Vec<&Value> = sample
        .iter()
        .map(|id| {
            deals
                .iter()
                .find(|d| &d["id"] == id)
                .expect("a sampled deal is a deal")
        })
        .collect();
    let sample_mean = sampled
        .iter()
        .map(|d| d["hygiene_pct"].as_u64().unwrap())
        .sum::<u64>()
        / 50;
    assert_eq!(report["hygiene"]["sampled"]["hygiene_pct"], sample_mean);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_seed_draws_the_same_sample_and_another_seed_another() {
    let dir = sample("seeds");
    let export = dir.join("deals.jsonl").display().to_string();
    let (a, _) = audit("generic", &export, "seed-a", &["--seed", "3"]);
    let (b, _) = audit("generic", &export, "seed-b", &["--seed", "3"]);
    let (c, _) = audit("generic", &export, "seed-c", &["--seed", "4"]);
    assert_eq!(a["hygiene"]["sample"], b["hygiene"]["sample"]);
    assert_eq!(a["backtest"]["auc"], b["backtest"]["auc"]);
    assert_ne!(a["hygiene"]["sample"], c["hygiene"]["sample"]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_page_is_one_self_contained_document() {
    let dir = sample("page");
    let export = dir.join("pipedrive-deals.csv").display().to_string();
    let html = dir.join("audit.html").display().to_string();
    audit("pipedrive", &export, "page-run", &["--html", &html]);
    let page = std::fs::read_to_string(&html).expect("the page");
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    assert!(page.contains("name=\"viewport\""));
    for outside in ["<script", " src=", "href=\"http", "url("] {
        assert!(!page.contains(outside), "{outside}");
    }
    assert!(page.contains("<svg"), "charts inline");
    assert!(page.contains("ROC AUC"));
    assert_eq!(
        page.matches("<section").count(),
        page.matches("</section>").count()
    );
    let _ = std::fs::remove_dir_all(dir);
}
