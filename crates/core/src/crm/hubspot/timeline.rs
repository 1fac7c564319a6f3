//! A deal's timeline: the calls, meetings, emails and notes associated with it, read for a whole
//! batch with associations v4 (one call per activity type) and then batch reads of those objects
//! (one per type and hundred activities), side by side. Only the types that can change a score
//! are read: calls and meetings always (their notes), emails and notes when the playbook's
//! engagement gives their kind points.
//!
//! Each becomes an [`Activity`] at its `hs_timestamp` (a meeting at its start time): a call a
//! `call` with its body as notes (one not completed — `NO_ANSWER`, `BUSY` — an `other`
//! activity), a meeting a `meeting` (one that did not happen —
//! `NO_SHOW`, `CANCELED` — an `other` activity, which is no engagement and no call held), an
//! email an `email`, or an `email_reply` when it came in, a note a `note`. A playbook renames
//! HubSpot's types with `[engagement.activity_types.hubspot]` (`incoming_email`, `call`,
//! `meeting`, `email`, `note`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use super::complete::{associated, properties_of, read};
use crate::{
    Error,
    api::Api,
    crm::activity::{self, plain},
    engagement::Engagement,
    model::{Activity, ActivityKind, parse_time},
    ports::{Clock, CrmClient},
};

/// One of HubSpot's activity objects a timeline is read from.
struct Type {
    /// Its object type in the API (`calls`).
    object: &'static str,
    /// The types its activities are given ([`default_kind`]'s names); the first is also the
    /// prefix of those a playbook may name (`call_no_answer`).
    crm_types: &'static [&'static str],
    /// The properties read of each.
    properties: &'static [&'static str],
}

/// HubSpot's activity objects, with the properties read of each.
const TYPES: [Type; 4] = [
    Type {
        object: "calls",
        crm_types: &["call"],
        properties: &[
            "hs_timestamp",
            "hs_call_title",
            "hs_call_body",
            "hs_call_direction",
            "hs_call_status",
        ],
    },
    Type {
        object: "meetings",
        crm_types: &["meeting"],
        properties: &[
            "hs_timestamp",
            "hs_meeting_title",
            "hs_meeting_body",
            "hs_internal_meeting_notes",
            "hs_meeting_start_time",
            "hs_meeting_outcome",
        ],
    },
    Type {
        object: "emails",
        crm_types: &["email", "incoming_email"],
        properties: &["hs_timestamp", "hs_email_subject", "hs_email_direction"],
    },
    Type {
        object: "notes",
        crm_types: &["note"],
        properties: &["hs_timestamp", "hs_note_body"],
    },
];

impl Type {
    /// Whether this object's activities can change a score under `engagement`
    /// ([`activity::wanted`]): with the default playbook, notes are not read (no signal, no call
    /// notes), which spares a batch two calls.
    fn wanted(&self, engagement: Option<&Engagement>) -> bool {
        activity::wanted(
            engagement,
            "hubspot",
            self.crm_types,
            self.crm_types[0],
            default_kind,
        )
    }
}

/// Each deal's activities, or why they could not be read.
pub(super) type Timelines = BTreeMap<String, Result<Vec<Activity>, Error>>;

/// The activities of `deal_ids`, by deal. A type whose association or read failed fails the
/// deals it would have told about: transient, the event waits for the retry; for good, the score
/// goes on without activities and says why.
pub(super) async fn timelines(
    api: &Api<'_, impl CrmClient, impl Clock>,
    deal_ids: &[String],
    engagement: Option<&Engagement>,
) -> Timelines {
    let mut timelines: Timelines = deal_ids
        .iter()
        .map(|id| (id.clone(), Ok(Vec::new())))
        .collect();
    if deal_ids.is_empty() {
        return timelines;
    }
    let types: Vec<&Type> = TYPES.iter().filter(|t| t.wanted(engagement)).collect();
    let associations =
        futures::future::join_all(types.iter().map(|t| associated(api, t.object, deal_ids))).await;
    let reads = futures::future::join_all(types.iter().zip(&associations).map(
        |(t, associated)| async move {
            let ids: Vec<String> = match associated {
                Ok(by_deal) => {
                    let mut ids: Vec<String> = by_deal.values().flatten().cloned().collect();
                    ids.sort();
                    ids.dedup();
                    ids
                }
                Err(_) => Vec::new(),
            };
            let properties: Vec<String> = t.properties.iter().map(|p| (*p).to_owned()).collect();
            read(api, t.object, &ids, &properties, &[]).await
        },
    ))
    .await;
    for ((t, associated), found) in types.iter().zip(associations).zip(reads) {
        for (deal, timeline) in &mut timelines {
            let Ok(activities) = timeline else {
                continue;
            };
            let ids = match &associated {
                Ok(by_deal) => by_deal.get(deal).cloned().unwrap_or_default(),
                Err(e) => {
                    *timeline = Err(e.clone());
                    continue;
                }
            };
            for id in ids {
                match found.get(&id).cloned().unwrap_or(Ok(None)) {
                    Ok(Some(record)) => {
                        activities.extend(activity(t.object, &properties_of(&record), engagement));
                    }
                    // Deleted since it was associated: not on the timeline any more.
                    Ok(None) => {}
                    Err(e) => {
                        *timeline = Err(e);
                        break;
                    }
                }
            }
        }
    }
    timelines
}

/// One activity object of `object` type as an [`Activity`]; `None` without a readable time.
fn activity(
    object: &str,
    properties: &Map<String, Value>,
    engagement: Option<&Engagement>,
) -> Option<Activity> {
    let text = |name: &str| super::property(properties, name);
    let time = |name: &str| text(name).and_then(|t| at(&t));
    let (crm_type, at, subject, notes) = match object {
        "calls" => (
            // A call logged by hand has no status; one dialled that nobody took is no call held.
            match text("hs_call_status").map(|s| s.to_lowercase()) {
                None => "call".to_owned(),
                Some(status) if status == "completed" => "call".to_owned(),
                Some(status) => format!("call_{status}"),
            },
            time("hs_timestamp"),
            text("hs_call_title"),
            text("hs_call_body").map(|b| plain(&b)),
        ),
        "meetings" => {
            let outcome = text("hs_meeting_outcome")
                .unwrap_or_default()
                .to_uppercase();
            let held = !matches!(outcome.as_str(), "NO_SHOW" | "CANCELED" | "CANCELLED");
            let notes = [text("hs_meeting_body"), text("hs_internal_meeting_notes")]
                .into_iter()
                .flatten()
                .map(|n| plain(&n))
                .collect::<Vec<_>>()
                .join("\n");
            (
                if held {
                    "meeting".to_owned()
                } else {
                    format!("meeting_{}", outcome.to_lowercase())
                },
                time("hs_meeting_start_time").or_else(|| time("hs_timestamp")),
                text("hs_meeting_title"),
                (!notes.is_empty()).then_some(notes),
            )
        }
        "emails" => {
            let incoming = text("hs_email_direction").as_deref() == Some("INCOMING_EMAIL");
            (
                if incoming { "incoming_email" } else { "email" }.to_owned(),
                time("hs_timestamp"),
                text("hs_email_subject"),
                None,
            )
        }
        _ => (
            "note".to_owned(),
            time("hs_timestamp"),
            None,
            text("hs_note_body").map(|b| plain(&b)),
        ),
    };
    let kind = activity::kind(engagement, "hubspot", &crm_type, default_kind);
    Some(Activity {
        kind,
        at: at?,
        subject,
        notes,
    })
}

/// What HubSpot's activity types are, unless the playbook says otherwise.
fn default_kind(crm_type: &str) -> ActivityKind {
    match crm_type {
        "call" => ActivityKind::Call,
        "meeting" => ActivityKind::Meeting,
        "incoming_email" => ActivityKind::EmailReply,
        "email" => ActivityKind::Email,
        "note" => ActivityKind::Note,
        other => ActivityKind::Other(other.to_owned()),
    }
}

/// A HubSpot time: RFC 3339, or milliseconds since the epoch (how some activity properties come).
fn at(text: &str) -> Option<OffsetDateTime> {
    if let Ok(ms) = text.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok();
    }
    parse_time(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
            .collect()
    }

    #[test]
    fn a_call_keeps_its_body_as_plain_notes() {
        let call = activity(
            "calls",
            &props(&[
                ("hs_timestamp", "2026-11-30T10:00:00Z"),
                (
                    "hs_call_body",
                    "<p>Pain: close takes <b>nine days</b> &amp; blocks reporting</p>",
                ),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(call.kind, ActivityKind::Call);
        assert_eq!(
            call.notes.as_deref(),
            Some("Pain: close takes nine days & blocks reporting")
        );
    }

    #[test]
    fn a_call_nobody_took_is_no_call_held() {
        let call = |status: &str| {
            activity(
                "calls",
                &props(&[
                    ("hs_timestamp", "2026-11-30T10:00:00Z"),
                    ("hs_call_status", status),
                ]),
                None,
            )
            .unwrap()
            .kind
        };
        assert_eq!(call("COMPLETED"), ActivityKind::Call);
        assert_eq!(
            call("NO_ANSWER"),
            ActivityKind::Other("call_no_answer".into())
        );
    }

    #[test]
    fn a_meeting_that_did_not_happen_is_no_meeting() {
        let no_show = activity(
            "meetings",
            &props(&[
                ("hs_meeting_start_time", "1764583200000"),
                ("hs_meeting_outcome", "NO_SHOW"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(no_show.kind, ActivityKind::Other("meeting_no_show".into()));
        assert_eq!(no_show.at.unix_timestamp(), 1_764_583_200);
    }

    #[test]
    fn an_incoming_email_is_a_reply_unless_the_playbook_says_otherwise() {
        let reply = props(&[
            ("hs_timestamp", "2026-11-30T10:00:00Z"),
            ("hs_email_direction", "INCOMING_EMAIL"),
        ]);
        assert_eq!(
            activity("emails", &reply, None).unwrap().kind,
            ActivityKind::EmailReply
        );
        let engagement: Engagement = toml::from_str(
            "weight = 10\nhalf_life_days = 14\nfull_at = 10\nsignals = {}\n[activity_types.hubspot]\nincoming_email = \"email\"\n",
        )
        .unwrap();
        assert_eq!(
            activity("emails", &reply, Some(&engagement)).unwrap().kind,
            ActivityKind::Email
        );
    }

    #[test]
    fn an_activity_without_a_time_is_left_out() {
        assert!(activity("notes", &props(&[("hs_note_body", "x")]), None).is_none());
    }
}
