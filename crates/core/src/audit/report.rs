//! The audit's report: what was read, the hygiene, the backtest, the gate replayed, which
//! dimensions predict, and every deal's row so anyone can recompute every figure. The same value
//! is printed as a terminal summary ([`AuditReport::summary`]), written as JSON and drawn as one
//! HTML page ([`super::html`]).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{
    backtest::{Backtest, backtest},
    deal::DealRow,
    dimensions::{DimensionRate, Prediction, dimensions},
    gate::{GateReplay, replay},
    hygiene::{HygieneAudit, hygiene},
};
use crate::{playbook::Playbook, scorecard::PlaybookRef};

/// Said on every audit of an export: it has no history.
pub const NO_HISTORY: &str = "An export has no history: every deal is scored on the values it holds today, so evidence typed in after a deal closed counts as if it had been there before. This flatters the playbook: read the backtest as an upper bound.";

/// What the audit's figures do not measure, said on every report.
pub const NOT_MEASURED: &[&str] = &[
    "what a deal looked like when it was handed off: the export holds today's values (closed deals are judged as of their close date, open deals as of the audit)",
    "calls, meetings and notes: an export carries no activities, so the call-notes check does not apply and engagement earns nothing",
    "contacts, unless the export has a contact column: without one, contact dimensions (an economic buyer) are red and the contacts check fails",
    "how good an owner is at selling: figures per owner are for fixing their data, never for comparing owners",
];

/// What the audit read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The CRM whose export it is (`hubspot`, `pipedrive`, `salesforce`, `generic`).
    pub crm: String,
    /// The file.
    pub file: String,
    /// Data rows (or lines) read, broken ones included.
    pub rows: u64,
    /// Rows that could not be read as a deal: counted, never silently dropped.
    pub broken: u64,
    /// The first 20 broken rows.
    pub first_broken: Vec<BrokenRow>,
    /// Columns the audit did not map, each with a suggested mapping when one is close.
    pub unknown_columns: Vec<UnknownColumn>,
    /// What the reader noticed (a delimiter other than a comma, a byte-order mark, …).
    pub notes: Vec<String>,
}

/// A row that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenRow {
    /// Its line in the file (1 is the header of a CSV).
    pub line: u64,
    /// What is wrong with it.
    pub problem: String,
}

/// A column of the export that feeds nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownColumn {
    /// Its header.
    pub column: String,
    /// The canonical field it may be, for the override file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

/// How the audit runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The seed of the hygiene sample and of the AUC's bootstrap.
    pub seed: u64,
    /// How many deals the hygiene sample holds.
    pub sample: usize,
    /// When the audit runs: open deals are judged as of then.
    pub now: OffsetDateTime,
}

/// The audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The playbook audited.
    pub playbook: PlaybookRef,
    /// When the audit ran.
    #[serde(with = "time::serde::rfc3339")]
    pub audited_at: OffsetDateTime,
    /// What was read.
    pub source: Source,
    /// Warnings to read before any figure.
    pub warnings: Vec<String>,
    /// The hygiene checklist across the deals.
    pub hygiene: HygieneAudit,
    /// The backtest on closed deals.
    pub backtest: Backtest,
    /// The gate replayed on closed deals.
    pub gate: GateReplay,
    /// Which dimensions predict.
    pub dimensions: Vec<DimensionRate>,
    /// What the figures do not measure.
    pub not_measured: Vec<String>,
    /// Every deal's row.
    pub deals: Vec<DealRow>,
}

/// The audit of `deals` (judged by [`super::Judge`]) read from `source`.
pub fn audit(
    deals: Vec<DealRow>,
    source: Source,
    playbook: &Playbook,
    settings: Settings,
) -> AuditReport {
    let mut warnings = vec![NO_HISTORY.to_owned()];
    if source.broken > 0 {
        warnings.push(format!(
            "{} row(s) of {} could not be read and are not in the figures; the first are listed under the source.",
            source.broken, source.rows
        ));
    }
    let hygiene = hygiene(
        &deals,
        playbook,
        settings.sample,
        settings.seed,
        settings.now,
    );
    let backtest = backtest(&deals, playbook, settings.seed);
    let gate = replay(&deals, playbook);
    let dimensions = dimensions(&deals, playbook);
    AuditReport {
        playbook: PlaybookRef {
            name: playbook.name.clone(),
            version: playbook.version.clone(),
            content_hash: playbook.content_hash.clone(),
        },
        audited_at: settings.now,
        source,
        warnings,
        hygiene,
        backtest,
        gate,
        dimensions,
        not_measured: NOT_MEASURED.iter().map(|s| (*s).to_owned()).collect(),
        deals,
    }
}

impl AuditReport {
    /// The terminal summary, one line each.
    pub fn summary(&self) -> Vec<String> {
        let pct = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0));
        let mut lines = vec![format!(
            "Audit of {} deals ({} won, {} lost, {} open) from {} against playbook \"{}\" v{}.",
            self.deals.len(),
            self.backtest.won,
            self.backtest.lost,
            self.backtest.open,
            self.source.file,
            self.playbook.name,
            self.playbook.version
        )];
        lines.extend(self.warnings.iter().map(|w| format!("Warning: {w}")));
        for row in &self.source.first_broken {
            lines.push(format!("  line {}: {}", row.line, row.problem));
        }
        for column in &self.source.unknown_columns {
            lines.push(match &column.suggestion {
                Some(field) => {
                    format!("Column {:?} is not mapped: perhaps {field}?", column.column)
                }
                None => format!("Column {:?} is not mapped.", column.column),
            });
        }
        lines.extend(self.source.notes.iter().cloned());
        let h = &self.hygiene;
        lines.push(format!(
            "Hygiene: {} % over every deal, {} % over the sample of {} (seed {}). {}",
            h.all.hygiene_pct, h.sampled.hygiene_pct, h.sampled.deals, h.seed, h.verdict
        ));
        lines.push(format!("Backtest: {}", self.backtest.verdict));
        if let Some(lift) = &self.backtest.lift {
            lines.push(format!(
                "  the top 20 % by score ({} deals) won {}, {:.1}× the {} of every closed deal",
                lift.top,
                pct(lift.top_win_rate.value),
                lift.lift,
                pct(self.backtest.win_rate.value)
            ));
        }
        for tier in &self.backtest.by_tier {
            lines.push(format!(
                "  {}: {} won of {}",
                tier.tier,
                pct(tier.win_rate.value),
                tier.win_rate.of
            ));
        }
        let g = &self.gate;
        lines.push(format!(
            "Gate at {}: would have blocked {} of won deals ({} of {}) and let through {} of lost deals ({} of {}).",
            g.threshold,
            pct(g.won_blocked.value),
            g.won_blocked.hits,
            g.won_blocked.of,
            pct(g.lost_passed.value),
            g.lost_passed.hits,
            g.lost_passed.of
        ));
        lines.push(format!("  {}", g.advice));
        lines.push("Dimensions:".to_owned());
        for d in &self.dimensions {
            let mark = if d.predicts == Prediction::Yes {
                "+"
            } else {
                "·"
            };
            lines.push(format!("  {mark} {}", d.finding));
        }
        lines
    }
}
