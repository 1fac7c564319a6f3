//! A page of open deals from Pipedrive's v2 API:
//! `GET /api/v2/deals?status=open&sort_by=id&limit=…&cursor=…`, the next page's cursor in
//! `additional_data.next_cursor` (`null` on the last page). Each deal is read as a webhook's
//! `data` is ([`super::accept::fill`]) and completed as a webhook's deal is
//! ([`super::complete_with`]: option labels, the playbook's fields, the deal's person), the
//! page's persons read a hundred a call ([`super::by_id::persons`]).
//!
//! The list is asked for the last email each way, the ids of the last done and next activities
//! and how many activities are done (`include_fields`); API v2 deals carry no activity dates, so
//! the page's activities are read by id, one call per 100 ([`super::by_id`]): a swept deal rots
//! from its last real activity, and a next activity holds it back, as on a webhook. The page's
//! organizations are read by id too; each deal's done activities take a call of its own (the API
//! filters activities by one deal), except a deal with none done. A page of `n` deals costs
//! 1 + 3 calls (per hundred) + one per deal with done activities.

use super::complete::PageReads;
use crate::{
    Error,
    api::Api,
    crm::{
        FieldNames,
        list::{DealPage, listed, page_of, send_for_list},
    },
    model::{Record, RecordKind, value_text as text},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The most deals one page takes: Pipedrive's most, and one call for their persons.
const PAGE: usize = 100;

/// List one page of open deals from `cursor`.
pub(super) async fn open_deals(
    cursor: Option<&str>,
    page_size: usize,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<DealPage, Error> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("status", "open")
        .append_pair("sort_by", "id")
        .append_pair("sort_direction", "asc")
        .append_pair(
            "include_fields",
            "last_incoming_mail_time,last_outgoing_mail_time,last_activity_id,next_activity_id,done_activities_count",
        )
        .append_pair("limit", &page_size.clamp(1, PAGE).to_string());
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    let call = CrmCall::get(format!("/api/v2/deals?{}", query.finish()));
    let (deals, answer) = send_for_list(&call, "data", api).await?;
    let mut deals: Vec<serde_json::Map<String, serde_json::Value>> = deals
        .into_iter()
        .filter_map(|d| match d {
            serde_json::Value::Object(deal) => Some(deal),
            _ => None,
        })
        .collect();
    super::by_id::dated(&mut deals, api).await?;
    // Organizations only for fit; one refused leaves each deal's fit without its company.
    let (persons, organizations) = futures::join!(super::by_id::persons(&deals, api), async {
        match playbook.fit {
            Some(_) => super::by_id::organizations(&deals, api).await,
            None => Ok(Default::default()),
        }
    });
    let page = PageReads {
        persons: persons?,
        organizations,
    };
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for deal in &deals {
        let Some(id) = deal
            .get("id")
            .and_then(text)
            .filter(|id| super::accept::is_id(id))
        else {
            continue;
        };
        let mut record = Record::new_deal(id.clone());
        super::accept::fill(&mut record, RecordKind::Deal, deal);
        ids.push(id);
        events.push(listed(record, false));
    }
    let next = answer["additional_data"]["next_cursor"]
        .as_str()
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    let completed = api
        .map(events, |event| {
            super::complete::complete_with(event, playbook, names, api, Some(&page))
        })
        .await;
    page_of(&ids, completed, next)
}
