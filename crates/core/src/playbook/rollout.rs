//! The playbook's `[rollout]` table: when managers may see figures per rep.
//!
//! Reps first: managers' views show team totals only ([`PerRep`]) until `unlock_after_days`
//! (default 45, allowed 30 to 60) after the install's first recorded decision
//! ([`crate::install`]), or from an explicit `manager_view_from` date when a team sets one.
//! Meanwhile each BDR gets a weekly summary of their own handoffs and each owner the flags on
//! their own deals.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

/// Days after the first decision managers' views unlock, by default.
pub const DEFAULT_UNLOCK_AFTER_DAYS: u16 = 45;

/// The days `unlock_after_days` may be: a rollout's first 30 to 60 days are the reps' alone.
pub const UNLOCK_AFTER_DAYS: std::ops::RangeInclusive<u16> = 30..=60;

/// How figures are rolled out to managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rollout {
    /// An explicit first day reports show figures per rep (`2027-01-04`), for teams that want
    /// one; it replaces `unlock_after_days`.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::playbook::rollout::iso_date"
    )]
    pub manager_view_from: Option<Date>,
    /// Days after the install's first recorded decision that figures per rep unlock.
    pub unlock_after_days: u16,
}

impl Default for Rollout {
    fn default() -> Rollout {
        Rollout {
            manager_view_from: None,
            unlock_after_days: DEFAULT_UNLOCK_AFTER_DAYS,
        }
    }
}

impl Rollout {
    /// The first day managers see figures per rep, for an install whose first decision was
    /// `started`: the explicit date, else `unlock_after_days` after that decision; `None` while
    /// nothing has been decided.
    pub fn opens_on(&self, started: Option<OffsetDateTime>) -> Option<Date> {
        self.manager_view_from.or_else(|| {
            started.map(|at| at.date() + Duration::days(i64::from(self.unlock_after_days)))
        })
    }

    /// Whether per-rep figures may be shown at `now`, for an install first deciding at `started`.
    pub fn manager_view_open(&self, now: OffsetDateTime, started: Option<OffsetDateTime>) -> bool {
        self.opens_on(started)
            .is_some_and(|from| now.date() >= from)
    }

    /// When managers' views open, in words that need no install date (a notice to a rep).
    pub fn schedule(&self) -> String {
        match self.manager_view_from {
            Some(date) => format!("from {date}"),
            None => format!(
                "{} days after this install's first decision",
                self.unlock_after_days
            ),
        }
    }

    /// A report's figures per rep at `now`: `None` when they may be shown, else the hidden view
    /// saying when they open and why, naming the `reps` (`BDR`) and what they get `meanwhile`
    /// (`each BDR sees their own weekly summary first`).
    pub fn hidden<R>(
        &self,
        now: OffsetDateTime,
        started: Option<OffsetDateTime>,
        reps: &str,
        meanwhile: &str,
    ) -> Option<PerRep<R>> {
        if self.manager_view_open(now, started) {
            return None;
        }
        let from = self.opens_on(started);
        let why = match (self.manager_view_from, started, from) {
            (Some(date), _, _) => {
                format!("Team totals only until {date} ([rollout] manager_view_from): {meanwhile}.")
            }
            (None, Some(at), Some(date)) => format!(
                "Team totals only until {date}: figures per {reps} unlock {} days after this install's first decision on {} ([rollout] unlock_after_days): {meanwhile}.",
                self.unlock_after_days,
                at.date()
            ),
            _ => format!(
                "Team totals only: nothing has been decided yet; figures per {reps} unlock {} days after this install's first decision ([rollout] unlock_after_days): {meanwhile}.",
                self.unlock_after_days
            ),
        };
        Some(PerRep::Hidden { from, why })
    }

    /// What is wrong with the table, each as `path: problem`.
    pub fn problems(&self) -> Vec<String> {
        if UNLOCK_AFTER_DAYS.contains(&self.unlock_after_days) {
            return Vec::new();
        }
        vec![format!(
            "rollout.unlock_after_days: {} days; set {} to {} (reps see their own figures for the first 30 to 60 days), or set manager_view_from to a date",
            self.unlock_after_days,
            UNLOCK_AFTER_DAYS.start(),
            UNLOCK_AFTER_DAYS.end()
        )]
    }
}

/// Figures per rep on a report, or why there are none yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum PerRep<R> {
    /// Team totals only, until the rollout date (reps see their own figures first).
    Hidden {
        /// The first day per-rep rows show; none while nothing has been decided.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Date>,
        /// Why, in words.
        why: String,
    },
    /// One row per rep, sorted by rep (never by a figure).
    Shown {
        /// The rows.
        rows: Vec<R>,
    },
}

/// An optional ISO date (`2027-01-04`) as TOML text or a TOML date.
pub(crate) mod iso_date {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use time::{Date, macros::format_description};

    const FORMAT: &[time::format_description::FormatItem<'static>] =
        format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(date) => {
                let text = date.format(FORMAT).map_err(serde::ser::Error::custom)?;
                serializer.serialize_str(&text)
            }
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let value = toml::Value::deserialize(d)?;
        let text = match &value {
            toml::Value::String(text) => text.clone(),
            toml::Value::Datetime(datetime) => datetime.to_string(),
            other => {
                return Err(D::Error::custom(format!(
                    "expected a date like 2027-01-04, found {}",
                    other.type_str()
                )));
            }
        };
        Date::parse(text.trim(), FORMAT).map(Some).map_err(|_| {
            D::Error::custom(format!("expected a date like 2027-01-04, found {text:?}"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[derive(Deserialize)]
    struct Doc {
        rollout: Rollout,
    }

    #[test]
    fn the_manager_view_opens_on_its_date() {
        let doc: Doc = toml::from_str("[rollout]\nmanager_view_from = 2027-01-04\n").unwrap();
        assert_eq!(doc.rollout.manager_view_from, Some(date!(2027 - 01 - 04)));
        let started = Some(datetime!(2026-12-20 10:00 UTC));
        assert!(
            !doc.rollout
                .manager_view_open(datetime!(2027-01-03 23:00 UTC), started)
        );
        assert!(
            doc.rollout
                .manager_view_open(datetime!(2027-01-04 00:00 UTC), started)
        );
        let quoted: Doc =
            toml::from_str("[rollout]\nmanager_view_from = \"2027-01-04\"\n").unwrap();
        assert_eq!(quoted.rollout, doc.rollout);
    }

    #[test]
    fn by_default_the_view_unlocks_45_days_after_the_first_decision_and_says_so() {
        let rollout = Rollout::default();
        assert!(!rollout.manager_view_open(datetime!(2030-01-01 0:00 UTC), None));
        let started = Some(datetime!(2026-12-07 15:00 UTC));
        assert_eq!(rollout.opens_on(started), Some(date!(2027 - 01 - 21)));
        let day_before = datetime!(2027-01-20 23:59 UTC);
        let Some(PerRep::<()>::Hidden { from, why }) = rollout.hidden(
            day_before,
            started,
            "BDR",
            "each BDR sees their own summary first",
        ) else {
            panic!("hidden the day before")
        };
        assert_eq!(from, Some(date!(2027 - 01 - 21)));
        assert!(
            why.contains("until 2027-01-21")
                && why.contains("45 days after this install's first decision on 2026-12-07"),
            "{why}"
        );
        assert!(
            rollout
                .hidden::<()>(datetime!(2027-01-21 00:00 UTC), started, "BDR", "")
                .is_none()
        );
        let Some(PerRep::<()>::Hidden { from: None, why }) =
            rollout.hidden(day_before, None, "owner", "x")
        else {
            panic!("hidden before any decision")
        };
        assert!(why.contains("nothing has been decided yet"), "{why}");
    }

    #[test]
    fn unlock_after_days_is_30_to_60() {
        let doc: Doc = toml::from_str("[rollout]\nunlock_after_days = 30\n").unwrap();
        assert!(doc.rollout.problems().is_empty());
        for days in [0, 29, 61, 365] {
            let doc: Doc =
                toml::from_str(&format!("[rollout]\nunlock_after_days = {days}\n")).unwrap();
            let problems = doc.rollout.problems();
            assert!(
                problems[0].starts_with("rollout.unlock_after_days:")
                    && problems[0].contains("30 to 60"),
                "{problems:?}"
            );
        }
    }

    #[test]
    fn a_malformed_date_is_refused() {
        let err = toml::from_str::<Doc>("[rollout]\nmanager_view_from = \"next month\"\n")
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("expected a date like 2027-01-04"),
            "{err}"
        );
    }
}
