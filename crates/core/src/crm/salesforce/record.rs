//! A record as Salesforce sends it, an outbound message's `sObject` or a Flow callout's
//! `record`, into a canonical event.
//!
//! An outbound message does not say what changed. An opportunity's message is taken as its entry
//! into its current `StageName` (the stage it came from is unknown, so a blocked handoff returns
//! to the playbook's `handoff.return_stage`), or as its creation when it was last modified when it
//! was created (`CreatedDate` equals `LastModifiedDate`). A Flow callout may name the stage it is
//! about to set (`to_stage`), and then the record's `StageName` is where it comes from. Who made
//! the change is `LastModifiedById`; whether the change gave the record another owner, Salesforce
//! does not say.
//!
//! What staleness reads: the last real activity is `LastActivityDate` (the latest event or
//! closed task), the stage entry `LastStageChangeDate`, and the next activity the earliest open
//! task or coming event after today, from the `Tasks` and `Events` subqueries of
//! [`super::complete::NEXT_ACTIVITY_SUBQUERIES`] when the record carries them (a sweep's query, or
//! the read [`super::complete::complete`] makes). A date that cannot be read is kept as unreadable,
//! never dropped.
//!
//! An opportunity's outbound message must include `StageName` (a Flow callout too, unless it
//! names `to_stage`): one without it is refused with a `400` naming the field and never judged;
//! unacknowledged, it is delivered again (Salesforce retries for 24 hours).

use serde::Deserialize;
use serde_json::{Map, Value};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    Error,
    crm::company,
    event::{Change, Delivery, WebhookEvent},
    model::{Contact, DealStatus, Record, RecordKind, parse_date, parse_time, value_text},
};

/// A Flow HTTP callout's body: the record as the Flow holds it.
///
/// ```json
/// {
///   "object": "Opportunity",
///   "to_stage": "Sales Accepted",
///   "record": { "Id": "0065g00000XyZ12AAB", "StageName": "Discovery", "Pain__c": "…" }
/// }
/// ```
/// `object` is `Opportunity` or `Lead`; `to_stage` (optional) is the stage the Flow is about to
/// set; `record` holds the fields by API name; `event_id` is optional, and so is
/// `organization_id` (`{!$Organization.Id}`), needed once the org is pinned (`salesforce_org_id`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowCallout {
    /// An id for logs (the Flow interview's GUID, say).
    #[serde(default)]
    pub event_id: Option<String>,
    /// The org the Flow runs in, checked against the pinned org.
    #[serde(default)]
    pub organization_id: Option<String>,
    /// The sObject type.
    pub object: String,
    /// The stage the Flow is about to set.
    #[serde(default)]
    pub to_stage: Option<String>,
    /// The record's fields by API name.
    pub record: Map<String, Value>,
}

/// Parse a Flow HTTP callout (already authenticated).
pub fn parse_callout(body: &[u8], now: OffsetDateTime) -> Result<Delivery, Error> {
    read_callout(body, now).map(|(_, delivery)| delivery)
}

/// Parse a Flow HTTP callout: the org it names, if any, and its one event.
pub(super) fn read_callout(
    body: &[u8],
    now: OffsetDateTime,
) -> Result<(Option<String>, Delivery), Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let callout: FlowCallout =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
            let path = e.path().to_string();
            Error::invalid_body(path, e.into_inner().to_string())
        })?;
    let id = callout
        .record
        .get("Id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let event_id = callout
        .event_id
        .clone()
        .unwrap_or_else(|| format!("flow:{id}"));
    let event = into_event(
        format!("salesforce-flow:{event_id}"),
        event_id,
        &callout.object,
        callout.record,
        callout.to_stage,
        now,
        "record",
    )?;
    Ok((callout.organization_id, Delivery::callout(event)))
}

/// A field's text (`null` and blanks are nothing).
pub(super) fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    fields.get(name).and_then(value_text)
}

/// A Salesforce id: 15 or 18 letters and digits (checked, as ids go into SOQL and API paths).
pub(crate) fn is_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// One record's change as an event; `to_stage` is the stage a Flow callout is about to set, `at`
/// where the record sits in the body (for errors).
pub(super) fn into_event(
    dedupe_key: String,
    event_id: String,
    object: &str,
    fields: Map<String, Value>,
    to_stage: Option<String>,
    now: OffsetDateTime,
    at: &str,
) -> Result<WebhookEvent, Error> {
    let kind = match object {
        "Opportunity" => Some(RecordKind::Deal),
        "Lead" => Some(RecordKind::Lead),
        _ => None,
    };
    let id = text(&fields, "Id").unwrap_or_default();
    if kind.is_some() && !is_id(&id) {
        return Err(Error::invalid_body(
            format!("{at}.Id"),
            format!("{id:?} is not a Salesforce record id; include the Id field"),
        ));
    }
    let occurred_at = time(&fields, "LastModifiedDate")
        .or_else(|| time(&fields, "SystemModstamp"))
        .unwrap_or(now);
    let created = is_creation(&fields);
    let mut record = Record::new(kind.unwrap_or(RecordKind::Deal), id);
    let change = match kind {
        None => Change::Unsupported {
            event_type: format!("outbound message for {object}"),
        },
        Some(kind) => {
            fill(&mut record, kind, &fields);
            match (kind, to_stage) {
                (RecordKind::Deal, Some(to)) => {
                    let from = record.stage.replace(to.clone());
                    Change::StageChanged { from, to }
                }
                (RecordKind::Deal, None) => {
                    // Salesforce requires a stage on every opportunity, so a message without
                    // one leaves StageName out of its fields: the admin's to fix, hence a 400
                    // naming the field, not a CRM failure. Never acknowledged, it is delivered
                    // again, and never judged as some other change.
                    let Some(stage) = record.stage.clone() else {
                        return Err(Error::invalid_body(
                            format!("{at}.StageName"),
                            "missing: an opportunity is judged on its stage, so the message \
                             must carry StageName (add it to the outbound message's fields, or \
                             to a Flow's `record`)",
                        ));
                    };
                    if created {
                        Change::Created
                    } else if stage_unchanged(&record, occurred_at) {
                        // A save long after the last stage change (the AE setting a verdict):
                        // an update, not the deal entering its stage again.
                        Change::Updated
                    } else {
                        Change::StageChanged {
                            from: None,
                            to: stage,
                        }
                    }
                }
                (RecordKind::Lead, _) if created => Change::Created,
                (RecordKind::Lead, _) => Change::Updated,
            }
        }
    };
    let complete = kind.is_none();
    Ok(WebhookEvent {
        dedupe_key,
        event_id,
        occurred_at,
        change,
        record,
        changed_fields: Vec::new(),
        changed_by: text(&fields, "LastModifiedById"),
        owner_changed: None,
        complete,
    })
}

/// A timestamp field (`2026-11-21T11:52:10.000Z`).
fn time(fields: &Map<String, Value>, name: &str) -> Option<OffsetDateTime> {
    text(fields, name).and_then(|t| OffsetDateTime::parse(&t, &Rfc3339).ok())
}

/// Whether the record was just created: last modified when it was created. Without
/// `CreatedDate` in the message, a creation is taken for an entry into its stage, gated alike.
fn is_creation(fields: &Map<String, Value>) -> bool {
    match (
        time(fields, "CreatedDate"),
        time(fields, "LastModifiedDate"),
    ) {
        (Some(created), Some(modified)) => created == modified,
        _ => false,
    }
}

/// Fill a record from an Opportunity's or Lead's fields; every field is also kept by API name.
fn fill(record: &mut Record, kind: RecordKind, fields: &Map<String, Value>) {
    let get = |name: &str| text(fields, name);
    record.owner_id = get("OwnerId");
    record.last_activity_at =
        record.read_date("last_activity_at", get("LastActivityDate"), parse_time);
    match kind {
        RecordKind::Deal => {
            record.name = get("Name");
            record.stage = get("StageName");
            record.amount = get("Amount").and_then(|a| a.parse().ok());
            record.close_date = record.read_date("close_date", get("CloseDate"), parse_date);
            record.stage_entered_at =
                record.read_date("stage_entered_at", get("LastStageChangeDate"), parse_time);
            next_activity(record, fields);
            record.status = match (get("IsClosed").as_deref(), get("IsWon").as_deref()) {
                (_, Some("true")) => DealStatus::Won,
                (Some("true"), _) => DealStatus::Lost,
                _ => DealStatus::Open,
            };
        }
        RecordKind::Lead => {
            record.name = get("Name").or_else(|| {
                let name = [get("FirstName"), get("LastName")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!name.is_empty()).then_some(name)
            });
            record.stage = get("Status");
            record.contacts.push(Contact {
                id: record.id.clone(),
                name: record.name.clone(),
                email: get("Email"),
                title: get("Title"),
                role: None,
                authority: None,
            });
            // A lead keeps its company's firmographics itself: its country gives its region.
            let firmographics = [
                ("employees", "NumberOfEmployees"),
                ("industry", "Industry"),
                ("country", "Country"),
            ]
            .map(|(canonical, field)| (canonical.to_owned(), field.to_owned()));
            company::apply(record, fields, &firmographics);
        }
    }
    for (name, value) in fields {
        if !value.is_null() {
            record.fields.insert(name.clone(), value.clone());
        }
    }
}

/// The opportunity's next activity: the earliest of the open task and the coming event its
/// `Tasks` and `Events` subqueries hold (each asked for the first after today; `null` when there
/// is none). A record without them keeps what it had; one with them keeps them as fields, so it
/// is known to have been read.
pub(super) fn next_activity(record: &mut Record, fields: &Map<String, Value>) {
    const RELATIONS: [(&str, &str); 2] = [("Tasks", "ActivityDate"), ("Events", "StartDateTime")];
    if !RELATIONS
        .iter()
        .any(|(relation, _)| fields.contains_key(*relation))
    {
        return;
    }
    let mut sent = Vec::new();
    for (relation, field) in RELATIONS {
        let rows = fields.get(relation).cloned().unwrap_or(Value::Null);
        sent.extend(
            rows["records"]
                .as_array()
                .and_then(|rows| rows.iter().find_map(|row| value_text(&row[field]))),
        );
        record.fields.insert(relation.to_owned(), rows);
    }
    record.next_activity_at = None;
    record.unreadable.remove("next_activity_at");
    for sent in sent {
        match parse_time(&sent) {
            Some(at) => {
                record.next_activity_at =
                    Some(record.next_activity_at.map_or(at, |seen| seen.min(at)));
            }
            None => {
                record.next_activity_at = None;
                record.unreadable.insert("next_activity_at".into(), sent);
                return;
            }
        }
    }
}

/// Salesforce's contact roles as canonical roles.
pub(super) fn role(role: &str) -> String {
    match role {
        "Economic Decision Maker" => "economic_buyer".into(),
        other => Contact::role_key(other),
    }
}

/// How long after its stage change a save may still be that change (a workflow's field updates
/// land a moment later).
const SAME_SAVE: time::Duration = time::Duration::seconds(60);

/// Whether an outbound message's save came well after the opportunity's last stage change
/// (`LastStageChangeDate`, when the message carries it): then the stage did not change in it.
/// Without the field every message counts as entering its stage, as before.
fn stage_unchanged(record: &Record, saved_at: OffsetDateTime) -> bool {
    record
        .stage_entered_at
        .is_some_and(|entered| saved_at - entered > SAME_SAVE)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    #[test]
    fn a_flow_callout_names_where_the_deal_comes_from() {
        let body = br#"{"object":"Opportunity","to_stage":"Sales Accepted","record":{"Id":"0065g00000AbCdEAAZ","StageName":"Discovery","Amount":5000}}"#;
        let delivery = parse_callout(body, NOW).unwrap();
        assert!(delivery.synchronous && delivery.workflow);
        let event = &delivery.events[0];
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: Some("Discovery".into()),
                to: "Sales Accepted".into()
            }
        );
        assert_eq!(event.record.amount, Some(5000.0));
        let Err(Error::InvalidBody { path, .. }) =
            parse_callout(br#"{"object":"Opportunity"}"#, NOW)
        else {
            panic!("accepted")
        };
        assert_eq!(path, ".");
    }

    /// An opportunity's first notification with `fields` besides its `Id` and `OwnerId`.
    fn read_opportunity(fields: serde_json::Value) -> Result<WebhookEvent, Error> {
        let mut record =
            serde_json::json!({"Id": "0065g00000AbCdEAAZ", "OwnerId": "0055g00000AeOwnAAA"});
        for (k, v) in fields.as_object().unwrap() {
            record[k] = v.clone();
        }
        let fields = record.as_object().unwrap().clone();
        into_event(
            "k".into(),
            "e".into(),
            "Opportunity",
            fields,
            None,
            NOW,
            "Notification[0]",
        )
    }

    fn opportunity(fields: serde_json::Value) -> WebhookEvent {
        read_opportunity(fields).unwrap()
    }

    #[test]
    fn the_last_modifier_made_the_change_and_owners_are_not_said_to_change() {
        let event = opportunity(serde_json::json!({
            "StageName": "Sales Accepted",
            "LastModifiedById": "0055g00000BdRepAAA",
            "LastModifiedDate": "2026-11-21T11:52:10.000Z",
        }));
        assert_eq!(event.changed_by.as_deref(), Some("0055g00000BdRepAAA"));
        assert_eq!(event.owner_changed, None);
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: None,
                to: "Sales Accepted".into()
            }
        );
        let unsigned = opportunity(serde_json::json!({"StageName": "Discovery"}));
        assert_eq!(unsigned.changed_by, None);
    }

    /// Regression: an opportunity without `StageName` became an update the gate skips.
    #[test]
    fn an_opportunity_without_its_stage_is_refused_naming_the_field_never_judged() {
        let edited = serde_json::json!({"Name": "Acme"});
        let created = serde_json::json!({
            "Name": "Acme",
            "CreatedDate": "2026-11-21T11:52:10.000Z",
            "LastModifiedDate": "2026-11-21T11:52:10.000Z",
        });
        for fields in [edited, created] {
            let err = read_opportunity(fields).unwrap_err();
            let Error::InvalidBody { path, message } = &err else {
                panic!("{err:?}")
            };
            assert_eq!(path, "Notification[0].StageName");
            assert!(message.contains("must carry StageName"), "{message}");
            let reply = crate::crm::salesforce::reply(Some("text/xml"), &Err(err));
            assert_eq!(reply.status, 400);
            assert!(
                !reply.body.contains("<Ack>"),
                "unacknowledged: delivered again"
            );
        }
        let callout = br#"{"object":"Opportunity","to_stage":"Sales Accepted","record":{"Id":"0065g00000AbCdEAAZ"}}"#;
        let event = &parse_callout(callout, NOW).unwrap().events[0];
        assert_eq!(
            event.change,
            Change::StageChanged {
                from: None,
                to: "Sales Accepted".into()
            },
            "a Flow that names the stage it sets needs no StageName"
        );
        let lead = br#"{"object":"Lead","record":{"Id":"00Q5g00000AbCdEAAZ"}}"#;
        assert_eq!(
            parse_callout(lead, NOW).unwrap().events[0].change,
            Change::Updated
        );
    }

    #[test]
    fn the_next_activity_is_the_first_open_task_or_coming_event_and_dates_are_never_dropped() {
        let event = opportunity(serde_json::json!({
            "StageName": "Proposal/Price Quote",
            "LastActivityDate": "2026-09-30",
            "CloseDate": "2026-11-31",
            "Tasks": {"totalSize": 1, "done": true, "records": [{"ActivityDate": "2026-12-02"}]},
            "Events": {"totalSize": 1, "done": true,
                "records": [{"StartDateTime": "2026-11-26T15:00:00.000+0000"}]},
        }));
        let record = &event.record;
        assert_eq!(
            record.next_activity_at,
            Some(datetime!(2026-11-26 15:00 UTC))
        );
        assert_eq!(
            record.last_activity_at,
            Some(datetime!(2026-09-30 00:00 UTC))
        );
        assert_eq!(record.close_date, None);
        assert_eq!(record.unreadable["close_date"], "2026-11-31");
        let none_open = opportunity(serde_json::json!({
            "StageName": "Proposal/Price Quote",
            "Tasks": null,
            "Events": {"totalSize": 0, "done": true, "records": []},
        }));
        assert_eq!(none_open.record.next_activity_at, None);
        assert!(none_open.record.unreadable.is_empty());
    }

    #[test]
    fn a_record_last_modified_when_created_is_a_creation() {
        let event = opportunity(serde_json::json!({
            "StageName": "Sales Accepted",
            "CreatedDate": "2026-11-21T11:52:10.000Z",
            "LastModifiedDate": "2026-11-21T11:52:10.000Z",
        }));
        assert_eq!(event.change, Change::Created);
        assert_eq!(event.record.stage.as_deref(), Some("Sales Accepted"));
        let edited = opportunity(serde_json::json!({
            "StageName": "Sales Accepted",
            "CreatedDate": "2026-11-02T09:00:00.000Z",
            "LastModifiedDate": "2026-11-21T11:52:10.000Z",
        }));
        assert!(matches!(edited.change, Change::StageChanged { .. }));
    }
}
