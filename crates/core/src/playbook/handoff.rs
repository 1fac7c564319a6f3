//! The playbook's `[handoff]` table: which stages hand a deal from a BDR to an AE, the rules a
//! deal must pass to get there, what never counts as evidence, and who the BDR and the AE are.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::verdict::VerdictFields;

/// A part of the score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScorePart {
    /// The qualification dimensions.
    Qualification,
    /// Fit with the ideal customer profile.
    Fit,
    /// Recent engagement.
    Engagement,
}

/// The BDR→AE handoff gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    /// Entering one of these stages is a handoff.
    pub stages: Vec<String>,
    /// The score (0–100) the counted parts must reach.
    pub threshold: u8,
    /// Where a blocked deal goes when the CRM did not say which stage it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_stage: Option<String>,
    /// The parts of the score that count toward the threshold, scaled to 100: by default the
    /// qualification dimensions alone, so fit and engagement cannot buy a handoff.
    #[serde(default = "default_counts")]
    pub counts: Vec<ScorePart>,
    /// Dimensions (by key) that must be green. By default Pain and Next step (pain articulated,
    /// a timeline), those of them the playbook has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requires_green: Option<Vec<String>>,
    /// Dimensions (by key) that must not be red.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires_not_red: Vec<String>,
    /// The record completeness (percent of `staleness.required_fields`) below which a score is
    /// too incomplete to validate a handoff; by default `staleness.hygiene_threshold`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_completeness: Option<u8>,
    /// Values that never count as evidence, in any score, staleness or hygiene check (compared
    /// without case, punctuation or spacing, alone or several together: "T.B.D.", "n/a n/a").
    /// One word repeated, a copy of another dimension's text, and a template pasted onto many
    /// deals (`template_records`) never count either.
    #[serde(default = "default_placeholders")]
    pub placeholders: Vec<String>,
    /// The canonical record field naming the BDR (a "BDR owner" property); without it the BDR
    /// is the user who made the move.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bdr_field: Option<String>,
    /// The canonical record field naming the AE (an "AE owner" property, a user lookup);
    /// without it the AE is the owner after the move, when the move changed the owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ae_field: Option<String>,
    /// The BDR and AE fields' names in each CRM (`hubspot`, `pipedrive`, `salesforce`,
    /// `generic`), by canonical field, when they differ from it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub crm_fields: BTreeMap<String, BTreeMap<String, String>>,
    /// The fields an AE records the handoff's verdict in, and their values.
    #[serde(default)]
    pub verdict: VerdictFields,
}

/// The dimensions required green when the playbook does not say: pain and a timeline.
const DEFAULT_REQUIRED_GREEN: &[&str] = &["pain", "next_step"];

/// Values reps type when they have nothing to write.
const PLACEHOLDERS: &[&str] = &[
    "tbd",
    "tba",
    "tbc",
    "n/a",
    "na",
    "-",
    "--",
    "?",
    "??",
    "none",
    "unknown",
    "todo",
    "xxx",
    "x",
    ".",
    "...",
    "test",
    "asdf",
    "pending",
    "see notes",
    "see above",
    "see below",
    "same as above",
    "to be determined",
    "to be confirmed",
    "to be decided",
    "not applicable",
    "nil",
    "null",
    "no idea",
];

fn default_counts() -> Vec<ScorePart> {
    vec![ScorePart::Qualification]
}

fn default_placeholders() -> Vec<String> {
    PLACEHOLDERS.iter().map(|s| (*s).to_owned()).collect()
}

impl Handoff {
    /// The dimensions that must be green: the playbook's list, else the defaults it has.
    pub fn required_green(&self, dimension_keys: &[&str]) -> Vec<String> {
        match &self.requires_green {
            Some(keys) => keys.clone(),
            None => DEFAULT_REQUIRED_GREEN
                .iter()
                .filter(|key| dimension_keys.contains(key))
                .map(|key| (*key).to_owned())
                .collect(),
        }
    }

    /// The completeness a record needs, given the playbook's hygiene threshold.
    pub fn completeness_needed(&self, hygiene_threshold: u8) -> u8 {
        self.min_completeness.unwrap_or(hygiene_threshold)
    }

    /// The canonical people fields (`bdr_field`, `ae_field`) that are set.
    pub fn people_fields(&self) -> impl Iterator<Item = &str> {
        self.bdr_field
            .iter()
            .chain(&self.ae_field)
            .map(String::as_str)
    }

    /// Every canonical field the handoff reads from a record: the people fields that are set,
    /// and the AE's verdict and reason fields.
    pub fn read_fields(&self) -> impl Iterator<Item = &str> {
        self.people_fields().chain([
            self.verdict.field.as_str(),
            self.verdict.reason_field.as_str(),
        ])
    }

    /// The name `crm_table` (a [`crate::crm::Facts::field_table`]) knows the canonical handoff
    /// field `field` (a people or verdict field) by, when `crm_fields` names it.
    pub fn field_in<'a>(&'a self, crm_table: &str, field: &'a str) -> &'a str {
        self.crm_fields
            .get(crm_table)
            .and_then(|names| names.get(field))
            .map_or(field, String::as_str)
    }

    /// Problems with the gate rules, each `handoff.<path>: what is wrong`. `reserved` are the
    /// fields the people fields may not be (evidence and write-back fields).
    pub(super) fn problems(
        &self,
        dimension_keys: &[&str],
        crm_names: &[&str],
        reserved: &[&str],
    ) -> Vec<String> {
        let mut problems = Vec::new();
        if self.stages.is_empty() {
            problems.push("handoff.stages: list the stage(s) that hand a deal to an AE".to_owned());
        }
        if self.threshold > 100 {
            problems.push(format!(
                "handoff.threshold: must be within 0..=100 (found {})",
                self.threshold
            ));
        }
        if self.counts.is_empty() {
            problems.push(
                "handoff.counts: list the parts that count toward the threshold (qualification, fit, engagement)"
                    .to_owned(),
            );
        }
        let known = dimension_keys.join(", ");
        for (rule, keys) in [
            (
                "requires_green",
                self.requires_green.as_deref().unwrap_or(&[]),
            ),
            ("requires_not_red", self.requires_not_red.as_slice()),
        ] {
            for (i, key) in keys.iter().enumerate() {
                if !dimension_keys.contains(&key.as_str()) {
                    problems.push(format!(
                        "handoff.{rule}[{i}]: unknown dimension {key:?}; known: {known}"
                    ));
                }
            }
        }
        if let Some(pct) = self.min_completeness.filter(|pct| *pct > 100) {
            problems.push(format!(
                "handoff.min_completeness: must be within 0..=100 (found {pct})"
            ));
        }
        for (i, value) in self.placeholders.iter().enumerate() {
            if value.trim().is_empty() {
                problems.push(format!(
                    "handoff.placeholders[{i}]: an empty value is never evidence anyway; remove it"
                ));
            }
        }
        for (name, field) in [("bdr_field", &self.bdr_field), ("ae_field", &self.ae_field)] {
            let Some(field) = field else { continue };
            if field.trim().is_empty() {
                problems.push(format!(
                    "handoff.{name}: name the record field, or remove it"
                ));
            } else if reserved.contains(&field.as_str()) {
                problems.push(format!(
                    "handoff.{name}: {field:?} is an evidence or write-back field; name the field holding the user"
                ));
            }
        }
        if self.bdr_field.is_some() && self.bdr_field == self.ae_field {
            problems.push("handoff.ae_field: the BDR and the AE need their own fields".to_owned());
        }
        let named: Vec<&str> = self.read_fields().collect();
        for (crm, names) in &self.crm_fields {
            if !crm_names.contains(&crm.as_str()) {
                problems.push(format!(
                    "handoff.crm_fields.{crm}: unknown CRM; use one of {}",
                    crm_names.join(", ")
                ));
            }
            for (field, name) in names {
                if !named.contains(&field.as_str()) {
                    problems.push(format!(
                        "handoff.crm_fields.{crm}.{field}: not a field the handoff names; the handoff's fields are {}",
                        named.join(", ")
                    ));
                } else if name.trim().is_empty() {
                    problems.push(format!(
                        "handoff.crm_fields.{crm}.{field}: name the CRM field"
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handoff(toml_text: &str) -> Handoff {
        toml::from_str(&format!(
            "stages = [\"sales_accepted\"]\nthreshold = 60\n{toml_text}"
        ))
        .unwrap()
    }

    const KEYS: &[&str] = &["situation", "pain", "next_step"];
    const CRMS: &[&str] = &["hubspot", "salesforce"];

    #[test]
    fn defaults_count_qualification_and_require_pain_and_next_step() {
        let h = handoff("");
        assert_eq!(h.counts, vec![ScorePart::Qualification]);
        assert_eq!(h.required_green(KEYS), vec!["pain", "next_step"]);
        assert_eq!(h.required_green(&["situation"]), Vec::<String>::new());
        assert_eq!(h.completeness_needed(70), 70);
        assert!(h.placeholders.iter().any(|p| p == "tbd"));
        assert!(h.problems(KEYS, CRMS, &[]).is_empty());
    }

    #[test]
    fn unknown_dimensions_and_people_fields_are_named_by_path() {
        let h = handoff(
            "requires_green = [\"pian\"]\nrequires_not_red = [\"impact\"]\nmin_completeness = 120\n\
             ae_field = \"ae_owner\"\n[crm_fields.hubspot]\nae_ownr = \"ae\"\n[crm_fields.zoho]\nae_owner = \"x\"\n",
        );
        assert_eq!(
            h.problems(KEYS, CRMS, &["pg_score"]),
            vec![
                "handoff.requires_green[0]: unknown dimension \"pian\"; known: situation, pain, next_step",
                "handoff.requires_not_red[0]: unknown dimension \"impact\"; known: situation, pain, next_step",
                "handoff.min_completeness: must be within 0..=100 (found 120)",
                "handoff.crm_fields.hubspot.ae_ownr: not a field the handoff names; the handoff's fields are ae_owner, pg_handoff_verdict, pg_handoff_reason",
                "handoff.crm_fields.zoho: unknown CRM; use one of hubspot, salesforce",
            ]
        );
    }

    #[test]
    fn a_people_field_may_not_be_an_evidence_field() {
        let h = handoff("ae_field = \"pain\"\n");
        assert_eq!(
            h.problems(KEYS, CRMS, &["pain"]),
            [
                "handoff.ae_field: \"pain\" is an evidence or write-back field; name the field holding the user"
            ]
        );
        let h = handoff("ae_field = \"ae\"\n[crm_fields.salesforce]\nae = \"AE_Owner__c\"\n");
        assert_eq!(h.field_in("salesforce", "ae"), "AE_Owner__c");
        assert_eq!(h.field_in("hubspot", "ae"), "ae");
    }
}
