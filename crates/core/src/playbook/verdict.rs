//! The playbook's `[handoff.verdict]` table: the two CRM fields an AE records a handoff's verdict
//! in, and the values each may hold.

use serde::{Deserialize, Serialize};

/// The AE's verdict fields and their allowed values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerdictFields {
    /// The canonical field holding the verdict (a picklist: accepted / rejected).
    pub field: String,
    /// The canonical field holding the reason for a rejection (a picklist of `reasons`).
    pub reason_field: String,
    /// The values that mean the AE accepted the handoff.
    pub accepted: Vec<String>,
    /// The values that mean the AE rejected it.
    pub rejected: Vec<String>,
    /// The reasons an AE may give for a rejection, as the picklist shows them.
    pub reasons: Vec<String>,
}

impl Default for VerdictFields {
    fn default() -> Self {
        let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
        VerdictFields {
            field: "pg_handoff_verdict".into(),
            reason_field: "pg_handoff_reason".into(),
            accepted: strings(&["accepted"]),
            rejected: strings(&["rejected"]),
            reasons: strings(&[
                "no real pain",
                "no budget or authority",
                "wrong contact",
                "no timeline",
                "bad fit",
                "duplicate",
                "other",
            ]),
        }
    }
}

/// A verdict field's value as the AE set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictValue {
    /// The AE accepted the handoff.
    Accepted,
    /// The AE rejected it, with one of the configured reasons (as configured), if given.
    Rejected {
        /// The reason, when the AE gave one.
        reason: Option<String>,
    },
    /// A value (verdict or reason) not in the configured lists.
    Unreadable {
        /// What the AE set, as `verdict` or `verdict / reason`.
        raw: String,
    },
}

impl VerdictFields {
    /// The verdict in `verdict` and `reason` (the fields' text; empty when not set), or `None`
    /// when no verdict is set. Values match without case, and with spaces, `_` and `-` alike, so
    /// a picklist's internal name (`no_budget_or_authority`) reads as its label.
    pub fn read(&self, verdict: &str, reason: &str) -> Option<VerdictValue> {
        let (verdict, reason) = (verdict.trim(), reason.trim());
        if verdict.is_empty() {
            return None;
        }
        let find = |list: &[String], value: &str| {
            list.iter()
                .find(|allowed| normalize(allowed) == normalize(value))
                .cloned()
        };
        let raw = || {
            if reason.is_empty() {
                verdict.to_owned()
            } else {
                format!("{verdict} / {reason}")
            }
        };
        Some(if find(&self.accepted, verdict).is_some() {
            VerdictValue::Accepted
        } else if find(&self.rejected, verdict).is_some() {
            if reason.is_empty() {
                VerdictValue::Rejected { reason: None }
            } else {
                match find(&self.reasons, reason) {
                    Some(reason) => VerdictValue::Rejected {
                        reason: Some(reason),
                    },
                    None => VerdictValue::Unreadable { raw: raw() },
                }
            }
        } else {
            VerdictValue::Unreadable { raw: raw() }
        })
    }

    /// The allowed values, in words, for the AE told that a value was unreadable.
    pub fn allowed_values(&self) -> String {
        let quoted = |list: &[String]| {
            list.iter()
                .map(|v| format!("\"{v}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        format!(
            "{} takes {} or {}; {} takes one of {}",
            self.field,
            quoted(&self.accepted),
            quoted(&self.rejected),
            self.reason_field,
            quoted(&self.reasons)
        )
    }

    /// Problems with the table, each `handoff.verdict.<path>: what is wrong`.
    pub(super) fn problems(&self, reserved: &[&str]) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, field) in [("field", &self.field), ("reason_field", &self.reason_field)] {
            if field.trim().is_empty() {
                problems.push(format!("handoff.verdict.{name}: name the CRM field"));
            } else if reserved.contains(&field.as_str()) {
                problems.push(format!(
                    "handoff.verdict.{name}: {field:?} is an evidence or write-back field; name the AE's own field"
                ));
            }
        }
        if self.field == self.reason_field {
            problems.push(
                "handoff.verdict.reason_field: the verdict and its reason need their own fields"
                    .to_owned(),
            );
        }
        for (name, list) in [
            ("accepted", &self.accepted),
            ("rejected", &self.rejected),
            ("reasons", &self.reasons),
        ] {
            if list.is_empty() {
                problems.push(format!("handoff.verdict.{name}: list at least one value"));
            }
            for (i, value) in list.iter().enumerate() {
                if normalize(value).is_empty() {
                    problems.push(format!("handoff.verdict.{name}[{i}]: must not be empty"));
                }
            }
        }
        for (i, value) in self.accepted.iter().enumerate() {
            if self
                .rejected
                .iter()
                .any(|r| normalize(r) == normalize(value))
            {
                problems.push(format!(
                    "handoff.verdict.accepted[{i}]: {value:?} is also a rejection value"
                ));
            }
        }
        problems
    }
}

/// A value as compared: lower case, words separated by one space (`_`, `-` and runs of
/// whitespace alike).
fn normalize(value: &str) -> String {
    value
        .split(|c: char| c.is_whitespace() || c == '_' || c == '-')
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_internal_names_read_alike() {
        let v = VerdictFields::default();
        assert_eq!(v.read("", "bad fit"), None);
        assert_eq!(v.read("Accepted", ""), Some(VerdictValue::Accepted));
        assert_eq!(
            v.read("rejected", "no_budget_or_authority"),
            Some(VerdictValue::Rejected {
                reason: Some("no budget or authority".into())
            })
        );
        assert_eq!(
            v.read("REJECTED", ""),
            Some(VerdictValue::Rejected { reason: None })
        );
    }

    #[test]
    fn values_outside_the_lists_are_unreadable_with_the_raw_value() {
        let v = VerdictFields::default();
        assert_eq!(
            v.read("maybe", ""),
            Some(VerdictValue::Unreadable {
                raw: "maybe".into()
            })
        );
        assert_eq!(
            v.read("rejected", "too expensive"),
            Some(VerdictValue::Unreadable {
                raw: "rejected / too expensive".into()
            })
        );
        assert!(v.allowed_values().contains("\"no timeline\""));
    }

    #[test]
    fn problems_name_their_paths() {
        let v = VerdictFields {
            field: "pg_score".into(),
            accepted: vec!["yes".into()],
            rejected: vec!["Yes".into()],
            reasons: vec![],
            ..VerdictFields::default()
        };
        assert_eq!(
            v.problems(&["pg_score"]),
            [
                "handoff.verdict.field: \"pg_score\" is an evidence or write-back field; name the AE's own field",
                "handoff.verdict.reasons: list at least one value",
                "handoff.verdict.accepted[0]: \"yes\" is also a rejection value",
            ]
        );
    }
}
