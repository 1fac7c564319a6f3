//! A generic webhook: its signature checked, its body read into events.

use serde::Deserialize;
use time::OffsetDateTime;

use super::signature::{
    GENERIC_SIGNATURE_HEADER, GENERIC_TIMESTAMP_HEADER, SignedRequest, path_of, verify_generic,
};
use crate::{
    Error,
    crm::WebhookSecret,
    event::{Change, Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::Record,
};

/// The most events one delivery may carry.
pub const MAX_EVENTS: usize = 100;

/// Authenticate a generic webhook with its HMAC `secret` and read its events.
pub(super) fn accept(
    request: &InboundRequest<'_>,
    secret: &WebhookSecret,
    now: OffsetDateTime,
) -> Result<Delivery, Error> {
    authenticate(request, secret, now)?;
    parse(request.body).map(Delivery::webhook)
}

/// Check a signed JSON request to a generic route (a webhook, a call upload): its content type
/// and its HMAC with `secret`, within the timestamp's window.
pub fn authenticate(
    request: &InboundRequest<'_>,
    secret: &WebhookSecret,
    now: OffsetDateTime,
) -> Result<(), Error> {
    request.require_content_type("application/json")?;
    verify_generic(
        secret.expose(),
        request.header(GENERIC_TIMESTAMP_HEADER),
        request.header(GENERIC_SIGNATURE_HEADER),
        SignedRequest {
            method: request.method,
            path: path_of(request.url),
            body: request.body,
        },
        now,
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    events: Vec<GenericEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericEvent {
    event_id: String,
    #[serde(with = "time::serde::rfc3339")]
    occurred_at: OffsetDateTime,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(default)]
    previous_stage: Option<String>,
    /// The CRM user who made the change (the BDR of a handoff).
    #[serde(default)]
    changed_by: Option<String>,
    /// The owner before the change, when the sender knows it (`null`: it had none).
    #[serde(default, deserialize_with = "present")]
    previous_owner_id: Option<Option<String>>,
    record: Record,
}

/// A field that may be sent as `null`: `Some(None)` then, `None` when absent.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum EventType {
    Created,
    Restored,
    Updated,
    StageChanged,
    Deleted,
}

/// Parse a generic webhook body (already authenticated).
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| Error::InvalidBody {
            path: ".".into(),
            message: format!("not valid JSON: {e}"),
        })?;
    let (events, prefix) = if value.get("events").is_some() {
        let batch: Batch = from_value(value)?;
        if batch.events.len() > MAX_EVENTS {
            return Err(Error::InvalidBody {
                path: "events".into(),
                message: format!(
                    "{} events in one delivery; send at most {MAX_EVENTS}",
                    batch.events.len()
                ),
            });
        }
        (batch.events, "events")
    } else {
        (vec![from_value(value)?], "")
    };
    events
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            let at = if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}[{i}].")
            };
            into_event(event, &at)
        })
        .collect()
}

pub(super) fn from_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| Error::InvalidBody {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// A record id that is safe as an API path segment: 1 to 128 of `[A-Za-z0-9_.:-]`, and no dot
/// segment.
pub(super) fn is_record_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'-'))
        && id != "."
        && id != ".."
}

fn into_event(event: GenericEvent, at: &str) -> Result<WebhookEvent, Error> {
    let invalid = |field: &str, message: &str| Error::InvalidBody {
        path: format!("{at}{field}"),
        message: message.to_owned(),
    };
    if event.event_id.trim().is_empty() {
        return Err(invalid(
            "event_id",
            "must not be empty: it is the de-duplication key",
        ));
    }
    if !is_record_id(&event.record.id) {
        return Err(invalid(
            "record.id",
            "must be 1 to 128 letters, digits, `_`, `.`, `:` or `-`, and not `.` or `..`: it goes into the API's paths",
        ));
    }
    let change = match event.kind {
        EventType::Created => Change::Created,
        EventType::Restored => Change::Restored,
        EventType::Updated => Change::Updated,
        EventType::Deleted => Change::Deleted,
        EventType::StageChanged => Change::StageChanged {
            from: event.previous_stage.clone(),
            to: event.record.stage.clone().ok_or_else(|| {
                invalid(
                    "record.stage",
                    "a stage_changed event must carry the new stage",
                )
            })?,
        },
    };
    let owner_changed = event
        .previous_owner_id
        .map(|previous| previous != event.record.owner_id);
    Ok(WebhookEvent {
        dedupe_key: format!("generic:{}", event.event_id),
        event_id: event.event_id,
        occurred_at: event.occurred_at,
        change,
        record: event.record,
        changed_fields: Vec::new(),
        changed_by: event.changed_by,
        owner_changed,
        complete: true,
    })
}
