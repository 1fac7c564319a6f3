//! A CRM change as pipeline-guard sees it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::Record;

/// What happened to the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// The record was created.
    Created,
    /// Some fields changed.
    Updated,
    /// The deal moved from one stage to another.
    StageChanged {
        /// The stage it left, when the CRM says.
        from: Option<String>,
        /// The stage it entered.
        to: String,
    },
    /// A deleted record was restored: it reappears in whatever stage it sat in.
    Restored,
    /// The record was deleted.
    Deleted,
    /// An event type pipeline-guard does not act on; acknowledged so the CRM does not retry it.
    Unsupported {
        /// The CRM's name for the event type.
        event_type: String,
    },
}

impl Change {
    /// The stream of changes this one is ordered in: an older change is superseded only by a
    /// newer one of the same kind, so an update arriving before a stage change never hides it.
    pub fn stream(&self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Restored => "restored",
            Change::Updated => "updated",
            Change::Unsupported { .. } => "unsupported",
            Change::StageChanged { .. } => "stage",
            Change::Deleted => "deleted",
        }
    }
}

/// One change to one record, from one CRM delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// Identifies the delivery across retries: the same CRM event always has the same key, and
    /// two different events never share one. Built by the adapter from the fields its CRM
    /// guarantees unique.
    pub dedupe_key: String,
    /// The CRM's event id, for people reading logs.
    pub event_id: String,
    /// When the change happened in the CRM.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub change: Change,
    /// The record as it is after the change.
    pub record: Record,
    /// The CRM fields this change touched, by the CRM's own names, when the CRM says; empty when
    /// it does not. A change that touched only pipeline-guard's own write-back fields is its own
    /// echo and is skipped (see [`WebhookEvent::only_touched`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_fields: Vec<String>,
    /// Who made the change, as the CRM user id a task is assigned to, when the CRM says
    /// (HubSpot's `sourceId`, Pipedrive's `meta.user_id`, Salesforce's `LastModifiedById`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    /// Whether the same change gave the record another owner; `None` when the CRM does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_changed: Option<bool>,
    /// Whether `record` holds the whole record. CRMs that send only the changed property (HubSpot)
    /// leave it `false`, and the adapter fetches the rest before anything is decided.
    pub complete: bool,
}

impl WebhookEvent {
    /// The time the record is scored as of: when the change happened, never after `now`. A
    /// next step's date is ahead or passed, and engagement decays, as the record stood then, so a
    /// retry or a replay judges the change it carries, not the day it is handled.
    pub fn as_of(&self, now: OffsetDateTime) -> OffsetDateTime {
        self.occurred_at.min(now)
    }

    /// Whether the CRM named the fields this change touched and every one of them satisfies
    /// `field`.
    pub fn only_touched(&self, field: impl Fn(&str) -> bool) -> bool {
        !self.changed_fields.is_empty() && self.changed_fields.iter().all(|f| field(f))
    }
}

/// What one request from a CRM delivers.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The events, in the order the CRM sent them.
    pub events: Vec<WebhookEvent>,
    /// Whether the caller waits for the decision to act on it itself (a Salesforce Flow HTTP
    /// callout): then the decision is only answered, nothing is written back or recorded in the
    /// ledger (its record's text hashes are kept, as every scored record's).
    pub synchronous: bool,
    /// Whether the caller is a CRM workflow that branches on the answer (a HubSpot workflow
    /// webhook action, a Salesforce Flow callout): it gets flat fields
    /// ([`crate::crm::Reply::workflow`]) rather than the whole outcome.
    pub workflow: bool,
}

impl Delivery {
    /// A webhook delivery: decided, written back and recorded.
    pub fn webhook(events: Vec<WebhookEvent>) -> Delivery {
        Delivery {
            events,
            synchronous: false,
            workflow: false,
        }
    }

    /// A workflow webhook action's one event: decided, written back and recorded like a webhook,
    /// and answered with flat fields the workflow can branch on.
    pub fn workflow_action(event: WebhookEvent) -> Delivery {
        Delivery {
            events: vec![event],
            synchronous: false,
            workflow: true,
        }
    }

    /// A callout that acts on the decision itself: decided and answered with flat fields,
    /// nothing written back or recorded in the ledger.
    pub fn callout(event: WebhookEvent) -> Delivery {
        Delivery {
            events: vec![event],
            synchronous: true,
            workflow: true,
        }
    }
}
