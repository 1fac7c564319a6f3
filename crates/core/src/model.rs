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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// When something last happened on the record (activity, note, update).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_activity_at: Option<OffsetDateTime>,
    /// Qualification evidence and other fields, by canonical name (`pain`, `next_step`, …).
    #[serde(default)]
    pub fields: BTreeMap<String, serde_json::Value>,
    /// People on the deal.
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// What has happened on the record.
    #[serde(default)]
    pub activities: Vec<Activity>,
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
            fields: BTreeMap::new(),
            contacts: Vec::new(),
            activities: Vec::new(),
        }
    }

    /// An empty open deal.
    pub fn new_deal(id: impl Into<String>) -> Self {
        Record::new(RecordKind::Deal, id)
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
            "close_date" => self.close_date.is_some(),
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

/// A date as CRMs write it: `YYYY-MM-DD`, or an RFC 3339 timestamp (its date).
pub fn parse_date(raw: &str) -> Option<Date> {
    let raw = raw.trim();
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .ok()
        .or_else(|| OffsetDateTime::parse(raw, &Rfc3339).ok().map(|t| t.date()))
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
    fn built_in_fields_count_as_present() {
        let mut deal = Record::new_deal("D-1");
        assert!(!deal.has("amount"));
        deal.amount = Some(1.0);
        assert!(deal.has("amount"));
    }
}
