//! The hygiene report: each CRM's portfolio hygiene at its last measurement, by check and (from
//! the rollout date) by owner, the sweep under way, and whether the gate may block.
//!
//! Built for the people it is about, as the handoff report is: team figures always; figures per
//! owner only once the rollout unlocks them (before that, an owner's row only while that owner
//! shares it), sorted by name, each with the check to fix first, never a rank; and what the
//! figures do not measure, said on the report.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use std::collections::BTreeMap;

use super::{
    CheckFigure, OwnerRow, Portfolio,
    enforcement::{self, Enforcement},
};
use crate::{
    crm_id::Crm,
    mode::Mode,
    people::by_name,
    playbook::{Playbook, rollout::PerRep},
    rep_page::sharing::Sharers,
    sweep::SweepState,
};

/// What the hygiene figures cannot see, said on every report.
pub const NOT_MEASURED: &[&str] = &[
    "whether what a field says is true: a close date can be filled in and still be wishful",
    "lost deals: a sweep lists open deals only, so the lost-reason check is not in these figures (flag-stale-deals checks it when a lost deal's webhook arrives)",
    "calls and their notes where the CRM's deal listing carries no activities (HubSpot, Pipedrive, Salesforce): that check is not applicable there, neither passed nor failed",
    "deals the CRM listed that could not be read: the sweep's answer counts them as failed; they are not in these figures",
    "how good an owner is at selling: figures per owner are for fixing their data, not for comparing owners",
];

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HygieneReport {
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The CRM it covers, or all swept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<String>,
    /// The portfolio threshold in force now.
    pub threshold: u8,
    /// The per-deal threshold in force now (`staleness.hygiene_threshold`).
    pub deal_threshold: u8,
    /// One entry per CRM, by CRM.
    pub portfolios: Vec<PortfolioView>,
    /// What these figures do not measure.
    pub not_measured: Vec<String>,
}

/// One CRM on the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioView {
    /// The CRM.
    pub crm: String,
    /// Whether its handoffs may be blocked now, and why not.
    pub enforcement: Enforcement,
    /// Its last measurement; none before its first sweep ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<Measurement>,
    /// The sweep under way (or the last one, when done).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepView>,
}

/// A measurement as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// When it was measured.
    #[serde(with = "time::serde::rfc3339")]
    pub measured_at: OffsetDateTime,
    /// The open deals the sweep judged.
    pub open_deals: u64,
    /// The deals measured.
    pub measured: u64,
    /// The sample size asked for (`None`: every open deal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<u32>,
    /// The measured deals' mean checklist score.
    pub hygiene_pct: u8,
    /// Whether it reaches the portfolio threshold.
    pub trustworthy: bool,
    /// Measured deals whose own score reaches the per-deal threshold.
    pub deals_trustworthy: u64,
    /// Each check across the measured deals.
    pub checks: Vec<CheckView>,
    /// Figures per owner, from the rollout date.
    pub per_owner: PerRep<OwnerRow>,
}

/// A check across the measured deals, with its pass rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckView {
    /// The counts.
    #[serde(flatten)]
    pub figure: CheckFigure,
    /// Passed over applicable (0–100); none when it applies to no deal.
    pub passed_pct: Option<u8>,
}

/// A CRM's sweep as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepView {
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// Open deals judged so far.
    pub seen: u64,
    /// Pages done.
    pub pages: u64,
    /// Whether it reached its last page.
    pub done: bool,
}

impl From<&SweepState> for SweepView {
    fn from(state: &SweepState) -> Self {
        SweepView {
            started_at: state.started_at,
            seen: state.totals.seen,
            pages: state.pages,
            done: state.done,
        }
    }
}

/// What the report is made of, as the stores hold it.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Every CRM's last measurement.
    pub portfolios: Vec<Portfolio>,
    /// Every CRM's sweep state.
    pub sweeps: Vec<(Crm, SweepState)>,
    /// The install's first decision, from which managers' views unlock ([`crate::install`]).
    pub started: Option<OffsetDateTime>,
    /// The owners who share their deals' hygiene before the unlock ([`crate::rep_page::sharing`]).
    pub sharers: Sharers,
    /// People's names by (CRM, user id), as deliveries kept them ([`crate::people::sql::kept_names`]).
    pub names: BTreeMap<(String, String), String>,
}

/// The report at `now` under `playbook` with `configured` mode, for `crm` or every CRM swept.
pub fn report(
    inputs: &Inputs,
    playbook: &Playbook,
    configured: Mode,
    crm: Option<Crm>,
    now: OffsetDateTime,
) -> HygieneReport {
    let rules = &playbook.staleness.portfolio;
    let swept = |c: Crm| {
        inputs.portfolios.iter().any(|p| p.crm == c.name())
            || inputs.sweeps.iter().any(|(s, _)| *s == c)
    };
    let crms: Vec<Crm> = match crm {
        Some(crm) => vec![crm],
        None => Crm::ALL.iter().copied().filter(|c| swept(*c)).collect(),
    };
    let portfolios = crms
        .into_iter()
        .map(|crm| {
            let portfolio = inputs.portfolios.iter().find(|p| p.crm == crm.name());
            PortfolioView {
                crm: crm.name().to_owned(),
                enforcement: enforcement::decide(crm, configured, rules, portfolio),
                measurement: portfolio.map(|p| measurement(p, playbook, inputs, now)),
                sweep: inputs
                    .sweeps
                    .iter()
                    .find(|(c, _)| *c == crm)
                    .map(|(_, state)| SweepView::from(state)),
            }
        })
        .collect();
    HygieneReport {
        generated_at: now,
        crm: crm.map(|c| c.name().to_owned()),
        threshold: rules.threshold,
        deal_threshold: playbook.staleness.hygiene_threshold,
        portfolios,
        not_measured: NOT_MEASURED.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn measurement(
    p: &Portfolio,
    playbook: &Playbook,
    inputs: &Inputs,
    now: OffsetDateTime,
) -> Measurement {
    let visibility = playbook.rollout.per_rep(
        now,
        inputs.started,
        "owner",
        "each owner sees the flags on their own deals first",
        &inputs.sharers,
    );
    let mut rows: Vec<OwnerRow> = p
        .owners
        .iter()
        .filter(|row| visibility.shows(&p.crm, &row.owner))
        .map(|row| OwnerRow {
            name: inputs
                .names
                .get(&(p.crm.clone(), row.owner.clone()))
                .cloned(),
            ..row.clone()
        })
        .collect();
    rows.sort_by(|a, b| by_name((a.name.as_deref(), &a.owner), (b.name.as_deref(), &b.owner)));
    let per_owner = visibility.view(rows);
    Measurement {
        measured_at: p.measured_at,
        open_deals: p.open_deals,
        measured: p.measured,
        sample: p.sample,
        hygiene_pct: p.hygiene_pct,
        trustworthy: p.hygiene_pct >= playbook.staleness.portfolio.threshold,
        deals_trustworthy: p.trustworthy,
        checks: p
            .checks
            .iter()
            .map(|figure| CheckView {
                passed_pct: figure.passed_pct(),
                figure: figure.clone(),
            })
            .collect(),
        per_owner,
    }
}
