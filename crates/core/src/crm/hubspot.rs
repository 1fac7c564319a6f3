//! HubSpot: the Webhooks API in, the CRM v3 objects API out.
//!
//! # Inbound
//! `POST /<function>/hubspot`, signed with signature v3, or v1/v2 (see
//! [`crate::signature::hubspot`]):
//! - from the Webhooks API, a JSON array of up to 100 events. Deal and contact creation, property
//!   changes (a `dealstage` change is a stage change), deletion, merge, restore (gated like a
//!   creation: the deal reappears in its stage) and association changes are handled; other event
//!   types are acknowledged and skipped so HubSpot does not retry them. A contact is scored as a
//!   lead. An event's `sourceId` (`userId:123`) names the user who made the change.
//! - from a workflow's "Send a webhook" action, one record as a JSON object ([`workflow`]),
//!   handled like an event and answered with flat fields the workflow can branch on.
//!
//! Each event carries one property at most, so the records are fetched before anything is
//! decided, for the whole batch at once with HubSpot's batch APIs ([`fetch`]): the properties the
//! playbook reads, the `dealstage` and `hubspot_owner_id` history (the stage a deal came from,
//! who moved it, whether the move gave it another owner), the associated contacts' titles and
//! buying roles, and the owner id of the user who moved a deal into a handoff stage (tasks are
//! assigned to owners, not users). Project apps' generic `object.*` subscriptions
//! are read by their `objectTypeId` (`0-3` deals, `0-1` contacts).
//!
//! Events are de-duplicated on (portalId, subscriptionId, eventId, objectId, occurredAt): HubSpot
//! does not guarantee `eventId` alone is unique.
//!
//! # Write-back
//! Batched ([`write`]): the result properties (and `dealstage` when a blocked handoff is moved
//! back, once a batch read shows the deal still in the handoff stage), then the decision's tasks
//! and notes, each assigned to its person's owner id and associated with the record.

mod fetch;
mod history;
mod owners;
pub mod workflow;
mod write;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::{
    Adapter, ApiAuth, ApiVariables, BatchCall, Crm, Secrets, Steps, WebhookSecret, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Change, Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::{Record, RecordKind},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    signature::hubspot::{
        SIGNATURE_HEADER, SIGNATURE_V3_HEADER, SIGNATURE_VERSION_HEADER, TIMESTAMP_HEADER,
        verify_v1_v2, verify_v3,
    },
    writeback::WriteBack,
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
    "notes_next_activity_date",
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

/// HubSpot's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Hubspot;

impl Adapter for Hubspot {
    fn crm(&self) -> Crm {
        Crm::Hubspot
    }

    /// The app's client secret.
    type Credentials = WebhookSecret;

    fn credentials(&self, secrets: &Secrets) -> Result<WebhookSecret, Error> {
        secret(secrets, SECRET_VARIABLE)
    }

    fn accept(
        &self,
        request: &InboundRequest<'_>,
        secret: &WebhookSecret,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        accept(request, secret.expose(), now)
    }

    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        fetch::complete(events, playbook, api).await
    }

    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        fetch::current_stages(ids, api).await
    }

    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
        write::render(write_backs, now)
    }

    fn refused(&self, call: &BatchCall, answer: &Value) -> Vec<(usize, String)> {
        write::refused(call, answer)
    }
}

/// Authenticate a HubSpot request and parse it: a Webhooks API batch (an array) or a workflow
/// action's record (an object).
fn accept(
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
            event
                .property_value
                .clone()
                .map(|to| Change::StageChanged { from: None, to })
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

/// The API's name for a record kind's objects.
fn object_type(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Deal => "deals",
        RecordKind::Lead => "contacts",
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
    fn generic_object_subscriptions_are_read_by_their_object_type_id() {
        let body = br#"[{"eventId":3,"subscriptionId":1,"portalId":1,"occurredAt":1564113600000,"subscriptionType":"object.propertyChange","objectTypeId":"0-3","propertyName":"dealstage","propertyValue":"sales_accepted","objectId":9},{"eventId":4,"subscriptionId":1,"portalId":1,"occurredAt":1564113600000,"subscriptionType":"object.creation","objectTypeId":"0-1","objectId":10},{"eventId":5,"subscriptionId":1,"portalId":1,"occurredAt":1564113600000,"subscriptionType":"object.creation","objectTypeId":"0-5","objectId":11}]"#;
        let events = parse(body).unwrap();
        assert_eq!(events[0].record.kind, RecordKind::Deal);
        assert_eq!(
            events[0].change,
            Change::StageChanged {
                from: None,
                to: "sales_accepted".into()
            }
        );
        assert_eq!(events[1].record.kind, RecordKind::Lead);
        assert_eq!(events[1].change, Change::Created);
        assert!(!events[1].complete, "fetched like any contact");
        assert!(matches!(events[2].change, Change::Unsupported { .. }));
    }

    #[test]
    fn a_restore_is_its_own_change_and_the_source_user_is_kept_for_the_fetch() {
        let body = br#"[{"eventId":6,"subscriptionId":1,"portalId":1,"occurredAt":1795248900000,"subscriptionType":"deal.restore","objectId":9,"changeSource":"CRM_UI","sourceId":"userId:31337"},{"eventId":7,"subscriptionId":1,"portalId":1,"occurredAt":1795248900000,"subscriptionType":"deal.propertyChange","propertyName":"amount","propertyValue":"1","objectId":9,"changeSource":"INTEGRATION","sourceId":12345},{"eventId":8,"subscriptionId":1,"portalId":1,"occurredAt":1795248900000,"subscriptionType":"deal.deletion","objectId":9,"sourceId":"userId:31337"}]"#;
        let events = parse(body).unwrap();
        assert_eq!(events[0].change, Change::Restored);
        assert_eq!(events[0].changed_by.as_deref(), Some("31337"));
        assert_eq!(events[1].changed_by, None, "an app is no user");
        assert_eq!(events[2].changed_by, None, "nothing to fetch");
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
    fn multi_status_errors_refuse_the_inputs_they_name_or_else_every_input() {
        let call = BatchCall {
            call: crate::writeback::CrmCall::with_body(
                "POST",
                "/crm/v3/objects/deals/batch/update",
                serde_json::json!({"inputs": [{"id": "1", "properties": {}}, {"id": "2", "properties": {}}]}),
            ),
            serves: vec![0, 1],
        };
        let named = serde_json::json!({"status": "COMPLETE", "results": [], "numErrors": 1, "errors": [
            {"status": "error", "category": "VALIDATION_ERROR", "message": "Property pg_score does not exist", "context": {"ids": ["2"]}}]});
        assert_eq!(
            Hubspot.refused(&call, &named),
            [(
                1,
                "VALIDATION_ERROR: Property pg_score does not exist".to_owned()
            )]
        );
        let unnamed =
            serde_json::json!({"errors": [{"category": "VALIDATION_ERROR", "message": "bad"}]});
        assert_eq!(Hubspot.refused(&call, &unnamed).len(), 2);
        assert!(
            Hubspot
                .refused(&call, &serde_json::json!({"results": []}))
                .is_empty()
        );
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
