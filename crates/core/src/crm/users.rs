//! Users read one call each (HubSpot's owners, Pipedrive's users), side by side: what CRMs
//! without a users query share for [`super::Adapter::user_names`].

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::{
    Error,
    api::Api,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The name of each user of `ids`, read with `GET {path}` where `path` gives one for the id
/// (`None`: not an id of this CRM, not asked) and named by `name` from the answer. A user the
/// CRM does not have (`404`) has no name; another failure is the lookup's error.
pub(super) async fn each_by_id(
    ids: &BTreeSet<String>,
    api: &Api<'_, impl CrmClient, impl Clock>,
    path: fn(&str) -> Option<String>,
    name: fn(&Value) -> Option<String>,
) -> BTreeMap<String, Result<Option<String>, Error>> {
    let found = api
        .map(ids, |id| async move {
            let Some(path) = path(id) else {
                return (id.clone(), Ok(None));
            };
            let named = match api.send(&CrmCall::get(path)).await {
                Ok(answer) => Ok(name(&answer)),
                Err(Error::CrmRecordGone { .. }) => Ok(None),
                Err(e) => Err(e),
            };
            (id.clone(), named)
        })
        .await;
    found.into_iter().collect()
}

/// Whether `id` is a number, as HubSpot's and Pipedrive's user ids are.
pub(super) fn is_number(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}
