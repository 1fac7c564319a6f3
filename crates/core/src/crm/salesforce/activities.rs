//! An opportunity's activities, for engagement and the call-notes check, read for a whole batch
//! with one SOQL query ([`query`]): its closed tasks and its events up to today, the latest
//! hundred of each, as subqueries of the opportunities they are on.
//!
//! A closed task is an [`Activity`] at its `CompletedDateTime` (else its `ActivityDate`), with its
//! `Subject` and its `Description` as notes; its kind is its `TaskSubtype`: `Call` a call,
//! `Email` and `ListEmail` an email, `Task` a task, any other (`Cadence`, `LinkedIn`) an `other`
//! activity named by it. An event is a meeting at its `EndDateTime`: one that has not ended by
//! the time the score is made is not held yet, and no engagement
//! ([`crate::engagement::Engagement::score`]). A playbook renames these types (lower case: `call`,
//! `email`, `listemail`, `task`, `event`, …) with `[engagement.activity_types.salesforce]`.
//! Where every field comes from: `fields.md` beside this file.

use serde_json::{Map, Value};

use super::record::text;
use crate::{
    crm::activity,
    engagement::Engagement,
    model::{Activity, ActivityKind, parse_time},
};

/// The subqueries of an Opportunity query that give its activities: its closed tasks, the latest
/// first, and its events that started by today (one that ended is held).
pub const SUBQUERIES: &str = "(SELECT Subject, ActivityDate, Status, TaskSubtype, CallType, CallDurationInSeconds, Description, CompletedDateTime \
     FROM Tasks WHERE IsClosed = true ORDER BY ActivityDate DESC NULLS LAST LIMIT 100), \
     (SELECT Subject, StartDateTime, EndDateTime, IsAllDayEvent, ActivityDate, Description \
     FROM Events WHERE StartDateTime < TOMORROW ORDER BY StartDateTime DESC LIMIT 100)";

/// The query of the activities of `opportunities` (quoted, checked ids).
pub(super) fn query(opportunities: &[String]) -> String {
    format!(
        "SELECT Id, {SUBQUERIES} FROM Opportunity WHERE Id IN ({})",
        opportunities.join(",")
    )
}

/// What to grant when the org refuses an opportunity's activities.
pub(super) const GRANT: &str =
    "give the integration user Read on Task and Event (its profile or a permission set)";

/// The activities of an opportunity's row of [`query`]: its tasks, then its events.
pub(super) fn of_row(row: &Map<String, Value>, engagement: Option<&Engagement>) -> Vec<Activity> {
    let rows = |relation: &str| -> Vec<Map<String, Value>> {
        row.get(relation)
            .and_then(|r| r["records"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_object().cloned())
            .collect()
    };
    let tasks = rows("Tasks")
        .into_iter()
        .filter_map(|task| closed_task(&task, engagement));
    let events = rows("Events")
        .into_iter()
        .filter_map(|event| meeting(&event, engagement));
    tasks.chain(events).collect()
}

/// A closed task as an [`Activity`]; `None` without a readable date.
fn closed_task(task: &Map<String, Value>, engagement: Option<&Engagement>) -> Option<Activity> {
    let at = text(task, "CompletedDateTime")
        .or_else(|| text(task, "ActivityDate"))
        .and_then(|t| parse_time(&t))?;
    let crm_type = text(task, "TaskSubtype")
        .unwrap_or_else(|| "Task".to_owned())
        .to_lowercase();
    Some(Activity {
        kind: activity::kind(engagement, "salesforce", &crm_type, default_kind),
        at,
        subject: text(task, "Subject"),
        notes: text(task, "Description"),
    })
}

/// An event as an [`Activity`] at its end (an all-day event's, else its start, else its day);
/// `None` without a readable time.
fn meeting(event: &Map<String, Value>, engagement: Option<&Engagement>) -> Option<Activity> {
    let at = ["EndDateTime", "StartDateTime", "ActivityDate"]
        .iter()
        .find_map(|field| text(event, field).and_then(|t| parse_time(&t)))?;
    Some(Activity {
        kind: activity::kind(engagement, "salesforce", "event", default_kind),
        at,
        subject: text(event, "Subject"),
        notes: text(event, "Description"),
    })
}

/// What Salesforce's task subtypes and events are, unless the playbook says otherwise.
fn default_kind(crm_type: &str) -> ActivityKind {
    match crm_type {
        "call" => ActivityKind::Call,
        "email" | "listemail" => ActivityKind::Email,
        "task" => ActivityKind::Task,
        "event" => ActivityKind::Meeting,
        other => ActivityKind::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn row(tasks: Value, events: Value) -> Map<String, Value> {
        json!({
            "attributes": {"type": "Opportunity"},
            "Id": "0065g00000Pg140AAZ",
            "Tasks": {"totalSize": 1, "done": true, "records": tasks},
            "Events": events,
        })
        .as_object()
        .unwrap()
        .clone()
    }

    #[test]
    fn a_closed_task_is_at_its_completion_else_its_date_and_its_subtype_says_what_it_was() {
        let activities = of_row(
            &row(
                json!([
                    {"Subject": "Call", "TaskSubtype": "Call", "CallType": "Outbound", "ActivityDate": "2026-11-12",
                     "CompletedDateTime": "2026-11-12T10:41:37.000+0000", "Description": "Pain: close takes twelve days"},
                    {"Subject": "Email: ROI one-pager", "TaskSubtype": "Email", "ActivityDate": "2026-10-27", "CompletedDateTime": null},
                    {"Subject": "Send contract", "TaskSubtype": "Task", "ActivityDate": null, "CompletedDateTime": null},
                    {"Subject": "Connect", "TaskSubtype": "LinkedIn", "ActivityDate": "2026-10-20"},
                ]),
                Value::Null,
            ),
            None,
        );
        assert_eq!(activities.len(), 3, "a task without a date is left out");
        assert_eq!(activities[0].kind, ActivityKind::Call);
        assert_eq!(activities[0].at, datetime!(2026-11-12 10:41:37 UTC));
        assert_eq!(
            activities[0].notes.as_deref(),
            Some("Pain: close takes twelve days")
        );
        assert_eq!(activities[1].kind, ActivityKind::Email);
        assert_eq!(activities[1].at, datetime!(2026-10-27 00:00 UTC));
        assert_eq!(activities[2].kind, ActivityKind::Other("linkedin".into()));
    }

    #[test]
    fn an_event_is_a_meeting_at_its_end_so_one_not_over_is_not_held_yet() {
        let activities = of_row(
            &row(
                json!([]),
                json!({"totalSize": 2, "done": true, "records": [
                    {"Subject": "Demo", "StartDateTime": "2026-11-21T11:00:00.000+0000", "EndDateTime": "2026-11-21T13:00:00.000+0000", "IsAllDayEvent": false},
                    {"Subject": "Offsite", "StartDateTime": "2026-11-18T00:00:00.000+0000", "EndDateTime": null, "IsAllDayEvent": true, "ActivityDate": "2026-11-18"},
                ]}),
            ),
            None,
        );
        assert_eq!(activities[0].kind, ActivityKind::Meeting);
        assert_eq!(activities[0].at, datetime!(2026-11-21 13:00 UTC));
        assert_eq!(activities[1].at, datetime!(2026-11-18 00:00 UTC));
        let engagement: Engagement = toml::from_str(
            "weight = 10\nhalf_life_days = 14\nfull_at = 5\nsignals = { meeting = 5 }\n",
        )
        .unwrap();
        let mut deal = crate::model::Record::new_deal("0065g00000Pg140AAZ");
        deal.activities = activities[..1].to_vec();
        deal.activities_read = true;
        assert_eq!(
            engagement
                .score(&deal, datetime!(2026-11-21 12:00 UTC))
                .points,
            0.0,
            "the demo is under way at noon"
        );
        assert_eq!(
            engagement
                .score(&deal, datetime!(2026-11-21 13:00 UTC))
                .points,
            10.0,
            "held once it ended"
        );
    }

    #[test]
    fn the_playbook_renames_a_subtype() {
        let engagement: Engagement = toml::from_str(
            "weight = 10\nhalf_life_days = 14\nfull_at = 10\nsignals = {}\n[activity_types.salesforce]\ncadence = \"call\"\n",
        )
        .unwrap();
        let activities = of_row(
            &row(
                json!([{"TaskSubtype": "Cadence", "ActivityDate": "2026-11-02"}]),
                Value::Null,
            ),
            Some(&engagement),
        );
        assert_eq!(activities[0].kind, ActivityKind::Call);
    }
}
