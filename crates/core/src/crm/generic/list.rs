//! A page of open deals from the generic API: `GET /records/deals?status=open&limit=…&cursor=…`.

use serde::Deserialize;

use super::accept::{from_value, is_record_id};
use crate::{
    Error,
    api::Api,
    crm::list::{DealPage, UnreadableDeal},
    model::Record,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The answer: canonical records, and the next page's cursor (`null` on the last page).
#[derive(Deserialize)]
struct Page {
    records: Vec<Record>,
    next_cursor: Option<String>,
}

/// List one page of open deals from `cursor`.
pub(super) async fn open_deals(
    cursor: Option<&str>,
    page_size: usize,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<DealPage, Error> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("status", "open");
    query.append_pair("limit", &page_size.to_string());
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    let call = CrmCall::get(format!("/records/deals?{}", query.finish()));
    let answer = api.send(&call).await?;
    let page: Page = from_value(answer).map_err(|e| Error::CrmRejected {
        call: call.to_string(),
        reason: format!(
            "the list of open deals is not `{{\"records\": [...], \"next_cursor\": ...}}`: {e}"
        ),
    })?;
    let (records, unreadable) = page.records.into_iter().partition(|r| is_record_id(&r.id));
    Ok(DealPage {
        records,
        unreadable: unreadable_ids(unreadable),
        next: page.next_cursor.filter(|c| !c.is_empty()),
    })
}

/// Deals whose id could not go into an API path: reported, never written to.
fn unreadable_ids(records: Vec<Record>) -> Vec<UnreadableDeal> {
    records
        .into_iter()
        .map(|r| UnreadableDeal {
            reason: "the id is not 1 to 128 letters, digits, `_`, `.`, `:` or `-`".into(),
            record_id: r.id,
        })
        .collect()
}
