//! Recent engagement: a secondary part of the score, decaying with age.
//!
//! Engagement predicts interest, not fit: it is capped at its weight and never satisfies a
//! qualification dimension or a tier requirement.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    model::{ActivityKind, Record},
    score::Part,
};

/// The part of a record ([`Record::not_read`]) its activities are.
pub const ACTIVITIES: &str = "activities";

/// An engagement signal read from the record's activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// A page view whose subject mentions pricing.
    PricingPageVisit,
    /// A content download.
    ContentDownload,
    /// A reply from the buyer.
    EmailReply,
    /// A meeting held.
    Meeting,
    /// A call logged with the buyer.
    Call,
}

impl Signal {
    /// The signal an activity is, if any.
    fn of(kind: &ActivityKind, subject: Option<&str>) -> Option<Signal> {
        match kind {
            ActivityKind::PageView
                if subject.is_some_and(|s| s.to_lowercase().contains("pricing")) =>
            {
                Some(Signal::PricingPageVisit)
            }
            ActivityKind::Download => Some(Signal::ContentDownload),
            ActivityKind::EmailReply => Some(Signal::EmailReply),
            ActivityKind::Meeting => Some(Signal::Meeting),
            ActivityKind::Call => Some(Signal::Call),
            _ => None,
        }
    }
}

/// How engagement is scored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engagement {
    /// Points out of 100 at full engagement.
    pub weight: f64,
    /// A signal's points halve every this many days.
    pub half_life_days: f64,
    /// Decayed signal points that count as full engagement.
    pub full_at: f64,
    /// Points per signal.
    pub signals: BTreeMap<Signal, f64>,
    /// What a CRM's own activity types are, by CRM and type, where its adapter's default table
    /// says otherwise (`[engagement.activity_types.pipedrive] lunch = "meeting"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub activity_types: BTreeMap<String, BTreeMap<String, ActivityKind>>,
}

impl Engagement {
    /// What `crm` (its route name) calls an activity of its type `crm_type`, where the playbook
    /// says; else the adapter's default stands.
    pub fn activity_type(&self, crm: &str, crm_type: &str) -> Option<ActivityKind> {
        let types = self.activity_types.get(crm)?;
        types
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(crm_type))
            .map(|(_, kind)| kind.clone())
    }

    /// Whether an activity of `kind` can earn points: it is a signal with points (a page view
    /// may be a pricing visit, so any signal of page views counts).
    pub fn weighs(&self, kind: &ActivityKind) -> bool {
        let signal = match kind {
            ActivityKind::PageView => Some(Signal::PricingPageVisit),
            kind => Signal::of(kind, None),
        };
        signal.is_some_and(|s| self.signals.get(&s).is_some_and(|points| *points > 0.0))
    }

    /// Score a record's engagement at time `now`: activities up to `now` (a meeting booked ahead
    /// is not engagement yet), each signal's points halving every half-life.
    pub fn score(&self, record: &Record, now: OffsetDateTime) -> Part {
        let mut total = 0.0;
        let mut counted: BTreeMap<Signal, usize> = BTreeMap::new();
        for activity in record.activities.iter().filter(|a| a.at <= now) {
            let Some(signal) = Signal::of(&activity.kind, activity.subject.as_deref()) else {
                continue;
            };
            let Some(points) = self.signals.get(&signal) else {
                continue;
            };
            let age_days = ((now - activity.at).as_seconds_f64() / 86_400.0).max(0.0);
            total += points * 0.5_f64.powf(age_days / self.half_life_days);
            *counted.entry(signal).or_default() += 1;
        }
        let share = (total / self.full_at).min(1.0);
        let mut reasons: Vec<String> = counted
            .iter()
            .map(|(signal, n)| {
                format!(
                    "{n} × {}",
                    serde_json::to_value(signal)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                )
            })
            .collect();
        reasons.push(format!(
            "{total:.1} decayed signal points of {} for full engagement (half-life {} days)",
            self.full_at, self.half_life_days
        ));
        if let Some(why) = record.not_read.get(ACTIVITIES) {
            reasons.push(format!("engagement not read: {why}"));
        } else if !record.activities_read && record.activities.is_empty() {
            reasons.push("no activities were read: engagement is not measured".to_owned());
        }
        Part {
            points: self.weight * share,
            max_points: self.weight,
            reasons,
        }
    }

    /// Problems with the engagement section, relative to it.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            problems.push(format!("weight: must be >= 0 (found {})", self.weight));
        }
        if !(self.half_life_days.is_finite() && self.half_life_days > 0.0) {
            problems.push(format!(
                "half_life_days: must be > 0 (found {})",
                self.half_life_days
            ));
        }
        if !(self.full_at.is_finite() && self.full_at > 0.0) {
            problems.push(format!("full_at: must be > 0 (found {})", self.full_at));
        }
        for (signal, points) in &self.signals {
            if !(points.is_finite() && *points >= 0.0) {
                problems.push(format!("signals.{signal:?}: must be >= 0 (found {points})"));
            }
        }
        for crm in self.activity_types.keys() {
            if crate::crm_id::Crm::from_name(crm).is_none() {
                problems.push(format!(
                    "activity_types.{crm}: unknown CRM; use hubspot, pipedrive or salesforce"
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Activity;
    use time::macros::datetime;

    fn engagement() -> Engagement {
        Engagement {
            weight: 10.0,
            half_life_days: 14.0,
            full_at: 10.0,
            signals: [(Signal::Meeting, 5.0), (Signal::PricingPageVisit, 3.0)]
                .into_iter()
                .collect(),
            activity_types: BTreeMap::new(),
        }
    }

    fn meeting(at: OffsetDateTime) -> Activity {
        Activity {
            kind: ActivityKind::Meeting,
            at,
            subject: None,
            notes: None,
        }
    }

    #[test]
    fn signals_halve_every_half_life() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let mut record = Record::new_deal("D");
        record.activities.push(meeting(now));
        assert!((engagement().score(&record, now).points - 5.0).abs() < 1e-9);
        record.activities[0] = meeting(now - time::Duration::days(14));
        assert!((engagement().score(&record, now).points - 2.5).abs() < 1e-9);
        record.activities[0] = meeting(now - time::Duration::days(28));
        assert!((engagement().score(&record, now).points - 1.25).abs() < 1e-9);
    }

    #[test]
    fn a_meeting_booked_ahead_is_not_engagement_yet() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let mut record = Record::new_deal("D");
        record
            .activities
            .push(meeting(now + time::Duration::days(3)));
        assert_eq!(engagement().score(&record, now).points, 0.0);
    }

    #[test]
    fn a_read_that_failed_is_said_and_scores_nothing() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let mut record = Record::new_deal("D");
        let unread = engagement().score(&record, now);
        assert!(
            unread.reasons.iter().any(|r| r.contains("not measured")),
            "{unread:?}"
        );
        record.not_read.insert(
            ACTIVITIES.into(),
            "HubSpot answered 403: missing scope crm.objects.calls.read".into(),
        );
        let part = engagement().score(&record, now);
        assert_eq!(part.points, 0.0);
        assert!(
            part.reasons
                .iter()
                .any(|r| r == "engagement not read: HubSpot answered 403: missing scope crm.objects.calls.read"),
            "{part:?}"
        );
        record.activities_read = true;
        record.not_read.clear();
        let measured = engagement().score(&record, now);
        assert!(
            !measured.reasons.iter().any(|r| r.contains("not")),
            "{measured:?}"
        );
    }

    #[test]
    fn a_playbook_names_what_a_crm_activity_type_is() {
        let mut engagement = engagement();
        engagement.activity_types.insert(
            "pipedrive".into(),
            [("lunch".to_owned(), ActivityKind::Meeting)]
                .into_iter()
                .collect(),
        );
        assert_eq!(
            engagement.activity_type("pipedrive", "Lunch"),
            Some(ActivityKind::Meeting)
        );
        assert_eq!(engagement.activity_type("pipedrive", "call"), None);
        assert_eq!(engagement.activity_type("hubspot", "lunch"), None);
    }

    #[test]
    fn engagement_is_capped_at_its_weight() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let mut record = Record::new_deal("D");
        record.activities = (0..20).map(|_| meeting(now)).collect();
        assert_eq!(engagement().score(&record, now).points, 10.0);
    }
}
