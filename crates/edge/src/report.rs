//! `GET /gate-handoff/report` (admin): the coaching report on the team's handoffs, as JSON or,
//! for `Accept: text/html`, one page with inline SVG charts.
//!
//! Query: `weeks` (1..=104, default 52) and `crm` (one CRM's handoffs only).

use pipeline_guard_core::{
    Error,
    crm::Crm,
    handoffs::{
        html,
        report::{MAX_WEEKS, ReportQuery},
    },
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{config, database, respond, routes::authorize};

/// The report, for an admin.
pub async fn report(request: &Request) -> Result<Response<String>, Error> {
    authorize(request).await?;
    let query = query(request.uri().query())?;
    let settings = config::settings().await?;
    let log = database::handoffs().await?;
    let report = log
        .report(&query, &settings.playbook, OffsetDateTime::now_utc())
        .await?;
    if wants_html(request) {
        return Ok(respond::html(200, html::render(&report)));
    }
    Ok(respond::json(
        200,
        &serde_json::to_value(&report).map_err(|e| Error::Store(e.to_string()))?,
    ))
}

/// Whether the caller asked for a page (`Accept: text/html`, as a browser does) over JSON.
pub(crate) fn wants_html(request: &Request) -> bool {
    request
        .headers()
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| accept.contains("text/html"))
}

/// The `crm` parameter of a report: a CRM's route name.
pub(crate) fn crm_param(value: &str) -> Result<Crm, Error> {
    Crm::from_name(value).ok_or_else(|| {
        Error::invalid_query(format!(
            "crm: {value:?} is not one of {}",
            Crm::ALL
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// The one parameter of a view that takes only `crm` (the hygiene report, the review queue); an
/// unknown one or a bad value is refused, naming it.
pub(crate) fn crm_only(query: Option<&str>) -> Result<Option<Crm>, Error> {
    let mut crm = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "crm" => crm = Some(crm_param(&value)?),
            other => {
                return Err(Error::invalid_query(format!(
                    "{other:?} is not a parameter here; use crm"
                )));
            }
        }
    }
    Ok(crm)
}

/// The report's query parameters; an unknown one or a bad value is refused, naming it.
fn query(query: Option<&str>) -> Result<ReportQuery, Error> {
    let mut parsed = ReportQuery::default();
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "weeks" => {
                parsed.weeks = value
                    .parse()
                    .ok()
                    .filter(|w| (1..=MAX_WEEKS).contains(w))
                    .ok_or_else(|| {
                        Error::invalid_query(format!(
                            "weeks: {value:?} is not a number of weeks within 1..={MAX_WEEKS}"
                        ))
                    })?;
            }
            "crm" => parsed.crm = Some(crm_param(&value)?.name().to_owned()),
            other => {
                return Err(Error::invalid_query(format!(
                    "{other:?} is not a report parameter; use weeks and crm"
                )));
            }
        }
    }
    Ok(parsed)
}
