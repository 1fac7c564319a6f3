//! The playbook's `[staleness]` table: when a deal rots and the business days that is counted
//! in, the fields the checks read, when an owner is told again, and the weights of the hygiene
//! checklist.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use time::{Date, Weekday};

use super::PortfolioRules;
use crate::model::parse_date;

/// Staleness and hygiene rules. Every day count is in business days: the days of
/// [`Staleness::work_week`] that are not [`Staleness::holidays`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Staleness {
    /// Business days without a real activity (a call, a meeting, an email, a note) after which a
    /// deal rots, unless its stage says otherwise.
    pub default_rotting_days: u32,
    /// Per-stage rotting limits, by stage id.
    #[serde(default)]
    pub rotting_days: BTreeMap<String, u32>,
    /// Fields every open deal must have.
    pub required_fields: Vec<String>,
    /// Below this hygiene (percent), a score is not trustworthy.
    pub hygiene_threshold: u8,
    /// The working days (`mon` … `sun`); only these count as idle days.
    #[serde(default = "default_work_week")]
    pub work_week: Vec<String>,
    /// Days nobody works (`YYYY-MM-DD`, as text or TOML dates); they never count as idle days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<Holiday>,
    /// Business days after which an owner whose deal is still flagged for the same reasons is
    /// told again; 0 tells them once per change.
    #[serde(default = "default_renotify_days")]
    pub renotify_days: u32,
    /// The date field a rep sets to snooze a deal: it is not flagged as rotting before then.
    #[serde(default = "default_snooze_field")]
    pub snooze_field: String,
    /// The field holding why the deal is snoozed.
    #[serde(default = "default_snooze_reason_field")]
    pub snooze_reason_field: String,
    /// The field holding the deal's next step.
    #[serde(default = "default_next_step_field")]
    pub next_step_field: String,
    /// The field holding why a lost deal was lost.
    #[serde(default = "default_lost_reason_field")]
    pub lost_reason_field: String,
    /// The contact field holding how much say a contact has in the decision; without it the
    /// checklist asks contacts for a title and a role only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority_field: Option<String>,
    /// What a call's notes must capture, each topic with the words that show it (any of them,
    /// regardless of case).
    #[serde(default = "default_call_note_topics")]
    pub call_note_topics: BTreeMap<String, Vec<String>>,
    /// The hygiene checklist's weights.
    #[serde(default)]
    pub checklist: ChecklistWeights,
    /// What a portfolio's hygiene is measured over, and when poor data pauses blocking.
    #[serde(default)]
    pub portfolio: PortfolioRules,
}

/// The weight of each check of the hygiene checklist: its share of a record's hygiene among the
/// checks that apply to the record. A check weighing 0 is still reported, and not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecklistWeights {
    /// Every required field is filled in.
    pub required_fields: u32,
    /// An open deal's close date is ahead and the deal is not rotting.
    pub stage_and_close_date: u32,
    /// Every contact has a title, a role and an authority level.
    pub contacts: u32,
    /// Calls are logged, with notes capturing every topic of `call_note_topics`.
    pub call_notes: u32,
    /// A lost deal says why.
    pub lost_reason: u32,
    /// Every date on the record can be read.
    pub readable_dates: u32,
}

impl Default for ChecklistWeights {
    fn default() -> Self {
        ChecklistWeights {
            required_fields: 20,
            stage_and_close_date: 20,
            contacts: 20,
            call_notes: 20,
            lost_reason: 10,
            readable_dates: 10,
        }
    }
}

/// A day off as the playbook lists it: its text, and the date when the text is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    text: String,
    date: Option<Date>,
}

impl Holiday {
    /// The day, when the playbook wrote a date.
    pub fn date(&self) -> Option<Date> {
        self.date
    }
}

impl From<Date> for Holiday {
    fn from(date: Date) -> Self {
        Holiday {
            text: date.to_string(),
            date: Some(date),
        }
    }
}

impl Serialize for Holiday {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Holiday {
    /// Text, or a TOML date (which TOML hands over as a one-entry table holding its text). What
    /// is not a date is kept, to be reported with its path by [`Staleness::problems`].
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> serde::de::Visitor<'de> for Text {
            type Value = String;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a date, YYYY-MM-DD")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<String, E> {
                Ok(text.to_owned())
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<String, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((_, text)) => Ok(text),
                    None => Err(serde::de::Error::custom("a date, YYYY-MM-DD")),
                }
            }
        }
        let text = deserializer.deserialize_any(Text)?;
        let date = parse_date(&text).filter(|_| text.trim().len() == "YYYY-MM-DD".len());
        Ok(Holiday { text, date })
    }
}

/// The days of the week, as the playbook names them.
const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// A day of the week by its name: `mon`, `Monday`, `MONDAY`.
fn weekday(name: &str) -> Option<Weekday> {
    let name = name.trim().to_ascii_lowercase();
    DAYS.iter()
        .find(|(short, day)| name == *short || name == day.to_string().to_ascii_lowercase())
        .map(|(_, day)| *day)
}

fn default_work_week() -> Vec<String> {
    DAYS[..5]
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect()
}

fn default_renotify_days() -> u32 {
    5
}

fn default_snooze_field() -> String {
    "pg_snooze_until".into()
}

fn default_snooze_reason_field() -> String {
    "pg_snooze_reason".into()
}

fn default_next_step_field() -> String {
    "next_step".into()
}

fn default_lost_reason_field() -> String {
    "lost_reason".into()
}

fn default_call_note_topics() -> BTreeMap<String, Vec<String>> {
    let words = |words: &[&str]| words.iter().map(|w| (*w).to_owned()).collect();
    BTreeMap::from([
        (
            "pain".to_owned(),
            words(&["pain", "problem", "challenge", "issue"]),
        ),
        (
            "timeline".to_owned(),
            words(&[
                "timeline", "timing", "deadline", "by when", "go-live", "go live",
            ]),
        ),
        ("next steps".to_owned(), words(&["next step"])),
    ])
}

impl Staleness {
    /// The rotting limit for a stage, in business days.
    pub fn rotting_days_for(&self, stage: Option<&str>) -> u32 {
        stage
            .and_then(|s| self.rotting_days.get(s).copied())
            .unwrap_or(self.default_rotting_days)
    }

    /// The working days of [`Staleness::work_week`] (the names that are days).
    pub fn working_days(&self) -> Vec<Weekday> {
        self.work_week.iter().filter_map(|d| weekday(d)).collect()
    }

    /// The days off of [`Staleness::holidays`] (those written as dates).
    pub fn holiday_dates(&self) -> BTreeSet<Date> {
        self.holidays.iter().filter_map(Holiday::date).collect()
    }

    /// The record fields the checks read besides the built-in ones: what a CRM read must ask
    /// for (a HubSpot property list, a SOQL select).
    pub fn read_fields(&self) -> [&str; 4] {
        [
            &self.snooze_field,
            &self.snooze_reason_field,
            &self.next_step_field,
            &self.lost_reason_field,
        ]
    }

    /// Every problem of the table, each as `staleness.<path>: what is wrong; how to fix it`.
    pub(super) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.default_rotting_days == 0 {
            problems.push("staleness.default_rotting_days: must be at least 1".to_owned());
        }
        for (stage, days) in &self.rotting_days {
            if *days == 0 {
                problems.push(format!(
                    "staleness.rotting_days.{stage}: must be at least 1"
                ));
            }
        }
        if self.hygiene_threshold > 100 {
            problems.push(format!(
                "staleness.hygiene_threshold: must be within 0..=100 (found {})",
                self.hygiene_threshold
            ));
        }
        if self.work_week.is_empty() {
            problems.push(
                "staleness.work_week: name at least one working day (mon, tue, wed, thu, fri, sat, sun); without one no idle day is ever counted"
                    .to_owned(),
            );
        }
        let mut seen = Vec::new();
        for (i, name) in self.work_week.iter().enumerate() {
            match weekday(name) {
                None => problems.push(format!(
                    "staleness.work_week[{i}]: {name:?} is not a day; use mon, tue, wed, thu, fri, sat or sun"
                )),
                Some(day) if seen.contains(&day) => problems.push(format!(
                    "staleness.work_week[{i}]: {name:?} is listed twice; list each day once"
                )),
                Some(day) => seen.push(day),
            }
        }
        for (i, holiday) in self.holidays.iter().enumerate() {
            if holiday.date.is_none() {
                problems.push(format!(
                    "staleness.holidays[{i}]: {:?} is not a date; write it as YYYY-MM-DD (\"2026-12-25\")",
                    holiday.text
                ));
            }
        }
        for (key, field) in [
            ("snooze_field", &self.snooze_field),
            ("snooze_reason_field", &self.snooze_reason_field),
            ("next_step_field", &self.next_step_field),
            ("lost_reason_field", &self.lost_reason_field),
        ] {
            if field.trim().is_empty() {
                problems.push(format!("staleness.{key}: name the record field"));
            }
        }
        if self
            .authority_field
            .as_ref()
            .is_some_and(|f| f.trim().is_empty())
        {
            problems.push(
                "staleness.authority_field: name the contact field, or remove the key".to_owned(),
            );
        }
        for (topic, words) in &self.call_note_topics {
            if words.iter().all(|w| w.trim().is_empty()) {
                problems.push(format!(
                    "staleness.call_note_topics.{topic:?}: list the words that show the topic in a call's notes, or remove it"
                ));
            }
        }
        let w = self.checklist;
        let weights = [
            w.required_fields,
            w.stage_and_close_date,
            w.contacts,
            w.call_notes,
            w.lost_reason,
            w.readable_dates,
        ];
        if weights.iter().all(|w| *w == 0) {
            problems.push(
                "staleness.checklist: every weight is 0; give at least one check a weight"
                    .to_owned(),
            );
        }
        problems.extend(self.portfolio.problems());
        problems
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use crate::{
        Error,
        playbook::{DEFAULT_PLAYBOOK, Playbook},
    };

    /// The default playbook's source with `staleness` as its `[staleness]` table.
    fn with_staleness(staleness: &str) -> String {
        let start = DEFAULT_PLAYBOOK.find("[staleness]").unwrap();
        let end = DEFAULT_PLAYBOOK.find("[write_back]").unwrap();
        format!(
            "{}[staleness]\n{staleness}\n{}",
            &DEFAULT_PLAYBOOK[..start],
            &DEFAULT_PLAYBOOK[end..]
        )
    }

    fn problems(staleness: &str) -> Vec<String> {
        match Playbook::from_toml(&with_staleness(staleness)) {
            Ok(_) => Vec::new(),
            Err(Error::InvalidPlaybook(problems)) => problems,
            Err(e) => panic!("{e}"),
        }
    }

    const BASE: &str = "default_rotting_days = 10\nrequired_fields = []\nhygiene_threshold = 70\n";

    #[test]
    fn stage_specific_rotting_overrides_the_default() {
        let s = Playbook::default_playbook().staleness;
        assert_eq!(s.rotting_days_for(Some("negotiation")), 15);
        assert_eq!(s.rotting_days_for(Some("discovery")), 10);
        assert_eq!(s.rotting_days_for(None), 10);
    }

    #[test]
    fn the_work_week_is_monday_to_friday_unless_the_playbook_says_otherwise() {
        let s = Playbook::default_playbook().staleness;
        assert_eq!(s.working_days().len(), 5);
        assert!(!s.working_days().contains(&time::Weekday::Saturday));
        assert!(problems(BASE).is_empty());
        let six = format!(
            "{BASE}work_week = [\"Mon\", \"tue\", \"WED\", \"thursday\", \"fri\", \"sat\"]"
        );
        assert!(problems(&six).is_empty(), "{:?}", problems(&six));
    }

    #[test]
    fn an_empty_or_misspelt_work_week_is_refused_naming_the_path() {
        assert_eq!(
            problems(&format!("{BASE}work_week = []")),
            [
                "staleness.work_week: name at least one working day (mon, tue, wed, thu, fri, sat, sun); without one no idle day is ever counted"
            ]
        );
        assert_eq!(
            problems(&format!("{BASE}work_week = [\"mon\", \"fry\", \"mon\"]")),
            [
                "staleness.work_week[1]: \"fry\" is not a day; use mon, tue, wed, thu, fri, sat or sun",
                "staleness.work_week[2]: \"mon\" is listed twice; list each day once",
            ]
        );
    }

    #[test]
    fn holidays_are_dates_as_text_or_toml_and_a_malformed_one_is_named() {
        let ok = format!("{BASE}holidays = [\"2026-12-24\", 2026-12-25, 2027-01-01]");
        assert!(problems(&ok).is_empty(), "{:?}", problems(&ok));
        let dates = Playbook::from_toml(&with_staleness(&ok))
            .unwrap()
            .staleness
            .holiday_dates();
        assert_eq!(
            dates.into_iter().collect::<Vec<_>>(),
            [
                date!(2026 - 12 - 24),
                date!(2026 - 12 - 25),
                date!(2027 - 01 - 01)
            ]
        );
        assert_eq!(
            problems(&format!(
                "{BASE}holidays = [\"2026-12-25\", \"2026-12-26\", \"2026-13-01\", \"Boxing Day\"]"
            )),
            [
                "staleness.holidays[2]: \"2026-13-01\" is not a date; write it as YYYY-MM-DD (\"2026-12-25\")",
                "staleness.holidays[3]: \"Boxing Day\" is not a date; write it as YYYY-MM-DD (\"2026-12-25\")",
            ]
        );
    }

    #[test]
    fn a_checklist_weighing_nothing_and_unnamed_fields_are_refused() {
        assert_eq!(
            problems(&format!(
                "{BASE}snooze_field = \" \"\n[staleness.checklist]\nrequired_fields = 0\nstage_and_close_date = 0\ncontacts = 0\ncall_notes = 0\nlost_reason = 0\nreadable_dates = 0"
            )),
            [
                "staleness.snooze_field: name the record field",
                "staleness.checklist: every weight is 0; give at least one check a weight",
            ]
        );
    }
}
