//! `GET /flag-stale-deals/report` (admin): each CRM's portfolio hygiene at its last sweep, by
//! check and (from the rollout date) by owner, and whether the gate may block, as JSON or, for
//! `Accept: text/html`, one page with inline SVG ([`pipeline_guard_core::portfolio::report`]).
//!
//! Query: `crm` (one CRM only; shown even before its first sweep).

use pipeline_guard_core::{
    Error,
    people::sql::kept_names,
    portfolio::{html, report},
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{
    config, database,
    report::{crm_only, wants_html},
    respond,
    routes::authorize,
};

/// The hygiene report, for an admin.
pub async fn report(request: &Request) -> Result<Response<String>, Error> {
    authorize(request).await?;
    let crm = crm_only(request.uri().query())?;
    let settings = config::settings().await?;
    let portfolios = database::portfolios().await?;
    let inputs = report::Inputs {
        portfolios: portfolios.all().await?,
        sweeps: database::sweeps().await?.states().await?,
        started: portfolios.first_decision().await?,
        sharers: portfolios.sharers().await?,
        names: kept_names(database::people().await?.database()).await?,
    };
    let report = report::report(
        &inputs,
        &settings.playbook,
        settings.mode,
        crm,
        OffsetDateTime::now_utc(),
    );
    if wants_html(request) {
        return Ok(respond::html(200, html::render(&report)));
    }
    Ok(respond::json(
        200,
        &serde_json::to_value(&report).map_err(|e| Error::Store(e.to_string()))?,
    ))
}
