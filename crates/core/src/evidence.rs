//! What counts as evidence for a qualification dimension, and how a record's value is judged.
//!
//! Teams keep evidence in different shapes: narrative text, a scored picklist, a number, a date,
//! a yes/no, or a contact with the right role. Each [`EvidenceRule`] turns one of those into
//! green, yellow or red, with the evidence it used and a one-line reason. Narrative text is
//! judged on what it says ([`text`]); the other kinds on their value ([`value`], [`contact`]).

mod contact;
pub mod text;
mod value;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use text::TextRule;

use crate::{model::Record, score::Status};

/// How a dimension's evidence is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EvidenceRule {
    /// Narrative text: green when it says what the rule requires (a figure, a consequence, a
    /// date, a person, the playbook's own words) in at least `min_words` words, yellow when it
    /// says some of it, red when it says none or is no evidence at all.
    Text(TextRule),
    /// A picklist value mapped to a status; a value the playbook does not list is red.
    Picklist {
        /// Values that are green.
        green: Vec<String>,
        /// Values that are yellow.
        #[serde(default)]
        yellow: Vec<String>,
        /// Values that are explicitly red.
        #[serde(default)]
        red: Vec<String>,
    },
    /// A number: green within `min..=max`, yellow outside it, red when missing.
    Number {
        /// Lowest green value.
        #[serde(default)]
        min: Option<f64>,
        /// Highest green value.
        #[serde(default)]
        max: Option<f64>,
    },
    /// A date: green when it falls within the next `within_days` days, yellow when it is further
    /// out or already past, red when missing.
    Date {
        /// How many days ahead still count.
        within_days: u32,
    },
    /// A yes/no: green when yes, red when no or missing.
    Boolean,
    /// A contact on the record: green with one of `roles`, yellow with only a matching title
    /// (authority by title, role not confirmed), red with neither.
    Contact {
        /// Buying roles that count (`economic_buyer`).
        #[serde(default)]
        roles: Vec<String>,
        /// Title fragments that suggest authority (`CFO`, `VP`).
        #[serde(default)]
        titles: Vec<String>,
    },
}

/// A judged piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    /// Green, yellow or red.
    pub status: Status,
    /// The value used, as recorded.
    pub evidence: Option<String>,
    /// Why, in one line.
    pub reason: String,
    /// What keeps it from green, in a few words for the CRM's line of gaps (`no date`, `only 2
    /// of 4 words`); `None` when green.
    pub gap: Option<String>,
}

/// What a rule judges: one dimension's field on a record.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The record.
    pub record: &'a Record,
    /// The record field holding the evidence.
    pub field: &'a str,
    /// The dimension's name, as reasons say it (`Pain`).
    pub name: &'a str,
    /// The dimension's discovery question, asked when the playbook's own checks miss.
    pub question: &'a str,
    /// The playbook's placeholders (`handoff.placeholders`): values that are never evidence.
    pub placeholders: &'a [String],
}

impl Judgement {
    /// Enough evidence.
    fn green(evidence: Option<String>, reason: impl Into<String>) -> Self {
        Judgement {
            status: Status::Green,
            evidence,
            reason: reason.into(),
            gap: None,
        }
    }

    /// Yellow or red, short of green by `gap`.
    fn short(
        status: Status,
        evidence: Option<String>,
        reason: impl Into<String>,
        gap: impl Into<String>,
    ) -> Self {
        debug_assert_ne!(status, Status::Green, "green has no gap");
        Judgement {
            status,
            evidence,
            reason: reason.into(),
            gap: Some(gap.into()),
        }
    }
}

impl EvidenceRule {
    /// Judge `subject`'s evidence at time `now`.
    pub fn judge(&self, subject: &Subject<'_>, now: OffsetDateTime) -> Judgement {
        let (record, field) = (subject.record, subject.field);
        match self {
            EvidenceRule::Text(rule) => rule.judge(subject, now),
            EvidenceRule::Picklist { green, yellow, red } => {
                value::picklist(record, field, [green, yellow, red])
            }
            EvidenceRule::Number { min, max } => value::number(record, field, *min, *max),
            EvidenceRule::Date { within_days } => value::date(record, field, *within_days, now),
            EvidenceRule::Boolean => value::boolean(record, field),
            EvidenceRule::Contact { roles, titles } => contact::judge(record, roles, titles),
        }
    }

    /// Problems with the rule itself, each `field: what is wrong`, relative to the rule, for
    /// the dimension called `name`.
    pub fn problems(&self, name: &str) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            EvidenceRule::Text(rule) => problems.extend(rule.problems(name)),
            EvidenceRule::Picklist { green, .. } if green.is_empty() => {
                problems.push("green: list at least one value that counts as green".to_owned());
            }
            EvidenceRule::Number {
                min: None,
                max: None,
            } => {
                problems.push("min, max: set at least one bound".to_owned());
            }
            EvidenceRule::Number {
                min: Some(min),
                max: Some(max),
            } if min > max => {
                problems.push(format!("min: {min} is above max {max}"));
            }
            EvidenceRule::Date { within_days } if *within_days == 0 => {
                problems.push("within_days: must be at least 1".to_owned());
            }
            EvidenceRule::Contact { roles, titles } if roles.is_empty() && titles.is_empty() => {
                problems.push("roles, titles: list the roles or titles that count".to_owned());
            }
            _ => {}
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Contact;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

    fn with(field: &str, value: serde_json::Value) -> Record {
        let mut record = Record::new_deal("D-1");
        record.fields.insert(field.into(), value);
        record
    }

    fn judge(rule: &EvidenceRule, record: &Record, field: &str) -> Judgement {
        let subject = Subject {
            record,
            field,
            name: field,
            question: "What is it?",
            placeholders: &[],
        };
        rule.judge(&subject, NOW)
    }

    fn status(rule: &EvidenceRule, record: &Record, field: &str) -> Status {
        judge(rule, record, field).status
    }

    #[test]
    fn picklist_maps_values_case_insensitively_and_refuses_unlisted_ones() {
        let rule = EvidenceRule::Picklist {
            green: vec!["Confirmed".into()],
            yellow: vec!["Suspected".into()],
            red: vec![],
        };
        assert_eq!(
            status(&rule, &with("pain_level", "confirmed".into()), "pain_level"),
            Status::Green
        );
        assert_eq!(
            status(&rule, &with("pain_level", "Suspected".into()), "pain_level"),
            Status::Yellow
        );
        let j = judge(&rule, &with("pain_level", "maybe".into()), "pain_level");
        assert_eq!(j.status, Status::Red);
        assert!(j.reason.contains("does not count"));
    }

    #[test]
    fn number_in_range_is_green_outside_yellow_and_text_red() {
        let rule = EvidenceRule::Number {
            min: Some(10_000.0),
            max: None,
        };
        assert_eq!(
            status(&rule, &with("budget", 25_000.into()), "budget"),
            Status::Green
        );
        assert_eq!(
            status(&rule, &with("budget", "5000".into()), "budget"),
            Status::Yellow
        );
        assert_eq!(
            status(&rule, &with("budget", "lots".into()), "budget"),
            Status::Red
        );
        assert_eq!(status(&rule, &Record::new_deal("D"), "budget"), Status::Red);
    }

    #[test]
    fn a_date_must_fall_within_the_window() {
        let rule = EvidenceRule::Date { within_days: 14 };
        assert_eq!(
            status(
                &rule,
                &with("next_meeting", "2026-11-30".into()),
                "next_meeting"
            ),
            Status::Green
        );
        assert_eq!(
            status(
                &rule,
                &with("next_meeting", "2026-11-01".into()),
                "next_meeting"
            ),
            Status::Yellow
        );
        assert_eq!(
            status(
                &rule,
                &with("next_meeting", "2027-03-01".into()),
                "next_meeting"
            ),
            Status::Yellow
        );
        assert_eq!(
            status(
                &rule,
                &with("next_meeting", "2026-11-25T09:00:00Z".into()),
                "next_meeting"
            ),
            Status::Green
        );
        assert_eq!(
            status(&rule, &with("next_meeting", "soon".into()), "next_meeting"),
            Status::Red
        );
    }

    #[test]
    fn boolean_yes_is_green_and_no_is_red() {
        let rule = EvidenceRule::Boolean;
        assert_eq!(
            status(
                &rule,
                &with("budget_approved", true.into()),
                "budget_approved"
            ),
            Status::Green
        );
        assert_eq!(
            status(
                &rule,
                &with("budget_approved", "false".into()),
                "budget_approved"
            ),
            Status::Red
        );
    }

    #[test]
    fn a_confirmed_role_beats_a_title() {
        let rule = EvidenceRule::Contact {
            roles: vec!["economic_buyer".into()],
            titles: vec!["CFO".into()],
        };
        let mut deal = Record::new_deal("D");
        deal.contacts.push(Contact {
            id: "C-1".into(),
            name: Some("Dana Ruiz".into()),
            email: None,
            title: Some("Group CFO".into()),
            role: None,
            authority: None,
        });
        assert_eq!(status(&rule, &deal, "economic_buyer"), Status::Yellow);
        deal.contacts[0].role = Some("Economic_Buyer".into());
        let j = judge(&rule, &deal, "economic_buyer");
        assert_eq!(j.status, Status::Green);
        assert_eq!(j.evidence.as_deref(), Some("Dana Ruiz (Economic_Buyer)"));
    }
}
