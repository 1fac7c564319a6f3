//! `POST /flag-stale-deals/<crm>/sweep`: one page of the CRM's open deals judged for staleness
//! ([`pipeline_guard_core::sweep`]), for a scheduler that calls until the answer says `done`.
//!
//! Authorized like the other scheduled routes ([`scheduled::authorize`]: the sweep token or the
//! admin token, constant time, `401` otherwise; `GET` with `?token=` for `spin aka cron`).
//! `?pages=N` (at most 20) sweeps up to N pages in one call while the deadline allows. Answers the progress JSON: `200` for a page
//! swept and while another call holds the sweep (`"status": "busy"`: call again later), `503`
//! with `Retry-After` when the CRM could not list the page (`"status": "retry_later"`: the cursor
//! stays, and `curl --retry` waits as told and calls again). The call that ends a sweep measures
//! the portfolio's hygiene (`hygiene_pct`; the report has the rest). Each call also reminds the
//! AEs of verdicts awaited 24 hours, once each (`verdict_reminders`).

use pipeline_guard_core::{Error, crm::Adapter, handoffs::reminder, sweep};
use spin_sdk::http::{Request, Response};

use crate::{
    crm_client::HttpCrm,
    database, respond,
    routes::claimant,
    scheduled::{self, Call},
};

/// Sweep a page (or `?pages=N`) of `adapter`'s CRM.
pub async fn sweep<A: Adapter>(adapter: &A, request: &Request) -> Result<Response<String>, Error> {
    let call = Call::start(request).await?;
    let pages = pages(scheduled::only(request, "pages")?)?;
    let crm = adapter.crm();
    let client = HttpCrm::new(crm, &call.store);
    let api = call.api(crm, &client).await?;
    let stores = sweep::Stores {
        sweeps: database::sweeps().await?,
        portfolios: database::portfolios().await?,
    };
    let mut progress = sweep::sweep_pages(
        adapter,
        &stores,
        &call.settings,
        &claimant(call.now),
        call.now,
        &api,
        pages,
    )
    .await?;
    // Handoffs send no webhook while they wait: the sweep looks for verdicts awaited 24 hours.
    // A failure here is the reminders' alone: the page is kept, the answer says why.
    if progress.status != sweep::SweepStatus::RetryLater {
        let reminded = async {
            let log = database::handoffs().await?;
            reminder::remind(adapter, &log, &call.settings, call.now, &api).await
        };
        match reminded.await {
            Ok(reminded) => progress.reminded(reminded),
            Err(e) => progress.failures.push(format!("verdict reminders: {e}")),
        }
    }
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

/// The `pages` parameter: how many pages one call may sweep (1..=[`sweep::MAX_PAGES`], default
/// 1), for a scheduler that calls only every few minutes.
fn pages(value: Option<String>) -> Result<u32, Error> {
    let Some(value) = value else {
        return Ok(1);
    };
    value
        .parse()
        .ok()
        .filter(|n| (1..=sweep::MAX_PAGES).contains(n))
        .ok_or_else(|| {
            Error::invalid_query(format!(
                "pages: {value:?} is not a number of pages within 1..={}",
                sweep::MAX_PAGES
            ))
        })
}
