//! A webhooks v2 body into a canonical event: `{"meta": …, "data": …, "previous": …}`.
//!
//! `data` is the whole object after the change (`null` on delete), `previous` only the fields
//! that changed, under the API v2 names: a `stage_id` there is the stage a deal came from, an
//! `owner_id` there says the same change gave the deal another owner. `meta.user_id` is the user
//! who made the change (since September 2023; before, it was the webhook's owner).
//!
//! What staleness reads: the last real activity is the latest of `last_activity_date` (the last
//! activity marked done) and the last email in or out (`last_incoming_mail_time`,
//! `last_outgoing_mail_time`), never `update_time`, which every save moves; the stage entry is
//! `stage_change_time` (else `add_time`); the next activity `next_activity_date` (with
//! `next_activity_time`); a lost deal's reason `lost_reason`. A v2 payload names its activities
//! by id only, so these come from payloads and lists that carry them. A date that cannot be read
//! is kept as unreadable, never dropped.

use serde::Deserialize;
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{PipedriveCredentials, complete::contact, options};
use crate::{
    Error,
    event::{Change, Delivery, WebhookEvent},
    gate::notices::NEXT_ACTIVITY_FIELD,
    inbound::InboundRequest,
    model::{DealStatus, Record, RecordKind, parse_date, parse_time, value_text as text},
    signature::credentials::{AUTHORIZATION_HEADER, verify_basic},
};

/// Fields Pipedrive changes on every save; they say nothing about what the change was.
const BOOKKEEPING: &[&str] = &["update_time"];

/// The fields that say when a deal's last real activity was: the last done activity's date, the
/// last email each way.
const LAST_ACTIVITY: &[&str] = &[
    "last_activity_date",
    "last_incoming_mail_time",
    "last_outgoing_mail_time",
];

#[derive(Deserialize)]
struct Webhook {
    meta: Meta,
    #[serde(default)]
    data: Option<Map<String, Value>>,
    #[serde(default)]
    previous: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
struct Meta {
    action: String,
    entity: String,
    id: Id,
    entity_id: Id,
    timestamp: Value,
    /// The user who made the change.
    #[serde(default)]
    user_id: Option<Id>,
    /// The Pipedrive company (account) the webhook comes from.
    #[serde(default)]
    company_id: Option<Id>,
}

/// Pipedrive sends ids as strings in v2 payloads, as numbers in some; both are kept as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

impl Id {
    fn text(self) -> String {
        match self {
            Id::Text(s) => s,
            Id::Number(n) => n.to_string(),
        }
    }
}

/// A Pipedrive deal or person id: digits (checked, as ids go into API paths).
pub(super) fn is_id(id: &str) -> bool {
    (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

/// Parse a webhooks v2 body (already authenticated).
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    read(body).map(|(_, events)| events)
}

/// Authenticate a webhook with the HTTP Basic `credentials` set on it (Pipedrive does not sign)
/// and read its events from the company served.
pub(super) fn accept(
    request: &InboundRequest<'_>,
    credentials: &PipedriveCredentials,
) -> Result<Delivery, Error> {
    verify_basic(
        request.header(AUTHORIZATION_HEADER),
        credentials.user.expose(),
        credentials.password.expose(),
    )?;
    request.require_content_type("application/json")?;
    let (company, events) = read(request.body)?;
    credentials
        .company
        .check("meta.company_id", company.as_deref())?;
    Ok(Delivery::webhook(events))
}

/// Parse a webhooks v2 body: the company it comes from (`meta.company_id`), and its event.
pub(super) fn read(body: &[u8]) -> Result<(Option<String>, Vec<WebhookEvent>), Error> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| Error::invalid_body(".", e.to_string()))?;
    // Checked first: a v1 body has another shape, and the fix is the webhook's version.
    let version = &value["meta"]["version"];
    if version != "2.0" {
        return Err(Error::invalid_body(
            "meta.version",
            format!(
                "webhooks version {version} is not supported: create the webhook with version 2.0"
            ),
        ));
    }
    let webhook: Webhook = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        Error::invalid_body(&path, e.into_inner().to_string())
    })?;
    let meta = webhook.meta;
    let occurred_at = timestamp(&meta.timestamp).ok_or_else(|| {
        Error::invalid_body("meta.timestamp", "not an RFC 3339 time or Unix seconds")
    })?;
    let event_id = meta.id.text();
    let record_id = meta.entity_id.text();
    let kind = match meta.entity.as_str() {
        "deal" => Some(RecordKind::Deal),
        "person" => Some(RecordKind::Lead),
        _ => None,
    };
    if kind.is_some() && !is_id(&record_id) {
        return Err(Error::invalid_body(
            "meta.entity_id",
            format!("{record_id:?} is not a Pipedrive record id (digits)"),
        ));
    }
    // A deal's person is fetched by this id.
    let person = (kind == Some(RecordKind::Deal))
        .then(|| webhook.data.as_ref()?.get("person_id"))
        .flatten()
        .filter(|p| !p.is_null());
    if let Some(person) = person
        && !text(person).is_some_and(|id| is_id(&id))
    {
        return Err(Error::invalid_body(
            "data.person_id",
            format!("{person} is not a Pipedrive person id (digits)"),
        ));
    }
    let previous = webhook.previous.unwrap_or_default();
    let mut record = Record::new(kind.unwrap_or(RecordKind::Deal), record_id);
    let change = match (kind, meta.action.as_str(), &webhook.data) {
        (None, ..) => None,
        (Some(_), "delete", _) => Some(Change::Deleted),
        (Some(kind), "create" | "change", Some(data)) => {
            fill(&mut record, kind, data);
            Some(change(kind, &meta.action, &previous, &record)?)
        }
        (Some(_), "create" | "change", None) => {
            return Err(Error::invalid_body(
                "data",
                "a create or change event must carry data",
            ));
        }
        _ => None,
    }
    .unwrap_or(Change::Unsupported {
        event_type: format!("{}.{}", meta.action, meta.entity),
    });
    let complete = matches!(change, Change::Deleted | Change::Unsupported { .. });
    // Only a change says what it changed; a creation gives the record its first owner.
    let owner_changed = (meta.action == "change").then(|| previous.contains_key("owner_id"));
    let company = meta.company_id.map(Id::text);
    let event = WebhookEvent {
        dedupe_key: format!("pipedrive:{event_id}"),
        event_id,
        occurred_at,
        changed_fields: changed_fields(&previous),
        change,
        record,
        changed_by: meta.user_id.map(Id::text).filter(|id| !id.is_empty()),
        owner_changed,
        complete,
    };
    Ok((company, vec![event]))
}

/// What a create or change event did to `record` (filled from its `data`). A deal's stage change
/// whose `data` lacks the stage it entered is refused (Pipedrive delivers it again), never taken
/// for a move out of the gate.
fn change(
    kind: RecordKind,
    action: &str,
    previous: &Map<String, Value>,
    record: &Record,
) -> Result<Change, Error> {
    let from = previous.get("stage_id").filter(|from| !from.is_null());
    Ok(match (kind, action, from) {
        (_, "create", _) => Change::Created,
        (RecordKind::Deal, _, Some(from)) => {
            let Some(to) = record.stage.clone() else {
                return Err(Error::invalid_body(
                    "data.stage_id",
                    "missing from a deal's stage change, so whether the deal entered a handoff stage cannot be told; refused so Pipedrive delivers it again",
                ));
            };
            Change::StageChanged {
                from: text(from),
                to,
            }
        }
        _ => Change::Updated,
    })
}

/// The latest of the [`LAST_ACTIVITY`] times `data` holds; when one cannot be read, which is the
/// latest cannot be told, and the deal's last activity is unreadable.
fn last_activity(record: &mut Record, get: &impl Fn(&str) -> Option<String>) {
    let mut latest = None;
    for sent in LAST_ACTIVITY.iter().filter_map(|name| get(name)) {
        match parse_time(&sent) {
            Some(at) => latest = latest.max(Some(at)),
            None => {
                record.unreadable.insert("last_activity_at".into(), sent);
                return;
            }
        }
    }
    record.last_activity_at = latest;
}

/// `meta.timestamp`: RFC 3339 in v2 payloads, Unix seconds (or milliseconds) in some.
fn timestamp(value: &Value) -> Option<OffsetDateTime> {
    match value {
        Value::String(s) => OffsetDateTime::parse(s, &Rfc3339)
            .ok()
            .or_else(|| s.parse::<i64>().ok().and_then(unix)),
        Value::Number(n) => n.as_i64().and_then(unix),
        _ => None,
    }
}

fn unix(n: i64) -> Option<OffsetDateTime> {
    // Ten digits are seconds until the year 2286; more are milliseconds.
    let nanos = if n.abs() >= 100_000_000_000 {
        i128::from(n) * 1_000_000
    } else {
        i128::from(n) * 1_000_000_000
    };
    OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
}

/// The fields a change touched, from `previous`: its keys, and the custom fields' keys.
fn changed_fields(previous: &Map<String, Value>) -> Vec<String> {
    let mut fields = Vec::new();
    for (name, value) in previous {
        match (name.as_str(), value) {
            ("custom_fields", Value::Object(custom)) => fields.extend(custom.keys().cloned()),
            (name, _) if BOOKKEEPING.contains(&name) => {}
            (name, _) => fields.push(name.to_owned()),
        }
    }
    fields
}

/// A custom field's value. Webhooks send typed objects (`{"type": "varchar", "value": …}`); the
/// API sends plain values. Option fields (`{"type": "enum", "id": 17}`, `{"type": "set", …}`) stay
/// typed until [`super::complete`] gives them their labels ([`options`]).
pub(super) fn custom_value(value: &Value) -> Option<Value> {
    let value = match value {
        Value::Object(_) if options::typed_ids(value).is_some() => value.clone(),
        Value::Object(typed) => typed.get("value")?.clone(),
        other => other.clone(),
    };
    match &value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        _ => Some(value),
    }
}

/// Fill a record from a deal's or person's `data`: Pipedrive's own fields into the canonical
/// ones, every custom field under its key, and the other plain fields under their names.
pub(super) fn fill(record: &mut Record, kind: RecordKind, data: &Map<String, Value>) {
    let get = |name: &str| data.get(name).and_then(text);
    record.owner_id = get("owner_id");
    match kind {
        RecordKind::Deal => {
            record.name = get("title");
            record.stage = get("stage_id");
            record.pipeline = get("pipeline_id");
            record.amount = data.get("value").and_then(Value::as_f64);
            record.close_date =
                record.read_date("close_date", get("expected_close_date"), parse_date);
            record.stage_entered_at = record.read_date(
                "stage_entered_at",
                get("stage_change_time").or_else(|| get("add_time")),
                parse_time,
            );
            last_activity(record, &get);
            let next = get("next_activity_date").map(|date| match get("next_activity_time") {
                // `09:00` as well as `09:00:00`.
                Some(time) if time.len() == 5 => format!("{date} {time}:00"),
                Some(time) => format!("{date} {time}"),
                None => date,
            });
            record.next_activity_at = record.read_date("next_activity_at", next, parse_time);
            record.status = match get("status").as_deref() {
                Some("won") => DealStatus::Won,
                Some("lost") => DealStatus::Lost,
                _ => DealStatus::Open,
            };
        }
        RecordKind::Lead => {
            // The person is the lead; its role is read once the playbook names the field.
            record.name = get("name");
            record.contacts.push(contact(&record.id, data, None));
        }
    }
    for (name, value) in data {
        match (name.as_str(), value) {
            ("custom_fields", Value::Object(custom)) => {
                for (key, value) in custom {
                    if let Some(value) = custom_value(value) {
                        record.fields.insert(key.clone(), value);
                    }
                }
            }
            (_, Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                record.fields.insert(name.clone(), value.clone());
            }
            _ => {}
        }
    }
    // API v2 deals name only their next activity's id, so v2 webhooks carry no date; a payload
    // with v1's `next_activity_date` gives the handoff brief its date.
    if let Some(date) = get("next_activity_date") {
        record
            .fields
            .insert(NEXT_ACTIVITY_FIELD.into(), date.into());
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deal_change(meta: Value, data: Value, previous: Value) -> Vec<u8> {
        let mut meta_all = json!({"action": "change", "entity": "deal", "version": "2.0", "id": "e-1", "entity_id": "7", "timestamp": "2026-11-21T11:00:00Z"});
        for (k, v) in meta.as_object().unwrap() {
            meta_all[k] = v.clone();
        }
        json!({"meta": meta_all, "data": data, "previous": previous})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn the_vendor_example_parses_with_meta_id_as_the_dedupe_key() {
        let body = br#"{"meta":{"action":"change","entity":"deal","version":"2.0","id":1,"entity_id":1,"webhook_id":99,"attempt":1,"timestamp":1727447128,"change_source":"app"},"data":{"id":1,"title":"test deal","status":"open","stage_id":1,"pipeline_id":1,"update_time":"2024-09-27T14:25:28Z"},"previous":null}"#;
        let events = parse(body).unwrap();
        let event = &events[0];
        assert_eq!(event.dedupe_key, "pipedrive:1");
        assert_eq!(event.change, Change::Updated);
        assert_eq!(event.record.stage.as_deref(), Some("1"));
        assert_eq!(event.occurred_at.unix_timestamp(), 1727447128);
        assert_eq!(event.changed_by, None, "no meta.user_id");
        assert!(!event.complete);
    }

    #[test]
    fn the_mover_is_meta_user_id_and_a_new_owner_shows_in_previous() {
        let data = json!({"id": 7, "stage_id": 4, "owner_id": 40});
        let body = deal_change(
            json!({"user_id": 31}),
            data.clone(),
            json!({"stage_id": 3, "owner_id": 31}),
        );
        let event = parse(&body).unwrap().remove(0);
        assert_eq!(event.changed_by.as_deref(), Some("31"));
        assert_eq!(event.owner_changed, Some(true));
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: Some("3".into()),
                to: "4".into()
            }
        );
        let body = deal_change(
            json!({"user_id": "31"}),
            data.clone(),
            json!({"stage_id": 3}),
        );
        let event = parse(&body).unwrap().remove(0);
        assert_eq!(event.changed_by.as_deref(), Some("31"));
        assert_eq!(event.owner_changed, Some(false));
        // A creation says nothing about owners changing.
        let body = deal_change(json!({"action": "create"}), data, Value::Null);
        let event = parse(&body).unwrap().remove(0);
        assert_eq!(event.change, Change::Created);
        assert_eq!(event.owner_changed, None);
    }

    #[test]
    fn a_deal_without_its_stage_is_never_taken_for_one_outside_the_gate() {
        let body = deal_change(json!({}), json!({"id": 7}), json!({"stage_id": 3}));
        let Err(Error::InvalidBody { path, .. }) = parse(&body) else {
            panic!("a stage change without its stage was accepted")
        };
        assert_eq!(path, "data.stage_id");
        // A creation without a stage keeps none: the gate retries it rather than pass it.
        let body = deal_change(json!({"action": "create"}), json!({"id": 7}), Value::Null);
        let event = parse(&body).unwrap().remove(0);
        assert_eq!((event.change, event.record.stage), (Change::Created, None));
    }

    #[test]
    fn the_next_activity_date_is_read_only_when_the_payload_has_it() {
        let body = deal_change(json!({}), json!({"id": 7, "stage_id": 4}), Value::Null);
        let event = parse(&body).unwrap().remove(0);
        assert_eq!(event.record.text(NEXT_ACTIVITY_FIELD), None);
        let body = deal_change(
            json!({}),
            json!({"id": 7, "stage_id": 4, "next_activity_date": "2026-11-26"}),
            Value::Null,
        );
        let event = parse(&body).unwrap().remove(0);
        assert_eq!(
            event.record.text(NEXT_ACTIVITY_FIELD).as_deref(),
            Some("2026-11-26")
        );
    }

    /// Regression: `update_time`, which every save moves, was read as the last activity, so a
    /// Pipedrive deal could never rot.
    #[test]
    fn the_last_activity_is_a_real_one_never_the_last_save() {
        let saved = json!({"id": 7, "stage_id": 4, "update_time": "2026-11-21T11:00:00Z",
            "stage_change_time": "2026-09-15T09:00:00Z"});
        let event = parse(&deal_change(json!({}), saved, Value::Null))
            .unwrap()
            .remove(0);
        assert_eq!(event.record.last_activity_at, None);
        assert_eq!(
            event.record.stage_entered_at,
            Some(time::macros::datetime!(2026-09-15 09:00 UTC))
        );
        let listed = json!({"id": 7, "stage_id": 4, "update_time": "2026-11-21T11:00:00Z",
            "last_activity_date": "2026-10-02", "last_outgoing_mail_time": "2026-10-05 16:20:00",
            "next_activity_date": "2026-11-26", "next_activity_time": "09:30"});
        let record = parse(&deal_change(json!({}), listed, Value::Null))
            .unwrap()
            .remove(0)
            .record;
        assert_eq!(
            record.last_activity_at,
            Some(time::macros::datetime!(2026-10-05 16:20 UTC)),
            "the latest of the last done activity and the last email"
        );
        assert_eq!(
            record.next_activity_at,
            Some(time::macros::datetime!(2026-11-26 09:30 UTC))
        );
        let garbled = json!({"id": 7, "stage_id": 4, "last_activity_date": "2026-10-02",
            "last_incoming_mail_time": "yesterday", "expected_close_date": "2026-02-30"});
        let record = parse(&deal_change(json!({}), garbled, Value::Null))
            .unwrap()
            .remove(0)
            .record;
        assert_eq!(record.last_activity_at, None);
        assert_eq!(record.close_date, None);
        assert_eq!(
            record.unreadable,
            std::collections::BTreeMap::from([
                ("close_date".to_owned(), "2026-02-30".to_owned()),
                ("last_activity_at".to_owned(), "yesterday".to_owned()),
            ])
        );
    }

    #[test]
    fn typed_custom_fields_keep_their_values() {
        assert_eq!(
            custom_value(&json!({"type": "varchar", "value": "x"})),
            Some(json!("x"))
        );
        let option = json!({"type": "enum", "id": 17});
        assert_eq!(
            custom_value(&option),
            Some(option),
            "labelled in complete()"
        );
        assert_eq!(custom_value(&json!({"type": "varchar", "value": ""})), None);
        assert_eq!(custom_value(&json!(5)), Some(json!(5)));
    }

    #[test]
    fn version_one_webhooks_are_refused_with_the_fix() {
        let body = br#"{"meta":{"action":"updated","entity":"deal","version":"1.0","id":1,"entity_id":1,"timestamp":1},"data":{}}"#;
        let Err(Error::InvalidBody { path, message }) = parse(body) else {
            panic!("accepted")
        };
        assert_eq!(path, "meta.version");
        assert!(message.contains("2.0"), "{message}");
    }

    #[test]
    fn record_ids_are_digits_and_a_path_never_gets_through() {
        for (meta, data, path) in [
            (
                json!({"entity_id": ".."}),
                json!({"id": 7}),
                "meta.entity_id",
            ),
            (
                json!({"entity_id": "7/../9"}),
                json!({"id": 7}),
                "meta.entity_id",
            ),
            (json!({"entity_id": ""}), json!({"id": 7}), "meta.entity_id"),
            (
                json!({}),
                json!({"id": 7, "person_id": ".."}),
                "data.person_id",
            ),
            (
                json!({}),
                json!({"id": 7, "person_id": {"id": 1}}),
                "data.person_id",
            ),
        ] {
            let body = deal_change(meta, data, Value::Null);
            let Err(Error::InvalidBody { path: at, .. }) = parse(&body) else {
                panic!("accepted {body:?}")
            };
            assert_eq!(at, path);
        }
        let body = deal_change(
            json!({"entity_id": 7}),
            json!({"id": 7, "person_id": 201}),
            Value::Null,
        );
        assert_eq!(parse(&body).unwrap()[0].record.id, "7");
        // A lead (not scored) has a UUID: acknowledged and skipped, not refused.
        let body = deal_change(
            json!({"entity": "lead", "entity_id": "adf21080-0e10-11eb-879b-05d71fb426ec"}),
            json!({"id": "adf21080-0e10-11eb-879b-05d71fb426ec"}),
            Value::Null,
        );
        assert!(matches!(
            parse(&body).unwrap()[0].change,
            Change::Unsupported { .. }
        ));
    }

    #[test]
    fn the_company_is_read_from_meta() {
        let body = deal_change(
            json!({"company_id": 7315220}),
            json!({"id": 7}),
            Value::Null,
        );
        assert_eq!(read(&body).unwrap().0.as_deref(), Some("7315220"));
        let body = deal_change(json!({}), json!({"id": 7}), Value::Null);
        assert_eq!(read(&body).unwrap().0, None);
    }

    #[test]
    fn bookkeeping_fields_are_not_changes() {
        let previous = json!({"update_time": "x", "custom_fields": {"abc": null}, "stage_id": 1});
        assert_eq!(
            changed_fields(previous.as_object().unwrap()),
            ["abc", "stage_id"]
        );
    }
}
