//! The playbook's `[rollout]` table: when managers may see figures per rep.
//!
//! Reps first: managers' views show team totals only ([`PerRep`]) until `unlock_after_days`
//! (default 45, allowed 30 to 60) after the install's first recorded decision
//! ([`crate::install`]), or from an explicit `manager_view_from` date when a team sets one.
//! Until then a rep's rows show only for the sections that rep chose to share
//! ([`crate::rep_page::sharing`]).
//! Meanwhile each BDR gets a weekly summary of their own handoffs and each owner the flags on
//! their own deals.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::rep_page::sharing::Sharers;

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

    /// What a manager's view shows per rep at `now`: every rep's rows once the view is open;
    /// before that, only the rows of the reps among `sharers` (those who chose to share this
    /// view's section on their own page), with why the others are hidden and when they open,
    /// naming the `reps` (`BDR`) and what they get `meanwhile` (`each BDR sees their own weekly
    /// summary first`).
    pub fn per_rep<'a>(
        &self,
        now: OffsetDateTime,
        started: Option<OffsetDateTime>,
        reps: &str,
        meanwhile: &str,
        sharers: &'a Sharers,
    ) -> Visibility<'a> {
        if self.manager_view_open(now, started) {
            return Visibility {
                hidden: None,
                sharers,
            };
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
        Visibility {
            hidden: Some((from, why)),
            sharers,
        }
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

/// Which reps' rows a manager's view shows at one moment ([`Rollout::per_rep`]).
#[derive(Debug, Clone)]
pub struct Visibility<'a> {
    /// While the view is closed: the day it opens and why.
    hidden: Option<(Option<Date>, String)>,
    sharers: &'a Sharers,
}

impl Visibility<'_> {
    /// Whether every rep's rows show (the team's view is open).
    pub fn open(&self) -> bool {
        self.hidden.is_none()
    }

    /// Whether the row of `rep` of `crm` may be shown.
    pub fn shows(&self, crm: &str, rep: &str) -> bool {
        self.hidden.is_none() || self.sharers.include(crm, rep)
    }

    /// The view of `rows`, each of a rep [`Visibility::shows`] allows, sorted by rep.
    pub fn view<R>(self, rows: Vec<R>) -> PerRep<R> {
        match self.hidden {
            None => PerRep::Shown { rows },
            Some((from, why)) => PerRep::Hidden {
                from,
                why,
                shared: rows,
            },
        }
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
        /// The rows of the reps who chose to share them, sorted by rep.
        #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
        shared: Vec<R>,
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
        let nobody = Sharers::nobody();
        let PerRep::Hidden { from, why, shared } = rollout
            .per_rep(
                day_before,
                started,
                "BDR",
                "each BDR sees their own summary first",
                &nobody,
            )
            .view(Vec::<()>::new())
        else {
            panic!("hidden the day before")
        };
        assert_eq!(from, Some(date!(2027 - 01 - 21)));
        assert!(shared.is_empty());
        assert!(
            why.contains("until 2027-01-21")
                && why.contains("45 days after this install's first decision on 2026-12-07"),
            "{why}"
        );
        assert!(matches!(
            rollout
                .per_rep(datetime!(2027-01-21 00:00 UTC), started, "BDR", "", &nobody)
                .view(vec![()]),
            PerRep::Shown { .. }
        ));
        let PerRep::Hidden {
            from: None, why, ..
        } = rollout
            .per_rep(day_before, None, "owner", "x", &nobody)
            .view(Vec::<()>::new())
        else {
            panic!("hidden before any decision")
        };
        assert!(why.contains("nothing has been decided yet"), "{why}");
    }

    #[test]
    fn before_the_unlock_a_rep_s_row_shows_only_when_that_rep_shares_it() {
        let rollout = Rollout::default();
        let started = Some(datetime!(2026-12-07 15:00 UTC));
        let sharers: Sharers = [("hubspot".to_owned(), "u-1".to_owned())]
            .into_iter()
            .collect();
        let before = rollout.per_rep(
            datetime!(2026-12-20 10:00 UTC),
            started,
            "BDR",
            "",
            &sharers,
        );
        assert!(before.shows("hubspot", "u-1"));
        assert!(!before.shows("hubspot", "u-2") && !before.shows("pipedrive", "u-1"));
        let PerRep::Hidden { shared, .. } = before.view(vec!["u-1"]) else {
            panic!("still hidden for the others")
        };
        assert_eq!(shared, ["u-1"]);
        let after = rollout.per_rep(
            datetime!(2027-01-21 00:00 UTC),
            started,
            "BDR",
            "",
            &sharers,
        );
        assert!(
            after.shows("hubspot", "u-2"),
            "the team's unlock shows everyone"
        );
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
