//! HubSpot workflow "Send a webhook" actions: one record per request, as a JSON object.
//!
//! The Webhooks API sends an array of events; a workflow action sends the enrolled record itself,
//! in one of these shapes:
//!
//! - **Include all properties** on a deal: the deal as HubSpot's deal object, `dealId`,
//!   `portalId` and `properties`, each property `{"value": …, "timestamp": …, "versions": […]}`;
//!   on a contact: `vid` (`canonical-vid` after a merge), `portal-id` and `properties` alike.
//! - **Customize request body**: the keys the admin chose, flat (`{"hs_object_id": "9004", …}`).
//!   It must carry `hs_object_id` and the record's last-modified date (`hs_lastmodifieddate`, or
//!   `lastmodifieddate` on contacts); which object it is comes from an `objectType` key or from
//!   `?object=deal` (or `contact`) on the webhook URL.
//! - `objectId` with `objectType` (`DEAL`, `CONTACT`, or their type ids `0-3`, `0-1`).
//!
//! Only the record's id, type and last-modified date are read from the body: the record itself is
//! fetched through the CRM v3 objects API like any Webhooks API event, so every shape is judged
//! on the same, current data.
//!
//! A workflow sends no event id. Its retries (HubSpot retries for up to three days) repeat the
//! same record version, so the event is keyed on (object type, id, last-modified date): a retry is
//! a duplicate and answered with the first decision, while a re-enrolment after the record changed
//! is decided again. The action names no event either: a deal is taken as entering the stage it
//! is in (the workflow's trigger is the admin's), a contact as updated. Deals and contacts are
//! handled; other objects are acknowledged and skipped.
//!
//! The same key is the replay defence of signatures v1 and v2, which carry no timestamp (see
//! [`super::accept`]): the id and the date come from the signed body (and the object type from
//! the body, or from the URL that v2 signs), so a replayed body is the same event, answered as a
//! duplicate and never applied twice while the ledger keeps it (7 days, more than HubSpot's 3
//! days of retries), and only a record changed since, which HubSpot must sign anew, is decided
//! again.

use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Error,
    event::{Change, Delivery, WebhookEvent},
    model::{Record, RecordKind},
};

/// The URL query parameter that names the object type for a customized body.
pub const OBJECT_QUERY: &str = "object";

/// The object a workflow enrolled, as its body or URL names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Object {
    Known(RecordKind),
    Other(String),
}

impl Object {
    fn from_name(name: &str) -> Object {
        match name.trim().to_ascii_lowercase().as_str() {
            "deal" | "deals" | "0-3" => Object::Known(RecordKind::Deal),
            "contact" | "contacts" | "0-1" => Object::Known(RecordKind::Lead),
            _ => Object::Other(name.trim().to_owned()),
        }
    }

    fn name(&self) -> &str {
        match self {
            Object::Known(RecordKind::Deal) => "deal",
            Object::Known(RecordKind::Lead) => "contact",
            Object::Other(name) => name,
        }
    }
}

/// Parse a workflow action's body (already authenticated). `object` is the URL's
/// [`OBJECT_QUERY`] parameter, if any.
pub fn parse(body: &[u8], object: Option<&str>) -> Result<Delivery, Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid_body(".", e.to_string()))?;
    let Value::Object(body) = value else {
        return Err(Error::invalid_body(
            ".",
            "a workflow webhook body is a JSON object",
        ));
    };
    let object = object_type(&body, object)?;
    let id = record_id(&body)?;
    let (modified, modified_ms) = last_modified(&body)?;
    let (kind, change, complete) = match &object {
        Object::Known(RecordKind::Deal) => (
            RecordKind::Deal,
            // The stage is the deal's current one, filled in when the record is fetched.
            Change::StageChanged {
                from: None,
                to: String::new(),
            },
            false,
        ),
        Object::Known(RecordKind::Lead) => (RecordKind::Lead, Change::Updated, false),
        Object::Other(name) => (
            RecordKind::Deal,
            Change::Unsupported {
                event_type: format!("workflow webhook for a {name}"),
            },
            true,
        ),
    };
    let key = format!("{}:{id}:{modified_ms}", object.name());
    Ok(Delivery::workflow_action(WebhookEvent {
        dedupe_key: format!("hubspot-workflow:{key}"),
        event_id: format!("workflow:{key}"),
        occurred_at: modified,
        change,
        record: Record::new(kind, id),
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete,
    }))
}

/// A property's value: a top-level key (a customized body), else `properties.<name>`, either
/// plain or HubSpot's `{"value": …}`.
fn property<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    let value = body
        .get(name)
        .or_else(|| body.get("properties")?.get(name))?;
    let value = value.get("value").unwrap_or(value);
    (!value.is_null() && value.as_str() != Some("")).then_some(value)
}

fn object_type(body: &Map<String, Value>, query: Option<&str>) -> Result<Object, Error> {
    let named = match body.get("objectType") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(Object::from_name(name)),
        Some(other) => {
            return Err(Error::invalid_body(
                "objectType",
                format!("expected DEAL or CONTACT, found {other}"),
            ));
        }
    };
    let queried = query.map(Object::from_name);
    match (named, queried) {
        (Some(named), Some(queried)) if named != queried => Err(Error::invalid_body(
            "objectType",
            format!(
                "the body says {:?} but the URL's ?{OBJECT_QUERY}= says {:?}",
                named.name(),
                queried.name()
            ),
        )),
        (Some(object), _) | (None, Some(object)) => Ok(object),
        (None, None) if body.contains_key("dealId") => Ok(Object::Known(RecordKind::Deal)),
        (None, None) if body.contains_key("vid") || body.contains_key("canonical-vid") => {
            Ok(Object::Known(RecordKind::Lead))
        }
        (None, None) => Err(Error::invalid_body(
            "objectType",
            format!(
                "cannot tell which object this is: add `?{OBJECT_QUERY}=deal` (or `contact`) to \
                 the webhook URL, or an `objectType` key to the request body"
            ),
        )),
    }
}

fn record_id(body: &Map<String, Value>) -> Result<String, Error> {
    let (name, value) = ["hs_object_id", "objectId", "dealId", "canonical-vid", "vid"]
        .into_iter()
        .find_map(|name| Some((name, property(body, name)?)))
        .ok_or_else(|| {
            Error::invalid_body(
                "hs_object_id",
                "no record id: include `hs_object_id` in the request body",
            )
        })?;
    let id = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    // At most 20 digits, as the Webhooks API's `objectId` (a u64): the id goes into API paths.
    if !(1..=20).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_body(
            name,
            format!("{id:?} is not a HubSpot record id"),
        ));
    }
    Ok(id)
}

/// The record's last-modified date, and the same in milliseconds for the event's key.
fn last_modified(body: &Map<String, Value>) -> Result<(OffsetDateTime, i128), Error> {
    let (name, value) = ["hs_lastmodifieddate", "lastmodifieddate"]
        .into_iter()
        .find_map(|name| Some((name, property(body, name)?)))
        .ok_or_else(|| {
            Error::invalid_body(
                "hs_lastmodifieddate",
                "no last-modified date: include `hs_lastmodifieddate` in the request body, so a \
                 retry can be told from a new enrolment",
            )
        })?;
    let millis = match value {
        Value::Number(n) => n.as_i64().map(i128::from),
        Value::String(s) if s.trim().bytes().all(|b| b.is_ascii_digit()) => s.trim().parse().ok(),
        Value::String(s) => OffsetDateTime::parse(s.trim(), &Rfc3339)
            .ok()
            .map(|at| at.unix_timestamp_nanos() / 1_000_000),
        _ => None,
    };
    millis
        .and_then(|ms| {
            let at = OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000).ok()?;
            Some((at, ms))
        })
        .ok_or_else(|| {
            Error::invalid_body(
                name,
                format!("{value} is neither milliseconds since 1970 nor an RFC 3339 time"),
            )
        })
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::{
        crm::hubspot::signature::{sign_v1, sign_v2, sign_v3},
        crm::{
            Adapter, Secrets,
            hubspot::{Hubspot, SECRET_VARIABLE, WORKFLOW_V1_V2_VARIABLE},
        },
        inbound::InboundRequest,
        ledger::Retention,
    };

    fn event(body: &str, object: Option<&str>) -> WebhookEvent {
        let delivery = parse(body.as_bytes(), object).unwrap();
        assert!(delivery.workflow && !delivery.synchronous);
        delivery.events.into_iter().next().unwrap()
    }

    fn error(body: &str, object: Option<&str>) -> (String, String) {
        match parse(body.as_bytes(), object) {
            Err(Error::InvalidBody { path, message }) => (path, message),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn a_deal_with_all_properties_enters_its_current_stage() {
        let event = event(
            r#"{"portalId":62515,"dealId":9004,"isDeleted":false,"properties":{"dealstage":{"value":"sales_accepted","timestamp":1795248900000},"hs_lastmodifieddate":{"value":"1795248902311","timestamp":1795248902311}}}"#,
            None,
        );
        assert_eq!(event.record.kind, RecordKind::Deal);
        assert_eq!(event.record.id, "9004");
        assert_eq!(event.dedupe_key, "hubspot-workflow:deal:9004:1795248902311");
        assert_eq!(event.occurred_at, datetime!(2026-11-21 08:15:02.311 UTC));
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: None,
                to: String::new()
            }
        );
        assert!(!event.complete, "the record is fetched");
    }

    #[test]
    fn a_customized_body_takes_its_type_from_the_url_and_accepts_iso_dates() {
        let event = event(
            r#"{"hs_object_id":"123","lastmodifieddate":"2026-11-21T08:15:02.311Z","email":"a@b.example"}"#,
            Some("contact"),
        );
        assert_eq!(event.record.kind, RecordKind::Lead);
        assert_eq!(event.record.id, "123");
        assert_eq!(event.change, Change::Updated);
        assert_eq!(
            event.dedupe_key,
            "hubspot-workflow:contact:123:1795248902311"
        );
    }

    #[test]
    fn a_legacy_contact_is_known_by_its_vid() {
        let event = event(
            r#"{"vid":123,"canonical-vid":123,"portal-id":62515,"properties":{"lastmodifieddate":{"value":"1795248902311"}}}"#,
            None,
        );
        assert_eq!(event.record.kind, RecordKind::Lead);
        assert_eq!(event.record.id, "123");
    }

    #[test]
    fn other_objects_are_acknowledged_and_skipped() {
        let event = event(
            r#"{"objectId":77,"objectType":"COMPANY","hs_lastmodifieddate":1795248902311}"#,
            None,
        );
        assert!(matches!(event.change, Change::Unsupported { .. }));
        assert!(event.complete);
    }

    #[test]
    fn a_body_that_cannot_be_placed_says_what_to_add() {
        let (path, message) = error(r#"{"hs_object_id":"9","hs_lastmodifieddate":"1"}"#, None);
        assert_eq!(path, "objectType");
        assert!(message.contains("?object=deal"), "{message}");

        let (path, _) = error(r#"{"hs_lastmodifieddate":"1"}"#, Some("deal"));
        assert_eq!(path, "hs_object_id");

        let (path, message) = error(r#"{"hs_object_id":"9"}"#, Some("deal"));
        assert_eq!(path, "hs_lastmodifieddate");
        assert!(message.contains("retry"), "{message}");

        let (path, _) = error(
            r#"{"hs_object_id":"9/../x","hs_lastmodifieddate":"1"}"#,
            Some("deal"),
        );
        assert_eq!(path, "hs_object_id");

        let (path, _) = error(
            r#"{"hs_object_id":"9","hs_lastmodifieddate":"yesterday"}"#,
            Some("deal"),
        );
        assert_eq!(path, "hs_lastmodifieddate");

        let (path, message) = error(
            r#"{"objectType":"CONTACT","hs_object_id":"9","hs_lastmodifieddate":"1"}"#,
            Some("deal"),
        );
        assert_eq!(path, "objectType");
        assert!(message.contains("\"contact\""), "{message}");

        let (path, _) = error("[1]", None);
        assert_eq!(path, ".");
    }

    #[test]
    fn a_record_id_is_at_most_twenty_digits() {
        let body = |id: &str| format!(r#"{{"hs_object_id":"{id}","hs_lastmodifieddate":"1"}}"#);
        assert_eq!(
            event(&body("12345678901234567890"), Some("deal")).record.id,
            "12345678901234567890"
        );
        let (path, message) = error(&body("123456789012345678901"), Some("deal"));
        assert_eq!(path, "hs_object_id");
        assert!(message.contains("not a HubSpot record id"), "{message}");
    }

    const SECRET: &str = "hubspot-fixture-secret";
    const GATE: &str = "https://hooks.example.com/gate-handoff/hubspot";
    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn deal_body(last_modified_ms: &str) -> String {
        format!(
            r#"{{"portalId":62515,"dealId":9004,"properties":{{"hs_lastmodifieddate":{{"value":"{last_modified_ms}"}}}}}}"#
        )
    }

    /// Signature headers of `version` (`v1`, `v2` or `v3`) for a POST of `body` to `url`.
    fn signed(version: &str, url: &str, body: &str) -> Vec<(&'static str, String)> {
        match version {
            "v1" => vec![
                ("x-hubspot-signature-version", "v1".into()),
                ("x-hubspot-signature", sign_v1(SECRET, body.as_bytes())),
            ],
            "v2" => vec![
                ("x-hubspot-signature-version", "v2".into()),
                (
                    "x-hubspot-signature",
                    sign_v2(SECRET, "POST", url, body.as_bytes()),
                ),
            ],
            _ => {
                let ts = (NOW.unix_timestamp() * 1000).to_string();
                let signature = sign_v3(SECRET, "POST", url, body.as_bytes(), &ts);
                vec![
                    ("x-hubspot-request-timestamp", ts),
                    ("x-hubspot-signature-v3", signature),
                ]
            }
        }
    }

    /// What the HubSpot adapter makes of a POST of `body` to `url` with `headers`, v1 and v2
    /// enabled or not.
    fn accept(
        url: &str,
        body: &str,
        headers: &[(&'static str, String)],
        v1_v2: &str,
    ) -> Result<Delivery, Error> {
        let mut secrets = Secrets::new();
        secrets.insert(SECRET_VARIABLE, SECRET.into());
        secrets.insert(WORKFLOW_V1_V2_VARIABLE, v1_v2.into());
        let mut map = http::HeaderMap::new();
        map.insert("content-type", "application/json".parse().unwrap());
        for (name, value) in headers {
            map.insert(*name, value.parse().unwrap());
        }
        let request = InboundRequest {
            method: "POST",
            url,
            headers: &map,
            body: body.as_bytes(),
        };
        Hubspot.accept(&request, &Hubspot.credentials(&secrets)?, NOW)
    }

    fn key(delivery: Result<Delivery, Error>) -> String {
        delivery.unwrap().events[0].dedupe_key.clone()
    }

    #[test]
    fn v1_and_v2_are_refused_unless_enabled_and_always_for_a_webhooks_api_batch() {
        let body = deal_body("1795248902311");
        let missing_v3 = Err(Error::MissingSignature {
            header: "x-hubspot-signature-v3",
        });
        for version in ["v1", "v2"] {
            let headers = signed(version, GATE, &body);
            assert_eq!(accept(GATE, &body, &headers, "false"), missing_v3);
            assert_eq!(accept(GATE, &body, &headers, ""), missing_v3);
            assert!(accept(GATE, &body, &headers, "true").is_ok(), "{version}");

            let batch = r#"[{"eventId":1,"subscriptionId":1,"portalId":62515,"occurredAt":1795248902311,"subscriptionType":"deal.creation","objectId":9004}]"#;
            let headers = signed(version, GATE, batch);
            assert_eq!(accept(GATE, batch, &headers, "true"), missing_v3);
        }
        // v3 is taken everywhere, enabled or not.
        assert!(accept(GATE, &body, &signed("v3", GATE, &body), "false").is_ok());
        let Err(Error::Config(message)) = accept(GATE, &body, &[], "yes") else {
            panic!("a switch that is neither true nor false was taken")
        };
        assert!(message.contains(WORKFLOW_V1_V2_VARIABLE), "{message}");
    }

    #[test]
    fn a_replayed_v1_or_v2_body_is_the_same_event_and_a_changed_record_a_new_one() {
        let body = deal_body("1795248902311");
        let first = key(accept(GATE, &body, &signed("v2", GATE, &body), "true"));
        assert_eq!(first, "hubspot-workflow:deal:9004:1795248902311");
        for version in ["v2", "v1"] {
            let replayed = key(accept(GATE, &body, &signed(version, GATE, &body), "true"));
            assert_eq!(
                replayed, first,
                "{version}: the ledger answers it as a duplicate"
            );
        }
        let changed = deal_body("1795249000000");
        let next = key(accept(
            GATE,
            &changed,
            &signed("v2", GATE, &changed),
            "true",
        ));
        assert_ne!(next, first, "a record changed since is decided again");
        // The ledger remembers the event for longer than HubSpot retries a workflow action.
        const HUBSPOT_WORKFLOW_RETRIES: time::Duration = time::Duration::days(3);
        assert!(Retention::default().keep > HUBSPOT_WORKFLOW_RETRIES);
    }

    #[test]
    fn a_v2_body_replayed_to_another_url_is_refused_and_v1_cannot_take_the_object_from_the_url() {
        let body = r#"{"hs_object_id":"123","lastmodifieddate":"1795248902311"}"#;
        let contact = format!("{GATE}?object=contact");
        let score = "https://hooks.example.com/score-lead/hubspot?object=contact";
        let headers = signed("v2", &contact, body);
        assert!(accept(&contact, body, &headers, "true").is_ok());
        assert_eq!(
            accept(score, body, &headers, "true"),
            Err(Error::BadSignature)
        );
        let Err(Error::InvalidBody { path, message }) =
            accept(&contact, body, &signed("v1", &contact, body), "true")
        else {
            panic!("a v1 request's unsigned ?object= was trusted")
        };
        assert_eq!(path, "objectType");
        assert!(
            message.contains("v1 signature does not cover the URL"),
            "{message}"
        );
    }
}
