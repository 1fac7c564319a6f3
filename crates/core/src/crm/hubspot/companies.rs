//! Each deal's company (its primary one) for fit: associations v4 from deals to companies, then
//! one batch read of the companies a hundred at a time, side by side with the deals' other reads.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::complete::{associations, properties_of, read};
use crate::{
    Error,
    api::Api,
    crm::company::CompanyFields,
    ports::{Clock, CrmClient},
};

/// Where a HubSpot company keeps what fit reads.
pub(super) const FIELDS: CompanyFields = &[
    ("employees", "numberofemployees"),
    ("industry", "industry"),
    ("country", "country"),
];

/// HubSpot's association type of a deal's primary company.
const PRIMARY: u64 = 5;

/// Each deal's company properties (`None`: no company), or why they could not be read.
pub(super) type Companies = BTreeMap<String, Result<Option<Map<String, Value>>, Error>>;

/// The primary company of each of `deal_ids` (else its first), with `properties`.
pub(super) async fn companies(
    api: &Api<'_, impl CrmClient, impl Clock>,
    deal_ids: &[String],
    properties: &[String],
) -> Companies {
    if deal_ids.is_empty() {
        return Companies::new();
    }
    let associated = match associations(api, "companies", deal_ids).await {
        Ok(associated) => associated,
        Err(e) => {
            return deal_ids
                .iter()
                .map(|id| (id.clone(), Err(e.clone())))
                .collect();
        }
    };
    let chosen: BTreeMap<&String, String> = associated
        .iter()
        .filter_map(|(deal, to)| {
            let primary = to.iter().find(|(_, types)| types.contains(&PRIMARY));
            let company = primary.or(to.first()).map(|(id, _)| id.clone())?;
            Some((deal, company))
        })
        .collect();
    let mut ids: Vec<String> = chosen.values().cloned().collect();
    ids.sort();
    ids.dedup();
    let found = read(api, "companies", &ids, properties, &[]).await;
    deal_ids
        .iter()
        .map(|deal| {
            let company = match chosen.get(deal) {
                None => Ok(None),
                Some(id) => found
                    .get(id)
                    .cloned()
                    .unwrap_or(Ok(None))
                    .map(|object| object.map(|o| properties_of(&o))),
            };
            (deal.clone(), company)
        })
        .collect()
}
