//! What a page of listed deals names by id, read a hundred at a time for a sweep: their last and
//! next activities, their persons and their organizations.
//!
//! API v2 deals name only their activities' ids (`include_fields=last_activity_id,
//! next_activity_id`), so the page's activities are read by id (`GET /api/v2/activities?ids=…`)
//! and their dates given to each deal as API v1 and webhooks name them (`last_activity_date`,
//! `next_activity_date`, `next_activity_time`), which the deal is then read with
//! ([`super::accept::fill`]). The page's persons are read the same way
//! (`GET /api/v2/persons?ids=…`) rather than one call a deal, and so are their organizations
//! (`GET /api/v2/organizations?ids=…`, read flat: [`super::organization`]).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::{
    Error,
    api::Api,
    crm::list::send_for_list,
    model::value_text as text,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The most ids Pipedrive takes in one `ids` filter.
const IDS_PER_CALL: usize = 100;

/// The persons `deals` name (`person_id`), by id; a person deleted since is not there.
pub(super) async fn persons(
    deals: &[Map<String, Value>],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, Map<String, Value>>, Error> {
    Ok(by_ids(deals, &["person_id"], "persons", "", api)
        .await?
        .into_iter()
        .filter_map(|(id, person)| match person {
            Value::Object(person) => Some((id, person)),
            _ => None,
        })
        .collect())
}

/// The organizations `deals` name (`org_id`), by id, flat; one deleted since is not there.
pub(super) async fn organizations(
    deals: &[Map<String, Value>],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, Map<String, Value>>, Error> {
    let query = format!("&{}", super::organization::QUERY);
    Ok(by_ids(deals, &["org_id"], "organizations", &query, api)
        .await?
        .into_iter()
        .filter_map(|(id, organization)| {
            Some((id, super::organization::flat(organization.as_object()?)))
        })
        .collect())
}

/// The `entity` items (`activities`, `persons`, `organizations`) whose ids `deals` hold in
/// `keys`, by id, a hundred a call with `query` (`&…`), side by side.
async fn by_ids(
    deals: &[Map<String, Value>],
    keys: &[&str],
    entity: &str,
    query: &str,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<BTreeMap<String, Value>, Error> {
    let ids: Vec<String> = deals
        .iter()
        .flat_map(|deal| keys.iter().filter_map(|key| deal.get(*key)))
        .filter_map(text)
        .filter(|id| super::accept::is_id(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let calls: Vec<CrmCall> = ids
        .chunks(IDS_PER_CALL)
        .map(|chunk| {
            CrmCall::get(format!(
                "/api/v2/{entity}?ids={}&limit={IDS_PER_CALL}{query}",
                chunk.join(",")
            ))
        })
        .collect();
    let answers = api
        .map(calls, |call| async move {
            send_for_list(&call, "data", api).await
        })
        .await;
    let mut items = BTreeMap::new();
    for answer in answers {
        for item in answer?.0 {
            if let Some(id) = item.get("id").and_then(text) {
                items.insert(id, item);
            }
        }
    }
    Ok(items)
}

/// Give each of `deals` the dates of its last done and next activities.
pub(super) async fn dated(
    deals: &mut [Map<String, Value>],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<(), Error> {
    let activities = by_ids(
        deals,
        &["last_activity_id", "next_activity_id"],
        "activities",
        "",
        api,
    )
    .await?;
    for deal in deals {
        let last = deal.get("last_activity_id").and_then(text);
        if let Some(activity) = last.and_then(|id| activities.get(&id)) {
            let day = activity.get("due_date").and_then(text).or_else(|| {
                // `2026-11-20 10:04:00`: its day.
                let done = activity.get("marked_as_done_time").and_then(text)?;
                Some(done.chars().take("YYYY-MM-DD".len()).collect())
            });
            if let Some(day) = day {
                deal.insert("last_activity_date".into(), Value::String(day));
            }
        }
        let next = deal.get("next_activity_id").and_then(text);
        if let Some(activity) = next.and_then(|id| activities.get(&id)) {
            for (from, to) in [
                ("due_date", "next_activity_date"),
                ("due_time", "next_activity_time"),
            ] {
                if let Some(value) = activity.get(from).and_then(text) {
                    deal.insert(to.into(), Value::String(value));
                }
            }
        }
    }
    Ok(())
}
