//! The playbook's `[rollout]` table: when managers may see figures per rep.
//!
//! Reps first: until `manager_view_from`, reports show team totals only ([`PerRep`]), while each
//! BDR already gets a weekly summary of their own handoffs and each owner the flags on their own
//! deals.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

/// How figures are rolled out to managers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Rollout {
    /// The first day reports show figures per rep (`2027-01-04`); none: never, team totals only.
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "crate::playbook::rollout::iso_date"
    )]
    pub manager_view_from: Option<Date>,
}

impl Rollout {
    /// Whether per-rep figures may be shown at `now`.
    pub fn manager_view_open(&self, now: OffsetDateTime) -> bool {
        self.manager_view_from
            .is_some_and(|from| now.date() >= from)
    }

    /// A report's figures per rep at `now`: `None` when they may be shown, else the hidden view
    /// saying why, naming the `reps` (`BDR`) and what they get `meanwhile` (`each BDR sees their
    /// own weekly summary first`).
    pub fn hidden<R>(&self, now: OffsetDateTime, reps: &str, meanwhile: &str) -> Option<PerRep<R>> {
        if self.manager_view_open(now) {
            return None;
        }
        let from = self.manager_view_from;
        let why = match from {
            Some(date) => {
                format!("Team totals only until {date} ([rollout] manager_view_from): {meanwhile}.")
            }
            None => format!(
                "Team totals only: the playbook sets no [rollout] manager_view_from, so figures per {reps} are never shown."
            ),
        };
        Some(PerRep::Hidden { from, why })
    }
}

/// Figures per rep on a report, or why there are none yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum PerRep<R> {
    /// Team totals only, until the rollout date (reps see their own figures first).
    Hidden {
        /// The first day per-rep rows show; none when the playbook sets no date.
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
        assert!(
            !doc.rollout
                .manager_view_open(datetime!(2027-01-03 23:00 UTC))
        );
        assert!(
            doc.rollout
                .manager_view_open(datetime!(2027-01-04 00:00 UTC))
        );
        let quoted: Doc =
            toml::from_str("[rollout]\nmanager_view_from = \"2027-01-04\"\n").unwrap();
        assert_eq!(quoted.rollout, doc.rollout);
        assert!(!Rollout::default().manager_view_open(datetime!(2030-01-01 0:00 UTC)));
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
