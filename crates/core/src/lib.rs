//! The pure, I/O-free domain of pipeline-guard.
//!
//! Everything a pipeline-guard function decides is decided here; the Spin components only read the
//! request, hand it to this crate, and carry out what it returns. Nothing in this crate touches the
//! network, a clock or a store: those arrive as values (a `now`, the [`ports`]), so every rule runs natively in tests with a fixed clock and fakes.
//!
//! # Map
//! - [`model`]: the canonical lead/deal record, its contacts and activities.
//! - [`event`]: a CRM change as pipeline-guard sees it, and its de-duplication key.
//! - [`playbook`]: the team's qualification playbook (TOML), validated on load.
//! - [`evidence`]: what counts as evidence for a dimension: text judged on what it says (a
//!   figure, a consequence, a date ahead, a person), a picklist, a number, a date, ….
//! - [`score`]: the types a score is made of (status, part, dimension score), shared by the rules
//!   below.
//! - [`fit`], [`engagement`]: the secondary parts of a score.
//! - [`tier`]: hot / warm / cold / disqualified, with requirements.
//! - [`scorecard`]: scoring a record against the playbook, per dimension, with reasons; the
//!   lines a rep reads in the CRM (qualification, fit and engagement apart, the gaps, the next
//!   question, what the score does not measure).
//! - [`placeholder`]: values that are never evidence ("TBD" however punctuated or repeated, one
//!   word repeated), for every score, staleness and hygiene check; the normalised text.
//! - [`templates`]: a text pasted onto several of a CRM's deals is a template, no evidence: each
//!   record's texts kept as hashes (never the texts) and counted.
//! - [`review`]: each record's latest score, the top share of them flagged for a person to
//!   review (ranked in SQL), the owner told once, and the queue an admin reads.
//! - [`conversation`]: sales call transcripts (WebVTT, Gong JSON, plain text) read, the rep
//!   found among the speakers, and the call's signals (talk share, monologue, questions,
//!   dimensions asked, the buyer's evidence, competitors, an agreed next step, outliers).
//! - [`gate`]: the BDR→AE handoff decision, and the AE's verdict on it.
//! - [`handoffs`]: the record of every handoff and verdict, the coaching report, the weekly
//!   summaries.
//! - [`staleness`]: deals rotting in a stage (business days, next activities, snoozes), overdue
//!   close dates, no next step, lost without a reason, unreadable dates; each owner told once
//!   per change of state.
//! - `html`: the pieces the HTML reports are built of (page, SVG charts, figures in words,
//!   escaping).
//! - [`hygiene`]: how complete a record is, the team's weighted hygiene checklist per deal, and
//!   whether its score can be trusted.
//! - [`portfolio`]: hygiene across a CRM's open deals (by check, by owner) from the sweep,
//!   the hygiene report, and enforcement falling back to shadow while the data is poor.
//! - `no_ranking` (tests only): every report and page that shows reps lists them by name and
//!   ranks nobody.
//! - [`rep_page`]: each rep's own page (open deals' scorecards, handoffs and verdicts, stale
//!   deals, calls), through a signed link every notice to the rep carries; what the rep shares
//!   with their manager.
//! - [`people`]: CRM users by name (the CRM's users API, kept a day in the database), for
//!   every notice and report that names a person.
//! - [`mode`]: shadow (observe) or enforce (act).
//! - [`install`]: when this install first decided, kept once: managers' per-rep views unlock a
//!   set number of days after it.
//! - [`writeback`]: what a decision writes back to the CRM, independent of the CRM; texts cut to
//!   fit any CRM's text field.
//! - [`crm_id`]: which CRM a thing belongs to: an identifier that imports nothing.
//! - [`crm`]: one adapter per CRM (generic JSON, HubSpot, Pipedrive, Salesforce): inbound
//!   webhooks to events, write-backs to API calls, the answer each CRM expects.
//! - [`secret`]: secrets whose `Debug` and `Display` never show them.
//! - [`signature`]: webhook signature checks, and shared credentials for CRMs that do not sign.
//! - [`inbound`]: request-level checks (size, content type) before an adapter parses.
//! - [`function`]: the three functions and what each decides for an event.
//! - [`ports`]: the outside world's interfaces: store, SQL database, CRM client, clock.
//! - [`dialect`]: the SQL stores write once, rewritten for PostgreSQL (placeholders, types,
//!   triggers, functions) in one place.
//! - [`api`]: the CRM's API as a delivery uses it: deadline, timeouts, `Retry-After`, calls side
//!   by side.
//! - [`ledger`]: claims and settled events, so nothing is applied twice or lost.
//! - [`outcome`]: what a delivery produced, per event.
//! - [`pipeline`]: claim → order → complete → compare → decide → journal → recheck → apply →
//!   settle, over a whole batch.
//! - [`scheduled`]: work a scheduler asks for (the BDRs' weekly summaries).
//! - [`sweep`]: every open deal judged for staleness a page at a time, resumable, one call at once.
//! - [`audit`]: a playbook audited on a CRM's past deals before it goes live: hygiene over every
//!   deal and a seeded sample, the backtest (win rates, AUC with its interval, lift, calibration),
//!   the gate replayed with a threshold table, which dimensions predict, every deal's row.
//! - [`memory`]: in-memory ledger, recording CRM, clock, handoff log and review queue, for tests
//!   and dry runs.
//! - [`error`]: the typed errors, and the one place they map to HTTP statuses.
//!
//! # Example
//! ```
//! use pipeline_guard_core::{model::Record, playbook::Playbook, scorecard::score};
//! use time::macros::datetime;
//!
//! let playbook = Playbook::default_playbook();
//! let mut deal = Record::new_deal("D-1");
//! deal.fields.insert("pain".into(), "Month-end close takes nine days and blocks reporting".into());
//! let card = score(&deal, &playbook, datetime!(2026-11-21 12:00 UTC));
//! assert_eq!(card.total, 20);
//! assert_eq!(card.tier, "cold");
//! assert!(card.dimensions[0].next_question.is_some());
//! ```
#![deny(missing_docs)]

pub mod api;
pub mod audit;
pub mod conversation;
pub mod crm;
pub mod crm_id;
pub mod dialect;
pub mod engagement;
pub mod error;
pub mod event;
pub mod evidence;
pub mod fit;
pub mod function;
pub mod gate;
pub mod handoffs;
mod html;
pub mod hygiene;
pub mod inbound;
pub mod install;
pub mod ledger;
pub mod memory;
pub mod mode;
pub mod model;
#[cfg(test)]
mod no_ranking;
pub mod outcome;
pub mod people;
pub mod pipeline;
pub mod placeholder;
pub mod playbook;
pub mod portfolio;
pub mod ports;
pub mod rep_page;
pub mod review;
pub mod scheduled;
pub mod score;
pub mod scorecard;
pub mod secret;
pub mod signature;
pub mod staleness;
mod statement;
pub mod sweep;
pub mod templates;
#[cfg(test)]
mod test_sqlite;
pub mod tier;
pub mod writeback;

pub use error::{Error, ErrorKind};
