//! The canonical lead/deal model every CRM adapter produces and every rule reads.
//!
//! CRMs disagree on names (`dealstage`, `stage_id`, `StageName`); adapters translate into this
//! model so that scoring, the gate and staleness never see a CRM-specific field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{
    Date, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

/// Whether a record is a lead (before qualification) or a deal (in a pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A person or company not yet in a pipeline.
    Lead,
    /// An opportunity in a sales pipeline.
    Deal,
}

impl RecordKind {
    /// The kind's name (`lead`, `deal`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Lead => "lead",
            RecordKind::Deal => "deal",
        }
    }
}

/// Whether a deal is still being worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DealStatus {
    /// Still being worked.
    #[default]
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

/// A lead or deal as pipeline-guard sees it.
///
/// Read from JSON (the generic webhook, a record kept in the ledger), a built-in date that
/// cannot be read goes to [`Record::unreadable`] rather than refusing the whole record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "wire::Record")]
pub struct Record {
    /// Lead or deal.
    pub kind: RecordKind,
    /// The CRM's id for the record.
    pub id: String,
    /// The record's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The CRM user who owns the record (the BDR before handoff, the AE after).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// The pipeline the deal is in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// The deal's current stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Open, won or lost.
    #[serde(default)]
    pub status: DealStatus,
    /// The deal's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// The expected close date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_date: Option<Date>,
    /// When the deal entered its current stage.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub stage_entered_at: Option<OffsetDateTime>,
    /// When the last real activity happened on the record: a call, a meeting, an email or a
    /// note. A field update is not one (it would keep every deal saved now and then fresh).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_activity_at: Option<OffsetDateTime>,
    /// When the next scheduled activity (an open task, a planned meeting or call) is due.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_activity_at: Option<OffsetDateTime>,
    /// The built-in date fields the CRM sent but that cannot be read as dates
    /// ([`Record::DATE_FIELDS`]), each with the value as sent: reported, never taken for a
    /// missing date (nor for a date).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unreadable: BTreeMap<String, String>,
    /// Qualification evidence and other fields, by canonical name (`pain`, `next_step`, …).
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
    /// People on the deal.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// What has happened on the record.
    #[serde(default)]
    pub activities: Vec<Activity>,
    /// Whether the record's activities were read from the CRM (or sent with it): only then does
    /// an empty [`Record::activities`] mean nothing is logged, and not that nobody looked.
    pub activities_read: bool,
    /// What the CRM would not give for this record, by part (`activities`, `company`), each with
    /// the CRM's reason: the score is computed without it and says so.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_read: BTreeMap<String, String>,
    /// Whether the CRM can say what role each contact plays: Pipedrive only through a person
    /// field the playbook names. Without it the hygiene checklist asks contacts for no role.
    #[serde(skip_serializing_if = "is_read")]
    pub contact_roles_read: bool,
}

fn is_read(read: &bool) -> bool {
    *read
}

impl Record {
    /// An empty record of the given kind.
    pub fn new(kind: RecordKind, id: impl Into<String>) -> Self {
        Record {
            kind,
            id: id.into(),
            name: None,
            owner_id: None,
            pipeline: None,
            stage: None,
            status: DealStatus::Open,
            amount: None,
            close_date: None,
            stage_entered_at: None,
            last_activity_at: None,
            next_activity_at: None,
            unreadable: BTreeMap::new(),
            fields: BTreeMap::new(),
            contacts: Vec::new(),
            activities: Vec::new(),
            activities_read: false,
            not_read: BTreeMap::new(),
            contact_roles_read: true,
        }
    }

    /// An empty open deal.
    pub fn new_deal(id: impl Into<String>) -> Self {
        Record::new(RecordKind::Deal, id)
    }

    /// The built-in date fields: what an adapter reads with [`Record::read_date`].
    pub const DATE_FIELDS: &'static [&'static str] = &[
        "close_date",
        "stage_entered_at",
        "last_activity_at",
        "next_activity_at",
    ];

    /// Read what the CRM `sent` for the built-in date field `field` with `parse`: the date, or
    /// nothing. Text that `parse` cannot read is kept in [`Record::unreadable`], so a malformed
    /// date is reported instead of passing for a missing one.
    pub fn read_date<T>(
        &mut self,
        field: &str,
        sent: Option<String>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let sent = sent?;
        let date = parse(&sent);
        if date.is_none() {
            self.unreadable.insert(field.to_owned(), sent);
        } else {
            self.unreadable.remove(field);
        }
        date
    }

    /// A date held in [`Record::fields`] (a snooze date a rep sets): `Ok(None)` when the field is
    /// empty, `Err` with the text when it holds something that is not a date.
    pub fn date(&self, field: &str) -> Result<Option<Date>, String> {
        match self.text(field) {
            None => Ok(None),
            Some(text) => parse_date(&text).map(Some).ok_or(text),
        }
    }

    /// The text of a field, if it holds a non-blank string, a number or a yes/no. The built-in
    /// `amount` and `close_date` are fields too, so a playbook can use them as evidence.
    pub fn text(&self, field: &str) -> Option<String> {
        match field {
            "amount" => return self.amount.map(|a| a.to_string()),
            "close_date" => return self.close_date.map(|d| d.to_string()),
            _ => {}
        }
        self.fields.get(field).and_then(value_text)
    }

    /// A field as a number, whether the CRM sent a number or numeric text (`"25000"`).
    pub fn number(&self, field: &str) -> Option<f64> {
        match field {
            "amount" => self.amount,
            _ => match self.fields.get(field)? {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => s.trim().replace(',', "").parse().ok(),
                _ => None,
            },
        }
    }

    /// A field as yes/no: booleans, and the texts CRMs use for them (`true`, `yes`, `1`).
    pub fn flag(&self, field: &str) -> Option<bool> {
        match self.fields.get(field)? {
            serde_json::Value::Bool(b) => Some(*b),
            serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Some(true),
                "false" | "no" | "n" | "0" => Some(false),
                _ => None,
            },
            serde_json::Value::Number(n) => n.as_f64().map(|n| n != 0.0),
            _ => None,
        }
    }

    /// The field names that are the record's own properties rather than entries of
    /// [`Record::fields`].
    pub const BUILT_IN_FIELDS: &'static [&'static str] = &[
        "owner",
        "owner_id",
        "amount",
        "close_date",
        "stage",
        "name",
        "contacts",
    ];

    /// Whether the record has a value for a field, looking at the built-in fields first
    /// (`owner`, `amount`, `close_date`, `stage`, `name`) and then at [`Record::fields`].
    pub fn has(&self, field: &str) -> bool {
        match field {
            "owner" | "owner_id" => self.owner_id.is_some(),
            "amount" => self.amount.is_some(),
            // A date the CRM holds but that cannot be read is there, and reported as unreadable.
            "close_date" => self.close_date.is_some() || self.unreadable.contains_key("close_date"),
            "stage" => self.stage.is_some(),
            "name" => self.name.is_some(),
            "contacts" => !self.contacts.is_empty(),
            other => self.text(other).is_some(),
        }
    }
}

/// A person on a lead or deal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// The CRM's id for the contact.
    pub id: String,
    /// Full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Their role in the buying process (`economic_buyer`, `champion`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// How much say they have in the decision (`decides`, `influences`, …), from the contact
    /// field the playbook names (`staleness.authority_field`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
}

impl Contact {
    /// A buying role as CRMs label it (`Economic Buyer`, `decision-maker`) in canonical form
    /// (`economic_buyer`, `decision_maker`), as playbooks name roles.
    pub fn role_key(label: &str) -> String {
        label.trim().to_lowercase().replace([' ', '-'], "_")
    }
}

/// What kind of thing happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    /// A phone or video call.
    Call,
    /// A meeting.
    Meeting,
    /// An email sent or received.
    Email,
    /// An email reply from the buyer.
    EmailReply,
    /// A note on the record.
    Note,
    /// A task.
    Task,
    /// A web page visit.
    PageView,
    /// A content download.
    Download,
    /// Anything else the CRM logs.
    #[serde(untagged)]
    Other(String),
}

/// Something that happened on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// What happened.
    #[serde(rename = "type")]
    pub kind: ActivityKind,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// A short description (a page URL, a meeting title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What the rep wrote about it (a call's notes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// The words reps know a date by, by the key reports name it with: the built-in dates
/// ([`Record::DATE_FIELDS`]) and `snooze_until`, the date a rep snoozes a deal until; any other
/// key as it is.
pub fn date_label(key: &str) -> &str {
    match key {
        "close_date" => "close date",
        "stage_entered_at" => "stage entry date",
        "last_activity_at" => "last activity date",
        "next_activity_at" => "next activity date",
        "snooze_until" => "snooze date",
        other => other,
    }
}

/// A CRM value as text: a non-blank string (trimmed), a number or a yes/no; nothing for `null`,
/// blanks, lists and objects.
pub fn value_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A date as CRMs write it: `YYYY-MM-DD`, or a timestamp [`parse_time`] reads (its date in UTC).
pub fn parse_date(raw: &str) -> Option<Date> {
    let raw = raw.trim();
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .ok()
        .or_else(|| parse_time(raw).map(|t| t.to_offset(time::UtcOffset::UTC).date()))
}

/// A point in time as CRMs write it: RFC 3339 (`2026-11-02T09:00:00Z`), Salesforce's REST
/// `2026-11-02T09:00:00.000+0000`, Pipedrive's `2026-11-02 09:00:00` (UTC), a date alone (its
/// midnight, UTC), or Unix milliseconds as HubSpot's workflows send them (`1793955600000`).
pub fn parse_time(raw: &str) -> Option<OffsetDateTime> {
    let raw = raw.trim();
    if let Ok(time) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Some(time);
    }
    if let Ok(time) = OffsetDateTime::parse(
        raw,
        format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
        ),
    ) {
        return Some(time);
    }
    if let Ok(time) = time::PrimitiveDateTime::parse(
        raw,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    ) {
        return Some(time.assume_utc());
    }
    if let Ok(date) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        return Some(date.midnight().assume_utc());
    }
    if (11..=13).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        let millis: i128 = raw.parse().ok()?;
        return OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000).ok();
    }
    None
}

/// A record as JSON carries it, before its built-in dates are read.
mod wire {
    use std::collections::BTreeMap;

    use serde::Deserialize;
    use serde_json::Value;

    use super::{Activity, Contact, DealStatus, RecordKind, parse_date, parse_time, value_text};

    #[derive(Deserialize)]
    pub(super) struct Record {
        kind: RecordKind,
        id: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        owner_id: Option<String>,
        #[serde(default)]
        pipeline: Option<String>,
        #[serde(default)]
        stage: Option<String>,
        #[serde(default)]
        status: DealStatus,
        #[serde(default)]
        amount: Option<f64>,
        #[serde(default)]
        close_date: Option<Value>,
        #[serde(default)]
        stage_entered_at: Option<Value>,
        #[serde(default)]
        last_activity_at: Option<Value>,
        #[serde(default)]
        next_activity_at: Option<Value>,
        #[serde(default)]
        unreadable: BTreeMap<String, String>,
        #[serde(default)]
        fields: BTreeMap<String, Value>,
        #[serde(default)]
        contacts: Vec<Contact>,
        /// Absent: not sent, so not read; present, even empty: these are the activities.
        #[serde(default)]
        activities: Option<Vec<Activity>>,
        /// Said when a record is stored and read back, so an empty list not read stays unread.
        #[serde(default)]
        activities_read: Option<bool>,
        #[serde(default)]
        not_read: BTreeMap<String, String>,
        #[serde(default = "read")]
        contact_roles_read: bool,
    }

    fn read() -> bool {
        true
    }

    /// A JSON value as the text a date is read from: `null` is nothing, anything else its text.
    fn sent(value: Option<Value>) -> Option<String> {
        match value? {
            Value::Null => None,
            Value::String(text) if text.trim().is_empty() => None,
            value => Some(value_text(&value).unwrap_or_else(|| value.to_string())),
        }
    }

    impl From<Record> for super::Record {
        fn from(wire: Record) -> Self {
            let mut record = super::Record::new(wire.kind, wire.id);
            record.unreadable = wire.unreadable;
            record.close_date = record.read_date("close_date", sent(wire.close_date), parse_date);
            record.stage_entered_at =
                record.read_date("stage_entered_at", sent(wire.stage_entered_at), parse_time);
            record.last_activity_at =
                record.read_date("last_activity_at", sent(wire.last_activity_at), parse_time);
            record.next_activity_at =
                record.read_date("next_activity_at", sent(wire.next_activity_at), parse_time);
            super::Record {
                name: wire.name,
                owner_id: wire.owner_id,
                pipeline: wire.pipeline,
                stage: wire.stage,
                status: wire.status,
                amount: wire.amount,
                fields: wire.fields,
                contacts: wire.contacts,
                activities_read: wire.activities_read.unwrap_or(wire.activities.is_some()),
                activities: wire.activities.unwrap_or_default(),
                not_read: wire.not_read,
                contact_roles_read: wire.contact_roles_read,
                ..record
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_no_evidence() {
        let mut deal = Record::new_deal("D-1");
        deal.fields.insert("pain".into(), "   ".into());
        assert_eq!(deal.text("pain"), None);
        assert!(!deal.has("pain"));
        deal.fields.insert("pain".into(), " slow close ".into());
        assert_eq!(deal.text("pain").as_deref(), Some("slow close"));
    }

    #[test]
    fn a_malformed_date_is_kept_as_unreadable_never_dropped() {
        let deal: Record = serde_json::from_value(serde_json::json!({
            "kind": "deal",
            "id": "D-1",
            "close_date": "31/11/2026",
            "last_activity_at": "2026-11-02",
            "next_activity_at": "",
            "stage_entered_at": 20261102,
        }))
        .unwrap();
        assert_eq!(deal.close_date, None);
        assert_eq!(
            deal.last_activity_at,
            Some(time::macros::datetime!(2026-11-02 00:00 UTC))
        );
        assert_eq!(deal.next_activity_at, None, "blank is nothing");
        assert_eq!(
            deal.unreadable,
            BTreeMap::from([
                ("close_date".to_owned(), "31/11/2026".to_owned()),
                ("stage_entered_at".to_owned(), "20261102".to_owned()),
            ])
        );
        let again: Record = serde_json::from_value(serde_json::to_value(&deal).unwrap()).unwrap();
        assert_eq!(again, deal, "kept across the ledger");
    }

    #[test]
    fn times_are_read_as_each_crm_writes_them() {
        use time::macros::datetime;
        for (raw, at) in [
            ("2026-11-02T09:00:00Z", datetime!(2026-11-02 09:00 UTC)),
            (
                "2026-11-02T09:00:00.000+01:00",
                datetime!(2026-11-02 09:00 +1),
            ),
            ("2026-11-02 09:00:00", datetime!(2026-11-02 09:00 UTC)),
            ("2026-11-02", datetime!(2026-11-02 00:00 UTC)),
            ("1793955600000", datetime!(2026-11-06 09:00 UTC)),
            (
                "2026-11-02T09:00:00.000+0000",
                datetime!(2026-11-02 09:00 UTC),
            ),
        ] {
            assert_eq!(parse_time(raw), Some(at), "{raw}");
        }
        assert_eq!(parse_time("next week"), None);
        assert_eq!(
            parse_date("2026-11-02T23:30:00-05:00"),
            Some(time::macros::date!(2026 - 11 - 03))
        );
    }

    #[test]
    fn built_in_fields_count_as_present() {
        let mut deal = Record::new_deal("D-1");
        assert!(!deal.has("amount"));
        deal.amount = Some(1.0);
        assert!(deal.has("amount"));
    }
}
