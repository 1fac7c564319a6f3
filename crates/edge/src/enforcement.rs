//! The mode a CRM's deliveries run in: the `mode` variable, unless that CRM's portfolio hygiene
//! (measured by flag-stale-deals' sweep, kept in the `default` database) is below the
//! playbook's threshold ([`pipeline_guard_core::portfolio::enforcement`]).
//!
//! The functions read the measurement flag-stale-deals keeps: in one Spin app they share the
//! `default` database; deployed apart, they see it when their `default` databases are the same
//! libSQL database (a runtime config), and otherwise enforce as configured.

use std::sync::Arc;

use pipeline_guard_core::{
    Error,
    crm::Crm,
    function::{FunctionKind, Settings},
    mode::Mode,
    portfolio::{Enforcement, enforcement},
};

use crate::database;

/// `settings` for a delivery from `crm` to `function`: only the gate blocks, so only its
/// `enforce` mode reads the CRM's portfolio, once per delivery.
pub async fn settings_for(
    function: FunctionKind,
    crm: Crm,
    settings: Arc<Settings>,
) -> Result<Arc<Settings>, Error> {
    let rules = &settings.playbook.staleness.portfolio;
    if function != FunctionKind::GateHandoff
        || settings.mode != Mode::Enforce
        || !rules.fallback_to_shadow
    {
        return Ok(settings);
    }
    let portfolio = database::portfolios().await?.latest(crm).await?;
    let enforcement = enforcement::decide(crm, settings.mode, rules, portfolio.as_ref());
    Ok(if enforcement.fell_back() {
        Arc::new(settings.under(&enforcement))
    } else {
        settings
    })
}

/// Every CRM's enforcement under `settings`, for the health view.
pub async fn every_crm(settings: &Settings) -> Result<Vec<Enforcement>, Error> {
    let portfolios = database::portfolios().await?.all().await?;
    Ok(Crm::ALL
        .iter()
        .map(|crm| {
            let portfolio = portfolios.iter().find(|p| p.crm == crm.name());
            enforcement::decide(
                *crm,
                settings.mode,
                &settings.playbook.staleness.portfolio,
                portfolio,
            )
        })
        .collect())
}
