//! One page of a CRM's open deals, for a sweep ([`super::Adapter::list_open_deals`]).
//!
//! Each adapter lists with its CRM's own list or search API, then completes the page's records
//! with the same code that completes a webhook's ([`super::Adapter::complete`]), so a deal swept
//! and a deal delivered are read alike.

use serde::Serialize;

use crate::{
    Error,
    api::Api,
    event::{Change, WebhookEvent},
    model::Record,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// One page of open deals and where the next one starts.
#[derive(Debug, Clone, Default)]
pub struct DealPage {
    /// The deals, complete as a webhook's records are.
    pub records: Vec<Record>,
    /// The deals of the page that could not be read, for good (a `4xx` for that deal, an
    /// answer without its data): they are counted as failed and the sweep goes on.
    pub unreadable: Vec<UnreadableDeal>,
    /// The cursor of the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A listed deal that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnreadableDeal {
    /// The deal.
    pub record_id: String,
    /// What the CRM said.
    pub reason: String,
}

/// A listed deal as an event for the adapter's `complete`: an update of a record whose fields
/// are what the list gave (perhaps only its id).
pub(crate) fn listed(record: Record, complete: bool) -> WebhookEvent {
    WebhookEvent {
        dedupe_key: format!("sweep:{}", record.id),
        event_id: format!("sweep:{}", record.id),
        occurred_at: time::OffsetDateTime::UNIX_EPOCH,
        change: Change::Updated,
        record,
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete,
    }
}

/// The page of `completed` events (one per listed deal, in order): a transient error for any
/// deal fails the whole page, so the sweep's cursor stays and the next call lists it again; a
/// deal deleted since it was listed is left out.
pub(crate) fn page_of(
    ids: &[String],
    completed: Vec<Result<WebhookEvent, Error>>,
    next: Option<String>,
) -> Result<DealPage, Error> {
    let mut page = DealPage {
        next,
        ..DealPage::default()
    };
    for (id, result) in ids.iter().zip(completed) {
        match result {
            Ok(event) if event.change == Change::Deleted => {}
            Ok(event) => page.records.push(event.record),
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => page.unreadable.push(UnreadableDeal {
                record_id: id.clone(),
                reason: e.to_string(),
            }),
        }
    }
    Ok(page)
}

/// Send a list `call` and take the items its answer holds under `key`, with the whole answer
/// (for its paging); an answer without that list is refused.
pub(crate) async fn send_for_list(
    call: &CrmCall,
    key: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<(Vec<serde_json::Value>, serde_json::Value), Error> {
    let mut answer = api.send(call).await?;
    let Some(serde_json::Value::Array(items)) = answer.get_mut(key).map(serde_json::Value::take)
    else {
        return Err(Error::CrmRejected {
            call: call.to_string(),
            reason: format!("the answer has no `{key}` list"),
        });
    };
    Ok((items, answer))
}
