//! A page of open deals from HubSpot's CRM search: `POST /crm/v3/objects/deals/search` with
//! `hs_is_closed` `EQ` `false`, sorted by `hs_object_id` ascending, paged with `after`; the page's
//! deals then read as a webhook's are ([`super::complete::complete`]: a batch read with the stage
//! history, the contact associations and the contacts), since search answers no history.
//!
//! Search answers at most 10,000 results per query. Sorted by id, the query restarts before
//! reaching the cap with `hs_object_id` `GT` the last id read, and no `after`: the cursor holds
//! that floor, HubSpot's `after` and how many results the query has given so far.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::complete;
use crate::{
    Error,
    api::Api,
    crm::{
        FieldNames,
        list::{DealPage, listed, page_of, send_for_list},
    },
    model::Record,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The most results one search query gives, `after` included.
pub(super) const SEARCH_CAP: usize = 10_000;
/// The most deals one page takes: one batch read's worth.
const PAGE: usize = 100;

/// Where the sweep is in HubSpot's search, kept between calls as JSON.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
struct Cursor {
    /// The query lists deals with ids above this one (none on the first query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gt: Option<String>,
    /// HubSpot's `after` within the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// How many results the query has given so far.
    #[serde(default)]
    read: usize,
}

/// List one page of open deals from `cursor`.
pub(super) async fn open_deals(
    cursor: Option<&str>,
    page_size: usize,
    playbook: &Playbook,
    names: &FieldNames,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<DealPage, Error> {
    let cursor: Cursor = match cursor {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            Error::Store(format!(
                "the HubSpot sweep cursor {text:?} cannot be read: {e}"
            ))
        })?,
        None => Cursor::default(),
    };
    let limit = page_size.clamp(1, PAGE);
    let call = search(&cursor, limit);
    let (results, answer) = send_for_list(&call, "results", api).await?;
    let ids: Vec<String> = results
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .filter(|id| is_id(id))
        .collect();
    let after = answer["paging"]["next"]["after"].as_str();
    let next = next(&cursor, ids.last(), ids.len(), after, limit);
    let events = ids
        .iter()
        .map(|id| listed(Record::new_deal(id.clone()), false))
        .collect();
    let completed = complete::complete(events, playbook, names, api).await;
    page_of(&ids, completed, next.map(|c| json!(c).to_string()))
}

/// A HubSpot record id: digits (it goes into batch reads and API paths).
fn is_id(id: &str) -> bool {
    (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// The search call for `cursor`.
fn search(cursor: &Cursor, limit: usize) -> CrmCall {
    let mut filters =
        vec![json!({"propertyName": "hs_is_closed", "operator": "EQ", "value": "false"})];
    if let Some(gt) = &cursor.gt {
        filters.push(json!({"propertyName": "hs_object_id", "operator": "GT", "value": gt}));
    }
    let mut body = json!({
        "filterGroups": [{"filters": filters}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "properties": ["hs_object_id"],
        "limit": limit,
    });
    if let Some(after) = &cursor.after {
        body["after"] = Value::String(after.clone());
    }
    CrmCall::with_body("POST", "/crm/v3/objects/deals/search", body)
}

/// The cursor after a page of `count` results ending at `last`: HubSpot's `after` while the
/// next page stays within [`SEARCH_CAP`], else a new query above `last`; `None` when HubSpot
/// has no next page.
fn next(
    cursor: &Cursor,
    last: Option<&String>,
    count: usize,
    after: Option<&str>,
    limit: usize,
) -> Option<Cursor> {
    let read = cursor.read + count;
    // At the cap HubSpot may name no next page although deals remain: a full page there
    // restarts the query above the last id (an empty page ends the sweep).
    let Some(after) = after else {
        return (count >= limit && read + limit > SEARCH_CAP).then(|| Cursor {
            gt: last.cloned().or_else(|| cursor.gt.clone()),
            after: None,
            read: 0,
        });
    };
    if read + limit <= SEARCH_CAP {
        return Some(Cursor {
            gt: cursor.gt.clone(),
            after: Some(after.to_owned()),
            read,
        });
    }
    Some(Cursor {
        gt: last.cloned().or_else(|| cursor.gt.clone()),
        after: None,
        read: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_restarts_above_the_last_id_before_the_ten_thousand_cap() {
        let near = Cursor {
            gt: None,
            after: Some("9900".into()),
            read: 9_900,
        };
        let last = "51234".to_owned();
        let restarted = next(&near, Some(&last), 100, Some("10000"), 100).unwrap();
        assert_eq!(
            restarted,
            Cursor {
                gt: Some("51234".into()),
                after: None,
                read: 0
            }
        );
        let body = search(&restarted, 100).body;
        assert_eq!(body["filterGroups"][0]["filters"][1]["operator"], "GT");
        assert_eq!(body["filterGroups"][0]["filters"][1]["value"], "51234");
        assert!(body.get("after").is_none());
        let early = next(&Cursor::default(), Some(&last), 100, Some("100"), 100).unwrap();
        assert_eq!((early.after.as_deref(), early.read), (Some("100"), 100));
        assert_eq!(
            next(&near, Some(&last), 60, None, 100),
            None,
            "a short page is the last"
        );
        assert_eq!(
            next(&Cursor::default(), Some(&last), 100, None, 100),
            None,
            "a full page far from the cap without a next page is the last"
        );
        assert_eq!(
            next(&near, Some(&last), 100, None, 100),
            Some(restarted),
            "at the cap HubSpot may name no next page while deals remain: restart above the last id"
        );
    }
}
