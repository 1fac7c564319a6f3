//! What counts as evidence for a qualification dimension, and how a record's value is judged.
//!
//! Teams keep evidence in different shapes: narrative text, a scored picklist, a number, a date,
//! a yes/no, or a contact with the right role. Each [`EvidenceRule`] turns one of those into
//! green, yellow or red, with the evidence it used and a one-line reason.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    model::{Record, parse_date},
    score::Status,
};

/// How a dimension's evidence is judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum EvidenceRule {
    /// Narrative text: green with at least `min_words` words, yellow with fewer, red when empty.
    Text {
        /// Words that make the evidence complete.
        min_words: usize,
    },
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
}

impl Judgement {
    fn new(status: Status, evidence: Option<String>, reason: impl Into<String>) -> Self {
        Judgement {
            status,
            evidence,
            reason: reason.into(),
        }
    }
}

impl EvidenceRule {
    /// Judge the value of `field` on `record` at time `now`.
    pub fn judge(&self, record: &Record, field: &str, now: OffsetDateTime) -> Judgement {
        let text = record.text(field);
        let missing = || Judgement::new(Status::Red, None, format!("no evidence in `{field}`"));
        match self {
            EvidenceRule::Text { min_words } => {
                let Some(text) = text else { return missing() };
                let words = text.split_whitespace().count();
                if words >= *min_words {
                    Judgement::new(
                        Status::Green,
                        Some(text),
                        format!("{words} words of evidence in `{field}`"),
                    )
                } else {
                    Judgement::new(
                        Status::Yellow,
                        Some(text),
                        format!("only {words} word(s) in `{field}`; {min_words} make it complete"),
                    )
                }
            }
            EvidenceRule::Picklist { green, yellow, red } => {
                let Some(value) = text else { return missing() };
                let listed =
                    |values: &[String]| values.iter().any(|v| v.eq_ignore_ascii_case(&value));
                let (status, reason) = if listed(green) {
                    (Status::Green, format!("`{field}` is {value:?}"))
                } else if listed(yellow) {
                    (Status::Yellow, format!("`{field}` is only {value:?}"))
                } else if listed(red) {
                    (Status::Red, format!("`{field}` is {value:?}"))
                } else {
                    (
                        Status::Red,
                        format!("`{field}` is {value:?}, which the playbook does not count"),
                    )
                };
                Judgement::new(status, Some(value), reason)
            }
            EvidenceRule::Number { min, max } => {
                let Some(value) = record.number(field) else {
                    return match text {
                        Some(t) => Judgement::new(
                            Status::Red,
                            Some(t),
                            format!("`{field}` is not a number"),
                        ),
                        None => missing(),
                    };
                };
                let in_range = min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m);
                let wanted = match (min, max) {
                    (Some(min), Some(max)) => format!("between {min} and {max}"),
                    (Some(min), None) => format!("at least {min}"),
                    (None, Some(max)) => format!("at most {max}"),
                    (None, None) => "any value".to_owned(),
                };
                let (status, verdict) = if in_range {
                    (Status::Green, "is")
                } else {
                    (Status::Yellow, "should be")
                };
                Judgement::new(
                    status,
                    Some(value.to_string()),
                    format!("`{field}` = {value}; it {verdict} {wanted}"),
                )
            }
            EvidenceRule::Date { within_days } => {
                let Some(raw) = text else { return missing() };
                let Some(date) = parse_date(&raw) else {
                    return Judgement::new(
                        Status::Red,
                        Some(raw),
                        format!("`{field}` is not a date"),
                    );
                };
                let days = (date - now.date()).whole_days();
                if (0..=i64::from(*within_days)).contains(&days) {
                    Judgement::new(
                        Status::Green,
                        Some(raw),
                        format!("`{field}` is {date}, in {days} day(s)"),
                    )
                } else if days < 0 {
                    Judgement::new(
                        Status::Yellow,
                        Some(raw),
                        format!("`{field}` is {date}, {} day(s) ago", -days),
                    )
                } else {
                    Judgement::new(
                        Status::Yellow,
                        Some(raw),
                        format!("`{field}` is {date}, more than {within_days} days out"),
                    )
                }
            }
            EvidenceRule::Boolean => match record.flag(field) {
                Some(true) => Judgement::new(
                    Status::Green,
                    Some("yes".into()),
                    format!("`{field}` is yes"),
                ),
                Some(false) => Judgement::new(
                    Status::Red,
                    Some("no".into()),
                    format!("`{field}` is recorded as no"),
                ),
                None => missing(),
            },
            EvidenceRule::Contact { roles, titles } => {
                let has_role = record.contacts.iter().find(|c| {
                    c.role
                        .as_deref()
                        .is_some_and(|role| roles.iter().any(|r| r.eq_ignore_ascii_case(role)))
                });
                if let Some(contact) = has_role {
                    let who = contact.name.clone().unwrap_or_else(|| contact.id.clone());
                    let role = contact.role.clone().unwrap_or_default();
                    return Judgement::new(
                        Status::Green,
                        Some(format!("{who} ({role})")),
                        format!("{who} is on the record as {role}"),
                    );
                }
                let by_title = record.contacts.iter().find(|c| {
                    c.title.as_deref().is_some_and(|title| {
                        let title = title.to_lowercase();
                        titles.iter().any(|t| title.contains(&t.to_lowercase()))
                    })
                });
                match by_title {
                    Some(contact) => {
                        let who = contact.name.clone().unwrap_or_else(|| contact.id.clone());
                        let title = contact.title.clone().unwrap_or_default();
                        Judgement::new(
                            Status::Yellow,
                            Some(format!("{who}, {title}")),
                            format!(
                                "{who} ({title}) has the authority by title, but the role is not confirmed"
                            ),
                        )
                    }
                    None => Judgement::new(
                        Status::Red,
                        None,
                        "no contact with that role or authority on the record",
                    ),
                }
            }
        }
    }

    /// Problems with the rule itself, each `field: what is wrong`, relative to the rule.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self {
            EvidenceRule::Text { min_words } if *min_words == 0 => {
                problems.push("min_words: must be at least 1".to_owned());
            }
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

    fn status(rule: &EvidenceRule, record: &Record, field: &str) -> Status {
        rule.judge(record, field, NOW).status
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
        let j = rule.judge(&with("pain_level", "maybe".into()), "pain_level", NOW);
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
        let j = rule.judge(&deal, "economic_buyer", NOW);
        assert_eq!(j.status, Status::Green);
        assert_eq!(j.evidence.as_deref(), Some("Dana Ruiz (Economic_Buyer)"));
    }
}
