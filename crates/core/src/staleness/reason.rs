//! Why a deal is flagged. Each reason reads two ways: [`std::fmt::Display`] is stable (written
//! to the CRM's stale field, it changes only when the deal's state does: "rotting in Proposal
//! since 2026-11-02", never a running day count), and [`StaleReason::advice`] is the owner's
//! task line, with today's counts and what to do.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::model::date_label;

/// Why a deal is flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StaleReason {
    /// No real activity for longer than its stage allows, nothing scheduled and no snooze.
    RottingInStage {
        /// The stage it sits in (its id).
        stage: String,
        /// The stage's name, when the playbook gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage_name: Option<String>,
        /// The day of the last real activity, or of the entry into the stage when that is later.
        idle_since: Date,
        /// The first business day past the stage's limit: the day it started rotting.
        since: Date,
        /// Business days idle, today.
        idle_days: u32,
        /// The stage's limit, in business days.
        limit_days: u32,
    },
    /// The deal is open and its close date is in the past.
    CloseDatePassed {
        /// The close date.
        close_date: Date,
        /// Calendar days since, today.
        days_overdue: i64,
    },
    /// An open deal with no next step written and nothing scheduled.
    NoNextStep {
        /// The field the next step is read from.
        field: String,
    },
    /// Required fields are empty.
    MissingFields {
        /// Which.
        fields: Vec<String>,
    },
    /// A lost deal that does not say why.
    LostWithoutReason {
        /// The field the reason is read from.
        field: String,
    },
    /// A date on the deal cannot be read: what depends on it is not judged either way.
    UnreadableDate {
        /// Which date: a built-in one (`close_date`, `last_activity_at`, …) or `snooze_until`.
        field: String,
        /// What the CRM holds.
        value: String,
    },
}

impl StaleReason {
    /// The owner's line for this reason: what is wrong today and what to do about it.
    pub fn advice(&self) -> String {
        match self {
            StaleReason::RottingInStage {
                stage,
                stage_name,
                idle_since,
                idle_days,
                limit_days,
                ..
            } => format!(
                "No call, meeting, email or note since {idle_since}: {idle_days} business days in {} (it allows {limit_days}). Log what happened, schedule the next step, or snooze the deal until a date, with a reason.",
                stage_name.as_deref().unwrap_or(stage)
            ),
            StaleReason::CloseDatePassed {
                close_date,
                days_overdue,
            } => format!(
                "The close date {close_date} passed {days_overdue} days ago: move it to when the buyer will really sign, or close the deal."
            ),
            StaleReason::NoNextStep { .. } => "No next step is written and nothing is scheduled: agree the next meeting with the buyer and put it in the calendar.".to_owned(),
            StaleReason::MissingFields { fields } => {
                format!("Fill in: {}.", fields.join(", "))
            }
            StaleReason::LostWithoutReason { .. } => "The deal was lost without a documented reason: write down why, so the team learns from it.".to_owned(),
            StaleReason::UnreadableDate { field, value } => format!(
                "The {} holds {value:?}, which is not a date, so what depends on it is not judged: correct it.",
                date_label(field)
            ),
        }
    }
}

impl std::fmt::Display for StaleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaleReason::RottingInStage {
                stage,
                stage_name,
                since,
                ..
            } => write!(
                f,
                "rotting in {} since {since}",
                stage_name.as_deref().unwrap_or(stage)
            ),
            StaleReason::CloseDatePassed { close_date, .. } => {
                write!(f, "close date {close_date} passed")
            }
            StaleReason::NoNextStep { .. } => f.write_str("no next step"),
            StaleReason::MissingFields { fields } => {
                write!(f, "missing {}", fields.join(", "))
            }
            StaleReason::LostWithoutReason { .. } => f.write_str("lost without a reason"),
            StaleReason::UnreadableDate { field, value } => {
                write!(f, "unreadable {} {value:?}", date_label(field))
            }
        }
    }
}
