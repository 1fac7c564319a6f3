//! In-memory stand-ins for the outside world: a [`Ledger`], a recording [`CrmClient`], a
//! [`Clock`], a handoff log ([`MemoryHandoffs`]) and a review queue ([`MemoryReview`]).
//!
//! Used by the fixture tests, and by anything that runs the pipeline off the edge (a dry run of
//! a playbook against exported records).

use std::{cell::RefCell, collections::BTreeMap, time::Duration};

use time::OffsetDateTime;

use crate::{
    Error,
    crm_id::Crm,
    event::WebhookEvent,
    function::FunctionKind,
    ledger::{Claim, Claiming, FailedEvent, Ledger, Retention, Settled, Settlement},
    outcome::EventStatus,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

pub use crate::{handoffs::memory::MemoryHandoffs, review::memory::MemoryReview};

/// A clock that starts at zero and only moves when slept on: deadlines in tests are exact.
#[derive(Debug, Default)]
pub struct StoppedClock(RefCell<Duration>);

impl Clock for StoppedClock {
    fn elapsed(&self) -> Duration {
        *self.0.borrow()
    }

    async fn sleep(&self, duration: Duration) {
        *self.0.borrow_mut() += duration;
    }
}

/// A CRM that records every call and accepts it, answering with a canned JSON body for its
/// path (`{}` by default), refuses the calls [`RecordingCrm::refuse`] names, or refuses all
/// while [`RecordingCrm::fail`] is set.
#[derive(Debug, Default)]
pub struct RecordingCrm {
    calls: RefCell<Vec<CrmCall>>,
    failing: RefCell<Option<String>>,
    refusals: RefCell<Vec<(String, String, Error)>>,
    answers: RefCell<Vec<(String, String, serde_json::Value)>>,
}

impl RecordingCrm {
    /// The calls accepted so far, in order.
    pub fn calls(&self) -> Vec<CrmCall> {
        self.calls.borrow().clone()
    }

    /// Answer calls with `method` whose path starts with `path_prefix` with `body`; the most
    /// recently added answer that matches wins.
    pub fn answer(&self, method: &str, path_prefix: &str, body: serde_json::Value) {
        self.answers
            .borrow_mut()
            .push((method.to_owned(), path_prefix.to_owned(), body));
    }

    /// Answer calls with `method` whose path starts with `path_prefix` with `error` (they are not
    /// recorded as accepted).
    pub fn refuse(&self, method: &str, path_prefix: &str, error: Error) {
        self.refusals
            .borrow_mut()
            .push((method.to_owned(), path_prefix.to_owned(), error));
    }

    /// Refuse every call with `reason` (`None` to accept again).
    pub fn fail(&self, reason: Option<&str>) {
        *self.failing.borrow_mut() = reason.map(str::to_owned);
    }
}

impl CrmClient for RecordingCrm {
    async fn send(&self, call: &CrmCall, _timeout: Duration) -> Result<serde_json::Value, Error> {
        if let Some(reason) = self.failing.borrow().clone() {
            return Err(Error::CrmUnavailable {
                call: call.to_string(),
                reason,
            });
        }
        let refusals = self.refusals.borrow();
        if let Some((_, _, error)) = refusals.iter().rev().find(|(method, prefix, _)| {
            *method == call.method && call.path.starts_with(prefix.as_str())
        }) {
            return Err(error.clone());
        }
        self.calls.borrow_mut().push(call.clone());
        let answers = self.answers.borrow();
        let answer = answers.iter().rev().find(|(method, prefix, _)| {
            *method == call.method && call.path.starts_with(prefix.as_str())
        });
        Ok(answer.map_or_else(|| serde_json::json!({}), |(_, _, body)| body.clone()))
    }
}

/// The ledger in memory, with the same semantics as [`crate::ledger::sql::SqlLedger`].
#[derive(Debug, Default)]
pub struct MemoryLedger {
    events: RefCell<BTreeMap<String, Entry>>,
    newest: RefCell<BTreeMap<String, (OffsetDateTime, OffsetDateTime)>>,
}

#[derive(Debug, Clone)]
struct Entry {
    claim: Claiming,
    state: EntryState,
    claimant: String,
    lease_until: OffsetDateTime,
    keep_until: OffsetDateTime,
    at: OffsetDateTime,
    settled: Option<Settled>,
    event: Option<WebhookEvent>,
    partial: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryState {
    Claimed,
    Reopened,
    Settled,
}

impl MemoryLedger {
    /// How many events the ledger holds.
    pub fn len(&self) -> usize {
        self.events.borrow().len()
    }

    /// The events recorded as failed, in any function.
    pub fn failed_events(&self) -> Vec<String> {
        self.events
            .borrow()
            .values()
            .filter(|e| e.settled.as_ref().map(|s| s.status) == Some(EventStatus::Failed))
            .map(|e| e.claim.event_id.clone())
            .collect()
    }

    /// Whether the ledger holds nothing.
    pub fn is_empty(&self) -> bool {
        self.events.borrow().is_empty()
    }
}

impl Ledger for MemoryLedger {
    async fn claim(
        &self,
        claims: &[Claiming],
        claimant: &str,
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<Vec<Claim>, Error> {
        let mut events = self.events.borrow_mut();
        Ok(claims
            .iter()
            .map(|c| {
                let take = match events.get(&c.key) {
                    None => true,
                    Some(e) => match e.state {
                        EntryState::Reopened => true,
                        EntryState::Claimed => e.lease_until < now,
                        EntryState::Settled => false,
                    },
                };
                if take {
                    let event = events.get(&c.key).and_then(|e| e.event.clone());
                    let partial = events.get(&c.key).is_some_and(|e| e.partial);
                    events.insert(
                        c.key.clone(),
                        Entry {
                            claim: c.clone(),
                            state: EntryState::Claimed,
                            claimant: claimant.to_owned(),
                            lease_until: now + retention.lease,
                            keep_until: now + retention.keep,
                            at: now,
                            settled: None,
                            event,
                            partial,
                        },
                    );
                    return if partial { Claim::Resume } else { Claim::Mine };
                }
                match events.get(&c.key) {
                    Some(Entry {
                        state: EntryState::Settled,
                        settled: Some(settled),
                        ..
                    }) => Claim::Settled(settled.clone()),
                    _ => Claim::Busy,
                }
            })
            .collect())
    }

    async fn newest(&self, streams: &[String]) -> Result<BTreeMap<String, OffsetDateTime>, Error> {
        let newest = self.newest.borrow();
        Ok(streams
            .iter()
            .filter_map(|s| newest.get(s).map(|(at, _)| (s.clone(), *at)))
            .collect())
    }

    async fn settle(
        &self,
        claimant: &str,
        settlements: &[Settlement],
        newest: &[(String, OffsetDateTime)],
        now: OffsetDateTime,
        retention: Retention,
    ) -> Result<(), Error> {
        let mut events = self.events.borrow_mut();
        for s in settlements {
            let Some(entry) = events.get_mut(&s.claim.key) else {
                continue;
            };
            if entry.state != EntryState::Claimed || entry.claimant != claimant {
                continue;
            }
            entry.state = EntryState::Settled;
            entry.lease_until = OffsetDateTime::UNIX_EPOCH;
            entry.keep_until = now + retention.keep;
            entry.at = now;
            entry.settled = Some(s.settled.clone());
            entry.event = s.event.clone();
        }
        let mut streams = self.newest.borrow_mut();
        for (key, at) in newest {
            let kept = streams.get(key).map_or(*at, |(old, _)| (*old).max(*at));
            streams.insert(key.clone(), (kept, now + retention.keep));
        }
        Ok(())
    }

    async fn mark_partial(&self, claimant: &str, keys: &[String]) -> Result<(), Error> {
        for (key, entry) in self.events.borrow_mut().iter_mut() {
            if entry.claimant == claimant && keys.contains(key) {
                entry.partial = true;
            }
        }
        Ok(())
    }

    async fn release(&self, claimant: &str) -> Result<(), Error> {
        for entry in self.events.borrow_mut().values_mut() {
            if entry.state == EntryState::Claimed && entry.claimant == claimant {
                entry.lease_until = OffsetDateTime::UNIX_EPOCH;
            }
        }
        Ok(())
    }

    async fn reopen(
        &self,
        function: FunctionKind,
        crm: Crm,
        limit: usize,
        now: OffsetDateTime,
    ) -> Result<Vec<WebhookEvent>, Error> {
        let mut events = self.events.borrow_mut();
        let mut failed: Vec<&mut Entry> = events
            .values_mut()
            .filter(|e| {
                let unfinished = match e.state {
                    EntryState::Settled => {
                        e.settled.as_ref().map(|s| s.status) == Some(EventStatus::Failed)
                    }
                    EntryState::Reopened => true,
                    EntryState::Claimed => e.lease_until < now,
                };
                e.claim.function == function
                    && e.claim.crm == crm
                    && unfinished
                    && e.event.is_some()
            })
            .collect();
        failed.sort_by_key(|e| e.at);
        Ok(failed
            .into_iter()
            .take(limit)
            .filter_map(|e| {
                e.state = EntryState::Reopened;
                e.event.clone()
            })
            .collect())
    }

    async fn failed(
        &self,
        function: FunctionKind,
        limit: usize,
    ) -> Result<Vec<FailedEvent>, Error> {
        let events = self.events.borrow();
        let mut failed: Vec<FailedEvent> = events
            .values()
            .filter(|e| e.claim.function == function && e.state == EntryState::Settled)
            .filter_map(|e| {
                let settled = e.settled.as_ref()?;
                (settled.status == EventStatus::Failed).then(|| FailedEvent {
                    event_id: e.claim.event_id.clone(),
                    record_id: e.claim.record_id.clone(),
                    reason: settled.reason.clone().unwrap_or_default(),
                    failed_at: e.at,
                })
            })
            .collect();
        failed.sort_by_key(|f| std::cmp::Reverse(f.failed_at));
        failed.truncate(limit);
        Ok(failed)
    }

    async fn forget_expired(&self, now: OffsetDateTime) -> Result<(), Error> {
        self.events.borrow_mut().retain(|_, e| e.keep_until >= now);
        self.newest.borrow_mut().retain(|_, (_, keep)| *keep >= now);
        Ok(())
    }
}
