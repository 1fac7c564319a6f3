//! What every function does with a delivery: de-duplicate, decide, write back, record.
//!
//! The pipeline reaches the outside world only through [`Store`] and [`CrmClient`], so it runs
//! natively in tests with in-memory fakes and in Spin with the key-value store and outbound HTTP.
//!
//! Nothing a CRM sent is lost or applied twice: an event is recorded as processed only after its
//! write-back succeeded, so a failed write answers 5xx and the CRM's retry redoes it; a redelivered
//! event finds its record and is acknowledged without a second write. Events older than the last
//! one processed for the same record (CRMs deliver out of order) are acknowledged as superseded.
//! score-lead also keeps the histogram of recent scores that decides which are flagged for review.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    Error,
    crm::Crm,
    event::{Delivery, WebhookEvent},
    function::{Decision, FunctionKind, Settings},
    review::{self, ScoreHistogram},
    writeback::CrmCall,
};

/// The key-value store the pipeline records processed events in.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Store {
    /// The value at `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Set `key` to `value`.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error>;
}

/// The CRM's API.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait CrmClient {
    /// Send one call and return the response's JSON (`null` when it has none). An error means
    /// the CRM did not accept it: [`Error::CrmRecordGone`] for a 404, else
    /// [`Error::CrmUnavailable`].
    async fn send(&self, call: &CrmCall) -> Result<serde_json::Value, Error>;
}

/// What happened to one event of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// Decided and written back now.
    Processed,
    /// Seen before: acknowledged, nothing written again.
    Duplicate,
    /// Older than the last event processed for the same record: acknowledged, not applied.
    Superseded,
    /// Decided for a caller that acts on the answer itself: nothing written back or recorded.
    Decided,
}

/// One event's outcome, as the endpoint reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    /// The CRM's event id.
    pub event_id: String,
    /// The record it concerned.
    pub record_id: String,
    /// Processed, duplicate or superseded.
    pub status: EventStatus,
    /// The decision: made now, or for a duplicate the one made when it was first processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The CRM calls made (`PATCH /records/deals/D-1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crm_calls: Vec<String>,
}

/// A whole delivery's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    /// The function that handled it.
    pub function: FunctionKind,
    /// The mode it ran in.
    pub mode: crate::mode::Mode,
    /// Per event, in delivery order.
    pub results: Vec<EventOutcome>,
    /// Whether the delivery came from a CRM workflow that branches on a flat answer
    /// ([`Delivery::workflow`]).
    #[serde(skip)]
    pub workflow: bool,
}

/// What the store keeps for each processed event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessedEvent {
    /// The CRM's event id.
    pub event_id: String,
    /// The record it concerned.
    pub record_id: String,
    /// When the change happened in the CRM.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// When pipeline-guard processed it.
    #[serde(with = "time::serde::rfc3339")]
    pub processed_at: OffsetDateTime,
    /// Processed or superseded.
    pub status: EventStatus,
    /// The decision in one line.
    pub summary: String,
    /// The whole decision (none when superseded), so a retried delivery gets the same answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The CRM calls made.
    pub crm_calls: Vec<String>,
}

/// The store key recording that `function` processed the event with `dedupe_key`.
pub fn processed_key(function: FunctionKind, dedupe_key: &str) -> String {
    format!("processed/{}/{dedupe_key}", function.name())
}

/// The store key holding the newest change time processed for a record.
pub fn latest_key(function: FunctionKind, crm: Crm, record_id: &str) -> String {
    format!("latest/{}/{}/{record_id}", function.name(), crm.name())
}

/// Handle a delivery's events in order.
///
/// Stops at the first failing write-back or store error: the events before it are recorded, the
/// failing one and those after it are not, so the CRM's retry of the whole delivery redoes
/// exactly what is missing. A synchronous delivery is only decided.
pub async fn run(
    function: FunctionKind,
    crm: Crm,
    delivery: Delivery,
    settings: &Settings,
    store: &impl Store,
    client: &impl CrmClient,
    now: OffsetDateTime,
) -> Result<DeliveryOutcome, Error> {
    let workflow = delivery.workflow;
    let mut results = Vec::with_capacity(delivery.events.len());
    for event in delivery.events {
        results.push(if delivery.synchronous {
            decide_only(function, crm, event, settings, client, now).await?
        } else {
            handle(function, crm, event, settings, store, client, now).await?
        });
    }
    Ok(DeliveryOutcome {
        function,
        mode: settings.mode,
        results,
        workflow,
    })
}

async fn handle(
    function: FunctionKind,
    crm: Crm,
    event: WebhookEvent,
    settings: &Settings,
    store: &impl Store,
    client: &impl CrmClient,
    now: OffsetDateTime,
) -> Result<EventOutcome, Error> {
    let key = processed_key(function, &event.dedupe_key);
    let mut outcome = EventOutcome {
        event_id: event.event_id.clone(),
        record_id: event.record.id.clone(),
        status: EventStatus::Duplicate,
        decision: None,
        crm_calls: Vec::new(),
    };
    if let Some(bytes) = store.get(&key).await? {
        // Entries written before decisions were kept hold none: the answer then has none either.
        outcome.decision = serde_json::from_slice::<ProcessedEvent>(&bytes)
            .ok()
            .and_then(|processed| processed.decision);
        return Ok(outcome);
    }
    let latest = latest_key(function, crm, &event.record.id);
    let newest_seen = match store.get(&latest).await? {
        Some(bytes) => std::str::from_utf8(&bytes).ok().and_then(|s| {
            OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
        }),
        None => None,
    };
    if newest_seen.is_some_and(|newest| event.occurred_at < newest) {
        outcome.status = EventStatus::Superseded;
        record(
            store,
            &key,
            &event,
            &outcome,
            "superseded by a newer change".into(),
            now,
        )
        .await?;
        return Ok(outcome);
    }

    // A change to nothing but pipeline-guard's own fields is the echo of its own write-back.
    let names = &settings.playbook.write_back;
    let echo = event.only_touched(|field| crm.is_write_back_field(names, field));
    let event = if echo {
        event
    } else {
        completed(crm, event, settings, client).await?
    };
    let mut decision = if echo {
        Decision::skipped("only pipeline-guard's own fields changed (its own write-back)")
    } else {
        function.decide(&event, settings, now)
    };
    let mut histogram = None;
    if let Decision::Scored(card) = &mut decision {
        let key = review::histogram_key(&settings.playbook.name);
        let mut recent = ScoreHistogram::load(store, &key).await?;
        card.flagged_for_review =
            Some(recent.in_top_share(card.total, settings.playbook.review_share));
        recent.record(card.total);
        histogram = Some((key, recent));
    }
    if let Some(mut write_back) = decision.write_back(&event, &settings.playbook) {
        write_back.rename_fields(|field| crm.write_back_field(names, field));
        let calls = if write_back.already_in(&event.record) {
            Vec::new()
        } else {
            crm.render(&write_back, now)
        };
        for call in calls {
            client.send(&call).await?;
            outcome.crm_calls.push(call.to_string());
        }
    }
    outcome.status = EventStatus::Processed;
    let summary = decision.summary();
    outcome.decision = Some(decision);
    record(store, &key, &event, &outcome, summary, now).await?;
    let occurred = rfc3339(event.occurred_at);
    store.set(&latest, occurred.as_bytes()).await?;
    if let Some((key, recent)) = histogram {
        recent.save(store, &key).await?;
    }
    Ok(outcome)
}

/// The event with its whole record, fetched from the CRM when the webhook carried only part of it.
async fn completed(
    crm: Crm,
    event: WebhookEvent,
    settings: &Settings,
    client: &impl CrmClient,
) -> Result<WebhookEvent, Error> {
    if event.complete {
        Ok(event)
    } else {
        crm.complete(event, &settings.playbook, client).await
    }
}

/// Decide one event for a caller that acts on the answer itself.
async fn decide_only(
    function: FunctionKind,
    crm: Crm,
    event: WebhookEvent,
    settings: &Settings,
    client: &impl CrmClient,
    now: OffsetDateTime,
) -> Result<EventOutcome, Error> {
    let event = completed(crm, event, settings, client).await?;
    Ok(EventOutcome {
        event_id: event.event_id.clone(),
        record_id: event.record.id.clone(),
        status: EventStatus::Decided,
        decision: Some(function.decide(&event, settings, now)),
        crm_calls: Vec::new(),
    })
}

async fn record(
    store: &impl Store,
    key: &str,
    event: &WebhookEvent,
    outcome: &EventOutcome,
    summary: String,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let processed = ProcessedEvent {
        event_id: event.event_id.clone(),
        record_id: event.record.id.clone(),
        occurred_at: event.occurred_at,
        processed_at: now,
        status: outcome.status,
        summary,
        decision: outcome.decision.clone(),
        crm_calls: outcome.crm_calls.clone(),
    };
    let bytes = serde_json::to_vec(&processed).map_err(|e| Error::Store(e.to_string()))?;
    store.set(key, &bytes).await
}

fn rfc3339(at: OffsetDateTime) -> String {
    // Formatting a valid OffsetDateTime as RFC 3339 only fails for years outside 0..=9999.
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;
    use time::macros::datetime;

    use super::*;
    use crate::{
        event::Change,
        memory::{MemoryStore, RecordingCrm},
        mode::Mode,
        model::Record,
        playbook::Playbook,
    };

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn event(id: &str, at: OffsetDateTime) -> WebhookEvent {
        WebhookEvent {
            dedupe_key: format!("generic:{id}"),
            event_id: id.into(),
            occurred_at: at,
            change: Change::Updated,
            record: Record::new_deal("D-1"),
            changed_fields: Vec::new(),
            complete: true,
        }
    }

    fn settings() -> Settings {
        Settings {
            playbook: Playbook::default_playbook(),
            mode: Mode::Shadow,
        }
    }

    fn deliver(
        events: Vec<WebhookEvent>,
        store: &MemoryStore,
        crm: &RecordingCrm,
    ) -> Result<Vec<EventStatus>, Error> {
        let outcome = block_on(run(
            FunctionKind::ScoreLead,
            Crm::Generic,
            Delivery::webhook(events),
            &settings(),
            store,
            crm,
            NOW,
        ))?;
        Ok(outcome.results.iter().map(|r| r.status).collect())
    }

    #[test]
    fn a_redelivered_event_is_written_once() {
        let (store, crm) = (MemoryStore::default(), RecordingCrm::default());
        let e = event("e1", datetime!(2026-11-21 11:00 UTC));
        assert_eq!(
            deliver(vec![e.clone()], &store, &crm).unwrap(),
            [EventStatus::Processed]
        );
        assert_eq!(
            deliver(vec![e], &store, &crm).unwrap(),
            [EventStatus::Duplicate]
        );
        assert_eq!(crm.calls().len(), 1);
        assert!(
            store
                .entries()
                .contains_key("processed/score-lead/generic:e1")
        );
    }

    #[test]
    fn a_redelivered_event_gets_the_first_decision_back() {
        let (store, crm) = (MemoryStore::default(), RecordingCrm::default());
        let e = event("e1", datetime!(2026-11-21 11:00 UTC));
        let run_once = || {
            block_on(run(
                FunctionKind::ScoreLead,
                Crm::Generic,
                Delivery::workflow_action(e.clone()),
                &settings(),
                &store,
                &crm,
                NOW,
            ))
            .unwrap()
        };
        let first = run_once();
        let again = run_once();
        assert!(first.workflow && again.workflow);
        assert_eq!(again.results[0].status, EventStatus::Duplicate);
        assert!(again.results[0].decision.is_some());
        assert_eq!(again.results[0].decision, first.results[0].decision);
        assert_eq!(crm.calls().len(), 1);
    }

    #[test]
    fn a_failed_write_is_not_recorded_so_the_retry_redoes_it() {
        let (store, crm) = (MemoryStore::default(), RecordingCrm::default());
        let e = event("e1", datetime!(2026-11-21 11:00 UTC));
        crm.fail(Some("503"));
        let err = deliver(vec![e.clone()], &store, &crm).unwrap_err();
        assert_eq!(err.status(), 502);
        assert!(store.entries().is_empty());
        crm.fail(None);
        assert_eq!(
            deliver(vec![e], &store, &crm).unwrap(),
            [EventStatus::Processed]
        );
    }

    #[test]
    fn an_older_event_arriving_late_is_superseded() {
        let (store, crm) = (MemoryStore::default(), RecordingCrm::default());
        let newer = event("e2", datetime!(2026-11-21 11:00 UTC));
        let older = event("e1", datetime!(2026-11-21 10:00 UTC));
        let statuses = deliver(vec![newer, older], &store, &crm).unwrap();
        assert_eq!(statuses, [EventStatus::Processed, EventStatus::Superseded]);
        assert_eq!(crm.calls().len(), 1);
    }
}
