//! The names in memory, with the same semantics as [`super::sql::SqlPeople`].

use std::{cell::RefCell, collections::BTreeMap};

use super::{KnownName, PeopleStore};
use crate::{Error, crm_id::Crm};

/// Names kept in memory, for tests and dry runs.
#[derive(Debug, Default)]
pub struct MemoryPeople(RefCell<BTreeMap<(&'static str, String), KnownName>>);

impl MemoryPeople {
    /// Everything kept, by CRM and id.
    pub fn kept(&self) -> Vec<(Crm, KnownName)> {
        self.0
            .borrow()
            .iter()
            .filter_map(|((crm, _), known)| Some((Crm::from_name(crm)?, known.clone())))
            .collect()
    }
}

impl PeopleStore for MemoryPeople {
    async fn known(&self, crm: Crm, ids: &[&str]) -> Result<Vec<KnownName>, Error> {
        let kept = self.0.borrow();
        Ok(ids
            .iter()
            .filter_map(|id| kept.get(&(crm.name(), (*id).to_owned())).cloned())
            .collect())
    }

    async fn keep(&self, crm: Crm, found: &[KnownName]) -> Result<(), Error> {
        let mut kept = self.0.borrow_mut();
        for known in found {
            kept.insert((crm.name(), known.id.clone()), known.clone());
        }
        Ok(())
    }
}
