//! `pipeline-guard audit`: a playbook audited on a CRM's export before it goes live.
//!
//! The export is read twice from memory: first to count the texts pasted onto several deals
//! ([`TextCounts`]), then to judge each deal ([`Judge`]); only each deal's small row is kept.
//! The figures are the core's ([`pipeline_guard_core::audit`]).

pub mod columns;
pub mod export;
pub mod generate;
pub mod jsonl;

use std::{
    io::Write,
    path::{Path, PathBuf},
    sync::{Mutex, mpsc},
};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline_guard_core::{
    Error,
    audit::{
        self, AuditReport, BrokenRow, DealRow, DealTexts, Judge, Settings, Source, TextCounts,
    },
    model::Record,
    playbook::Playbook,
};
use time::OffsetDateTime;

use columns::{ColumnMap, ExportCrm, Overrides, Target};
use export::{Export, Row};

/// How many broken rows the report lists (all are counted).
const LISTED_BROKEN: usize = 20;

/// What `audit` is asked.
#[derive(Debug, Clone, clap::Args)]
pub struct AuditArgs {
    /// The playbook (TOML).
    #[arg(long)]
    pub playbook: PathBuf,
    /// Whose export it is: a CSV for hubspot, pipedrive, salesforce; JSON Lines for generic.
    #[arg(long, value_enum)]
    pub crm: ExportCrm,
    /// The export file.
    #[arg(long)]
    pub export: PathBuf,
    /// An override file mapping the export's columns and stages (TOML; see docs/audit.md).
    #[arg(long)]
    pub columns: Option<PathBuf>,
    /// The seed of the hygiene sample and of the AUC's bootstrap.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many deals the hygiene sample holds.
    #[arg(long, default_value_t = 50)]
    pub sample: usize,
    /// Write the report as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write the report as one HTML page here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Audit as of this time (RFC 3339); defaults to now.
    #[arg(long, value_parser = crate::parse_time)]
    pub now: Option<OffsetDateTime>,
}

/// Run the audit: print its summary, write the JSON and HTML asked for.
pub fn run(args: &AuditArgs) -> anyhow::Result<AuditReport> {
    let playbook = load_playbook(&args.playbook)?;
    let report = audit_file(args, &playbook)?;
    for line in report.summary() {
        println!("{line}");
    }
    if let Some(path) = &args.json {
        let write = || -> anyhow::Result<()> {
            let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
            serde_json::to_writer_pretty(&mut file, &report)?;
            Ok(file.flush()?)
        };
        write().with_context(|| format!("cannot write {}", path.display()))?;
        println!("JSON: {}", path.display());
    }
    if let Some(path) = &args.html {
        std::fs::write(path, audit::html::render(&report))
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("HTML: {}", path.display());
    }
    Ok(report)
}

/// The playbook at `path`, every problem named when it is not valid.
pub fn load_playbook(path: &Path) -> anyhow::Result<Playbook> {
    let source =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    match Playbook::from_toml(&source) {
        Ok(playbook) => Ok(playbook),
        Err(Error::InvalidPlaybook(problems)) => bail!(
            "{} is not a valid playbook (run `pipeline-guard check` on it):\n  {}",
            path.display(),
            problems.join("\n  ")
        ),
        Err(other) => Err(other.into()),
    }
}

/// The audit of `args.export` under `playbook`.
pub fn audit_file(args: &AuditArgs, playbook: &Playbook) -> anyhow::Result<AuditReport> {
    let file = args.export.display().to_string();
    let bytes = std::fs::read(&args.export).with_context(|| format!("cannot read {file}"))?;
    let mut source = Source {
        crm: args.crm.name().to_owned(),
        file: file.clone(),
        ..Source::default()
    };
    let now = args.now.unwrap_or_else(OffsetDateTime::now_utc);
    let judge = Judge::new(playbook, now);
    let mut counts = TextCounts::default();
    let deals = if args.crm == ExportCrm::Generic {
        let text = String::from_utf8(bytes)
            .with_context(|| format!("{file} is not UTF-8: JSON Lines must be"))?;
        let texts = count_texts(jsonl::rows(&text), &mut counts, playbook);
        judge_rows(jsonl::rows(&text), texts, &judge, &counts, &mut source)
    } else {
        let export = Export::check(bytes, &file)?;
        let overrides = match &args.columns {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("{} is not a column override file", path.display()))?
            }
            None => Overrides::default(),
        };
        let map = ColumnMap::new(&export.headers()?, args.crm, playbook, &overrides);
        if map.position(&Target::Id).is_none() {
            bail!(
                "{file}: no column holds the deal's id ({}); map one in an override file: [columns] \"<label>\" = \"id\"",
                id_label(args.crm)
            );
        }
        if [Target::Status, Target::Closed, Target::Stage]
            .iter()
            .all(|t| map.position(t).is_none())
        {
            source.notes.push(
                "No column says whether a deal is won or lost (status, stage or Won/Closed): every deal is read as open.".to_owned(),
            );
        }
        source.notes.extend(export.notes.iter().cloned());
        source.unknown_columns = map.unknown.clone();
        let texts = count_texts(export.rows(&map), &mut counts, playbook);
        judge_rows(export.rows(&map), texts, &judge, &counts, &mut source)
    };
    let settings = Settings {
        seed: args.seed,
        sample: args.sample,
        now,
    };
    Ok(audit::audit(deals, source, playbook, settings))
}

fn id_label(crm: ExportCrm) -> &'static str {
    match crm {
        ExportCrm::Hubspot => "HubSpot: \"Record ID\"",
        ExportCrm::Pipedrive => "Pipedrive: \"Deal - ID\"",
        ExportCrm::Salesforce => "Salesforce: \"Opportunity ID\"",
        ExportCrm::Generic => "generic: \"id\"",
    }
}

/// The first pass: each deal's texts hashed and counted, in the rows' order.
fn count_texts(
    rows: impl Iterator<Item = (u64, Row)>,
    counts: &mut TextCounts,
    playbook: &Playbook,
) -> Vec<DealTexts> {
    rows.filter_map(|(_, row)| match row {
        Row::Deal(record) => {
            let texts = DealTexts::of(&record, playbook);
            counts.add(&texts);
            Some(texts)
        }
        Row::Broken(_) | Row::Trailer => None,
    })
    .collect()
}

/// Deals judged per batch, a batch at a time on each core.
const BATCH: usize = 512;

/// The second pass: each deal of `rows` (whose `texts` the first pass hashed) judged, on every
/// core, in the rows' order; broken rows counted into `source`, the first listed.
fn judge_rows(
    rows: impl Iterator<Item = (u64, Row)>,
    texts: Vec<DealTexts>,
    judge: &Judge,
    counts: &TextCounts,
    source: &mut Source,
) -> Vec<DealRow> {
    type Batch = Vec<(Box<Record>, DealTexts)>;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Drawn on a terminal only: a run whose output is piped or kept shows nothing.
    let progress = ProgressBar::new(texts.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} deals judged, {eta} left")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut texts = texts.into_iter();
    let mut trailer = 0;
    let (work, inbox) = mpsc::sync_channel::<(usize, Batch)>(2 * workers);
    let inbox = Mutex::new(inbox);
    let (done, results) = mpsc::channel();
    let mut batches: Vec<(usize, Vec<DealRow>)> = std::thread::scope(|scope| {
        for _ in 0..workers {
            let (inbox, done, progress) = (&inbox, done.clone(), &progress);
            scope.spawn(move || {
                // A poisoned lock is another worker's panic: the scope re-raises it.
                while let Ok((index, batch)) =
                    inbox.lock().map_or(Err(mpsc::RecvError), |rx| rx.recv())
                {
                    let rows = batch
                        .iter()
                        .map(|(record, texts)| judge.row(record, &counts.templates(texts)))
                        .collect();
                    progress.inc(batch.len() as u64);
                    if done.send((index, rows)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut batch = Vec::with_capacity(BATCH);
        let mut index = 0;
        for (line, row) in rows {
            match row {
                Row::Deal(record) => {
                    source.rows += 1;
                    batch.push((record, texts.next().unwrap_or_default()));
                    if batch.len() == BATCH {
                        // The workers outlive the loop: a send fails only if all panicked.
                        let _ = work.send((index, std::mem::take(&mut batch)));
                        index += 1;
                    }
                }
                Row::Broken(problem) => {
                    source.rows += 1;
                    source.broken += 1;
                    if source.first_broken.len() < LISTED_BROKEN {
                        source.first_broken.push(BrokenRow { line, problem });
                    }
                }
                Row::Trailer => trailer += 1,
            }
        }
        if !batch.is_empty() {
            let _ = work.send((index, batch));
        }
        drop(work);
        results.iter().collect()
    });
    progress.finish_and_clear();
    if trailer > 0 {
        source.notes.push(format!(
            "The report's trailer ({trailer} lines: totals, confidentiality, copyright) is not a deal: left out."
        ));
    }
    batches.sort_by_key(|(index, _)| *index);
    batches.into_iter().flat_map(|(_, rows)| rows).collect()
}
