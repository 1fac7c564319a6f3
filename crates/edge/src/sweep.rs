//! `POST /flag-stale-deals/<crm>/sweep`: one page of the CRM's open deals judged for staleness
//! ([`pipeline_guard_core::sweep`]), for a scheduler that calls until the answer says `done`.
//!
//! Authorized like the other scheduled routes ([`scheduled::authorize`]: the sweep token or the
//! admin token, constant time, `401` otherwise). Answers the progress JSON: `200` for a page
//! swept and while another call holds the sweep (`"status": "busy"`: call again later), `503`
//! with `Retry-After` when the CRM could not list the page (`"status": "retry_later"`: the cursor
//! stays, and `curl --retry` waits as told and calls again).

use pipeline_guard_core::{Error, crm::Adapter, pipeline::Api, sweep};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{
    clock::SpinClock, config, crm_client::HttpCrm, kv::KvStore, respond, routes::claimant,
    scheduled, sqlite,
};

/// Sweep one page of `adapter`'s CRM.
pub async fn sweep<A: Adapter>(adapter: &A, request: &Request) -> Result<Response<String>, Error> {
    scheduled::authorize(request).await?;
    if let Some(query) = request.uri().query().filter(|q| !q.is_empty()) {
        return Err(Error::invalid_query(format!(
            "{query:?}: the sweep takes no parameters"
        )));
    }
    let clock = SpinClock::start();
    let now = OffsetDateTime::now_utc();
    let crm = adapter.crm();
    let settings = config::settings().await?;
    let store = KvStore::default_store();
    let client = HttpCrm::new(crm, &store);
    let api = Api::new(&client, &clock, config::limits(crm).await?);
    let sweeps = sqlite::sweeps().await?;
    let progress = sweep::sweep_page(
        adapter,
        &sweeps,
        &settings.playbook,
        &claimant(now),
        now,
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
