//! The ledger of events: which deliveries were claimed, by whom, and how each event ended.
//!
//! It is what makes "nothing applied twice, nothing lost" hold when deliveries arrive at once:
//! a worker **claims** every event of its delivery in one atomic statement before acting, so of
//! two concurrent copies only one acts; a claim is a lease that expires, so a crashed worker's
//! events are taken over by the CRM's next retry; an event is **settled** (processed, superseded
//! or failed, with a brief of its decision) only after its write-back succeeded. The ledger also
//! keeps, per record and kind of change, the newest change applied, so an older change arriving
//! late is superseded.
//!
//! Entries are kept for as long as CRMs retry ([`Retention`]), then forgotten through an index
//! on their expiry, never by scanning. Keys are hashes of the CRM's ids, so they stay short.
//!
//! [`sql::SqlLedger`] keeps it in a SQL database (Spin's `spin:sqlite`); [`crate::memory`] has an
//! in-memory one for tests and dry runs. Both pass the same conformance tests.

#[cfg(test)]
mod conformance;
pub mod sql;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{
    Error,
    crm_id::Crm,
    event::WebhookEvent,
    function::{Brief, FunctionKind},
    outcome::EventStatus,
};

/// How long the ledger keeps what it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// How long a claim holds before another worker may take the event over (a crash, a
    /// worker past its deadline). Longer than any delivery's deadline.
    pub lease: time::Duration,
    /// How long a settled event is remembered: as long as CRMs retry (HubSpot workflows retry
    /// for 3 days).
    pub keep: time::Duration,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            lease: time::Duration::minutes(2),
            keep: time::Duration::days(7),
        }
    }
}

/// One event a worker wants to claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Claiming {
    /// [`event_key`] of the event.
    pub key: String,
    /// The function handling it.
    pub function: FunctionKind,
    /// The CRM it came from.
    pub crm: Crm,
    /// The CRM's event id, for people reading the status view.
    pub event_id: String,
    /// The record it concerns.
    pub record_id: String,
}

/// What the ledger answers for one claimed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The event is this worker's to handle now.
    Mine,
    /// The event is this worker's, and an earlier attempt already made part of its write-back
    /// (the fields, not the task): its write-back must be carried out whole, although the record
    /// may already hold the fields.
    Resume,
    /// Already settled by an earlier delivery.
    Settled(Settled),
    /// Claimed by another worker whose lease has not expired.
    Busy,
}

/// How an event ended, as the ledger keeps it: small, never whole evidence texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settled {
    /// Processed, superseded or failed.
    pub status: EventStatus,
    /// The decision in a few fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<Brief>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One event to settle.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// The event's claim.
    pub claim: Claiming,
    /// How it ended.
    pub settled: Settled,
    /// The event itself, kept only when it failed, so an admin can retry it.
    pub event: Option<WebhookEvent>,
}

/// A failed event, as the status view and the retry route see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedEvent {
    /// The CRM's event id.
    pub event_id: String,
    /// The record it concerned.
    pub record_id: String,
    /// Why it failed.
    pub reason: String,
    /// When it failed.
    #[serde(with = "time::serde::rfc3339")]
    pub failed_at: OffsetDateTime,
}

/// The ledger's port.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Ledger {
    /// Claim `claims` for `claimant` until `now + lease`, atomically: per claim, in order, whether
    /// it is now this worker's, already settled, or held by another worker. An event whose claim
    /// expired, or that an admin reopened, is claimed again.
    async fn claim(
        &self,
        claims: &[Claiming],
        claimant: &str,
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<Vec<Claim>, Error>;

    /// The newest change time applied for each of `streams` ([`stream_key`]) that has one.
    async fn newest(&self, streams: &[String]) -> Result<BTreeMap<String, OffsetDateTime>, Error>;

    /// Settle events `claimant` holds, and move each stream's newest change forward (never back).
    /// A claim another worker took over meanwhile is left as that worker has it.
    async fn settle(
        &self,
        claimant: &str,
        settlements: &[Settlement],
        newest: &[(String, OffsetDateTime)],
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<(), Error>;

    /// Note that `claimant`'s events with `keys` had part of their write-back made, so whoever
    /// handles them next resumes them ([`Claim::Resume`]).
    async fn mark_partial(&self, claimant: &str, keys: &[String]) -> Result<(), Error>;

    /// Give up every claim `claimant` still holds (the work was not finished), so the CRM's retry
    /// takes them at once rather than after the lease.
    async fn release(&self, claimant: &str) -> Result<(), Error>;

    /// Reopen up to `limit` failed events of `function` from `crm` for a retry, and return them.
    /// Events an earlier retry reopened but did not finish (it stopped, or they were left pending
    /// and their lease ran out) are reopened again: a retry never loses them.
    async fn reopen(
        &self,
        function: FunctionKind,
        crm: Crm,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Vec<WebhookEvent>, Error>;

    /// The most recent failed events of `function`, newest first, at most `limit`.
    async fn failed(&self, function: FunctionKind, limit: usize)
    -> Result<Vec<FailedEvent>, Error>;

    /// Forget what has been kept longer than its retention.
    async fn forget_expired(&self, now: OffsetDateTime) -> Result<(), Error>;
}

/// The ledger key of the event with `dedupe_key`, as `function` handles it: 32 hex digits,
/// whatever the length of the CRM's ids.
pub fn event_key(function: FunctionKind, dedupe_key: &str) -> String {
    short_hash(&[function.name(), dedupe_key])
}

/// The ledger key of the stream of changes of one kind to one record, in which an older change
/// is superseded by a newer one. Streams never mix records, record kinds or kinds of change: an
/// update never supersedes a stage change.
pub fn stream_key(function: FunctionKind, crm: Crm, event: &WebhookEvent) -> String {
    short_hash(&[
        function.name(),
        crm.name(),
        event.record.kind.as_str(),
        &event.record.id,
        event.change.stream(),
    ])
}

fn short_hash(parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    for part in parts {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..16])
}

/// Unix milliseconds, as the ledger stores instants.
pub(crate) fn millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The instant of unix milliseconds `ms`.
pub(crate) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
