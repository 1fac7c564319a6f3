//! `POST /flag-stale-deals/<crm>/sweep`: one page of the CRM's open deals judged for staleness
//! ([`pipeline_guard_core::sweep`]), for a scheduler that calls until the answer says `done`.
//!
//! Authorized like the other scheduled routes ([`scheduled::authorize`]: the sweep token or the
//! admin token, constant time, `401` otherwise). Answers the progress JSON: `200` for a page
//! swept and while another call holds the sweep (`"status": "busy"`: call again later), `503`
//! with `Retry-After` when the CRM could not list the page (`"status": "retry_later"`: the cursor
//! stays, and `curl --retry` waits as told and calls again). The call that ends a sweep measures
//! the portfolio's hygiene (`hygiene_pct`; the report has the rest).

use pipeline_guard_core::{Error, crm::Adapter, sweep};
use spin_sdk::http::{Request, Response};

use crate::{crm_client::HttpCrm, respond, routes::claimant, scheduled::Call, sqlite};

/// Sweep one page of `adapter`'s CRM.
pub async fn sweep<A: Adapter>(adapter: &A, request: &Request) -> Result<Response<String>, Error> {
    let call = Call::start(request).await?;
    if let Some(query) = request.uri().query().filter(|q| !q.is_empty()) {
        return Err(Error::invalid_query(format!(
            "{query:?}: the sweep takes no parameters"
        )));
    }
    let crm = adapter.crm();
    let client = HttpCrm::new(crm, &call.store);
    let api = call.api(crm, &client).await?;
    let stores = sweep::Stores {
        sweeps: sqlite::sweeps().await?,
        portfolios: sqlite::portfolios().await?,
    };
    let progress = sweep::sweep_page(
        adapter,
        &stores,
        &call.settings.playbook,
        &claimant(call.now),
        call.now,
        &api,
    )
    .await?;
    let body = serde_json::to_value(&progress).map_err(|e| Error::Store(e.to_string()))?;
    let mut response = respond::json(
        if progress.status == sweep::SweepStatus::RetryLater {
            503
        } else {
            200
        },
        &body,
    );
    if let Some(seconds) = progress.retry_after_s
        && let Ok(value) = seconds.to_string().parse()
    {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, value);
    }
    Ok(response)
}
