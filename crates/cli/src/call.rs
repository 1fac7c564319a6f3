//! `pipeline-guard call`: one sales call's transcript read and its signals shown.
//!
//! ```text
//! pipeline-guard call call.vtt --format webvtt --rep "Sam Rivera" [--playbook P] [--started T] [--json]
//! ```
//!
//! The rep is a speaker's name or email; when no speaker matches, nothing is scored, the
//! speakers found are listed and the command exits 1, as it does for a transcript it cannot read
//! (naming the line or JSON path). `--json` prints the signals' keys exactly as the core
//! computes them.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use pipeline_guard_core::{
    Error,
    conversation::{self, Format, Signals, rep::RepRef},
    playbook::Playbook,
};
use time::OffsetDateTime;

/// What `call` was asked to do.
#[derive(clap::Args)]
pub struct CallArgs {
    /// The transcript.
    file: PathBuf,
    /// Its format: webvtt, gong or text.
    #[arg(long)]
    format: String,
    /// The rep: a speaker's name or email.
    #[arg(long)]
    rep: String,
    /// The playbook (TOML); the shipped default when not given.
    #[arg(long)]
    playbook: Option<PathBuf>,
    /// When the call started (RFC 3339); dates said in it are judged from that day. Now when
    /// not given.
    #[arg(long, value_parser = crate::parse_time)]
    started: Option<OffsetDateTime>,
    /// Print the signals as JSON.
    #[arg(long)]
    json: bool,
}

/// Run `call`.
pub fn run(args: CallArgs) -> anyhow::Result<ExitCode> {
    let format: Format = args.format.parse()?;
    let playbook = match &args.playbook {
        None => Playbook::default_playbook(),
        Some(path) => {
            let source = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Playbook::from_toml(&source).with_context(|| format!("{}", path.display()))?
        }
    };
    let source = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let started = args.started.unwrap_or_else(OffsetDateTime::now_utc);
    let rep = RepRef::named(&args.rep);
    let signals = match conversation::analyse(format, &source, &rep, &playbook, started) {
        Ok(signals) => signals,
        Err(e @ Error::RepNotInCall { .. }) => {
            eprintln!("{}: {e}", args.file.display());
            eprintln!("Nothing scored: pass one of them as --rep.");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => return Err(anyhow::Error::new(e).context(args.file.display().to_string())),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&signals)?);
    } else {
        print!("{}", human(&signals));
    }
    Ok(ExitCode::SUCCESS)
}

/// The signals as a coach reads them.
fn human(signals: &Signals) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let length = signals.duration_s.map_or("no times".to_owned(), clock);
    line(format!(
        "Call of {length} with {}; the rep is {}.",
        signals.speakers.join(", "),
        signals.rep
    ));
    line(format!("Talk share: {}", signals.rep_talk_share.why));
    line(format!(
        "Longest monologue: {}",
        signals.longest_rep_monologue_s.why
    ));
    line(format!("Questions: {}", signals.rep_questions.why));
    line(format!(
        "Dimensions asked: {}",
        signals.dimensions_asked.why
    ));
    for asked in &signals.dimensions_asked.asked {
        line(format!(
            "  {} {}: {:?}",
            at(asked.at_s),
            asked.dimension,
            asked.question
        ));
    }
    if signals.evidence.is_empty() {
        line("Evidence: the buyer said nothing that passes a dimension's checks.".to_owned());
    } else {
        line("Evidence from the buyer:".to_owned());
    }
    for evidence in &signals.evidence {
        line(format!(
            "  {} {}: {:?} ({})",
            at(evidence.at_s),
            evidence.dimension,
            evidence.quote,
            evidence.why
        ));
    }
    for mention in &signals.competitors {
        let minute = mention
            .minute
            .map_or(String::new(), |m| format!(" in minute {m}"));
        line(format!(
            "Competitor {}{minute}, named by {}: {:?}",
            mention.competitor, mention.speaker, mention.quote
        ));
    }
    line(format!("Next step: {}", signals.next_step.why));
    if signals.outlier.marked {
        line(format!(
            "Outlier call: {}.",
            signals.outlier.reasons.join("; ")
        ));
    } else {
        line("Not an outlier.".to_owned());
    }
    out
}

fn at(seconds: Option<f64>) -> String {
    seconds.map_or("[--:--]".to_owned(), |s| format!("[{}]", clock(s)))
}

fn clock(seconds: f64) -> String {
    let s = seconds as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}
