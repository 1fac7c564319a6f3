//! The checks a text dimension can require, and how each is named to a rep: what it found, what
//! is missing, and the question that would find it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The checks built in, as the playbook names them.
pub const BUILT_IN: &[&str] = &["quantity", "consequence", "date", "person"];

/// The built-in checks whose word lists a playbook may extend.
pub const EXTENDABLE: &[&str] = &["consequence", "person"];

/// One requirement of a text dimension: checks of which any one will do, written in the
/// playbook as `"quantity"` or `"quantity or consequence"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Requirement {
    /// The checks, any one of which meets the requirement.
    pub any_of: Vec<String>,
}

impl From<String> for Requirement {
    fn from(written: String) -> Self {
        Requirement {
            any_of: written
                .to_lowercase()
                .split(" or ")
                .map(|name| name.split_whitespace().collect::<Vec<_>>().join("_"))
                .filter(|name| !name.is_empty())
                .collect(),
        }
    }
}

impl From<Requirement> for String {
    fn from(requirement: Requirement) -> Self {
        requirement.any_of.join(" or ")
    }
}

/// A check, as a text rule knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check<'r> {
    /// A number with a unit, currency, percentage or duration.
    Quantity,
    /// What the problem costs, delays, loses, risks or blocks.
    Consequence,
    /// A date or dated timeframe, today or later.
    Date,
    /// A named person, a role or a meeting.
    Person,
    /// One of the playbook's own words (`any_of`), by the list's name.
    Words(&'r str, &'r [String]),
}

impl<'r> Check<'r> {
    /// The check `name` means, among the built-in ones and the rule's `any_of` lists.
    pub fn named(name: &str, any_of: &'r BTreeMap<String, Vec<String>>) -> Option<Check<'r>> {
        Some(match name {
            "quantity" => Check::Quantity,
            "consequence" => Check::Consequence,
            "date" => Check::Date,
            "person" => Check::Person,
            other => {
                let (name, words) = any_of.get_key_value(other)?;
                Check::Words(name, words)
            }
        })
    }

    /// What the check looks for, as a rep reads it after "names no" (`cost or consequence`).
    pub fn missing(self) -> String {
        match self {
            Check::Quantity => "figure".to_owned(),
            Check::Consequence => "cost or consequence".to_owned(),
            Check::Date => "date".to_owned(),
            Check::Person => "person, role or meeting".to_owned(),
            Check::Words(name, words) => {
                let shown: Vec<&str> = words.iter().take(3).map(String::as_str).collect();
                let more = if words.len() > 3 { ", …" } else { "" };
                format!("{} ({}{more})", name.replace('_', " "), shown.join(", "))
            }
        }
    }

    /// What the check found, before the words it found (`a figure`).
    pub fn found(self) -> String {
        match self {
            Check::Quantity => "a figure".to_owned(),
            Check::Consequence => "a consequence".to_owned(),
            Check::Date => "a date".to_owned(),
            Check::Person => "a person, role or meeting".to_owned(),
            Check::Words(name, _) => name.replace('_', " "),
        }
    }

    /// The question that would find it; the dimension's own for the playbook's lists.
    pub fn question(self, dimension_question: &str) -> &str {
        match self {
            Check::Quantity => "how much is it, in numbers: money, hours, people or days?",
            Check::Consequence => "what does it cost them when it happens?",
            Check::Date => "on which date?",
            Check::Person => "with whom, and in which meeting?",
            Check::Words(..) => dimension_question,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requirement_reads_as_written() {
        let r = Requirement::from("Quantity or  consequence".to_owned());
        assert_eq!(r.any_of, ["quantity", "consequence"]);
        assert_eq!(String::from(r), "quantity or consequence");
    }

    #[test]
    fn names_resolve_to_built_in_checks_or_the_playbooks_lists() {
        let lists = BTreeMap::from([("decision".to_owned(), vec!["signed".to_owned()])]);
        assert_eq!(Check::named("date", &lists), Some(Check::Date));
        assert!(matches!(
            Check::named("decision", &lists),
            Some(Check::Words("decision", _))
        ));
        assert_eq!(Check::named("quantty", &lists), None);
    }
}
