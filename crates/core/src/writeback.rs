//! What a decision writes back to the CRM, before any CRM's API shape is applied.
//!
//! Decisions produce a [`WriteBack`]; each CRM adapter renders it into that CRM's API calls.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::RecordKind;

/// The changes one decision makes to one CRM record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteBack {
    /// Lead or deal.
    pub record_kind: RecordKind,
    /// The CRM record's id.
    pub record_id: String,
    /// The record's owner, who receives the note or task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<String>,
    /// Field values to set, by CRM field name (from the playbook's `write_back` table).
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Move the deal to this stage (a blocked handoff going back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_to_stage: Option<String>,
    /// A note for the record's owner: the notice that reaches the rep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

/// A note or task for the record's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// One line: what happened.
    pub title: String,
    /// The whole explanation.
    pub body: String,
    /// Whether the owner must act (a task in CRMs that have them) or only know (a note).
    pub action_required: bool,
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
}

impl CrmCall {
    /// A `GET` of `path`.
    pub fn get(path: impl Into<String>) -> CrmCall {
        CrmCall {
            method: "GET".into(),
            path: path.into(),
            body: serde_json::Value::Null,
        }
    }

    /// A call with a JSON body.
    pub fn with_body(method: &str, path: impl Into<String>, body: serde_json::Value) -> CrmCall {
        CrmCall {
            method: method.into(),
            path: path.into(),
            body,
        }
    }
}

impl std::fmt::Display for CrmCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}
