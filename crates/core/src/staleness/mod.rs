//! Deals rotting in a stage, open deals whose close date has passed or that have no next step,
//! lost deals without a reason, missing fields and unreadable dates.
//!
//! A deal rots when no real activity (a call, a meeting, an email, a note: never a field
//! update) has happened on it for more business days ([`calendar`]) than its stage allows,
//! counted from the last activity or from its entry into the stage, whichever is later. A
//! scheduled next activity after today holds it back, and so does a rep's [`snooze`]. A date
//! that cannot be read is reported, and what depends on it is judged neither way.
//!
//! [`assess`] judges one deal; a sweep judges many with one [`Rules`], and aggregates each
//! report's [`StaleReport::hygiene`] checklist. The owner is told once per change of state
//! ([`notify`]).

pub mod calendar;
pub mod notify;
mod reason;
pub mod snooze;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, UtcOffset};

pub use calendar::Calendar;
pub use notify::Notify;
pub use reason::StaleReason;
pub use snooze::Snooze;

use crate::{
    hygiene::{self, Checklist, Rotting},
    mode::Mode,
    model::{DealStatus, Record},
    placeholder,
    playbook::Playbook,
    writeback::{Notice, Priority, WriteBack},
};

/// The staleness check of one deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleReport {
    /// The deal checked.
    pub record_id: String,
    /// Whether any reason applies.
    pub stale: bool,
    /// Every reason that applies.
    pub reasons: Vec<StaleReason>,
    /// The scheduled next activity that holds rotting back (after today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_activity: Option<Date>,
    /// The rep's snooze in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snooze: Option<Snooze>,
    /// Whether the owner is told now.
    #[serde(flatten)]
    pub notify: Notify,
    /// What the stale field says: the state in stable words, the day the owner was told, the
    /// snooze (empty for a clean deal).
    pub flag: String,
    /// The deal against the team's hygiene checklist.
    pub hygiene: Checklist,
}

/// The staleness rules of a playbook, ready to judge many deals (its calendar built once).
#[derive(Debug, Clone)]
pub struct Rules<'a> {
    playbook: &'a Playbook,
    calendar: Calendar,
}

/// Check a deal at time `now`: [`Rules::assess`] for one deal.
pub fn assess(record: &Record, playbook: &Playbook, now: OffsetDateTime) -> StaleReport {
    Rules::of(playbook).assess(record, now)
}

/// What a deal shows on the day it is judged, besides its own fields.
struct Today<'r> {
    /// The day (UTC).
    day: Date,
    /// A next activity scheduled after `day`.
    next_activity: Option<Date>,
    /// The rep's snooze in force.
    snooze: Option<&'r Snooze>,
    /// The dates that cannot be read, by key, with the text the CRM holds.
    unreadable: &'r [(String, String)],
}

impl Today<'_> {
    fn unreadable(&self, key: &str) -> bool {
        self.unreadable.iter().any(|(k, _)| k == key)
    }
}

/// What the rotting rule found.
enum Rot {
    /// Rotting: the reason.
    Rotting(Box<StaleReason>),
    /// Not rotting: within the limit, held back, or without a date to count from.
    Fresh,
    /// Not judged: a date it depends on cannot be read.
    Unknown,
}

impl<'a> Rules<'a> {
    /// The rules of `playbook`.
    pub fn of(playbook: &'a Playbook) -> Rules<'a> {
        Rules {
            playbook,
            calendar: Calendar::of(&playbook.staleness),
        }
    }

    /// The business-day calendar the rules count in.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Check a deal at time `now` (days are UTC days).
    pub fn assess(&self, record: &Record, now: OffsetDateTime) -> StaleReport {
        let staleness = &self.playbook.staleness;
        let today = now.to_offset(UtcOffset::UTC).date();
        let mut unreadable: Vec<(String, String)> = record
            .unreadable
            .iter()
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect();
        let snooze = snooze::in_force(record, staleness, today).unwrap_or_else(|value| {
            unreadable.push((snooze::SNOOZE_UNTIL.to_owned(), value));
            None
        });
        let next_activity = record
            .next_activity_at
            .map(|at| at.to_offset(UtcOffset::UTC).date())
            .filter(|day| *day > today);
        let seen = Today {
            day: today,
            next_activity,
            snooze: snooze.as_ref(),
            unreadable: &unreadable,
        };
        let (reasons, rotting) = match record.status {
            DealStatus::Open => self.open_deal(record, &seen),
            DealStatus::Lost => (self.lost_deal(record), Rotting::No),
            DealStatus::Won => (Vec::new(), Rotting::No),
        };
        let previous = record.text(&self.playbook.write_back.stale);
        let notify = notify::decide(
            &reasons,
            previous.as_deref(),
            today,
            staleness.renotify_days,
            &self.calendar,
        );
        StaleReport {
            record_id: record.id.clone(),
            stale: !reasons.is_empty(),
            flag: notify::flag(&reasons, notify, today, snooze.as_ref()),
            reasons,
            next_activity,
            snooze,
            notify,
            hygiene: hygiene::checklist(record, self.playbook, today, rotting, &unreadable),
        }
    }

    /// Why an open deal is flagged on `today`, and whether it rots.
    fn open_deal(&self, record: &Record, today: &Today<'_>) -> (Vec<StaleReason>, Rotting) {
        let mut reasons = Vec::new();
        let rotting = match self.rot(record, today) {
            Rot::Rotting(reason) => {
                reasons.push(*reason);
                Rotting::Yes
            }
            Rot::Fresh => Rotting::No,
            Rot::Unknown => Rotting::Unknown,
        };
        if let Some(close_date) = record.close_date.filter(|day| *day < today.day) {
            reasons.push(StaleReason::CloseDatePassed {
                close_date,
                days_overdue: (today.day - close_date).whole_days(),
            });
        }
        let next_step = &self.playbook.staleness.next_step_field;
        if !placeholder::filled(record, next_step, &self.playbook.handoff.placeholders)
            && today.next_activity.is_none()
            && !today.unreadable("next_activity_at")
        {
            reasons.push(StaleReason::NoNextStep {
                field: next_step.clone(),
            });
        }
        // The next step has its own reason above.
        let missing: Vec<String> = hygiene::assess(record, self.playbook)
            .missing
            .into_iter()
            .filter(|field| field != next_step)
            .collect();
        if !missing.is_empty() {
            reasons.push(StaleReason::MissingFields { fields: missing });
        }
        reasons.extend(
            today
                .unreadable
                .iter()
                .map(|(field, value)| StaleReason::UnreadableDate {
                    field: field.clone(),
                    value: value.clone(),
                }),
        );
        (reasons, rotting)
    }

    /// Why a lost deal is flagged: it does not say why it was lost.
    fn lost_deal(&self, record: &Record) -> Vec<StaleReason> {
        let field = &self.playbook.staleness.lost_reason_field;
        if placeholder::filled(record, field, &self.playbook.handoff.placeholders) {
            Vec::new()
        } else {
            vec![StaleReason::LostWithoutReason {
                field: field.clone(),
            }]
        }
    }

    /// Whether an open deal rots on `today`: idle longer than its stage allows, counted from the
    /// later of its last activity and its entry into the stage, and neither a next activity
    /// after today nor a snooze holding it back.
    fn rot(&self, record: &Record, today: &Today<'_>) -> Rot {
        let staleness = &self.playbook.staleness;
        let unreadable = |key: &str| today.unreadable(key);
        let Some(stage) = record.stage.as_deref() else {
            return Rot::Fresh;
        };
        if unreadable("last_activity_at") || unreadable("stage_entered_at") {
            return Rot::Unknown;
        }
        let day = |at: Option<OffsetDateTime>| at.map(|at| at.to_offset(UtcOffset::UTC).date());
        let Some(idle_since) = day(record.last_activity_at).max(day(record.stage_entered_at))
        else {
            return Rot::Fresh;
        };
        let limit_days = staleness.rotting_days_for(Some(stage));
        let idle_days = self.calendar.business_days_between(idle_since, today.day);
        if idle_days <= limit_days {
            return Rot::Fresh;
        }
        if today.next_activity.is_some() || today.snooze.is_some() {
            return Rot::Fresh;
        }
        if unreadable("next_activity_at") || unreadable(snooze::SNOOZE_UNTIL) {
            return Rot::Unknown;
        }
        let since = self
            .calendar
            .add_business_days(idle_since, limit_days + 1)
            .unwrap_or(today.day);
        Rot::Rotting(Box::new(StaleReason::RottingInStage {
            stage: stage.to_owned(),
            stage_name: self.playbook.stage_names.get(stage).cloned(),
            idle_since,
            since,
            idle_days,
            limit_days,
        }))
    }
}

impl StaleReport {
    /// Judged again to finish a write-back an earlier attempt was cut off in (the pipeline's
    /// resume): that attempt wrote the flag, so the owner reads as told, but its task was never
    /// created. A write-back is only cut off after its fields when it has a task to create, so
    /// the task is created now, under the same flag.
    pub fn resume(&mut self) {
        if let Notify::AlreadyTold { on } = self.notify {
            self.notify = Notify::Unfinished { on };
        }
    }

    /// The CRM changes this report makes: the stale field and the hygiene score always (the
    /// pipeline writes nothing when the record already holds both), and, only when
    /// [`StaleReport::notify`] says so, the owner told: a task in `enforce` mode, an FYI note in
    /// `shadow` mode (which assigns no task in any function).
    pub fn write_back(&self, record: &Record, playbook: &Playbook, mode: Mode) -> WriteBack {
        let names = &playbook.write_back;
        let fields = [
            (names.stale.clone(), self.flag.clone().into()),
            (names.hygiene.clone(), self.hygiene.score_pct.into()),
        ]
        .into_iter()
        .collect();
        let notices = self
            .notify
            .tells()
            .then(|| self.notice(record.owner_id.clone(), mode))
            .into_iter()
            .collect();
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields,
            move_to_stage: None,
            move_only_from: None,
            notices,
            personal: false,
        }
    }

    /// What the owner is told: a high-priority task, or in shadow mode the same words as an FYI
    /// note that asks for nothing.
    fn notice(&self, owner: Option<String>, mode: Mode) -> Notice {
        match mode {
            Mode::Enforce => Notice::task(
                owner,
                "pipeline-guard: deal needs attention",
                self.body(),
                Priority::High,
            ),
            Mode::Shadow => Notice::note(
                owner,
                "FYI from pipeline-guard: this deal needs attention",
                format!(
                    "pipeline-guard runs in shadow mode: no task is assigned, and nobody else is \
                     told. Once it is enforced, a deal like this one comes with a task.\n\n{}",
                    self.body()
                ),
            ),
        }
    }

    /// What the owner reads: a reminder line when it is one, then each reason's advice.
    fn body(&self) -> String {
        let reminder = match self.notify {
            Notify::Reminder { last } => Some(format!(
                "Reminder: you were told on {last}, and the deal still needs this."
            )),
            _ => None,
        };
        reminder
            .into_iter()
            .chain(self.reasons.iter().map(|r| format!("- {}", r.advice())))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
