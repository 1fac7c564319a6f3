//! What a delivery produced: per event, what happened to it and what was decided.

use serde::{Deserialize, Serialize};

use crate::{
    function::{Brief, Decision, FunctionKind},
    mode::Mode,
};

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
    /// Failed for good (the CRM refused a call, or answered without the record): recorded with
    /// the reason, never retried by itself; an admin retries it once the cause is fixed.
    Failed,
    /// Not finished (the CRM failed for now, asked to slow down, or the deadline came): nothing
    /// recorded, so the CRM's retry of the delivery continues it.
    Pending,
    /// Being handled right now by another delivery of the same event: the CRM's retry will find
    /// its result.
    InProgress,
}

impl EventStatus {
    /// Whether the CRM must deliver again for this event to be done.
    pub fn wants_retry(self) -> bool {
        matches!(self, EventStatus::Pending | EventStatus::InProgress)
    }
}

/// One event's outcome, as the endpoint reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOutcome {
    /// The CRM's event id.
    pub event_id: String,
    /// The record it concerned.
    pub record_id: String,
    /// What happened to it.
    pub status: EventStatus,
    /// The decision made now, whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// The decision in a few fields: made now, or for a duplicate the one made when it was first
    /// processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<Brief>,
    /// Why it failed or is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The CRM calls made for it (`PATCH /records/deals/D-1`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crm_calls: Vec<String>,
}

impl EventOutcome {
    /// An outcome with `status` and nothing else yet.
    pub fn new(event_id: &str, record_id: &str, status: EventStatus) -> EventOutcome {
        EventOutcome {
            event_id: event_id.to_owned(),
            record_id: record_id.to_owned(),
            status,
            decision: None,
            brief: None,
            reason: None,
            crm_calls: Vec::new(),
        }
    }
}

/// A whole delivery's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOutcome {
    /// The function that handled it.
    pub function: FunctionKind,
    /// The mode it ran in.
    pub mode: Mode,
    /// Whether every event is done (processed, duplicate, superseded, decided or failed for
    /// good); when false the answer asks the CRM to deliver again.
    pub complete: bool,
    /// Per event, in delivery order.
    pub results: Vec<EventOutcome>,
    /// Whether the delivery came from a CRM workflow that branches on a flat answer
    /// ([`crate::event::Delivery::workflow`]).
    #[serde(skip)]
    pub workflow: bool,
}

impl DeliveryOutcome {
    /// The outcome of `results`.
    pub fn new(
        function: FunctionKind,
        mode: Mode,
        results: Vec<EventOutcome>,
        workflow: bool,
    ) -> DeliveryOutcome {
        DeliveryOutcome {
            function,
            mode,
            complete: !results.iter().any(|r| r.status.wants_retry()),
            results,
            workflow,
        }
    }

    /// One line naming what is left, for the CRM's delivery log when the delivery is not
    /// complete.
    pub fn unfinished(&self) -> Option<String> {
        let left: Vec<String> = self
            .results
            .iter()
            .filter(|r| r.status.wants_retry())
            .map(|r| match &r.reason {
                Some(reason) => format!("{} ({reason})", r.event_id),
                None => r.event_id.clone(),
            })
            .collect();
        (!left.is_empty()).then(|| {
            format!(
                "{} of {} events not finished, retry the delivery: {}",
                left.len(),
                self.results.len(),
                left.join("; ")
            )
        })
    }
}
