//! The names a delivery needs: those the store holds younger than [`LIFETIME`], the others read
//! from the CRM side by side (each distinct id once) and kept. A lookup that fails or is refused
//! leaves the id shown (a name read earlier stays in use), and never fails the delivery.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::{KnownName, LIFETIME, Names, PeopleStore};
use crate::{
    api::Api,
    crm::Adapter,
    ports::{Clock, CrmClient},
};

/// The names of `ids`, as far as they can be found within `api`'s limits.
pub async fn names<A: Adapter>(
    adapter: &A,
    ids: &BTreeSet<String>,
    store: &impl PeopleStore,
    api: &Api<'_, impl CrmClient, impl Clock>,
    now: OffsetDateTime,
) -> Names {
    if !store.keeps() || ids.is_empty() {
        return Names::default();
    }
    let crm = adapter.crm();
    let asked: Vec<&str> = ids.iter().map(String::as_str).collect();
    // A store that cannot be read names nobody from it: every id is asked of the CRM.
    let known = store.known(crm, &asked).await.unwrap_or_default();
    let mut names: BTreeMap<String, String> = known
        .iter()
        .filter_map(|k| Some((k.id.clone(), k.name.clone()?)))
        .collect();
    let fresh: BTreeSet<&str> = known
        .iter()
        .filter(|k| is_fresh(k, now))
        .map(|k| k.id.as_str())
        .collect();
    let due: BTreeSet<String> = ids
        .iter()
        .filter(|id| !fresh.contains(id.as_str()))
        .cloned()
        .collect();
    if due.is_empty() {
        return names.into_iter().collect();
    }
    let mut found = Vec::with_capacity(due.len());
    for (id, answer) in adapter.user_names(&due, api).await {
        // A failed lookup is not kept: the next delivery asks again.
        let Ok(name) = answer else { continue };
        match &name {
            Some(name) => names.insert(id.clone(), name.clone()),
            None => names.remove(&id),
        };
        found.push(KnownName {
            id,
            name,
            fetched_at: now,
        });
    }
    // Names not kept are only asked again next time.
    let _ = store.keep(crm, &found).await;
    names.into_iter().collect()
}

/// Whether `known` was read from the CRM less than [`LIFETIME`] before `now` (a time ahead of
/// `now`, another node's clock, counts as fresh).
fn is_fresh(known: &KnownName, now: OffsetDateTime) -> bool {
    (now - known.fetched_at).whole_seconds() < LIFETIME.as_secs() as i64
}
