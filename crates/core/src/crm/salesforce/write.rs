//! Write-backs as sObject collections (`/composite/sobjects`, up to [`COLLECTION_LIMIT`]
//! records a call, each accepted or refused on its own): the records' fields, then a `Task` for
//! each notice.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::API_VERSION;
use crate::{
    crm::{BatchCall, Steps},
    model::RecordKind,
    writeback::{CrmCall, Notice, NoticeKind, Priority, WriteBack},
};

/// Salesforce's name for a write-back field without a `crm_fields` entry: a custom field.
pub fn default_field_name(name: &str) -> String {
    if name.ends_with("__c") {
        name.to_owned()
    } else {
        format!("{name}__c")
    }
}

/// The most records one sObject collection call takes.
pub const COLLECTION_LIMIT: usize = 200;

/// The calls that carry out write-backs with sObject collections: the fields first (and
/// `StageName` when a blocked handoff goes back), then a Task for each notice, owned by the user
/// it is for (`OwnerId`): open for a task, completed (in the activity history) for a note.
pub fn render(write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
    let updates: Vec<(usize, Value)> = write_backs
        .iter()
        .enumerate()
        .filter(|(_, wb)| !wb.personal)
        .map(|(i, wb)| (i, record_update(wb)))
        .collect();
    let tasks: Vec<(usize, Value)> = write_backs
        .iter()
        .enumerate()
        .flat_map(|(i, wb)| wb.notices.iter().map(move |n| (i, task(wb, n, now))))
        .collect();
    vec![collections("PATCH", updates), collections("POST", tasks)]
}

fn collections(method: &str, records: Vec<(usize, Value)>) -> Vec<BatchCall> {
    records
        .chunks(COLLECTION_LIMIT)
        .map(|chunk| BatchCall {
            call: CrmCall::with_body(
                method,
                format!("/services/data/{API_VERSION}/composite/sobjects"),
                json!({
                    "allOrNone": false,
                    "records": chunk.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
                }),
            ),
            serves: chunk.iter().map(|(i, _)| *i).collect(),
        })
        .collect()
}

fn record_update(write_back: &WriteBack) -> Value {
    let object = match write_back.record_kind {
        RecordKind::Deal => "Opportunity",
        RecordKind::Lead => "Lead",
    };
    let mut fields: Map<String, Value> = Map::new();
    fields.insert("attributes".into(), json!({ "type": object }));
    fields.insert("id".into(), write_back.record_id.clone().into());
    for (k, v) in &write_back.fields {
        fields.insert(k.clone(), v.clone());
    }
    if let Some(stage) = &write_back.move_to_stage {
        fields.insert("StageName".into(), stage.clone().into());
    }
    Value::Object(fields)
}

/// A notice as a Task: an open one for a task, a completed one (in the activity history) for a
/// note.
fn task(write_back: &WriteBack, note: &Notice, now: OffsetDateTime) -> Value {
    let status = match note.kind {
        NoticeKind::Task => "Not Started",
        NoticeKind::Note => "Completed",
    };
    let priority = match note.priority {
        Priority::High => "High",
        Priority::Normal => "Normal",
    };
    let mut task = json!({
        "attributes": { "type": "Task" },
        "Subject": note.title,
        "Description": note.body,
        "Status": status,
        "Priority": priority,
        "ActivityDate": now.date().to_string(),
    });
    let link = match write_back.record_kind {
        RecordKind::Deal => "WhatId",
        RecordKind::Lead => "WhoId",
    };
    // A personal task is its owner's alone: no WhatId.
    if !write_back.personal {
        task[link] = write_back.record_id.clone().into();
    }
    if let Some(owner) = &note.to {
        task["OwnerId"] = owner.clone().into();
    }
    task
}

/// A refused record's errors: their codes and messages.
pub(super) fn collection_error(result: &Value) -> String {
    let errors: Vec<String> = result["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let code = e["statusCode"]
                .as_str()
                .or_else(|| e["errorCode"].as_str())
                .unwrap_or("ERROR");
            let message = e["message"].as_str().unwrap_or_default();
            let fields = e["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|f| !f.is_empty())
                .map(|f| format!(" (fields: {f})"))
                .unwrap_or_default();
            format!("{code}: {message}{fields}")
        })
        .collect();
    if errors.is_empty() {
        "Salesforce refused the record without saying why".to_owned()
    } else {
        errors.join("; ")
    }
}
