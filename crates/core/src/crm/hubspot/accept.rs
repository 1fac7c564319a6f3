//! A HubSpot request: its signature checked, its body read into events, its portals checked.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::{HubspotCredentials, MAX_EVENTS, owners, workflow};
use crate::{
    Error,
    crm::{
        Tenants,
        hubspot::signature::{
            LegacyVersion, SIGNATURE_HEADER, SIGNATURE_V3_HEADER, SIGNATURE_VERSION_HEADER,
            TIMESTAMP_HEADER, verify_v1_v2, verify_v3,
        },
    },
    event::{Change, Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::{Record, RecordKind},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    event_id: u64,
    subscription_id: u64,
    portal_id: u64,
    occurred_at: i64,
    subscription_type: String,
    object_id: u64,
    #[serde(default)]
    object_type_id: Option<String>,
    #[serde(default)]
    property_name: Option<String>,
    #[serde(default)]
    property_value: Option<String>,
    /// Who made the change: `userId:123` for a user; an app, a workflow or an import otherwise.
    /// Read loosely: its shape is not HubSpot's contract, and a surprise must not refuse the batch.
    #[serde(default)]
    source_id: Option<Value>,
}

/// Authenticate a HubSpot request and parse it: a Webhooks API batch (an array) or a workflow
/// action's record (an object).
///
/// The Webhooks API is held to signature v3, the only one that binds the time: a captured
/// batch cannot be replayed past the 5-minute window, nor to another URL. A workflow action may
/// sign with v1 or v2 instead, when [`HubspotCredentials::workflow_v1_v2`] allows it: neither
/// carries a time, but a workflow event's key is its record's id and last-modified date, both
/// read from the signed body ([`workflow`]), so a replay of the same body is answered as a
/// duplicate as long as the ledger keeps the event, longer than HubSpot retries a workflow.
/// v1 does not cover the URL, so its `?object=` is not trusted: the body must name the object.
pub(super) fn accept(
    request: &InboundRequest<'_>,
    credentials: &HubspotCredentials,
    now: OffsetDateTime,
) -> Result<Delivery, Error> {
    request.require_content_type("application/json")?;
    let secret = credentials.secret.expose();
    let workflow = request.body.trim_ascii_start().starts_with(b"{");
    let legacy = workflow
        && credentials.workflow_v1_v2
        && request.header(SIGNATURE_V3_HEADER).is_none()
        && request.header(SIGNATURE_HEADER).is_some();
    let version = if legacy {
        Some(verify_v1_v2(
            secret,
            request.header(SIGNATURE_VERSION_HEADER),
            request.method,
            request.url,
            request.body,
            request.header(SIGNATURE_HEADER),
        )?)
    } else {
        verify_v3(
            secret,
            request.method,
            request.url,
            request.body,
            request.header(TIMESTAMP_HEADER),
            request.header(SIGNATURE_V3_HEADER),
            now,
        )?;
        None
    };
    if !workflow {
        return parse(request.body).map(Delivery::webhook);
    }
    let object = request.query(workflow::OBJECT_QUERY);
    if version == Some(LegacyVersion::V1) && object.is_some() {
        return Err(Error::invalid_body(
            "objectType",
            format!(
                "a v1 signature does not cover the URL, so its ?{}= is not trusted: name the \
                 object with an `objectType` key in the request body, or sign with v2 or v3",
                workflow::OBJECT_QUERY
            ),
        ));
    }
    workflow::parse(request.body, object.as_deref())
}

/// Refuse a request (already authenticated and parsed) from a portal not served: each event's
/// `portalId` in a Webhooks API batch, a workflow body's `portalId` (`portal-id` on a contact).
pub(super) fn check_portals(body: &[u8], portals: &Tenants) -> Result<(), Error> {
    if !portals.is_pinned() {
        return Ok(());
    }
    let portal = |value: Option<&Value>| match value {
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    match serde_json::from_slice::<Value>(body).unwrap_or_default() {
        Value::Array(events) => events.iter().enumerate().try_for_each(|(i, event)| {
            portals.check(
                format!("[{i}].portalId"),
                portal(event.get("portalId")).as_deref(),
            )
        }),
        Value::Object(record) => {
            let (path, value) = match record.get("portal-id") {
                Some(value) if !record.contains_key("portalId") => ("portal-id", Some(value)),
                _ => ("portalId", record.get("portalId")),
            };
            portals.check(path, portal(value).as_deref())
        }
        _ => portals.check("portalId", None),
    }
}

/// Parse a Webhooks API body (already authenticated): at most [`MAX_EVENTS`] events.
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let events: Vec<Event> = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid_body(path, e.into_inner().to_string())
    })?;
    if events.len() > MAX_EVENTS {
        return Err(Error::invalid_body(
            ".",
            format!(
                "{} events in one request; HubSpot sends at most {MAX_EVENTS}",
                events.len()
            ),
        ));
    }
    events.into_iter().map(into_event).collect()
}

fn into_event(event: Event) -> Result<WebhookEvent, Error> {
    let occurred_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.occurred_at) * 1_000_000)
            .map_err(|_| {
                Error::invalid_body(
                    "occurredAt",
                    format!("{} is not a time in milliseconds", event.occurred_at),
                )
            })?;
    let (object, action) = event
        .subscription_type
        .split_once('.')
        .unwrap_or((event.subscription_type.as_str(), ""));
    // Project apps' generic subscriptions (`object.creation`) name the type by its id.
    let object = match (object, event.object_type_id.as_deref()) {
        ("object", Some("0-3")) => "deal",
        ("object", Some("0-1")) => "contact",
        (object, _) => object,
    };
    let kind = match object {
        "deal" => Some(RecordKind::Deal),
        "contact" => Some(RecordKind::Lead),
        _ => None,
    };
    let change = match (kind, action) {
        (None, _) => None,
        (Some(_), "creation") => Some(Change::Created),
        (Some(RecordKind::Deal), "propertyChange")
            if event.property_name.as_deref() == Some("dealstage") =>
        {
            // Without its value the stage change is still gated: an empty `to` is the stage the
            // fetched deal sits in (see `fetch`).
            Some(Change::StageChanged {
                from: None,
                to: event.property_value.clone().unwrap_or_default(),
            })
        }
        (Some(_), "restore") => Some(Change::Restored),
        (Some(_), "propertyChange" | "merge" | "associationChange") => Some(Change::Updated),
        (Some(_), "deletion" | "privacyDeletion") => Some(Change::Deleted),
        _ => None,
    }
    .unwrap_or(Change::Unsupported {
        event_type: event.subscription_type.clone(),
    });
    let complete = matches!(change, Change::Deleted | Change::Unsupported { .. });
    Ok(WebhookEvent {
        dedupe_key: format!(
            "hubspot:{}:{}:{}:{}:{}",
            event.portal_id,
            event.subscription_id,
            event.event_id,
            event.object_id,
            event.occurred_at
        ),
        event_id: event.event_id.to_string(),
        occurred_at,
        change,
        record: Record::new(
            kind.unwrap_or(RecordKind::Deal),
            event.object_id.to_string(),
        ),
        changed_fields: event.property_name.clone().into_iter().collect(),
        // A HubSpot user id until the record is fetched, which turns it into the user's owner
        // id, or `None` (see `fetch`).
        changed_by: event
            .source_id
            .as_ref()
            .and_then(Value::as_str)
            .filter(|_| !complete)
            .and_then(owners::user_id),
        owner_changed: None,
        complete,
    })
}
