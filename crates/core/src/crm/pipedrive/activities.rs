//! A deal's done activities, for engagement and the call-notes check:
//! `GET /api/v2/activities?deal_id=<id>&done=true&sort_by=due_date&sort_direction=desc&limit=100`,
//! one page: the latest hundred done activities, which is more than a decaying engagement score
//! or the call-notes check needs (Pipedrive's v2 API filters activities by one deal at a time).
//!
//! Only a done activity is engagement: a call or meeting is held once it is marked done. Each is
//! an [`Activity`] at its `marked_as_done_time` (else its `due_date` and `due_time`, UTC), with
//! its `subject` and its `note` (HTML) as notes. Its `type` is the activity type's key: `call` a
//! call, `meeting` a meeting, `email` an email, `task` a task, any other (`lunch`, `deadline`, a
//! type of the company's own) an `other` activity named by its key, unless the playbook names it
//! with `[engagement.activity_types.pipedrive]`.

use serde_json::{Map, Value};

use crate::{
    Error,
    api::Api,
    crm::{
        activity::{self, plain},
        list::send_for_list,
        path_segment,
    },
    engagement::Engagement,
    model::{Activity, ActivityKind, parse_time, value_text as text},
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// The most done activities read for a deal: one page.
const LATEST: usize = 100;

/// What to grant when Pipedrive refuses a deal's activities (an OAuth app's scope).
pub(super) const GRANT: &str = "grant the app the activities:read scope";

/// The done activities of `deal`, latest first.
pub(super) async fn done_activities(
    deal: &str,
    engagement: Option<&Engagement>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<Vec<Activity>, Error> {
    let call = CrmCall::get(format!(
        "/api/v2/activities?deal_id={}&done=true&sort_by=due_date&sort_direction=desc&limit={LATEST}",
        path_segment(deal)
    ));
    let (items, _) = send_for_list(&call, "data", api).await?;
    Ok(items
        .iter()
        .filter_map(Value::as_object)
        .filter_map(|item| activity(item, engagement))
        .collect())
}

/// Whether a deal's fields say it has no done activity (`done_activities_count` 0, as a list
/// asked for it gives it): then there is nothing to read.
pub(super) fn has_none_done(deal: &crate::model::Record) -> bool {
    deal.number("done_activities_count") == Some(0.0)
}

/// One activity item as an [`Activity`]; `None` when it is not done, deleted, or has no time.
fn activity(item: &Map<String, Value>, engagement: Option<&Engagement>) -> Option<Activity> {
    let get = |name: &str| item.get(name).and_then(text);
    if item.get("done") != Some(&Value::Bool(true))
        || item.get("is_deleted") == Some(&Value::Bool(true))
    {
        return None;
    }
    let at = get("marked_as_done_time")
        .and_then(|t| parse_time(&t))
        .or_else(|| due(get("due_date")?, get("due_time")))?;
    let crm_type = get("type").unwrap_or_default().to_lowercase();
    Some(Activity {
        kind: activity::kind(engagement, "pipedrive", &crm_type, default_kind),
        at,
        subject: get("subject"),
        notes: get("note").map(|n| plain(&n)).filter(|n| !n.is_empty()),
    })
}

/// When an activity was due: its date at its time (`09:00` or `09:00:00`, UTC), else the
/// date's midnight.
fn due(date: String, time: Option<String>) -> Option<time::OffsetDateTime> {
    let at = match time {
        Some(time) if time.len() == 5 => format!("{date} {time}:00"),
        Some(time) => format!("{date} {time}"),
        None => date,
    };
    parse_time(&at)
}

/// What Pipedrive's activity types are, unless the playbook says otherwise.
fn default_kind(crm_type: &str) -> ActivityKind {
    match crm_type {
        "call" => ActivityKind::Call,
        "meeting" => ActivityKind::Meeting,
        "email" => ActivityKind::Email,
        "task" => ActivityKind::Task,
        other => ActivityKind::Other(other.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    fn item(fields: Value) -> Option<Activity> {
        let mut item = json!({"id": 1, "type": "call", "subject": "Discovery", "done": true, "due_date": "2026-11-18", "due_time": "15:00"});
        for (k, v) in fields.as_object().unwrap() {
            item[k] = v.clone();
        }
        activity(item.as_object().unwrap(), None)
    }

    #[test]
    fn a_done_activity_is_at_when_it_was_marked_done_else_when_it_was_due() {
        let marked = item(json!({"marked_as_done_time": "2026-11-18T15:42:10Z"})).unwrap();
        assert_eq!(marked.at, datetime!(2026-11-18 15:42:10 UTC));
        let v1_style = item(json!({"marked_as_done_time": "2026-11-18 15:42:10"})).unwrap();
        assert_eq!(v1_style.at, datetime!(2026-11-18 15:42:10 UTC));
        assert_eq!(item(json!({})).unwrap().at, datetime!(2026-11-18 15:00 UTC));
        assert_eq!(
            item(json!({"due_time": "15:00:30"})).unwrap().at,
            datetime!(2026-11-18 15:00:30 UTC)
        );
        assert_eq!(
            item(json!({"due_time": null})).unwrap().at,
            datetime!(2026-11-18 00:00 UTC)
        );
        assert!(item(json!({"due_date": null})).is_none(), "no time at all");
    }

    #[test]
    fn only_a_done_activity_is_engagement() {
        assert!(item(json!({"done": false})).is_none());
        assert!(item(json!({"is_deleted": true})).is_none());
    }

    #[test]
    fn types_are_kinds_by_the_default_table_and_notes_are_text() {
        let kind = |t: &str| item(json!({"type": t})).unwrap().kind;
        assert_eq!(kind("call"), ActivityKind::Call);
        assert_eq!(kind("meeting"), ActivityKind::Meeting);
        assert_eq!(kind("email"), ActivityKind::Email);
        assert_eq!(kind("task"), ActivityKind::Task);
        assert_eq!(kind("lunch"), ActivityKind::Other("lunch".into()));
        assert_eq!(kind("deadline"), ActivityKind::Other("deadline".into()));
        let call = item(json!({"note": "<p>Pain: close takes <b>nine days</b></p>"})).unwrap();
        assert_eq!(call.notes.as_deref(), Some("Pain: close takes nine days"));
        assert_eq!(call.subject.as_deref(), Some("Discovery"));
        assert_eq!(item(json!({"note": "<p></p>"})).unwrap().notes, None);
    }

    #[test]
    fn the_playbook_names_a_type_of_its_own() {
        let engagement: Engagement = toml::from_str(
            "weight = 10\nhalf_life_days = 14\nfull_at = 10\nsignals = {}\n[activity_types.pipedrive]\nlunch = \"meeting\"\n",
        )
        .unwrap();
        let lunch = json!({"type": "lunch", "done": true, "due_date": "2026-11-18"});
        assert_eq!(
            activity(lunch.as_object().unwrap(), Some(&engagement))
                .unwrap()
                .kind,
            ActivityKind::Meeting
        );
    }
}
