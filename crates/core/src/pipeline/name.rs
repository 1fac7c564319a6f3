//! The name stage: the CRM users the batch's notices will name (a handoff's BDR and AE), by name,
//! from the [`PeopleStore`] and, for those missing or older than a day, from the CRM's users
//! API ([`crate::people::lookup`]). Each lookup call gets a short timeout of its own, so a slow
//! users API costs the delivery little; a lookup that fails leaves the id shown.

use std::{collections::BTreeSet, time::Duration};

use super::{Fresh, Job};
use crate::{
    api::{Api, Limits},
    crm::Adapter,
    function::FunctionKind,
    gate,
    people::{Names, PeopleStore, lookup},
    ports::{Clock, CrmClient},
};

/// The longest one name lookup may take: a name is worth less than the delivery's time.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// The names of the people `events`' notices name.
pub(super) async fn name<A: Adapter>(
    adapter: &A,
    job: &Job<'_>,
    events: &[Fresh],
    people: &impl PeopleStore,
    client: &impl CrmClient,
    clock: &impl Clock,
) -> Names {
    let ids: BTreeSet<String> = match job.function {
        FunctionKind::GateHandoff => events
            .iter()
            .flat_map(|f| gate::people::named(&f.event, &job.settings.playbook))
            .collect(),
        // No other notice names a person: nothing to look up.
        FunctionKind::ScoreLead | FunctionKind::FlagStaleDeals => BTreeSet::new(),
    };
    let limits = Limits {
        call_timeout: job.limits.call_timeout.min(LOOKUP_TIMEOUT),
        ..job.limits
    };
    let api = Api::new(client, clock, limits);
    lookup::names(adapter, &ids, people, &api, job.now).await
}
