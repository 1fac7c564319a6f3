//! The dialect's output run on a real PostgreSQL server through `psql`, when
//! `PIPELINE_GUARD_POSTGRES_URL` names one (`.ci/run` starts one and sets
//! `PIPELINE_GUARD_POSTGRES=required`, which makes its absence a failure).

use std::{
    io::Write,
    process::{Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
};

use crate::{
    conversation, handoffs, ledger, people, portfolio,
    ports::{Dialect, SqlValue},
    rep_page, review, sweep, templates,
};

/// The server's URL, or `None` after saying why the test does not run.
fn server() -> Option<String> {
    match std::env::var("PIPELINE_GUARD_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let required = std::env::var("PIPELINE_GUARD_POSTGRES").is_ok_and(|v| v == "required");
            assert!(
                !required,
                "PIPELINE_GUARD_POSTGRES=required, but PIPELINE_GUARD_POSTGRES_URL is not set"
            );
            eprintln!("skipped: PIPELINE_GUARD_POSTGRES_URL is not set (no PostgreSQL server)");
            None
        }
    }
}

/// A fresh schema of its own for one test.
fn fresh_schema(url: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "dialect_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    psql(
        url,
        &format!("DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name};"),
    )
    .unwrap();
    name
}

/// Run `script` with `psql`, stopping at the first error; its output, unaligned.
fn psql(url: &str, script: &str) -> Result<String, String> {
    let mut child = Command::new("psql")
        .args([url, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("psql: {e}"))?;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .map_err(|e| e.to_string())?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Every store's schema, as the stores create them (each object once).
fn every_schema() -> Vec<&'static str> {
    [
        ledger::sql::SCHEMA,
        handoffs::sql::SCHEMA,
        handoffs::rollup::SCHEMA,
        review::sql::SCHEMA,
        templates::sql::SCHEMA,
        portfolio::SCHEMA,
        rep_page::kept::SCHEMA,
        people::sql::SCHEMA,
    ]
    .concat()
    .into_iter()
    .chain([
        handoffs::reminder::SCHEMA,
        conversation::history::SCHEMA,
        sweep::lease::SCHEMA,
        sweep::untold::SCHEMA,
        rep_page::sharing::SCHEMA,
    ])
    .collect()
}

fn in_schema(schema: &str, sql: &str) -> String {
    format!("SET search_path TO {schema};\n{sql};\n")
}

#[test]
fn every_schema_is_created_by_nodes_racing_and_again_without_change() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let block = Dialect::Postgres.schema(&every_schema()).remove(0);
    // Four nodes creating the tables at once: the advisory lock lets each in turn.
    let racers: Vec<_> = (0..4)
        .map(|_| {
            let (url, script) = (url.clone(), in_schema(&schema, &block));
            std::thread::spawn(move || psql(&url, &script))
        })
        .collect();
    for racer in racers {
        racer.join().unwrap().unwrap();
    }
    psql(&url, &in_schema(&schema, &block)).unwrap();
    let names: Vec<SqlValue> = every_schema()
        .iter()
        .filter_map(|s| crate::statement::created_name(s))
        .map(SqlValue::from)
        .collect();
    let literals: Vec<String> = names
        .iter()
        .map(|n| format!("'{}'", n.as_text().unwrap()))
        .collect();
    let existing = Dialect::Postgres.existing(names.len());
    let mut query = existing.clone();
    for literal in &literals {
        query = query.replacen('?', literal, 1);
    }
    let found = psql(&url, &in_schema(&schema, &query)).unwrap();
    assert_eq!(found.trim(), names.len().to_string());
}

#[test]
fn rollups_count_in_the_statement_that_writes_and_a_verdict_changed_back_leaves_them() {
    let Some(url) = server() else { return };
    let schema = fresh_schema(&url);
    let block = Dialect::Postgres.schema(&every_schema()).remove(0);
    psql(&url, &in_schema(&schema, &block)).unwrap();
    let run = |sql: &str| {
        let sql = Dialect::Postgres.statement(sql, &[]).unwrap();
        psql(&url, &in_schema(&schema, &sql)).unwrap()
    };
    let counts = || {
        [
            "pg_roll_bdrs",
            "pg_roll_reasons",
            "pg_roll_thresholds",
            "pg_roll_waits",
            "pg_roll_gaps",
            "pg_roll_orphans",
        ]
        .iter()
        .map(|t| run(&format!("SELECT '{t}', * FROM {t} ORDER BY 1, 2, 3, 4")))
        .collect::<Vec<_>>()
    };
    run(
        "INSERT INTO pg_handoffs (key, crm, deal_id, bdr, at, status, rule, threshold, score, \
         to_stage, dimensions) VALUES ('h', 'generic', 'D', 'b', 1795000000, 'validated', 'r', \
         60, 70, 's', '[{\"key\": \"pain\", \"status\": \"red\"}, {\"key\": \"impact\", \"status\": \"green\"}]')",
    );
    let before = counts();
    assert!(
        before[0].contains("pg_roll_bdrs|generic|2967|b|1|0|0|1|0|0|0"),
        "{before:?}"
    );
    assert!(
        before[4].contains("pg_roll_gaps|generic|2967|b|pain|1"),
        "{before:?}"
    );
    run("UPDATE pg_handoffs SET verdict = 'rejected', reason = 'bad fit', verdict_at = 1795007200");
    let rejected = counts();
    assert!(rejected[0].contains("|1|0|0|1|0|1|0"), "{rejected:?}");
    assert!(
        rejected[1].contains("pg_roll_reasons|generic|2967|bad fit|1"),
        "{rejected:?}"
    );
    run("UPDATE pg_handoffs SET verdict = NULL, reason = NULL, verdict_at = NULL");
    let after = counts();
    assert_eq!(after[0], before[0]);
    assert_eq!(after[2], before[2]);
    assert_eq!(after[4], before[4]);
    // A rejection's reason and wait counted out again: rows counting nothing.
    assert!(after[1].trim().ends_with("|0"), "{after:?}");
    assert!(after[3].trim().ends_with("|0"), "{after:?}");
    // The same handoff kept again inserts nothing and counts nothing.
    run(
        "INSERT INTO pg_handoffs (key, crm, deal_id, bdr, at, status, rule, threshold, score, \
         to_stage, dimensions) VALUES ('h', 'generic', 'D', 'b', 1795000000, 'validated', 'r', \
         60, 70, 's', '[]') ON CONFLICT DO NOTHING",
    );
    assert_eq!(counts()[0], before[0]);
}
