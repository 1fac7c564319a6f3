//! The contract every CRM adapter keeps: one type per CRM implementing [`Adapter`].
//!
//! A delivery goes through an adapter at three points: [`Adapter::accept`] authenticates the
//! request and parses its events; [`Adapter::complete`] fetches, for the whole batch at once,
//! what the events' records lack; [`Adapter::current_stages`] reads deals' stages again before
//! a move; [`Adapter::render`] turns the batch's write-backs into the
//! CRM's API calls, batched where its API allows. A sweep lists open deals a page at a time with
//! [`Adapter::list_open_deals`]. Everything between those (claiming, ordering,
//! deciding, applying with deadlines, recording) is the pipeline's, the same for every CRM.

use std::collections::{BTreeMap, BTreeSet};

use time::OffsetDateTime;

use super::{Crm, Facts, FieldNames, Reply, Secrets, list::DealPage};
use crate::{
    Error,
    api::Api,
    event::{Delivery, WebhookEvent},
    inbound::InboundRequest,
    outcome::DeliveryOutcome,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::{CrmCall, WriteBack},
};

/// One API call carrying out part of one or more write-backs.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCall {
    /// The call.
    pub call: CrmCall,
    /// The write-backs it serves, by their index in the slice given to [`Adapter::render`].
    pub serves: Vec<usize>,
}

impl BatchCall {
    /// A call serving the one write-back at `index`.
    pub fn single(call: CrmCall, index: usize) -> BatchCall {
        BatchCall {
            call,
            serves: vec![index],
        }
    }
}

/// The calls of a batch's write-backs, in steps: every call of a step may run at once, and a
/// step runs only for the write-backs whose earlier steps succeeded. Only the last step may hold
/// calls that are not idempotent (creating a task or a note), so a retry after a failure repeats
/// nothing twice that a person would see.
pub type Steps = Vec<Vec<BatchCall>>;

/// A CRM adapter.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Adapter {
    /// What this CRM is like: its variables, credentials, timeouts, tenants and field names.
    const FACTS: Facts;

    /// [`Adapter::FACTS`], for code that holds an adapter.
    fn facts(&self) -> &'static Facts {
        &Self::FACTS
    }

    /// The CRM this adapter speaks.
    fn crm(&self) -> Crm {
        Self::FACTS.crm
    }

    /// What this CRM's webhooks are authenticated with, and the tenants they may come from.
    type Credentials;

    /// The credentials, from the CRM's secret variables ([`Facts::secret_variables`]), checked
    /// once: a required one missing or empty, or a tenant id of the wrong shape, is a
    /// configuration error naming the variable.
    fn credentials(&self, secrets: &Secrets) -> Result<Self::Credentials, Error>;

    /// Authenticate a webhook request with `credentials`, parse it into events, and refuse it
    /// (`403`) when it comes from a tenant the credentials do not serve.
    fn accept(
        &self,
        request: &InboundRequest<'_>,
        credentials: &Self::Credentials,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error>;

    /// Fetch what the events' records lack (CRMs that send only the changed property), for the
    /// whole batch at once: one result per event, in order. A record deleted since comes back as
    /// a [`crate::event::Change::Deleted`] event; a CRM answer without the record's data is an
    /// [`Error::CrmRejected`], never an empty record. Fields are read by the CRM's `names`.
    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>>;

    /// The stage each deal of `ids` sits in now, read from the CRM in as few calls as its API
    /// allows: the re-read before a blocked handoff is moved back, so a deal moved on since is
    /// never moved back. A deal the CRM no longer has is left out; one answered without its stage
    /// is a transient error (`CrmUnavailable`), so the move waits for the CRM's retry.
    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<BTreeMap<String, String>, Error>;

    /// One page of open deals (at most `page_size`, fewer where the CRM's API caps a page),
    /// from `cursor` (`None`: the first page), completed as [`Adapter::complete`] completes a
    /// webhook's records. The cursor is this adapter's own, opaque to the caller; a transient
    /// error (a `429`, a `5xx`) leaves it to be listed again.
    async fn list_open_deals(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<DealPage, Error>;

    /// The display name of each of `ids` (CRM user ids a notice names), read from the CRM's
    /// users API, side by side or in one query, never more than one call per id: `Ok(None)` for
    /// a user the CRM does not have or answers without a name, an error for a lookup that
    /// failed. Each CRM's `names.rs`.
    async fn user_names(
        &self,
        ids: &BTreeSet<String>,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> BTreeMap<String, Result<Option<String>, Error>>;

    /// The calls that carry out `write_backs` (their fields by the CRM's names), batched where
    /// the CRM's API allows.
    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps;

    /// The write-backs a successful answer to a batch `call` says were refused (a multi-status
    /// answer), by index into its [`BatchCall::serves`] order, with the CRM's reason.
    fn refused(&self, _call: &BatchCall, _answer: &serde_json::Value) -> Vec<(usize, String)> {
        Vec::new()
    }

    /// The answer to a delivery, as this CRM expects it. `content_type` is the request's.
    fn reply(&self, content_type: Option<&str>, result: &Result<DeliveryOutcome, Error>) -> Reply {
        let _ = content_type;
        Reply::of(result)
    }
}

/// Steps for a CRM whose API takes one record per call: each write-back's first call (the
/// idempotent field update) in the first step, its others (a task or note) in the second.
pub fn one_record_per_call(
    write_backs: &[WriteBack],
    render: impl Fn(&WriteBack) -> Vec<CrmCall>,
) -> Steps {
    let mut steps: Steps = vec![Vec::new(), Vec::new()];
    for (i, write_back) in write_backs.iter().enumerate() {
        for (n, call) in render(write_back).into_iter().enumerate() {
            steps[n.min(1)].push(BatchCall::single(call, i));
        }
    }
    steps
}
