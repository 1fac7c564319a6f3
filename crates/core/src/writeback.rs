//! What a decision writes back to the CRM, before any CRM's API shape is applied.
//!
//! Decisions produce a [`WriteBack`]; each CRM adapter renders it into that CRM's API calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Record, RecordKind};

/// The changes one decision makes to one CRM record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBack {
    /// Lead or deal.
    pub record_kind: RecordKind,
    /// The CRM record's id.
    pub record_id: String,
    /// Field values to set, by canonical field name (the playbook's `write_back` table) until
    /// the CRM's names are put in when the calls are rendered
    /// ([`crate::crm::FieldNames::rename`]).
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Move the deal to this stage (a blocked handoff going back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_stage: Option<String>,
    /// The stage the deal must still sit in, read again from the CRM just before the move: a
    /// deal moved on since is never moved back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_only_from: Option<String>,
    /// The tasks and notes this decision leaves, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// Its tasks are for their person alone, on no record (a rep's own weekly summary): no field
    /// is written and `record_id` is empty ([`WriteBack::personal_task`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub personal: bool,
}

impl WriteBack {
    /// A task for `to` alone, attached to no record: HubSpot tasks without association,
    /// Pipedrive activities without deal, Salesforce Tasks without `WhatId`, the generic CRM's
    /// `POST /notices`.
    pub fn personal_task(
        to: String,
        title: impl Into<String>,
        body: impl Into<String>,
        priority: Priority,
    ) -> WriteBack {
        WriteBack {
            record_kind: RecordKind::Deal,
            record_id: String::new(),
            fields: BTreeMap::new(),
            move_to_stage: None,
            move_only_from: None,
            notices: vec![Notice::task(Some(to), title, body, priority)],
            personal: true,
        }
    }

    /// Whether the record already holds every field value this write-back sets and it moves
    /// nothing: then the CRM already says it, and writing again (note included) would only repeat
    /// a notice or, in CRMs that send a webhook for every save, echo back as a new event.
    /// Field names match regardless of case (Salesforce's are case-insensitive); numbers match by
    /// value (`72` and `"72.0"`), everything else by its text. A field the record does not carry
    /// may hold anything (a webhook carries the fields the CRM chose to send): it is written.
    pub fn already_in(&self, record: &Record) -> bool {
        self.held_by(record, false, str::to_owned)
    }

    /// [`WriteBack::already_in`] for a record whose fields carry the CRM's names, given by `name`
    /// for each field this write-back sets.
    pub fn already_in_named(&self, record: &Record, name: impl Fn(&str) -> String) -> bool {
        self.held_by(record, false, name)
    }

    /// [`WriteBack::already_in`] for a record read with every field this write-back sets asked
    /// for (a sweep's listing): a field it does not carry is empty in the CRM (HubSpot, Pipedrive
    /// and Salesforce read an emptied field back as absent or null), so emptying it writes
    /// nothing.
    pub fn already_in_read(&self, record: &Record) -> bool {
        self.held_by(record, true, str::to_owned)
    }

    /// [`WriteBack::already_in_read`] for a record whose fields carry the CRM's names, given by
    /// `name` for each field this write-back sets.
    pub fn already_in_read_named(&self, record: &Record, name: impl Fn(&str) -> String) -> bool {
        self.held_by(record, true, name)
    }

    fn held_by(
        &self,
        record: &Record,
        absent_is_empty: bool,
        named: impl Fn(&str) -> String,
    ) -> bool {
        self.move_to_stage.is_none()
            && self.fields.iter().all(|(name, value)| {
                let name = named(name);
                let current = record
                    .fields
                    .iter()
                    .find(|(field, _)| field.eq_ignore_ascii_case(&name))
                    .map(|(_, current)| current);
                match current {
                    Some(current) if !blank(current) => same_value(current, value),
                    Some(_) => blank(value),
                    None => absent_is_empty && blank(value),
                }
            })
    }

    /// Rename every field through `name` (a CRM's own names for the playbook's fields).
    pub fn rename_fields(&mut self, name: impl Fn(&str) -> String) {
        self.fields = std::mem::take(&mut self.fields)
            .into_iter()
            .map(|(field, value)| (name(&field), value))
            .collect();
    }
}

/// The most characters a text written back holds: Salesforce's Text field takes 255 (a Long
/// Text Area more) and so does Pipedrive's text field (its large text more), HubSpot's
/// single-line text 65,536; a line within 255 fits whichever an admin created.
pub const MAX_TEXT_CHARS: usize = 255;

/// `text` for a CRM text field: at most [`MAX_TEXT_CHARS`] characters, cut after the last whole
/// word that fits and ended with "…" when cut (a CRM would refuse or cut it mid-word itself).
pub fn text_field(text: &str) -> String {
    let text = text.trim();
    let Some((cut, _)) = text.char_indices().nth(MAX_TEXT_CHARS) else {
        return text.to_owned();
    };
    // One character of the limit is the ellipsis.
    let room = text
        .char_indices()
        .nth(MAX_TEXT_CHARS - 1)
        .map_or(cut, |(i, _)| i);
    let head = &text[..room];
    let ends_a_word = text[room..].starts_with(char::is_whitespace);
    let head = match head.rfind(char::is_whitespace) {
        Some(space) if !ends_a_word => &head[..space],
        _ => head,
    };
    let head = head.trim_end_matches(|c: char| c.is_whitespace() || "·,;:-–".contains(c));
    format!("{head}…")
}

/// Whether `value` is empty: null, or blank text.
fn blank(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn same_value(current: &serde_json::Value, wanted: &serde_json::Value) -> bool {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.trim().to_owned(),
        other => other.to_string(),
    };
    let (current, wanted) = (text(current), text(wanted));
    match (current.parse::<f64>(), wanted.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => current.eq_ignore_ascii_case(&wanted),
    }
}

/// What a notice is in the CRM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A task: someone must act.
    Task,
    /// A note on the record: for the record's history, nobody has to act.
    Note,
}

/// How soon a task wants doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Something is blocked until it is done.
    High,
    /// Ordinary work.
    Normal,
}

/// A task or note on a record, for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// A task or a note.
    pub kind: NoticeKind,
    /// The CRM user it is for (a task's assignee, a note's owner); `None` leaves the CRM's
    /// default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// One line: what happened.
    pub title: String,
    /// The whole explanation.
    pub body: String,
    /// How soon it wants doing.
    pub priority: Priority,
}

impl Notice {
    /// A task for `to`.
    pub fn task(
        to: Option<String>,
        title: impl Into<String>,
        body: impl Into<String>,
        priority: Priority,
    ) -> Notice {
        Notice {
            kind: NoticeKind::Task,
            to,
            title: title.into(),
            body: body.into(),
            priority,
        }
    }

    /// A note on the record, owned by `to`.
    pub fn note(to: Option<String>, title: impl Into<String>, body: impl Into<String>) -> Notice {
        Notice {
            kind: NoticeKind::Note,
            to,
            title: title.into(),
            body: body.into(),
            priority: Priority::Normal,
        }
    }

    /// Whether this is a task.
    pub fn is_task(&self) -> bool {
        self.kind == NoticeKind::Task
    }

    /// The title, a blank line and the body: the whole notice as one text, for a CRM whose
    /// notes have no subject.
    pub fn text(&self) -> String {
        format!("{}\n\n{}", self.title, self.body)
    }
}

/// One HTTP call to a CRM's API, relative to the configured API base URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrmCall {
    /// The HTTP method (`PATCH`, `POST`).
    pub method: String,
    /// The path and query below the API base URL (`/records/deals/D-1`).
    pub path: String,
    /// The JSON body; `null` for a call without one (a `GET`).
    pub body: serde_json::Value,
    /// How long the answer to this `GET` may be reused by the same instance (definitions that
    /// rarely change, such as a CRM's field definitions); `None` for every call that must be
    /// sent each time.
    #[serde(skip)]
    pub reusable_for: Option<std::time::Duration>,
}

impl CrmCall {
    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> CrmCall {
        CrmCall {
            method: "GET".into(),
            path: path.into(),
            body: serde_json::Value::Null,
            reusable_for: None,
        }
    }

    /// A call with a JSON body.
    pub fn with_body(method: &str, path: impl Into<String>, body: serde_json::Value) -> CrmCall {
        CrmCall {
            method: method.into(),
            path: path.into(),
            body,
            reusable_for: None,
        }
    }

    /// This call, whose answer the same instance may reuse for `lifetime`.
    pub fn reusable_for(mut self, lifetime: std::time::Duration) -> CrmCall {
        self.reusable_for = Some(lifetime);
        self
    }
}

impl std::fmt::Display for CrmCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_notice_as_text_is_its_title_a_blank_line_and_its_body() {
        let note = Notice::note(
            None,
            "Handoff blocked: Acme",
            "Pain is red (required green)",
        );
        assert_eq!(
            note.text(),
            "Handoff blocked: Acme\n\nPain is red (required green)"
        );
    }

    fn write_back(fields: serde_json::Value) -> WriteBack {
        WriteBack {
            record_kind: RecordKind::Deal,
            record_id: "D-1".into(),
            fields: serde_json::from_value(fields).unwrap(),
            move_to_stage: None,
            move_only_from: None,
            notices: Vec::new(),
            personal: false,
        }
    }

    fn record(fields: serde_json::Value) -> Record {
        let mut record = Record::new_deal("D-1");
        record.fields = serde_json::from_value(fields).unwrap();
        record
    }

    #[test]
    fn values_the_record_holds_match_by_value_and_names_by_any_case() {
        let wb =
            write_back(json!({"pg_score__c": 72, "pg_review__c": false, "pg_tier__c": "warm"}));
        let held =
            record(json!({"PG_Score__c": "72.0", "pg_review__c": "false", "pg_tier__c": "warm"}));
        assert!(wb.already_in(&held));
        let changed =
            record(json!({"PG_Score__c": "71.0", "pg_review__c": "false", "pg_tier__c": "warm"}));
        assert!(!wb.already_in(&changed));
        let missing = record(json!({"pg_score__c": 72}));
        assert!(!wb.already_in(&missing));
    }

    #[test]
    fn a_text_that_fits_is_kept_whole() {
        let fits = "word ".repeat(51);
        assert_eq!(text_field(&fits), fits.trim());
        assert_eq!(text_field(fits.trim()).chars().count(), 254);
    }

    #[test]
    fn a_long_text_is_cut_on_a_word_with_an_ellipsis() {
        let gaps = "Pain: no cost or consequence · ".repeat(12);
        let cut = text_field(&gaps);
        assert!(
            cut.chars().count() <= MAX_TEXT_CHARS,
            "{}",
            cut.chars().count()
        );
        assert!(cut.ends_with("consequence · Pain…"), "{cut}");
        let question = format!("{} yes", "é".repeat(200)) + &" word".repeat(20);
        let cut = text_field(&question);
        assert!(cut.chars().count() <= MAX_TEXT_CHARS);
        assert!(cut.ends_with(" word…"), "{cut}");
    }

    #[test]
    fn a_cut_that_falls_between_words_keeps_the_last_one() {
        // The 254 characters that fit end a word: it stays whole.
        let text = format!("a {} more", "x".repeat(252)) + &" words".repeat(3);
        assert_eq!(text_field(&text), format!("a {}…", "x".repeat(252)));
    }

    #[test]
    fn one_word_longer_than_the_field_is_cut_inside_it() {
        let cut = text_field(&"x".repeat(300));
        assert_eq!(cut.chars().count(), MAX_TEXT_CHARS);
        assert!(cut.ends_with("x…"));
    }

    #[test]
    fn a_move_is_always_written() {
        let mut wb = write_back(json!({"pg_score": 10}));
        wb.move_to_stage = Some("discovery".into());
        assert!(!wb.already_in(&record(json!({"pg_score": 10}))));
    }
}
