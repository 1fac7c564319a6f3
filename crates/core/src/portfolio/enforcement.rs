//! Whether the gate may block: the configured mode, unless the CRM's portfolio hygiene is below
//! the playbook's threshold, when `enforce` falls back to shadow on its own.
//!
//! The team's checklist says scores built on poor data cannot be trusted, so blocking a BDR on
//! them would be unfair: while the last measurement of a CRM's portfolio is below
//! `[staleness.portfolio] threshold` (and `fallback_to_shadow` is on), the gate observes and
//! tells, as in shadow mode, and everything that shows the mode says why. It enforces again as
//! soon as a sweep measures the portfolio at or above the threshold. A CRM never measured keeps
//! the configured mode: nothing says its data is poor.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Portfolio;
use crate::{crm_id::Crm, mode::Mode, playbook::PortfolioRules};

/// The words that say why blocking is paused.
pub const NOT_GOOD_ENOUGH: &str = "the data is not good enough to block anyone yet";

/// The mode a CRM's deliveries run in, and why when it is not simply the configured one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enforcement {
    /// The CRM.
    pub crm: String,
    /// The mode the `mode` variable sets.
    pub configured: Mode,
    /// The mode in force.
    pub mode: Mode,
    /// The portfolio's hygiene at its last measurement (`None`: never measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hygiene_pct: Option<u8>,
    /// When it was measured.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub measured_at: Option<OffsetDateTime>,
    /// The threshold below which enforcement falls back to shadow.
    pub threshold: u8,
    /// Why the mode in force is what it is, when there is more to say than the configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl Enforcement {
    /// Whether enforcement fell back to shadow because of the data.
    pub fn fell_back(&self) -> bool {
        self.configured == Mode::Enforce && self.mode == Mode::Shadow
    }
}

/// The mode `crm`'s deliveries run in: `configured`, unless `portfolio` (the CRM's last
/// measurement) is below `rules`' threshold.
pub fn decide(
    crm: Crm,
    configured: Mode,
    rules: &PortfolioRules,
    portfolio: Option<&Portfolio>,
) -> Enforcement {
    let below = portfolio.filter(|p| p.hygiene_pct < rules.threshold);
    let mode = match (configured, below) {
        (Mode::Enforce, Some(_)) if rules.fallback_to_shadow => Mode::Shadow,
        (configured, _) => configured,
    };
    let why = match (configured, portfolio, below) {
        (Mode::Shadow, _, _) => None,
        (Mode::Enforce, None, _) => Some(format!(
            "The portfolio hygiene of {} has not been measured yet: the gate enforces as configured; \
             a finished sweep (POST /flag-stale-deals/{}/sweep until done) measures it",
            crm.label(),
            crm.name()
        )),
        (Mode::Enforce, Some(_), Some(p)) if rules.fallback_to_shadow => Some(format!(
            "Blocking is paused: {}'s portfolio hygiene is {} %, below {} % ({}): {NOT_GOOD_ENOUGH}. \
             Handoffs are checked and reps told as in shadow mode until a sweep measures {} % or more.",
            crm.label(),
            p.hygiene_pct,
            rules.threshold,
            over(p),
            rules.threshold
        )),
        (Mode::Enforce, Some(_), Some(p)) => Some(format!(
            "The portfolio hygiene of {} is {} %, below {} % ({}), but [staleness.portfolio] \
             fallback_to_shadow is off: the gate still blocks",
            crm.label(),
            p.hygiene_pct,
            rules.threshold,
            over(p)
        )),
        (Mode::Enforce, Some(_), None) => None,
    };
    Enforcement {
        crm: crm.name().to_owned(),
        configured,
        mode,
        hygiene_pct: portfolio.map(|p| p.hygiene_pct),
        measured_at: portfolio.map(|p| p.measured_at),
        threshold: rules.threshold,
        why,
    }
}

/// What a measurement was taken over, in words.
fn over(p: &Portfolio) -> String {
    let deals = match p.measured {
        1 => "1 open deal".to_owned(),
        n => format!("{n} open deals"),
    };
    let sample = if p.sample.is_some() {
        format!("a random sample of {deals} of {}", p.open_deals)
    } else {
        deals
    };
    format!("{sample}, measured {}", p.measured_at.date())
}
