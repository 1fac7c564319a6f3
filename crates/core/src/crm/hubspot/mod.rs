//! HubSpot: the Webhooks API in, the CRM v3 objects API out.
//!
//! # Inbound
//! `POST /<function>/hubspot`, signed with signature v3, or v1/v2 (see
//! [`signature`]):
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
//! does not guarantee `eventId` alone is unique. A batch of more than [`MAX_EVENTS`] is refused.
//!
//! When `hubspot_portal_ids` lists portals, every event's `portalId` (a workflow body's
//! `portalId`, or `portal-id` on a contact) must be one of them, or the request is refused with
//! `403` before anything is done: an app installed in several portals signs all their webhooks
//! with the same secret. A HubSpot app sends its webhooks to one target URL, so a function may
//! have its own app and secret (`hubspot_function_client_secret`, read by the edge in place of
//! the shared `hubspot_client_secret`).
//!
//! # Write-back
//! Batched ([`write`]): the result properties (and `dealstage` when a blocked handoff is moved
//! back, once a batch read shows the deal still in the handoff stage), then the decision's tasks
//! and notes, each assigned to its person's owner id and associated with the record.

mod accept;
mod companies;
mod complete;
mod history;
mod list;
mod names;
mod owners;
pub mod signature;
mod timeline;
pub mod workflow;
mod write;

pub use accept::parse;

use serde_json::Value;
use time::OffsetDateTime;

use super::{
    Adapter, ApiAuth, ApiVariables, BatchCall, Crm, Facts, FieldNames, FieldRules, FunctionSecret,
    Secrets, Steps, Tenant, Tenants, WebhookSecret, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::RecordKind,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::WriteBack,
};
use signature::{SIGNATURE_HEADER, SIGNATURE_V3_HEADER};
use std::time::Duration;

/// The Spin variable holding the HubSpot app's client secret.
pub const SECRET_VARIABLE: &str = "hubspot_client_secret";
/// The Spin variable that lets workflow actions sign with v1 or v2 (`true`; `false` by default):
/// see [`HubspotCredentials::workflow_v1_v2`].
pub const WORKFLOW_V1_V2_VARIABLE: &str = "hubspot_workflow_signature_v1_v2";
/// The component variable holding a function's own app's client secret (empty: the shared one).
pub const FUNCTION_SECRET_VARIABLE: &str = "hubspot_function_client_secret";
/// The Spin variable listing the portal ids served, comma-separated (empty: any).
pub const PORTALS_VARIABLE: &str = "hubspot_portal_ids";
/// The most events HubSpot sends in one request.
pub const MAX_EVENTS: usize = 100;
/// The Spin variables for HubSpot's API.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "hubspot_api_url",
    token: "hubspot_api_token",
    auth: ApiAuth::Bearer,
    oauth: None,
    origin: ApiVariables::ANY_ORIGIN,
    wrong_origin: |_| None,
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

/// HubSpot's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Hubspot;

/// What HubSpot requests are checked with.
#[derive(Debug, Clone)]
pub struct HubspotCredentials {
    /// The app's client secret.
    pub secret: WebhookSecret,
    /// The portals served.
    pub portals: Tenants,
    /// Whether a workflow action may sign with v1 or v2 alone, which carry no timestamp
    /// ([`WORKFLOW_V1_V2_VARIABLE`]). The Webhooks API is held to v3 whatever this says.
    pub workflow_v1_v2: bool,
}

impl Hubspot {
    /// A HubSpot portal (account) id: `portalId` on every event.
    pub const TENANT: Tenant = Tenant {
        variable: PORTALS_VARIABLE,
        described: "a HubSpot portal id (digits; list several with commas)",
        is_valid: Tenant::is_number,
        key: |id| id,
    };
}

impl Adapter for Hubspot {
    const FACTS: Facts = Facts {
        crm: Crm::Hubspot,
        secret_variables: &[SECRET_VARIABLE, PORTALS_VARIABLE, WORKFLOW_V1_V2_VARIABLE],
        function_secret: Some(FunctionSecret {
            variable: FUNCTION_SECRET_VARIABLE,
            replaces: SECRET_VARIABLE,
        }),
        api_variables: API_VARIABLES,
        credential_headers: &[SIGNATURE_V3_HEADER, SIGNATURE_HEADER],
        credential_query: None,
        credential_hint: SIGNATURE_V3_HEADER,
        answer_timeout: Duration::from_secs(5),
        answer_timeout_variable: None,
        tenant: Some(Hubspot::TENANT),
        fields: FieldRules::PLAIN,
    };

    /// The app's client secret and the portals served.
    type Credentials = HubspotCredentials;

    fn credentials(&self, secrets: &Secrets) -> Result<HubspotCredentials, Error> {
        Ok(HubspotCredentials {
            secret: secret(secrets, SECRET_VARIABLE)?,
            portals: Tenants::from_secrets(secrets, Hubspot::TENANT)?,
            workflow_v1_v2: switch(secrets, WORKFLOW_V1_V2_VARIABLE)?,
        })
    }

    fn accept(
        &self,
        request: &InboundRequest<'_>,
        credentials: &HubspotCredentials,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        let delivery = accept::accept(request, credentials, now)?;
        accept::check_portals(request.body, &credentials.portals)?;
        Ok(delivery)
    }

    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        complete::complete(events, playbook, names, api).await
    }

    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        complete::current_stages(ids, api).await
    }

    /// CRM search for open deals, then the page read as a webhook's deals are ([`list`]).
    async fn list_open_deals(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<super::DealPage, Error> {
        list::open_deals(cursor, page_size, playbook, names, api).await
    }

    async fn user_names(
        &self,
        ids: &std::collections::BTreeSet<String>,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> std::collections::BTreeMap<String, Result<Option<String>, Error>> {
        names::user_names(ids, api).await
    }

    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
        write::render(write_backs, now)
    }

    fn refused(&self, call: &BatchCall, answer: &Value) -> Vec<(usize, String)> {
        write::refused(call, answer)
    }
}

/// A yes-or-no variable: `true` or `false` (empty is `false`); anything else is a configuration
/// error naming it.
fn switch(secrets: &Secrets, name: &'static str) -> Result<bool, Error> {
    let value = secrets.get(name).map_or("", |v| v.trim());
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" | "" => Ok(false),
        _ => Err(Error::Config(format!(
            "variable `{name}` is {value:?}: set it to true or false"
        ))),
    }
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
    use super::{accept::check_portals, *};
    use crate::event::Change;

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
    fn a_stage_change_without_its_value_is_gated_on_the_stage_the_fetch_reads() {
        let body = br#"[{"eventId":9,"subscriptionId":1,"portalId":1,"occurredAt":1795248900000,"subscriptionType":"deal.propertyChange","propertyName":"dealstage","objectId":9004}]"#;
        let events = parse(body).unwrap();
        assert_eq!(
            events[0].change,
            Change::StageChanged {
                from: None,
                to: String::new()
            }
        );
        assert!(!events[0].complete, "the deal is fetched, then gated");
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

    fn event_json(event_id: usize, portal: u64, object: &str) -> String {
        format!(
            r#"{{"eventId":{event_id},"subscriptionId":1,"portalId":{portal},"occurredAt":1564113600000,"subscriptionType":"deal.creation","objectId":{object}}}"#
        )
    }

    fn batch(portals: &[u64]) -> Vec<u8> {
        let events: Vec<String> = portals
            .iter()
            .enumerate()
            .map(|(i, portal)| event_json(i, *portal, "9"))
            .collect();
        format!("[{}]", events.join(",")).into_bytes()
    }

    #[test]
    fn a_batch_of_more_than_a_hundred_events_is_refused_naming_the_limit() {
        assert_eq!(parse(&batch(&[62515; MAX_EVENTS])).unwrap().len(), 100);
        let Err(err @ Error::InvalidBody { .. }) = parse(&batch(&[62515; MAX_EVENTS + 1])) else {
            panic!("accepted 101 events")
        };
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("101 events") && err.to_string().contains("100"));
    }

    #[test]
    fn record_ids_are_digits() {
        for object in ["\"..\"", "\"9\"", "-9", "1.5", "123456789012345678901"] {
            let body = format!("[{}]", event_json(1, 62515, object));
            let Err(Error::InvalidBody { path, .. }) = parse(body.as_bytes()) else {
                panic!("accepted objectId {object}")
            };
            assert_eq!(path, "[0].objectId", "{object}");
        }
    }

    fn portals(listed: &str) -> Tenants {
        let mut secrets = Secrets::new();
        secrets.insert(PORTALS_VARIABLE, listed.into());
        Tenants::from_secrets(&secrets, Hubspot::TENANT).unwrap()
    }

    #[test]
    fn every_event_of_a_batch_must_come_from_a_portal_served() {
        let served = portals("62515,7001");
        assert!(check_portals(&batch(&[62515, 7001, 62515]), &served).is_ok());
        let err = check_portals(&batch(&[62515, 62515, 99]), &served).unwrap_err();
        assert_eq!((err.status(), err.code()), (403, "wrong_tenant"));
        let Error::WrongTenant { path, found, .. } = err else {
            unreachable!()
        };
        assert_eq!(
            (path.as_str(), found.as_deref()),
            ("[2].portalId", Some("99"))
        );
        assert!(
            check_portals(&batch(&[99]), &portals("")).is_ok(),
            "not pinned"
        );
    }

    #[test]
    fn a_workflow_body_names_its_portal_or_is_refused_while_pinned() {
        let served = portals("62515");
        for body in [
            r#"{"portalId":62515,"dealId":9004}"#,
            r#"{"vid":123,"portal-id":62515}"#,
            r#"{"hs_object_id":"9","portalId":"62515"}"#,
        ] {
            assert!(check_portals(body.as_bytes(), &served).is_ok(), "{body}");
        }
        for (body, at) in [
            (r#"{"portalId":62516,"dealId":9004}"#, "portalId"),
            (r#"{"vid":123,"portal-id":1}"#, "portal-id"),
            (r#"{"hs_object_id":"9"}"#, "portalId"),
        ] {
            let Err(Error::WrongTenant { path, .. }) = check_portals(body.as_bytes(), &served)
            else {
                panic!("accepted {body}")
            };
            assert_eq!(path, at, "{body}");
        }
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
