//! `GET /score-lead/review` (admin): the records flagged for review when last scored, highest
//! score first, as JSON or, for `Accept: text/html`, one page
//! ([`pipeline_guard_core::review::html`]). Records only: no rep is named or ranked.
//!
//! Query: `crm` (one CRM's records only).

use pipeline_guard_core::{
    Error,
    review::{html, queue},
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{
    config, database,
    report::{crm_only, wants_html},
    respond,
    routes::authorize,
};

/// The review queue, for an admin.
pub async fn queue(request: &Request) -> Result<Response<String>, Error> {
    authorize(request).await?;
    let crm = crm_only(request.uri().query())?;
    let settings = config::settings().await?;
    let review = database::review().await?;
    let report = queue::report(&review, &settings.playbook, crm, OffsetDateTime::now_utc()).await?;
    if wants_html(request) {
        return Ok(respond::html(200, html::render(&report)));
    }
    Ok(respond::json(
        200,
        &serde_json::to_value(&report).map_err(|e| Error::Store(e.to_string()))?,
    ))
}
