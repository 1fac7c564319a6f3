//! Notify once for each change of state.
//!
//! The stale field holds the deal's state in stable words, then the day its owner was told:
//! `rotting in Proposal since 2026-11-02; no next step · owner told 2026-11-21`, and, while a
//! snooze is in force, `· snoozed until 2026-12-01: waiting for the budget`. Judged again (a
//! save, a sweep, twice the same day), an unchanged deal gives the same text, so nothing is
//! written. The owner gets a task only when a reason appears that they were not told of, or when
//! `staleness.renotify_days` business days have passed since they were; a reason that goes away
//! (a close date moved) changes the text and tells nobody. A hygiene score that changes alone is
//! written without a task.

use serde::{Deserialize, Serialize};
use time::Date;

use super::{StaleReason, calendar::Calendar, snooze::Snooze};

/// What separates the reasons from the day their owner was told.
const TOLD: &str = " · owner told ";
/// What separates the rest from a snooze.
const SNOOZED: &str = " · snoozed";

/// Whether the owner is told now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "notify", rename_all = "snake_case")]
pub enum Notify {
    /// Nothing to tell: the deal is not flagged.
    Nothing,
    /// A task now: a reason the owner was not told of.
    New,
    /// A task now: the same reasons, and the re-notify interval has passed since `last`.
    Reminder {
        /// When they were last told.
        last: Date,
    },
    /// No task: the owner was told of every reason on `on`.
    AlreadyTold {
        /// When.
        on: Date,
    },
    /// A task now: the one an attempt on `on` decided and was cut off before creating (its
    /// flag written, its task not).
    Unfinished {
        /// When that attempt wrote the flag.
        on: Date,
    },
}

impl Notify {
    /// Whether a task goes to the owner now.
    pub fn tells(self) -> bool {
        matches!(
            self,
            Notify::New | Notify::Reminder { .. } | Notify::Unfinished { .. }
        )
    }

    /// The day the owner was last told, counting a task sent now.
    fn told_on(self, today: Date) -> Option<Date> {
        match self {
            Notify::Nothing => None,
            Notify::New | Notify::Reminder { .. } => Some(today),
            Notify::AlreadyTold { on } | Notify::Unfinished { on } => Some(on),
        }
    }
}

/// What an earlier judgement wrote: its reasons and the day the owner was told of them.
struct Told<'a> {
    reasons: Vec<&'a str>,
    on: Date,
}

impl<'a> Told<'a> {
    /// Read the stale field's text; `None` for anything pipeline-guard did not write this way
    /// (empty, a snooze alone, an older format): then every reason is new.
    fn read(flag: &'a str) -> Option<Told<'a>> {
        let state = flag.split(SNOOZED).next()?;
        let (reasons, on) = state.rsplit_once(TOLD)?;
        let on = Date::parse(
            on.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        Some(Told {
            reasons: reasons.split("; ").collect(),
            on,
        })
    }

    /// Whether the owner was told of `reason`: its words were among those written, or, for
    /// missing fields, every field it names was listed as missing.
    fn knows(&self, reason: &StaleReason) -> bool {
        if self.reasons.contains(&reason.to_string().as_str()) {
            return true;
        }
        let StaleReason::MissingFields { fields } = reason else {
            return false;
        };
        let told: Vec<&str> = self
            .reasons
            .iter()
            .filter_map(|r| r.strip_prefix("missing "))
            .flat_map(|list| list.split(", "))
            .collect();
        fields.iter().all(|f| told.contains(&f.as_str()))
    }
}

/// Whether to tell the owner of `reasons` on `today`, the stale field holding `previous`.
pub(super) fn decide(
    reasons: &[StaleReason],
    previous: Option<&str>,
    today: Date,
    renotify_days: u32,
    calendar: &Calendar,
) -> Notify {
    if reasons.is_empty() {
        return Notify::Nothing;
    }
    let Some(told) = previous.and_then(Told::read) else {
        return Notify::New;
    };
    if !reasons.iter().all(|r| told.knows(r)) {
        Notify::New
    } else if renotify_days > 0 && calendar.business_days_between(told.on, today) >= renotify_days {
        Notify::Reminder { last: told.on }
    } else {
        Notify::AlreadyTold { on: told.on }
    }
}

/// The stale field's text for `reasons` told as `notify` says, with the `snooze` in force.
pub(super) fn flag(
    reasons: &[StaleReason],
    notify: Notify,
    today: Date,
    snooze: Option<&Snooze>,
) -> String {
    let mut flag = reasons
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if let Some(on) = notify.told_on(today) {
        flag.push_str(&format!("{TOLD}{on}"));
    }
    if let Some(snooze) = snooze {
        if !flag.is_empty() {
            flag.push_str(" · ");
        }
        flag.push_str(&snooze.to_string());
    }
    flag
}
