//! `pipeline-guard`: the CRM admin's command line.
//!
//! ```text
//! pipeline-guard audit --playbook P.toml --crm hubspot|pipedrive|salesforce|generic --export FILE
//!     [--columns OVERRIDES.toml] [--seed N] [--sample 50] [--json OUT.json] [--html OUT.html]
//! pipeline-guard sample-data --out DIR [--deals 2000] [--seed 7]
//! pipeline-guard check my-playbook.toml
//! pipeline-guard check my-playbook.toml --explain deal.json [--now 2026-11-21T12:00:00Z] [--json]
//! pipeline-guard call call.vtt --format webvtt --rep "Sam Rivera" [--playbook P] [--json]
//! ```
//!
//! `check` prints every problem in the playbook at once, each with its path and a fix, exactly as
//! the deployed functions report them, and exits 1 when there is any; a valid playbook's handoff
//! gate rules are printed in words. With `--explain`, it also scores one record (canonical JSON,
//! as in the generic webhook's `record`), prints the scorecard, the question to ask next and the
//! gaps, and which gate rules a handoff of it would pass and fail (who the BDR and the AE are
//! depends on the move, so it is not judged). `--json` prints `{"scorecard", "write_back",
//! "handoff_rules"}`: `write_back` is what score-lead would write, by the playbook's field names.
//!
//! `call` reads one sales call's transcript and shows its signals ([`call`]).
//!
//! `audit` judges every deal of a CRM's export as the functions would and reports hygiene, a
//! backtest on closed deals, the gate replayed and which dimensions predict ([`audit`],
//! docs/audit.md). `sample-data` writes a seeded sample export in each format to try it on.

mod audit;
mod call;

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use pipeline_guard_core::{Error, gate::rules, model::Record, playbook::Playbook, scorecard};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

#[derive(Parser)]
#[command(
    name = "pipeline-guard",
    version,
    about = "Check a qualification playbook, explain scores, audit it on a CRM export, read sales calls"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a playbook; with --explain, score one record against it.
    Check {
        /// The playbook (TOML).
        playbook: PathBuf,
        /// A record (canonical JSON) to score and explain.
        #[arg(long)]
        explain: Option<PathBuf>,
        /// Score as of this time (RFC 3339); defaults to now.
        #[arg(long, value_parser = parse_time)]
        now: Option<OffsetDateTime>,
        /// Print the scorecard as JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Read a sales call's transcript and show its signals against the playbook.
    Call(call::CallArgs),
    /// Audit a playbook on a CRM's export: hygiene, backtest, the gate replayed, which
    /// dimensions predict.
    Audit(audit::AuditArgs),
    /// Write a seeded sample export in each CRM's format (and JSON Lines) to try an audit on.
    SampleData(audit::generate::SampleArgs),
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| format!("not an RFC 3339 time ({e})"))
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Check {
            playbook,
            explain,
            now,
            json,
        } => check(playbook, explain, now, json),
        Command::Call(args) => call::run(args),
        Command::Audit(args) => audit::run(&args).map(|_| ExitCode::SUCCESS),
        Command::SampleData(args) => {
            for path in audit::generate::run(&args)? {
                println!("{}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(
    path: PathBuf,
    explain: Option<PathBuf>,
    now: Option<OffsetDateTime>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let source = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let playbook = match Playbook::from_toml(&source) {
        Ok(playbook) => playbook,
        Err(Error::InvalidPlaybook(problems)) => {
            eprintln!("{}: {} problem(s)", path.display(), problems.len());
            for problem in problems {
                eprintln!("  {problem}");
            }
            return Ok(ExitCode::FAILURE);
        }
        Err(other) => return Err(other.into()),
    };
    eprintln!(
        "{}: playbook \"{}\" v{} is valid ({} dimensions, sha256 {})",
        path.display(),
        playbook.name,
        playbook.version,
        playbook.dimensions.len(),
        &playbook.content_hash[..12]
    );
    eprintln!("Handoff gate:");
    for line in rules::describe(&playbook) {
        eprintln!("  {line}");
    }
    if let Some(record_path) = explain {
        let text = std::fs::read_to_string(&record_path)
            .with_context(|| format!("cannot read {}", record_path.display()))?;
        let record: Record = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a canonical record", record_path.display()))?;
        let card = scorecard::score(
            &record,
            &playbook,
            now.unwrap_or_else(OffsetDateTime::now_utc),
        );
        let gate = rules::check(&card, &playbook);
        if json {
            let write_back = card.write_back(&record, &playbook).fields;
            let explained = serde_json::json!({
                "scorecard": card,
                "write_back": write_back,
                "handoff_rules": gate,
            });
            println!("{}", serde_json::to_string_pretty(&explained)?);
        } else {
            println!("{}", card.summary());
            if let Some(question) = card.next_question() {
                println!("Ask next: {question}");
            }
            if let Some(gaps) = card.gaps_line() {
                println!("Gaps: {gaps}");
            }
            println!("{}", card.explain());
            let verdict = if gate.failed.is_empty() {
                "would pass"
            } else {
                "would be blocked"
            };
            println!("A handoff now {verdict}:");
            for rule in &gate.failed {
                println!("  failed: {rule}");
            }
            for rule in &gate.passed {
                println!("  passed: {rule}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
