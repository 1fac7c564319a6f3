//! A write-back as Pipedrive API calls: the fields (API v2), then an activity or a note for each
//! notice.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::{
    crm::{html, path_segment},
    model::RecordKind,
    writeback::{CrmCall, NoticeKind, WriteBack},
};

/// A Pipedrive id as the API wants it: a number when it is one.
fn id_value(id: &str) -> Value {
    id.parse::<u64>().map_or_else(|_| id.into(), Value::from)
}

/// The calls that carry out a write-back: `PATCH` the fields (and `stage_id` when a blocked
/// handoff goes back), then for each notice an activity of type `task` owned by the person it is
/// for (`owner_id`, a user id), or a note (API v1: Pipedrive has no v2 notes API). A personal
/// write-back is its task alone, on no deal.
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
    let mut calls = Vec::new();
    if !write_back.personal {
        calls.push(CrmCall::with_body(
            "PATCH",
            format!("/api/v2/{object}/{}", path_segment(&write_back.record_id)),
            body,
        ));
    }
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
                    // A personal task is its owner's alone: on no deal or person.
                    _ if write_back.personal => {}
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
                let content = html(&notice.text());
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
