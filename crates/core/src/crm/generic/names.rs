//! Users by name: the generic JSON webhook's API has no users endpoint, and its events name
//! users by id only (`changed_by`, the record's `owner_id`), so nobody is looked up and notices
//! show the id.

use std::collections::{BTreeMap, BTreeSet};

use crate::Error;

/// No lookup for any of `ids`: nothing is asked, so nothing is kept.
pub(super) fn user_names(_: &BTreeSet<String>) -> BTreeMap<String, Result<Option<String>, Error>> {
    BTreeMap::new()
}
