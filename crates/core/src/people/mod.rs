//! People by name: the CRM user ids pipeline-guard assigns tasks to, as the names people read.
//!
//! - [`Names`]: the names a job knows, by CRM user id, and how a notice or a report shows a
//!   person (`Alice Smith (user 123)`, or `user 123` while no name is known).
//! - [`PeopleStore`]: where names are kept between deliveries ([`sql::SqlPeople`] in the
//!   database, [`memory::MemoryPeople`] in tests, [`NoPeople`] where none are kept).
//! - [`lookup`]: the names a delivery needs, from the store, and from the CRM's users API
//!   ([`crate::crm::Adapter::user_names`]) for those missing or older than [`LIFETIME`], side by
//!   side, once per distinct id. A lookup that fails leaves the id: it never fails a delivery.
//!
//! Reports and pages read names from the store only, never from the CRM.

pub mod lookup;
pub mod memory;
pub mod sql;
#[cfg(test)]
mod tests;

use std::{collections::BTreeMap, time::Duration};

use time::OffsetDateTime;

use crate::{Error, crm_id::Crm};

/// How long a name read from the CRM is used before it is read again: a renamed rep shows
/// within a day, and a warm batch costs no call for names.
pub const LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The names a job knows, by CRM user id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names(BTreeMap<String, String>);

impl Names {
    /// The name of user `id`, when known.
    pub fn of(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }

    /// Whether no name is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<(String, String)> for Names {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Names {
        Names(iter.into_iter().collect())
    }
}

/// A person as a notice names them: `Alice Smith (user 123)`, or `user 123` without a name.
pub fn labelled(id: &str, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("{name} (user {id})"),
        None => format!("user {id}"),
    }
}

/// The order reps are listed in: by name, case-insensitively (the id where no name is known),
/// then by id. Never by a figure.
pub fn by_name(a: (Option<&str>, &str), b: (Option<&str>, &str)) -> std::cmp::Ordering {
    let key = |(name, id): (Option<&str>, &str)| name.unwrap_or(id).to_lowercase();
    key(a).cmp(&key(b)).then_with(|| a.1.cmp(b.1))
}

/// What the store knows of one user: their name (`None` when the CRM answered without one, so
/// it is not asked again before [`LIFETIME`]) and when it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownName {
    /// The CRM user id.
    pub id: String,
    /// The name the CRM gave, if any.
    pub name: Option<String>,
    /// When the CRM was asked.
    pub fetched_at: OffsetDateTime,
}

/// Where names are kept between deliveries.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait PeopleStore {
    /// Whether names are kept at all; where they are not ([`NoPeople`]), none are looked up.
    fn keeps(&self) -> bool {
        true
    }

    /// What is known of each of `ids` of `crm` (ids never looked up are left out).
    async fn known(&self, crm: Crm, ids: &[&str]) -> Result<Vec<KnownName>, Error>;

    /// Keep `found`, replacing what was known of the same ids.
    async fn keep(&self, crm: Crm, found: &[KnownName]) -> Result<(), Error>;
}

/// Where no names are kept (a function that names nobody, a dry run): people are shown by id
/// and the CRM is never asked.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPeople;

impl PeopleStore for NoPeople {
    fn keeps(&self) -> bool {
        false
    }

    async fn known(&self, _: Crm, _: &[&str]) -> Result<Vec<KnownName>, Error> {
        Ok(Vec::new())
    }

    async fn keep(&self, _: Crm, _: &[KnownName]) -> Result<(), Error> {
        Ok(())
    }
}
