//! What every function does with a delivery, as stages over the whole batch:
//! **claim** → **order** → **complete** → **compare** → **name** → **decide** → **journal** →
//! **recheck** → **apply** → **settle**.
//!
//! - [`claim`]: every event is claimed in the [`Ledger`] in one statement before anything is
//!   done, so of concurrent copies of a delivery only one acts; events settled earlier answer
//!   as duplicates with their first decision.
//! - [`order`](claim::order): an event older than the newest change of its kind already applied
//!   to its record is superseded; in one delivery, each record is decided once.
//! - complete: the adapter fetches what the records lack, for the batch at once.
//! - [`compare`]: the records' texts are kept as hashes and counted against the CRM's other
//!   records in one call, so a text pasted onto many deals is judged a template.
//! - [`name`]: the people the notices will name (a handoff's BDR and AE), by name, from the
//!   [`PeopleStore`] or, missing or a day old, from the CRM's users API; a failed lookup leaves
//!   the id.
//! - [`decide`]: the function decides each event and what it writes back; scores are ranked in
//!   the [`ReviewQueue`] for the batch at once.
//! - [`journal`]: handoffs are recorded in the handoff log, and AEs' verdicts matched to them,
//!   before the CRM is written to.
//! - [`recheck`]: a deal about to be moved back (a blocked handoff, a rejected one) is read
//!   again, and moved only if it has not moved on since.
//! - [`apply`]: the adapter renders the write-backs into batched calls, run within the
//!   delivery's deadline; a call refused for good fails only the events it served.
//! - [`settle`]: the review queue keeps the standing of the scores written back; finished events
//!   are recorded in one statement; unfinished claims are released so the CRM's retry continues
//!   them at once.
//!
//! A transient failure (a 5xx, a 429 past the deadline, a timeout, the deadline itself) leaves its
//! events pending: not recorded, answered `503`, redone by the CRM's retry. A permanent one (a
//! 4xx, an answer without the record) records its events as failed with the reason, and never
//! holds up the rest. The pipeline reaches the outside world only through the [`crate::ports`].

mod apply;
mod claim;
mod compare;
mod decide;
mod journal;
mod name;
mod recheck;
mod settle;

use time::OffsetDateTime;

pub use crate::api::{Api, Limits};
use crate::{
    Error,
    crm::{FieldNames, adapter::Adapter},
    event::{Delivery, WebhookEvent},
    function::{FunctionKind, Settings},
    handoffs::HandoffLog,
    ledger::{Claiming, Ledger, Retention, Settled, Settlement},
    outcome::{DeliveryOutcome, EventOutcome, EventStatus},
    people::PeopleStore,
    ports::{Clock, CrmClient},
    review::ReviewQueue,
    templates::{Templates, TextHashes},
};
pub use apply::write_backs;

/// What one delivery is handled with.
#[derive(Debug, Clone)]
pub struct Job<'a> {
    /// The function handling it.
    pub function: FunctionKind,
    /// Its playbook and mode.
    pub settings: &'a Settings,
    /// When the delivery arrived.
    pub now: OffsetDateTime,
    /// Who claims its events: unique to this attempt.
    pub claimant: String,
    /// Its deadline, call timeout and concurrency.
    pub limits: Limits,
    /// How long claims hold and settled events are kept.
    pub retention: Retention,
}

/// The ports a delivery goes through.
#[derive(Debug)]
pub struct Ports<'a, L, C, K, H, R, T, P> {
    /// Claims and settled events.
    pub ledger: &'a L,
    /// The CRM's API.
    pub client: &'a C,
    /// The delivery's clock.
    pub clock: &'a K,
    /// Handoffs and the AEs' verdicts ([`crate::handoffs::NoHandoffs`] where none are kept).
    pub handoffs: &'a H,
    /// Each record's latest score and its review state ([`crate::review::NoReview`] where none
    /// are kept).
    pub review: &'a R,
    /// The hashes of the records' texts ([`crate::templates::NoTextHashes`] where none are
    /// kept).
    pub text_hashes: &'a T,
    /// CRM users' names ([`crate::people::NoPeople`] where none are kept, and none looked up).
    pub people: &'a P,
}

/// Handle a delivery: every event ends processed, duplicate, superseded, failed (recorded with
/// its reason) or pending (left to the CRM's retry). An error is returned only when nothing
/// could be done (the ledger failed before any claim was made).
pub async fn run<A, L, C, K, H, R, T, P>(
    adapter: &A,
    job: &Job<'_>,
    delivery: Delivery,
    ports: Ports<'_, L, C, K, H, R, T, P>,
) -> Result<DeliveryOutcome, Error>
where
    A: Adapter,
    L: Ledger,
    C: CrmClient,
    K: Clock,
    H: HandoffLog,
    R: ReviewQueue,
    T: TextHashes,
    P: PeopleStore,
{
    let api = Api::new(ports.client, ports.clock, job.limits);
    if delivery.synchronous {
        return decide_only(adapter, job, delivery, &api, ports.text_hashes).await;
    }
    let mut tally = Tally::new(delivery.events.len());
    let claimed = claim::claim(
        adapter.crm(),
        job,
        delivery.events,
        ports.ledger,
        &mut tally,
    )
    .await;
    let claimed = match claimed {
        Ok(claimed) => claimed,
        // The claim may have been made before its answer was lost: let go of it.
        Err(e) => return settle::abandon(job, ports.ledger, tally, e).await,
    };
    let ordered = match claim::order(claimed, ports.ledger, &mut tally).await {
        Ok(ordered) => ordered,
        Err(e) => return settle::abandon(job, ports.ledger, tally, e).await,
    };
    let names = FieldNames::new(&job.settings.playbook, adapter.facts());
    let mut completed = complete(adapter, job, &names, ordered, &api, &mut tally).await;
    let playbook = &job.settings.playbook;
    let crm = adapter.crm();
    let events: Vec<&WebhookEvent> = completed.iter().map(|f| &f.event).collect();
    let compared = compare::compare(
        job.function,
        crm,
        playbook,
        &names,
        &events,
        ports.text_hashes,
    )
    .await;
    match compared {
        Ok(found) => completed
            .iter_mut()
            .zip(found)
            .for_each(|(fresh, templates)| fresh.templates = templates),
        Err(e) => return settle::abandon(job, ports.ledger, tally, e).await,
    }
    let people = name::name(
        adapter,
        job,
        &completed,
        ports.people,
        ports.client,
        ports.clock,
    )
    .await;
    let decided = decide::decide(
        job,
        crm,
        &names,
        &people,
        completed,
        ports.review,
        &mut tally,
    )
    .await;
    let mut decided = match decided {
        Ok(decided) => decided,
        Err(e) => return settle::abandon(job, ports.ledger, tally, e).await,
    };
    let journaled = journal::journal(crm, playbook, &mut decided.events, ports.handoffs).await;
    if let Err(e) = journaled {
        return settle::abandon(job, ports.ledger, tally, e).await;
    }
    recheck::recheck(adapter, &mut decided.events, playbook, &api).await;
    let applied = apply::apply(adapter, job, &names, &decided.events, &api).await;
    settle::settle(job, crm, ports, decided, applied, tally, delivery.workflow).await
}

/// An event this delivery claimed and is handling.
#[derive(Debug, Clone)]
pub(crate) struct Fresh {
    /// Its position in the delivery.
    pub index: usize,
    /// The event.
    pub event: WebhookEvent,
    /// Its claim.
    pub claim: Claiming,
    /// The stream it is ordered in ([`crate::ledger::stream_key`]).
    pub stream: String,
    /// Whether an earlier attempt made part of its write-back ([`crate::ledger::Claim::Resume`]).
    pub resume: bool,
    /// How many of the CRM's records hold its record's texts (the [`compare`] stage).
    pub templates: Templates,
}

/// The outcome of every event of a delivery, as the stages settle them.
#[derive(Debug)]
pub(crate) struct Tally {
    results: Vec<Option<EventOutcome>>,
    /// Events whose key an earlier event of the same delivery has: (this one, the earlier one).
    twins: Vec<(usize, usize)>,
    settlements: Vec<Settlement>,
    newest: Vec<(String, OffsetDateTime)>,
}

impl Tally {
    fn new(events: usize) -> Tally {
        Tally {
            results: vec![None; events],
            twins: Vec::new(),
            settlements: Vec::new(),
            newest: Vec::new(),
        }
    }

    /// `fresh` ended with `outcome`: processed, superseded and failed events are recorded (a
    /// failed one with the event, for a retry); pending ones are not.
    fn finish(&mut self, fresh: &Fresh, outcome: EventOutcome) {
        let status = outcome.status;
        if matches!(
            status,
            EventStatus::Processed | EventStatus::Superseded | EventStatus::Failed
        ) {
            self.settlements.push(Settlement {
                claim: fresh.claim.clone(),
                settled: Settled {
                    status,
                    brief: outcome.brief.clone(),
                    reason: outcome.reason.clone(),
                },
                event: (status == EventStatus::Failed).then(|| fresh.event.clone()),
            });
        }
        // Only a decision moves the record's stream forward: a skip (an echo, an event type not
        // acted on) must not supersede an older change still on its way.
        let decided = !matches!(
            outcome.decision,
            None | Some(crate::function::Decision::Skipped { .. })
        );
        if status == EventStatus::Processed && decided {
            self.newest
                .push((fresh.stream.clone(), fresh.event.occurred_at));
        }
        self.results[fresh.index] = Some(outcome);
    }

    /// `fresh` failed with `error`: pending when a retry may succeed, else failed for good.
    fn fail(&mut self, fresh: &Fresh, error: &Error) {
        let status = if error.is_transient() {
            EventStatus::Pending
        } else {
            EventStatus::Failed
        };
        let mut outcome = EventOutcome::new(&fresh.event.event_id, &fresh.event.record.id, status);
        outcome.reason = Some(error.to_string());
        self.finish(fresh, outcome);
    }

    /// An event not claimed by this delivery ended with `outcome`.
    fn answer(&mut self, index: usize, outcome: EventOutcome) {
        self.results[index] = Some(outcome);
    }

    /// The outcomes in delivery order; a twin mirrors the event it repeats, as a duplicate.
    fn into_results(mut self) -> Vec<EventOutcome> {
        for (twin, original) in std::mem::take(&mut self.twins) {
            if let Some(first) = self.results[original].clone() {
                let mut outcome = first;
                if !outcome.status.wants_retry() {
                    outcome.status = EventStatus::Duplicate;
                }
                outcome.decision = None;
                outcome.crm_calls.clear();
                self.results[twin] = Some(outcome);
            }
        }
        self.results.into_iter().flatten().collect()
    }
}

/// Fetch what the records lack, for the batch at once.
async fn complete<A: Adapter>(
    adapter: &A,
    job: &Job<'_>,
    names: &FieldNames,
    ordered: Vec<Fresh>,
    api: &Api<'_, impl CrmClient, impl Clock>,
    tally: &mut Tally,
) -> Vec<Fresh> {
    // An echo of pipeline-guard's own write-back is skipped undecided: nothing to fetch.
    let (ready, partial): (Vec<Fresh>, Vec<Fresh>) = ordered.into_iter().partition(|f| {
        let kind = f.event.record.kind;
        f.event.complete
            || f.event
                .only_touched(|field| names.is_write_back(kind, field))
    });
    if partial.is_empty() {
        return ready;
    }
    let events = partial.iter().map(|f| f.event.clone()).collect();
    let fetched = adapter
        .complete(events, &job.settings.playbook, names, api)
        .await;
    let mut completed = ready;
    for (mut fresh, result) in partial.into_iter().zip(fetched) {
        match result {
            Ok(event) => {
                fresh.event = event;
                completed.push(fresh);
            }
            Err(e) => tally.fail(&fresh, &e),
        }
    }
    completed.sort_by_key(|f| f.index);
    completed
}

/// Decide the events of a caller that acts on the answer itself: nothing written back or
/// recorded in the ledger. Its records' texts are kept like any other's: they are what the CRM
/// holds, not a decision.
async fn decide_only<A: Adapter>(
    adapter: &A,
    job: &Job<'_>,
    delivery: Delivery,
    api: &Api<'_, impl CrmClient, impl Clock>,
    text_hashes: &impl TextHashes,
) -> Result<DeliveryOutcome, Error> {
    let (ready, partial): (Vec<_>, Vec<_>) = delivery.events.into_iter().partition(|e| e.complete);
    let mut events: Vec<Result<WebhookEvent, Error>> = ready.into_iter().map(Ok).collect();
    let playbook = &job.settings.playbook;
    let names = FieldNames::new(playbook, adapter.facts());
    if !partial.is_empty() {
        events.extend(adapter.complete(partial, playbook, &names, api).await);
    }
    let events = events.into_iter().collect::<Result<Vec<_>, Error>>()?;
    let all: Vec<&WebhookEvent> = events.iter().collect();
    let crm = adapter.crm();
    let templates =
        compare::compare(job.function, crm, playbook, &names, &all, text_hashes).await?;
    let results = events
        .into_iter()
        .zip(templates)
        .map(|(event, templates)| {
            let decision = job
                .function
                .decide(&event, job.settings, &templates, job.now)?;
            let mut outcome =
                EventOutcome::new(&event.event_id, &event.record.id, EventStatus::Decided);
            outcome.brief = Some(decision.brief());
            outcome.decision = Some(decision);
            Ok(outcome)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(DeliveryOutcome::new(
        job.function,
        job.settings.mode,
        results,
        delivery.workflow,
    ))
}

#[cfg(test)]
mod tests;
