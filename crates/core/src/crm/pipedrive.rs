//! Pipedrive: webhooks v2 in, the v2 API out.
//!
//! # Inbound
//! `POST /<function>/pipedrive`: one event per request, `{"meta": …, "data": …, "previous": …}`,
//! with the HTTP Basic credentials set on the webhook (`http_auth_user`/`http_auth_password`),
//! checked against the `pipedrive_webhook_user`/`pipedrive_webhook_password` variables. Pipedrive
//! does not sign webhooks; the credentials and TLS are what authenticate them.
//!
//! `data` is the whole object after the change (`null` on delete), `previous` only the fields
//! that changed: a `stage_id` there is the stage a deal came from. Deals are scored as deals,
//! persons as leads; other entities are acknowledged and skipped. A bulk edit in Pipedrive's list
//! view sends one event per record (`meta.is_bulk_edit`), each judged on its own: a bulk move into
//! a handoff stage is gated deal by deal. Events are de-duplicated on `meta.id`, the event's UUID.
//!
//! Custom fields arrive under 40-character keys, as typed objects (`{"type": "varchar", "value":
//! …}`); the playbook's `crm_fields.pipedrive` names the key that feeds each dimension (the
//! adapters' shared `mapped_fields`). A deal's person is fetched (`GET /api/v2/persons/<id>`) for
//! its name, job title and, when the contact dimension names a person field in
//! `crm_fields.pipedrive`, its buying role. Option fields (single and multiple option) carry ids;
//! those the playbook reads get their labels from the field definitions ([`options`]).
//!
//! # Write-back
//! `PATCH /api/v2/deals/<id>` (or `/persons/<id>`) with the result fields in `custom_fields` and
//! `stage_id` when a blocked handoff goes back; then an activity of type `task` for the owner
//! when they must act (`POST /api/v2/activities`), else a note (`POST /api/v1/notes`: Pipedrive
//! has no v2 notes API).

pub mod options;

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::{
    Adapter, ApiAuth, ApiVariables, Crm, Secrets, Steps, WebhookSecret,
    adapter::one_record_per_call, html, path_segment, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Change, Delivery, WebhookEvent},
    evidence::EvidenceRule,
    inbound::InboundRequest,
    model::{Contact, DealStatus, Record, RecordKind, parse_date, value_text as text},
    playbook::Playbook,
    ports::{Clock, CrmClient},
    signature::credentials::{AUTHORIZATION_HEADER, verify_basic},
    writeback::{CrmCall, NoticeKind, WriteBack},
};

/// The Spin variable holding the webhook's HTTP Basic user.
pub const USER_VARIABLE: &str = "pipedrive_webhook_user";
/// The Spin variable holding the webhook's HTTP Basic password.
pub const PASSWORD_VARIABLE: &str = "pipedrive_webhook_password";
/// The Spin variables for Pipedrive's API; the token goes in Pipedrive's `x-api-token` header.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "pipedrive_api_url",
    token: "pipedrive_api_token",
    auth: ApiAuth::Header("x-api-token"),
    oauth: None,
};

/// Fields Pipedrive changes on every save; they say nothing about what the change was.
const BOOKKEEPING: &[&str] = &["update_time"];

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

/// Pipedrive's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Pipedrive;

impl Adapter for Pipedrive {
    fn crm(&self) -> Crm {
        Crm::Pipedrive
    }

    /// The HTTP Basic user and password set on the webhook.
    type Credentials = (WebhookSecret, WebhookSecret);

    fn credentials(&self, secrets: &Secrets) -> Result<Self::Credentials, Error> {
        Ok((
            secret(secrets, USER_VARIABLE)?,
            secret(secrets, PASSWORD_VARIABLE)?,
        ))
    }

    fn accept(
        &self,
        request: &InboundRequest<'_>,
        (user, password): &Self::Credentials,
        _now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        verify_basic(
            request.header(AUTHORIZATION_HEADER),
            user.expose(),
            password.expose(),
        )?;
        request.require_content_type("application/json")?;
        parse(request.body).map(Delivery::webhook)
    }

    /// Pipedrive sends one webhook per deal: each event is completed on its own, side by side.
    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        api.map(events, |event| complete(event, playbook, api))
            .await
    }

    /// `GET /api/v2/deals?ids=…`, a hundred deals a call.
    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        let calls: Vec<CrmCall> = ids
            .chunks(100)
            .map(|chunk| {
                let ids: Vec<String> = chunk.iter().map(|id| path_segment(id)).collect();
                CrmCall::get(format!("/api/v2/deals?ids={}&limit=100", ids.join(",")))
            })
            .collect();
        let mut stages = std::collections::BTreeMap::new();
        for (call, answer) in calls.iter().zip(api.send_all(&calls).await) {
            let answer = answer?;
            let Some(deals) = answer["data"].as_array() else {
                return Err(Error::CrmRejected {
                    call: call.to_string(),
                    reason: "the answer has no `data` list".into(),
                });
            };
            for deal in deals {
                if let (Some(id), Some(stage)) = (text(&deal["id"]), text(&deal["stage_id"])) {
                    stages.insert(id, stage);
                }
            }
        }
        Ok(stages)
    }

    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
        one_record_per_call(write_backs, |wb| render(wb, now))
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Error {
    Error::InvalidBody {
        path: path.into(),
        message: message.into(),
    }
}

/// Parse a webhooks v2 body (already authenticated).
pub fn parse(body: &[u8]) -> Result<Vec<WebhookEvent>, Error> {
    let value: Value = serde_json::from_slice(body).map_err(|e| invalid(".", e.to_string()))?;
    // Checked first: a v1 body has another shape, and the fix is the webhook's version.
    let version = &value["meta"]["version"];
    if version != "2.0" {
        return Err(invalid(
            "meta.version",
            format!(
                "webhooks version {version} is not supported: create the webhook with version 2.0"
            ),
        ));
    }
    let webhook: Webhook = serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        invalid(&path, e.into_inner().to_string())
    })?;
    let meta = webhook.meta;
    let occurred_at = timestamp(&meta.timestamp)
        .ok_or_else(|| invalid("meta.timestamp", "not an RFC 3339 time or Unix seconds"))?;
    let event_id = meta.id.text();
    let record_id = meta.entity_id.text();
    let kind = match meta.entity.as_str() {
        "deal" => Some(RecordKind::Deal),
        "person" => Some(RecordKind::Lead),
        _ => None,
    };
    let previous = webhook.previous.unwrap_or_default();
    let mut record = Record::new(kind.unwrap_or(RecordKind::Deal), record_id);
    let change = match (kind, meta.action.as_str(), &webhook.data) {
        (None, ..) => None,
        (Some(_), "delete", _) => Some(Change::Deleted),
        (Some(kind), "create" | "change", Some(data)) => {
            fill(&mut record, kind, data);
            let change = match (kind, meta.action.as_str(), previous.get("stage_id")) {
                (_, "create", _) => Change::Created,
                (RecordKind::Deal, _, Some(from)) if !from.is_null() => Change::StageChanged {
                    from: text(from),
                    to: record.stage.clone().unwrap_or_default(),
                },
                _ => Change::Updated,
            };
            Some(change)
        }
        (Some(_), "create" | "change", None) => {
            return Err(invalid("data", "a create or change event must carry data"));
        }
        _ => None,
    }
    .unwrap_or(Change::Unsupported {
        event_type: format!("{}.{}", meta.action, meta.entity),
    });
    let complete = matches!(change, Change::Deleted | Change::Unsupported { .. });
    Ok(vec![WebhookEvent {
        dedupe_key: format!("pipedrive:{event_id}"),
        event_id,
        occurred_at,
        changed_fields: changed_fields(&previous),
        change,
        record,
        changed_by: None,
        owner_changed: None,
        complete,
    }])
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
/// typed until [`complete`] gives them their labels ([`options`]).
fn custom_value(value: &Value) -> Option<Value> {
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
fn fill(record: &mut Record, kind: RecordKind, data: &Map<String, Value>) {
    let get = |name: &str| data.get(name).and_then(text);
    let time = |name: &str| get(name).and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok());
    record.owner_id = get("owner_id");
    // Pipedrive's own rotting counts from the last update.
    record.last_activity_at = time("update_time");
    match kind {
        RecordKind::Deal => {
            record.name = get("title");
            record.stage = get("stage_id");
            record.pipeline = get("pipeline_id");
            record.amount = data.get("value").and_then(Value::as_f64);
            record.close_date = get("expected_close_date").and_then(|d| parse_date(&d));
            record.stage_entered_at = time("stage_change_time").or_else(|| time("add_time"));
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
}

/// The person custom field the contact dimension reads buying roles from, if the playbook names
/// one: its `pipedrive_person` entry (a contact dimension always reads persons, so its
/// `pipedrive` entry is taken as a person field's key too).
fn role_field(playbook: &Playbook) -> Option<&str> {
    let table = Crm::Pipedrive.field_table(RecordKind::Lead);
    playbook
        .dimensions
        .iter()
        .filter(|d| matches!(d.evidence, EvidenceRule::Contact { .. }))
        .find_map(|d| {
            d.crm_fields
                .get(table)
                .or_else(|| d.crm_fields.get(Crm::Pipedrive.name()))
        })
        .map(String::as_str)
}

/// A person as a contact: name, primary email, job title and buying role (the text of the
/// playbook's role field), written as a canonical role (`Economic Buyer` → `economic_buyer`).
fn contact(id: &str, person: &Map<String, Value>, role: Option<String>) -> Contact {
    let emails = person.get("emails").and_then(Value::as_array);
    let email = emails
        .and_then(|emails| {
            emails
                .iter()
                .find(|e| e["primary"] == true)
                .or_else(|| emails.first())
        })
        .and_then(|e| text(&e["value"]));
    let role = role.map(|role| Contact::role_key(&role));
    Contact {
        id: id.to_owned(),
        name: person.get("name").and_then(text),
        email,
        title: person.get("job_title").and_then(text),
        role,
    }
}

/// Label the option fields the playbook reads, map the playbook's fields and fetch a deal's
/// person.
pub async fn complete(
    mut event: WebhookEvent,
    playbook: &Playbook,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<WebhookEvent, Error> {
    let record = &mut event.record;
    let mapped = super::mapped_fields(playbook, Crm::Pipedrive, record.kind);
    let role_field = role_field(playbook);
    let mut read: BTreeSet<&str> = mapped.keys().map(String::as_str).collect();
    if record.kind == RecordKind::Lead {
        read.extend(role_field);
    }
    label_options(record, &read, api).await?;
    for (key, canonical) in mapped {
        if let Some(value) = record.fields.get(&key).cloned() {
            record.fields.insert(canonical, value);
        }
    }
    match record.kind {
        RecordKind::Lead => {
            let role = role_field
                .and_then(|key| record.fields.get(key))
                .and_then(text)
                .map(|role| Contact::role_key(&role));
            if let Some(me) = record.contacts.first_mut() {
                me.role = role;
            }
        }
        RecordKind::Deal => {
            if let Some(person_id) = record.text("person_id") {
                let call = CrmCall::get(format!("/api/v2/persons/{}", path_segment(&person_id)));
                match api.send(&call).await {
                    Ok(answer) => {
                        if let Some(person) = answer["data"].as_object() {
                            let role = person_role(person, role_field, api).await?;
                            record.contacts.push(contact(&person_id, person, role));
                        }
                    }
                    // The person was deleted since: the deal has no contact.
                    Err(Error::CrmRecordGone { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    event.complete = true;
    Ok(event)
}

/// Replace the option ids a webhook sent with their labels: those of fields in `read` from the
/// field definitions (fetched only if one is there), the others' as plain ids.
async fn label_options(
    record: &mut Record,
    read: &BTreeSet<&str>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<(), Error> {
    let typed: Vec<(String, Vec<String>)> = record
        .fields
        .iter()
        .filter_map(|(key, value)| Some((key.clone(), options::typed_ids(value)?)))
        .collect();
    let labels = if typed.iter().any(|(key, _)| read.contains(key.as_str())) {
        let entity = match record.kind {
            RecordKind::Deal => "deal",
            RecordKind::Lead => "person",
        };
        Some(options::OptionLabels::fetch(api, entity).await?)
    } else {
        None
    };
    for (key, ids) in typed {
        let text = match &labels {
            Some(labels) if read.contains(key.as_str()) => labels.text(&key, &ids),
            _ => ids.join(","),
        };
        record.fields.insert(key, Value::String(text));
    }
    Ok(())
}

/// A deal's person's buying role: the text of `role_field`, its label when it is an option field
/// (the API sends option ids).
async fn person_role(
    person: &Map<String, Value>,
    role_field: Option<&str>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Option<String>, Error> {
    let Some((key, value)) =
        role_field.and_then(|key| Some((key, person.get("custom_fields")?.get(key)?)))
    else {
        return Ok(None);
    };
    let value = custom_value(value);
    let Some(ids) = value
        .as_ref()
        .and_then(|v| options::typed_ids(v).or_else(|| options::plain_ids(v)))
    else {
        return Ok(value.as_ref().and_then(text));
    };
    let labels = options::OptionLabels::fetch(api, "person").await?;
    Ok(if labels.has(key) {
        Some(labels.text(key, &ids))
    } else {
        value.as_ref().and_then(text)
    })
}

/// A Pipedrive id as the API wants it: a number when it is one.
fn id_value(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| id.into(), Value::from)
}

/// The calls that carry out a write-back: the fields, then an activity (a task) or a note for
/// each notice.
pub fn render(write_back: &WriteBack, now: OffsetDateTime) -> Vec<CrmCall> {
    let (object, link) = match write_back.record_kind {
        RecordKind::Deal => ("deals", "deal_id"),
        RecordKind::Lead => ("persons", "person_id"),
    };
    // Pipedrive has no yes/no custom field: booleans go in as text.
    let custom: Map<String, Value> = write_back
        .fields
        .iter()
        .map(|(k, v)| match v {
            Value::Bool(b) => (k.clone(), b.to_string().into()),
            v => (k.clone(), v.clone()),
        })
        .collect();
    let mut body = json!({ "custom_fields": custom });
    if let Some(stage) = &write_back.move_to_stage {
        body["stage_id"] = id_value(stage);
    }
    let id = id_value(&write_back.record_id);
    let mut calls = vec![CrmCall::with_body(
        "PATCH",
        format!("/api/v2/{object}/{}", path_segment(&write_back.record_id)),
        body,
    )];
    for notice in &write_back.notices {
        match notice.kind {
            NoticeKind::Task => {
                let mut activity = json!({
                    "subject": notice.title,
                    "type": "task",
                    "due_date": now.date().to_string(),
                    "done": false,
                    "note": html(&notice.body),
                });
                match write_back.record_kind {
                    RecordKind::Deal => activity["deal_id"] = id.clone(),
                    RecordKind::Lead => {
                        activity["participants"] =
                            json!([{ "person_id": id.clone(), "primary": true }]);
                    }
                }
                if let Some(owner) = &notice.to {
                    activity["owner_id"] = id_value(owner);
                }
                calls.push(CrmCall::with_body("POST", "/api/v2/activities", activity));
            }
            // A note has no owner in Pipedrive (only an admin token may set its author).
            NoticeKind::Note => {
                let content = html(&format!("{}\n\n{}", notice.title, notice.body));
                calls.push(CrmCall::with_body(
                    "POST",
                    "/api/v1/notes",
                    json!({ "content": content, link: id.clone() }),
                ));
            }
        }
    }
    calls
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_example_parses_with_meta_id_as_the_dedupe_key() {
        let body = br#"{"meta":{"action":"change","entity":"deal","version":"2.0","id":1,"entity_id":1,"webhook_id":99,"attempt":1,"timestamp":1727447128,"change_source":"app"},"data":{"id":1,"title":"test deal","status":"open","stage_id":1,"pipeline_id":1,"update_time":"2024-09-27T14:25:28Z"},"previous":null}"#;
        let events = parse(body).unwrap();
        let event = &events[0];
        assert_eq!(event.dedupe_key, "pipedrive:1");
        assert_eq!(event.change, Change::Updated);
        assert_eq!(event.record.stage.as_deref(), Some("1"));
        assert_eq!(event.occurred_at.unix_timestamp(), 1727447128);
        assert!(!event.complete);
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
    fn option_fields_the_playbook_reads_get_their_labels_and_others_their_ids() {
        use crate::memory::RecordingCrm;
        let situation = "0dc5f2323d817fc98ca27bc8ce648acad2c657b1";
        let body = json!({
            "meta": {"action": "change", "entity": "deal", "version": "2.0", "id": "e-1", "entity_id": "7", "timestamp": "2026-11-21T11:00:00Z"},
            "data": {"id": 7, "title": "t", "status": "open", "stage_id": 2, "pipeline_id": 1, "custom_fields": {
                situation: {"type": "set", "values": [{"id": 5}, {"id": 6}]},
                "ffff0000ffff0000ffff0000ffff0000ffff0000": {"type": "enum", "id": 9},
            }},
            "previous": null,
        });
        let mut playbook = Playbook::default_playbook();
        for d in &mut playbook.dimensions {
            if d.key == "situation" {
                d.crm_fields.insert("pipedrive".into(), situation.into());
            }
        }
        let crm = RecordingCrm::default();
        crm.answer(
            "GET",
            "/api/v1/dealFields",
            json!({"data": [{"key": situation, "field_type": "set", "options": [
                {"id": 5, "label": "Spreadsheets"}, {"id": 6, "label": "Manual bank exports"}]}]}),
        );
        let event = parse(body.to_string().as_bytes()).unwrap().remove(0);
        let clock = crate::memory::StoppedClock::default();
        let api = Api::new(
            &crm,
            &clock,
            crate::api::Limits::within(std::time::Duration::from_secs(10)),
        );
        let event = futures::executor::block_on(complete(event, &playbook, &api)).unwrap();
        assert_eq!(
            event.record.text("situation").as_deref(),
            Some("Spreadsheets, Manual bank exports")
        );
        assert_eq!(
            event
                .record
                .text("ffff0000ffff0000ffff0000ffff0000ffff0000")
                .as_deref(),
            Some("9"),
            "not read: kept as its id, no labels needed"
        );
        assert_eq!(crm.calls().len(), 1, "one fetch of the deal fields");
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
    fn bookkeeping_fields_are_not_changes() {
        let previous = json!({"update_time": "x", "custom_fields": {"abc": null}, "stage_id": 1});
        assert_eq!(
            changed_fields(previous.as_object().unwrap()),
            ["abc", "stage_id"]
        );
    }
}
