//! Writing back to HubSpot with its batch APIs: the result properties of every record with
//! `POST /crm/v3/objects/<deals|contacts>/batch/update` (100 a call), then the owners' tasks and
//! notes with `POST /crm/v3/objects/<tasks|notes>/batch/create`, each associated with its record.
//! Property values are sent as text, as HubSpot's API takes them; task and note bodies are HTML.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use super::object_type;
use crate::{
    crm::{BatchCall, Steps, html},
    model::RecordKind,
    writeback::{CrmCall, Notice, NoticeKind, Priority, WriteBack},
};

/// The most inputs one batch call takes.
const BATCH: usize = 100;
/// Association type ids (HUBSPOT_DEFINED) from notes and tasks to deals and contacts.
const NOTE_TO_DEAL: u32 = 214;
const NOTE_TO_CONTACT: u32 = 202;
const TASK_TO_DEAL: u32 = 216;
const TASK_TO_CONTACT: u32 = 204;

/// The calls that carry out `write_backs`: property updates, then tasks and notes.
pub fn render(write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
    let mut updates = Vec::new();
    for kind in [RecordKind::Deal, RecordKind::Lead] {
        let inputs: Vec<(usize, Value)> = write_backs
            .iter()
            .enumerate()
            .filter(|(_, wb)| wb.record_kind == kind && !wb.personal)
            .map(|(i, wb)| (i, update(wb)))
            .collect();
        updates.extend(batches(
            &format!("/crm/v3/objects/{}/batch/update", object_type(kind)),
            inputs,
        ));
    }
    let mut notices = Vec::new();
    for (object, kind) in [("tasks", NoticeKind::Task), ("notes", NoticeKind::Note)] {
        let inputs: Vec<(usize, Value)> = write_backs
            .iter()
            .enumerate()
            .flat_map(|(i, wb)| {
                wb.notices
                    .iter()
                    .filter(move |n| n.kind == kind)
                    .map(move |n| (i, notice(wb, n, now)))
            })
            .collect();
        notices.extend(batches(
            &format!("/crm/v3/objects/{object}/batch/create"),
            inputs,
        ));
    }
    vec![updates, notices]
}

/// The write-backs, by position in the call's inputs, that a multi-status answer names in its
/// errors, with HubSpot's message. Errors that name no input (creates carry no ids) refuse every
/// write-back the call served: which were created cannot be told.
pub fn refused(call: &BatchCall, answer: &Value) -> Vec<(usize, String)> {
    let inputs = call.call.body["inputs"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut refused = Vec::new();
    for error in answer["errors"].as_array().into_iter().flatten() {
        let message = error["message"].as_str().unwrap_or("refused").to_owned();
        let ids: BTreeSet<String> = error["context"]["ids"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| {
                id.as_str()
                    .map(str::to_owned)
                    .or_else(|| id.as_u64().map(|n| n.to_string()))
            })
            .collect();
        for (position, input) in inputs.iter().enumerate() {
            if input["id"].as_str().is_some_and(|id| ids.contains(id))
                && !refused.iter().any(|(p, _)| *p == position)
            {
                refused.push((
                    position,
                    format!(
                        "{}: {message}",
                        error["category"].as_str().unwrap_or("ERROR")
                    ),
                ));
            }
        }
    }
    let errors = answer["errors"].as_array().map_or(0, Vec::len);
    if refused.is_empty() && errors > 0 {
        let message = answer["errors"][0]["message"]
            .as_str()
            .unwrap_or("refused")
            .to_owned();
        return (0..call.serves.len())
            .map(|i| (i, format!("{errors} error(s) naming no record: {message}")))
            .collect();
    }
    refused
}

fn batches(path: &str, inputs: Vec<(usize, Value)>) -> Vec<BatchCall> {
    inputs
        .chunks(BATCH)
        .map(|chunk| BatchCall {
            call: CrmCall::with_body(
                "POST",
                path,
                json!({ "inputs": chunk.iter().map(|(_, input)| input.clone()).collect::<Vec<_>>() }),
            ),
            serves: chunk.iter().map(|(i, _)| *i).collect(),
        })
        .collect()
}

/// One record's properties, as text.
fn update(write_back: &WriteBack) -> Value {
    let mut properties: Map<String, Value> = write_back
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(as_text(v))))
        .collect();
    if let Some(stage) = &write_back.move_to_stage {
        properties.insert("dealstage".into(), stage.clone().into());
    }
    json!({ "id": write_back.record_id, "properties": properties })
}

/// A property value as the text HubSpot's API takes.
fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A task or a note for its person, associated with the record (a personal task with none).
fn notice(write_back: &WriteBack, notice: &Notice, now: OffsetDateTime) -> Value {
    let timestamp = now.format(&Rfc3339).unwrap_or_default();
    let deal = write_back.record_kind == RecordKind::Deal;
    let (association, mut properties) = match notice.kind {
        NoticeKind::Task => (
            if deal { TASK_TO_DEAL } else { TASK_TO_CONTACT },
            json!({
                "hs_timestamp": timestamp,
                "hs_task_subject": notice.title,
                "hs_task_body": html(&notice.body),
                "hs_task_status": "NOT_STARTED",
                "hs_task_priority": match notice.priority {
                    Priority::High => "HIGH",
                    Priority::Normal => "MEDIUM",
                },
            }),
        ),
        NoticeKind::Note => (
            if deal { NOTE_TO_DEAL } else { NOTE_TO_CONTACT },
            json!({
                "hs_timestamp": timestamp,
                "hs_note_body": html(&notice.text()),
            }),
        ),
    };
    if let Some(owner) = &notice.to {
        properties["hubspot_owner_id"] = owner.clone().into();
    }
    // A personal task is its owner's alone: associated with nothing.
    let associations = if write_back.personal {
        json!([])
    } else {
        json!([{
            "to": { "id": write_back.record_id },
            "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association }],
        }])
    };
    json!({ "properties": properties, "associations": associations })
}
