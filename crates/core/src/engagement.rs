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
}

impl Engagement {
    /// Score a record's engagement at time `now`.
    pub fn score(&self, record: &Record, now: OffsetDateTime) -> Part {
        let mut total = 0.0;
        let mut counted: BTreeMap<Signal, usize> = BTreeMap::new();
        for activity in &record.activities {
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
    fn engagement_is_capped_at_its_weight() {
        let now = datetime!(2026-11-21 12:00 UTC);
        let mut record = Record::new_deal("D");
        record.activities = (0..20).map(|_| meeting(now)).collect();
        assert_eq!(engagement().score(&record, now).points, 10.0);
    }
}
