//! The audit of a playbook on a CRM's past deals, before it goes live: is the data clean enough
//! to trust scores, would the score have told won deals from lost ones, what would the gate have
//! done, and which dimensions predict.
//!
//! Pure and I/O-free: the command line reads the export into canonical records
//! ([`crate::model::Record`]) and hands them here.
//!
//! - [`deal`]: one deal judged exactly as the functions judge it (scorecard, gate rules, the
//!   hygiene checklist), kept as a small row.
//! - [`texts`]: the texts pasted onto several deals of the export, counted as score-lead counts
//!   them.
//! - [`stats`]: rates with Wilson intervals, the ROC AUC as a rank statistic with a seeded
//!   bootstrap interval.
//! - [`hygiene`]: the checklist over every deal and a seeded sample, per check and per owner,
//!   and the go/no-go.
//! - [`backtest`]: win rates by tier and score band, AUC, lift of the top 20 %, calibration.
//! - [`gate`]: the gate replayed, a threshold table and advice.
//! - [`dimensions`]: which dimensions separate won from lost deals.
//! - [`report`]: the report (JSON) and its terminal summary; [`html`]: its page.
//!
//! # Example
//! ```
//! use pipeline_guard_core::{
//!     audit::{self, DealTexts, Judge, TextCounts},
//!     model::{DealStatus, Record},
//!     playbook::Playbook,
//! };
//! use time::macros::datetime;
//!
//! let playbook = Playbook::default_playbook();
//! let now = datetime!(2026-12-07 12:00 UTC);
//! let mut deal = Record::new_deal("D-1");
//! deal.status = DealStatus::Won;
//! let judge = Judge::new(&playbook, now);
//! let texts = DealTexts::of(&deal, &playbook);
//! let mut counts = TextCounts::default();
//! counts.add(&texts);
//! let row = judge.row(&deal, &counts.templates(&texts));
//! let settings = audit::Settings { seed: 1, sample: 50, now };
//! let report = audit::audit(vec![row], audit::Source::default(), &playbook, settings);
//! assert!(report.backtest.too_thin);
//! assert!(report.backtest.auc.is_none(), "never an AUC without enough deals for its interval");
//! ```

pub mod backtest;
pub mod deal;
pub mod dimensions;
pub mod gate;
pub mod html;
pub mod hygiene;
pub mod report;
pub mod stats;
pub mod texts;

pub use deal::{DealRow, Judge};
pub use report::{AuditReport, BrokenRow, Settings, Source, UnknownColumn, audit};
pub use texts::{DealTexts, TextCounts};
