//! HubSpot: the Webhooks API in, the CRM v3 objects API out.
//!
//! # Inbound
//! `POST /<function>/hubspot`, signed with signature v3, or v1/v2 (see
//! [`crate::signature::hubspot`]):
//! - from the Webhooks API, a JSON array of up to 100 events. Deal and contact creation, property
//!   changes (a `dealstage` change is a stage change), deletion, merge, restore and association
//!   changes are handled; other event types are acknowledged and skipped so HubSpot does not retry
//!   them. A contact is scored as a lead.
//! - from a workflow's "Send a webhook" action, one record as a JSON object ([`workflow`]),
//!   handled like an event and answered with flat fields the workflow can branch on.
//!
//! Each event carries one property at most, so the record is fetched before anything is decided:
//! `GET /crm/v3/objects/<deals|contacts>/<id>` with the properties the playbook reads, the
//! `dealstage` history (which gives the stage a deal came from) and its associated contacts,
//! then `POST /crm/v3/objects/contacts/batch/read` for those contacts' titles and buying roles.
//!
//! Events are de-duplicated on (portalId, subscriptionId, eventId, objectId, occurredAt): HubSpot
//! does not guarantee `eventId` alone is unique.
//!
//! # Write-back
//! `PATCH /crm/v3/objects/<type>/<id>` with the result properties (and `dealstage` when a blocked
//! handoff is moved back), then a task (when the owner must act) or a note, owned by the record's
//! owner and associated with the record.

pub mod workflow;

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{ApiAuth, ApiVariables, Crm, path_segment};
use crate::{
    Error,
    event::{Change, Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::{Contact, DealStatus, Record, RecordKind, parse_date},
    pipeline::CrmClient,
    playbook::Playbook,
    signature::hubspot::{
        SIGNATURE_HEADER, SIGNATURE_V3_HEADER, SIGNATURE_VERSION_HEADER, TIMESTAMP_HEADER,
        verify_v1_v2, verify_v3,
    },
    writeback::{CrmCall, WriteBack},
};

/// The Spin variable holding the HubSpot app's client secret.
pub const SECRET_VARIABLE: &str = "hubspot_client_secret";
/// The Spin variables for HubSpot's API.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "hubspot_api_url",
    token: "hubspot_api_token",
    auth: ApiAuth::Bearer,
    oauth: None,
};

/// Deal properties always fetched (beyond those the playbook names).
const DEAL_PROPERTIES: &[&str] = &[
    "dealname",
    "dealstage",
    "pipeline",
    "amount",
    "closedate",
    "hubspot_owner_id",
    "hs_is_closed",
    "hs_is_closed_won",
    "notes_last_updated",
];
/// Contact properties always fetched.
const CONTACT_PROPERTIES: &[&str] = &[
    "firstname",
    "lastname",
    "email",
    "jobtitle",
    "hs_buying_role",
    "hubspot_owner_id",
    "lifecyclestage",
    "notes_last_updated",
];
/// Association type ids (HUBSPOT_DEFINED) from notes and tasks to deals and contacts.
const NOTE_TO_DEAL: u32 = 214;
const NOTE_TO_CONTACT: u32 = 202;
const TASK_TO_DEAL: u32 = 216;
const TASK_TO_CONTACT: u32 = 204;

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
    property_name: Option<String>,
    #[serde(default)]
    property_value: Option<String>,
}

/// Authenticate a HubSpot request and parse it: a Webhooks API batch (an array) or a workflow
/// action's record (an object).
pub fn accept(
    request: &InboundRequest<'_>,
    secret: &str,
    now: OffsetDateTime,
) -> Result<Delivery, Error> {
    request.require_content_type("application/json")?;
    if request.header(SIGNATURE_V3_HEADER).is_some() || request.header(SIGNATURE_HEADER).is_none() {
        verify_v3(
            secret,
            request.method,
            request.url,
            request.body,
            request.header(TIMESTAMP_HEADER),
            request.header(SIGNATURE_V3_HEADER),
            now,
        )?;
    } else {
        verify_v1_v2(
            secret,
            request.header(SIGNATURE_VERSION_HEADER),
            request.method,
            request.url,
            request.body,
            request.header(SIGNATURE_HEADER),
        )?;
    }
    if request.body.trim_ascii_start().starts_with(b"{") {
        let object = request.query(workflow::OBJECT_QUERY);
        workflow::parse(request.body, object.as_deref())
    } else {
        parse(request.body).map(Delivery::webhook)
    }
}

/// Parse a Webhooks API body (already authenticated).
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let events: Vec<Event> = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        Error::InvalidBody {
            path,
            message: e.into_inner().to_string(),
        }
    })?;
    events.into_iter().map(into_event).collect()
}

fn into_event(event: Event) -> Result<WebhookEvent, Error> {
    let occurred_at =
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(event.occurred_at) * 1_000_000)
            .map_err(|_| Error::InvalidBody {
                path: "occurredAt".into(),
                message: format!("{} is not a time in milliseconds", event.occurred_at),
            })?;
    let (object, action) = event
        .subscription_type
        .split_once('.')
        .unwrap_or((event.subscription_type.as_str(), ""));
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
            event
                .property_value
                .clone()
                .map(|to| Change::StageChanged { from: None, to })
        }
        (Some(_), "propertyChange" | "merge" | "restore" | "associationChange") => {
            Some(Change::Updated)
        }
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
        complete,
    })
}

fn object_type(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Deal => "deals",
        RecordKind::Lead => "contacts",
    }
}

/// Fetch the record an event names, with its contacts.
pub async fn complete(
    mut event: WebhookEvent,
    playbook: &Playbook,
    client: &impl CrmClient,
) -> Result<WebhookEvent, Error> {
    let kind = event.record.kind;
    let mapped = super::mapped_fields(playbook, Crm::Hubspot);
    let written: Vec<String> = playbook
        .write_back
        .names()
        .map(|name| Crm::Hubspot.write_back_field(&playbook.write_back, name))
        .collect();
    let builtin = match kind {
        RecordKind::Deal => DEAL_PROPERTIES,
        RecordKind::Lead => CONTACT_PROPERTIES,
    };
    let names: BTreeSet<&str> = builtin
        .iter()
        .copied()
        .chain(mapped.keys().map(String::as_str))
        .chain(written.iter().map(String::as_str))
        .collect();
    let mut path = format!(
        "/crm/v3/objects/{}/{}?properties={}",
        object_type(kind),
        path_segment(&event.record.id),
        names
            .into_iter()
            .map(path_segment)
            .collect::<Vec<_>>()
            .join(",")
    );
    if kind == RecordKind::Deal {
        path.push_str("&propertiesWithHistory=dealstage&associations=contacts");
    }
    let object = match client.send(&CrmCall::get(path)).await {
        Ok(object) => object,
        // Deleted since the event: nothing left to decide.
        Err(Error::CrmRecordGone { .. }) => {
            event.change = Change::Deleted;
            event.complete = true;
            return Ok(event);
        }
        Err(e) => return Err(e),
    };
    let properties = object
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let text = |name: &str| property(&properties, name);
    let record = &mut event.record;
    record.owner_id = text("hubspot_owner_id");
    record.last_activity_at =
        text("notes_last_updated").and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
    match kind {
        RecordKind::Deal => {
            record.name = text("dealname");
            record.stage = text("dealstage");
            record.pipeline = text("pipeline");
            record.amount = text("amount").and_then(|a| a.parse().ok());
            record.close_date = text("closedate").and_then(|d| parse_date(&d));
            record.status = match (
                text("hs_is_closed").as_deref(),
                text("hs_is_closed_won").as_deref(),
            ) {
                (_, Some("true")) => DealStatus::Won,
                (Some("true"), _) => DealStatus::Lost,
                _ => DealStatus::Open,
            };
            let history = object["propertiesWithHistory"]["dealstage"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            // Newest first: the current stage's entry tells when it was entered, and the first
            // older value is where the deal came from.
            if let Some(stage) = &record.stage {
                record.stage_entered_at = history
                    .iter()
                    .find(|h| h["value"].as_str() == Some(stage.as_str()))
                    .and_then(|h| h["timestamp"].as_str())
                    .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
            }
            if let Change::StageChanged { from, to } = &mut event.change {
                if to.is_empty() {
                    // A workflow action names no stage: the deal entered the one it is in.
                    *to = record.stage.clone().unwrap_or_default();
                }
                *from = history
                    .iter()
                    .filter_map(|h| h["value"].as_str())
                    .find(|v| v != to)
                    .map(str::to_owned);
            }
        }
        RecordKind::Lead => {
            record.name = full_name(&properties);
            record.stage = text("lifecyclestage");
            record.contacts.push(contact(&record.id, &properties));
        }
    }
    for name in properties.keys() {
        if let Some(value) = property(&properties, name) {
            record.fields.insert(name.clone(), value.into());
        }
    }
    for (hubspot, canonical) in &mapped {
        if let Some(value) = property(&properties, hubspot) {
            record.fields.insert(canonical.clone(), value.into());
        }
    }

    let contact_ids: Vec<String> = object["associations"]["contacts"]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            c["id"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| c["id"].as_u64().map(|n| n.to_string()))
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !contact_ids.is_empty() {
        let body = json!({
            "properties": ["firstname", "lastname", "email", "jobtitle", "hs_buying_role"],
            "inputs": contact_ids.iter().map(|id| json!({ "id": id })).collect::<Vec<_>>(),
        });
        let batch = client
            .send(&CrmCall::with_body(
                "POST",
                "/crm/v3/objects/contacts/batch/read",
                body,
            ))
            .await?;
        for result in batch["results"].as_array().into_iter().flatten() {
            let id = result["id"].as_str().unwrap_or_default();
            let props = result["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            event.record.contacts.push(contact(id, &props));
        }
    }
    event.complete = true;
    Ok(event)
}

fn contact(id: &str, properties: &serde_json::Map<String, Value>) -> Contact {
    Contact {
        id: id.to_owned(),
        name: full_name(properties),
        email: property(properties, "email"),
        title: property(properties, "jobtitle"),
        role: property(properties, "hs_buying_role").and_then(|roles| buying_role(&roles)),
    }
}

/// A property's text, when it holds any (HubSpot sends unset properties as `null` or `""`).
fn property(properties: &serde_json::Map<String, Value>, name: &str) -> Option<String> {
    properties
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// `firstname lastname`, when either is set.
fn full_name(properties: &serde_json::Map<String, Value>) -> Option<String> {
    let name = [
        property(properties, "firstname"),
        property(properties, "lastname"),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    (!name.is_empty()).then_some(name)
}

/// HubSpot's buying roles (a multi-select, `;`-separated) as canonical roles, the strongest first.
fn buying_role(roles: &str) -> Option<String> {
    let roles: Vec<&str> = roles.split(';').map(str::trim).collect();
    [
        ("BUDGET_HOLDER", "economic_buyer"),
        ("DECISION_MAKER", "decision_maker"),
        ("CHAMPION", "champion"),
        ("EXECUTIVE_SPONSOR", "executive_sponsor"),
        ("INFLUENCER", "influencer"),
        ("END_USER", "end_user"),
        ("BLOCKER", "blocker"),
        ("LEGAL_AND_COMPLIANCE", "legal_and_compliance"),
    ]
    .iter()
    .find(|(hubspot, _)| roles.contains(hubspot))
    .map(|(_, canonical)| (*canonical).to_owned())
}

/// The calls that carry out a write-back: the properties, then a task or note for the owner.
pub fn render(write_back: &WriteBack, now: OffsetDateTime) -> Vec<CrmCall> {
    let object = object_type(write_back.record_kind);
    let mut properties: serde_json::Map<String, Value> = write_back
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(stage) = &write_back.move_to_stage {
        properties.insert("dealstage".into(), stage.clone().into());
    }
    let mut calls = vec![CrmCall::with_body(
        "PATCH",
        format!(
            "/crm/v3/objects/{object}/{}",
            path_segment(&write_back.record_id)
        ),
        json!({ "properties": properties }),
    )];
    if let Some(note) = &write_back.note {
        let timestamp = now.format(&Rfc3339).unwrap_or_default();
        let (path, association, mut properties) =
            match (note.action_required, write_back.record_kind) {
                (true, kind) => (
                    "/crm/v3/objects/tasks",
                    if kind == RecordKind::Deal {
                        TASK_TO_DEAL
                    } else {
                        TASK_TO_CONTACT
                    },
                    json!({
                        "hs_timestamp": timestamp,
                        "hs_task_subject": note.title,
                        "hs_task_body": note.body,
                        "hs_task_status": "NOT_STARTED",
                        "hs_task_priority": "HIGH",
                    }),
                ),
                (false, kind) => (
                    "/crm/v3/objects/notes",
                    if kind == RecordKind::Deal {
                        NOTE_TO_DEAL
                    } else {
                        NOTE_TO_CONTACT
                    },
                    json!({
                        "hs_timestamp": timestamp,
                        "hs_note_body": format!("{}\n\n{}", note.title, note.body),
                    }),
                ),
            };
        if let Some(owner) = &write_back.owner_id {
            properties["hubspot_owner_id"] = owner.clone().into();
        }
        calls.push(CrmCall::with_body(
            "POST",
            path,
            json!({
                "properties": properties,
                "associations": [{
                    "to": { "id": write_back.record_id },
                    "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association }],
                }],
            }),
        ));
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dedupe_key_uses_every_field_hubspot_says_is_needed() {
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let events = parse(body).unwrap();
        assert_eq!(
            events[0].dedupe_key,
            "hubspot:62515:12345:1:123:1564113600000"
        );
        assert_eq!(events[0].record.kind, RecordKind::Lead);
        assert_eq!(events[0].change, Change::Created);
        assert!(!events[0].complete);
    }

    #[test]
    fn unknown_types_are_kept_as_unsupported_and_need_no_fetch() {
        let body = br#"[{"eventId":2,"subscriptionId":1,"portalId":1,"occurredAt":1564113600000,"subscriptionType":"ticket.creation","objectId":9}]"#;
        let events = parse(body).unwrap();
        assert_eq!(
            events[0].change,
            Change::Unsupported {
                event_type: "ticket.creation".into()
            }
        );
        assert!(events[0].complete);
    }

    #[test]
    fn a_bad_event_names_its_index_and_field() {
        let body = br#"[{"eventId":2,"subscriptionId":1,"portalId":1,"occurredAt":1,"subscriptionType":"deal.creation","objectId":9},{"eventId":"x"}]"#;
        let Err(Error::InvalidBody { path, .. }) = parse(body) else {
            panic!("accepted")
        };
        assert_eq!(path, "[1].eventId");
    }

    #[test]
    fn buying_roles_map_to_the_strongest_canonical_role() {
        assert_eq!(
            buying_role("INFLUENCER;BUDGET_HOLDER").as_deref(),
            Some("economic_buyer")
        );
        assert_eq!(buying_role("CHAMPION").as_deref(), Some("champion"));
        assert_eq!(buying_role("OTHER"), None);
    }
}
