//! The team's qualification playbook: what to score, how to gate, when a deal is stale.
//!
//! A playbook is a TOML file a CRM admin writes (see `fixtures/playbooks/default.toml`). It is
//! validated on load: every problem is reported at once, each with its path and a fix, and a
//! function refuses to score with a broken playbook.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub mod conversation;
mod handoff;
pub mod portfolio;
pub mod rollout;
mod staleness;
pub mod verdict;

pub use conversation::{Behaviour, Conversation};
pub use handoff::{Handoff, ScorePart};
pub use portfolio::{Measure, PortfolioRules};
pub use rollout::Rollout;
pub use staleness::{ChecklistWeights, Holiday, Staleness};
pub use verdict::{VerdictFields, VerdictValue};

use crate::{
    Error,
    engagement::Engagement,
    evidence::{EvidenceRule, Judgement, Subject},
    fit::Fit,
    model::Record,
    tier::{self, Tier},
};

/// The largest playbook accepted, in bytes (the shipped ones are under 6 KB): parsed on every
/// instance, it must stay cheap.
pub const MAX_PLAYBOOK_BYTES: usize = 64 * 1024;

/// The default playbook's source, shipped with every function.
pub const DEFAULT_PLAYBOOK: &str = include_str!("../../../fixtures/playbooks/default.toml");

/// What a CRM record cannot show, listed on every scorecard unless the playbook says otherwise.
const NOT_MEASURED: &[&str] = &[
    "relationship strength and trust built with the buyer",
    "champion activity between calls",
    "email threads and conversations outside the CRM",
];

/// A validated qualification playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Playbook {
    /// The playbook's name, shown on every scorecard.
    pub name: String,
    /// The admin's version label.
    pub version: String,
    /// The qualification dimensions, in display order.
    pub dimensions: Vec<Dimension>,
    /// Fit with the ideal customer profile (secondary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Fit>,
    /// Recent engagement (secondary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<Engagement>,
    /// Tiers, highest first.
    pub tiers: Vec<Tier>,
    /// The top share (0–1) of recent scores flagged for human review.
    #[serde(default = "default_review_share")]
    pub review_share: f64,
    /// How many days back a record's latest score counts among the recent scores.
    #[serde(default = "default_review_window_days")]
    pub review_window_days: u16,
    /// How many of a CRM's deals (or leads) holding the same text in a dimension make that text
    /// a pasted template, no evidence on any of them (at least 2).
    #[serde(default = "default_template_records")]
    pub template_records: u32,
    /// The BDR→AE handoff gate.
    pub handoff: Handoff,
    /// Staleness and hygiene rules.
    pub staleness: Staleness,
    /// When managers may see figures per rep.
    #[serde(default)]
    pub rollout: Rollout,
    /// How a sales call's signals are read: bands, asked words, competitors.
    #[serde(default)]
    pub conversation: Conversation,
    /// The names reps know stages by, by the stage id the CRM sends (Pipedrive's `"3"`, HubSpot's
    /// `"12345678"`), for messages; a stage without one is shown by its id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stage_names: BTreeMap<String, String>,
    /// Which CRM fields receive results.
    #[serde(default)]
    pub write_back: WriteBackFields,
    /// What the scores cannot see, listed on every scorecard.
    #[serde(default = "default_not_measured")]
    pub not_measured: Vec<String>,
    /// SHA-256 of the playbook's source text, so a scorecard names exactly what scored it.
    #[serde(skip)]
    pub content_hash: String,
}

/// One qualification dimension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dimension {
    /// A stable identifier (`pain`).
    pub key: String,
    /// The name reps see (`Pain`).
    pub name: String,
    /// Its share of the qualification points, relative to the other dimensions.
    pub weight: f64,
    /// The canonical record field holding its evidence; the key when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What counts as evidence.
    pub evidence: EvidenceRule,
    /// The discovery question to suggest when the evidence is missing.
    pub question: String,
    /// The field carrying the evidence in each CRM (`hubspot`, `pipedrive`, `salesforce`), when it
    /// differs from [`Dimension::field`].
    #[serde(default)]
    pub crm_fields: BTreeMap<String, String>,
}

impl Dimension {
    /// The canonical record field holding the evidence.
    pub fn field(&self) -> &str {
        self.field.as_deref().unwrap_or(&self.key)
    }

    /// Judge this dimension's evidence on `record` at time `now`; `placeholders` are the
    /// playbook's values that are never evidence (`handoff.placeholders`).
    pub fn judge(
        &self,
        record: &Record,
        placeholders: &[String],
        now: time::OffsetDateTime,
    ) -> Judgement {
        let subject = Subject {
            record,
            field: self.field(),
            name: &self.name,
            question: &self.question,
            placeholders,
        };
        self.evidence.judge(&subject, now)
    }
}

/// The CRM fields that receive pipeline-guard's results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteBackFields {
    /// Receives the total score (0–100).
    pub score: String,
    /// Receives the tier.
    pub tier: String,
    /// Receives a one-line summary of the scorecard: qualification, fit and engagement apart,
    /// and the tier.
    pub summary: String,
    /// Receives the one question to ask next: the most valuable missing dimension's.
    pub next_question: String,
    /// Receives what keeps each dimension short of green, in one line.
    pub gaps: String,
    /// Receives what the score does not measure ([`Playbook::not_measured`]).
    pub not_measured: String,
    /// Receives whether the score is flagged for human review.
    pub review: String,
    /// Receives the handoff decision (`validated`, `blocked`, `would_block`).
    pub handoff_status: String,
    /// Receives whether the deal is stale.
    pub stale: String,
    /// Receives the record's completeness percentage.
    pub hygiene: String,
    /// Other names for these fields in one CRM, by result (`score`, `tier`, …):
    /// `[write_back.crm_fields.pipedrive]` `score = "<the custom field's key>"`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub crm_fields: BTreeMap<String, BTreeMap<String, String>>,
}

impl WriteBackFields {
    /// The results a playbook writes back, each with the field that receives it.
    fn results(&self) -> [(&'static str, &str); 10] {
        [
            ("score", &self.score),
            ("tier", &self.tier),
            ("summary", &self.summary),
            ("next_question", &self.next_question),
            ("gaps", &self.gaps),
            ("not_measured", &self.not_measured),
            ("review", &self.review),
            ("handoff_status", &self.handoff_status),
            ("stale", &self.stale),
            ("hygiene", &self.hygiene),
        ]
    }

    /// The field names, as the playbook gives them.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.results().into_iter().map(|(_, field)| field)
    }

    /// The name `crm` knows the write-back field `name` by: its `crm_fields` entry, else `name`.
    pub fn name_in<'a>(&'a self, crm: &str, name: &'a str) -> &'a str {
        self.results()
            .iter()
            .find(|(_, field)| *field == name)
            .and_then(|(result, _)| self.crm_fields.get(crm)?.get(*result))
            .map_or(name, String::as_str)
    }

    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let results = self.results().map(|(result, _)| result);
        for (i, (result, field)) in self.results().into_iter().enumerate() {
            if field.trim().is_empty() {
                problems.push(format!("write_back.{result}: name the CRM field"));
            } else if let Some((other, _)) = self.results()[..i]
                .iter()
                .find(|(_, earlier)| earlier.eq_ignore_ascii_case(field))
            {
                problems.push(format!(
                    "write_back.{result}: {field:?} already receives {other}; give each result its own field"
                ));
            }
        }
        for (crm, names) in &self.crm_fields {
            if !CRM_NAMES.contains(&crm.as_str()) {
                problems.push(format!(
                    "write_back.crm_fields.{crm}: unknown CRM; use one of {}",
                    CRM_NAMES.join(", ")
                ));
            }
            for (result, field) in names {
                if !results.contains(&result.as_str()) {
                    problems.push(format!(
                        "write_back.crm_fields.{crm}.{result}: not a result; use one of {}",
                        results.join(", ")
                    ));
                } else if field.trim().is_empty() {
                    problems.push(format!(
                        "write_back.crm_fields.{crm}.{result}: name the CRM field"
                    ));
                }
            }
        }
        problems
    }
}

impl Default for WriteBackFields {
    fn default() -> Self {
        WriteBackFields {
            score: "pg_score".into(),
            tier: "pg_tier".into(),
            summary: "pg_summary".into(),
            next_question: "pg_next_question".into(),
            gaps: "pg_gaps".into(),
            not_measured: "pg_not_measured".into(),
            review: "pg_review".into(),
            handoff_status: "pg_handoff_status".into(),
            stale: "pg_stale".into(),
            hygiene: "pg_hygiene".into(),
            crm_fields: BTreeMap::new(),
        }
    }
}

fn default_review_share() -> f64 {
    0.2
}

fn default_review_window_days() -> u16 {
    30
}

/// The longest review window, in days: a year of scores is no longer "recent".
pub const MAX_REVIEW_WINDOW_DAYS: u16 = 366;

fn default_template_records() -> u32 {
    3
}

fn default_not_measured() -> Vec<String> {
    NOT_MEASURED.iter().map(|s| s.to_string()).collect()
}

impl Playbook {
    /// Parse and validate a playbook. On failure, [`Error::InvalidPlaybook`] lists every problem.
    pub fn from_toml(source: &str) -> Result<Playbook, Error> {
        if source.len() > MAX_PLAYBOOK_BYTES {
            return Err(Error::InvalidPlaybook(vec![format!(
                "playbook: {} bytes; a playbook may have at most {MAX_PLAYBOOK_BYTES}",
                source.len()
            )]));
        }
        let syntax =
            |e: toml::de::Error| Error::InvalidPlaybook(vec![e.to_string().trim_end().to_owned()]);
        let deserializer = toml::Deserializer::parse(source).map_err(syntax)?;
        let mut playbook: Playbook =
            serde_path_to_error::deserialize(deserializer).map_err(|e| {
                let path = match e.path().to_string() {
                    root if root == "." => "playbook".to_owned(),
                    path => path,
                };
                let message = e.into_inner().message().to_owned();
                Error::InvalidPlaybook(vec![format!("{path}: {message}")])
            })?;
        let problems = playbook.problems();
        if !problems.is_empty() {
            return Err(Error::InvalidPlaybook(problems));
        }
        playbook.content_hash = hex::encode(Sha256::digest(source.as_bytes()));
        Ok(playbook)
    }

    /// The playbook shipped with pipeline-guard.
    pub fn default_playbook() -> Playbook {
        // The shipped file is checked by a unit test; failing here is a build defect, not input.
        Playbook::from_toml(DEFAULT_PLAYBOOK).expect("the shipped default playbook is valid")
    }

    /// The name reps know `stage` by: its [`Playbook::stage_names`] entry, else the id.
    pub fn stage_name<'a>(&'a self, stage: &'a str) -> &'a str {
        self.stage_names.get(stage).map_or(stage, String::as_str)
    }

    /// A dimension by key.
    pub fn dimension(&self, key: &str) -> Option<&Dimension> {
        self.dimensions.iter().find(|d| d.key == key)
    }

    /// Every validation problem, each as `path: what is wrong; how to fix it`.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push("name: must not be empty".to_owned());
        }
        if self.dimensions.is_empty() {
            problems.push("dimensions: add at least one [[dimensions]] table".to_owned());
        }
        let mut keys = BTreeSet::new();
        for (i, d) in self.dimensions.iter().enumerate() {
            let at = format!("dimensions[{i}]");
            if d.key.trim().is_empty() {
                problems.push(format!("{at}.key: must not be empty"));
            } else if !keys.insert(d.key.as_str()) {
                problems.push(format!(
                    "{at}.key: duplicate dimension {:?}; give each dimension its own key",
                    d.key
                ));
            }
            if !(d.weight.is_finite() && d.weight > 0.0) {
                problems.push(format!("{at}.weight: must be > 0 (found {})", d.weight));
            }
            if d.field().trim().is_empty() {
                problems.push(format!(
                    "{at}.field: name the record field holding the evidence"
                ));
            }
            for problem in d.evidence.problems(&d.name) {
                problems.push(format!("{at}.evidence.{problem}"));
            }
            if d.question.trim().is_empty() {
                problems.push(format!(
                    "{at}.question: write the discovery question reps should ask"
                ));
            }
            for crm in d.crm_fields.keys() {
                if !CRM_NAMES.contains(&crm.as_str()) {
                    problems.push(format!(
                        "{at}.crm_fields.{crm}: unknown CRM; use one of {}",
                        CRM_NAMES.join(", ")
                    ));
                }
            }
        }
        let secondary = self.fit.as_ref().map_or(0.0, |f| f.weight)
            + self.engagement.as_ref().map_or(0.0, |e| e.weight);
        if let Some(fit) = &self.fit {
            problems.extend(fit.problems().into_iter().map(|p| format!("fit.{p}")));
        }
        if let Some(engagement) = &self.engagement {
            problems.extend(
                engagement
                    .problems()
                    .into_iter()
                    .map(|p| format!("engagement.{p}")),
            );
        }
        if secondary >= 100.0 {
            problems.push(format!(
                "fit.weight + engagement.weight: {secondary} leaves no points for the dimensions; keep it below 100"
            ));
        }
        let dimension_keys: Vec<&str> = self.dimensions.iter().map(|d| d.key.as_str()).collect();
        problems.extend(tier::problems(&self.tiers, &dimension_keys));
        if !(0.0..=1.0).contains(&self.review_share) {
            problems.push(format!(
                "review_share: must be within 0..=1 (found {}); 0.2 flags the top 20 %",
                self.review_share
            ));
        }
        if !(1..=MAX_REVIEW_WINDOW_DAYS).contains(&self.review_window_days) {
            problems.push(format!(
                "review_window_days: must be within 1..={MAX_REVIEW_WINDOW_DAYS} (found {}); 30 ranks each record's latest score of the last 30 days",
                self.review_window_days
            ));
        }
        if self.template_records < 2 {
            problems.push(format!(
                "template_records: must be at least 2 (found {}); 3 makes a text on three deals a template",
                self.template_records
            ));
        }
        let reserved: Vec<&str> = self
            .dimensions
            .iter()
            .map(Dimension::field)
            .chain(self.write_back.names())
            .collect();
        problems.extend(self.handoff.problems(&dimension_keys, CRM_NAMES, &reserved));
        problems.extend(self.handoff.verdict.problems(&reserved));
        problems.extend(self.rollout.problems());
        for (i, part) in self.handoff.counts.iter().enumerate() {
            let (defined, table) = match part {
                ScorePart::Qualification => (true, ""),
                ScorePart::Fit => (self.fit.is_some(), "[fit]"),
                ScorePart::Engagement => (self.engagement.is_some(), "[engagement]"),
            };
            if !defined {
                problems.push(format!(
                    "handoff.counts[{i}]: the playbook has no {table} table to count; add it or remove the part"
                ));
            }
        }
        for (stage, name) in &self.stage_names {
            if name.trim().is_empty() {
                problems.push(format!(
                    "stage_names.\"{stage}\": give the name reps know the stage by, or remove it"
                ));
            }
        }
        problems.extend(self.staleness.problems());
        problems.extend(self.conversation.problems(&dimension_keys));
        problems.extend(self.write_back.problems());
        if self.not_measured.iter().all(|m| m.trim().is_empty()) {
            problems.push(
                "not_measured: list what the scores cannot see; every score says what it does not measure"
                    .to_owned(),
            );
        }
        problems
    }

    /// The points out of 100 the qualification dimensions share (what fit and engagement leave).
    pub fn qualification_points(&self) -> f64 {
        100.0
            - self.fit.as_ref().map_or(0.0, |f| f.weight)
            - self.engagement.as_ref().map_or(0.0, |e| e.weight)
    }
}

/// The tables `crm_fields` may use: one per CRM, and Pipedrive persons' own (their custom-field
/// keys differ from deals').
const CRM_NAMES: &[&str] = &[
    "generic",
    "hubspot",
    "pipedrive",
    "pipedrive_person",
    "salesforce",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_default_is_valid_and_hashed() {
        let playbook = Playbook::default_playbook();
        assert_eq!(playbook.dimensions.len(), 5);
        assert_eq!(playbook.qualification_points(), 80.0);
        assert_eq!(playbook.content_hash.len(), 64);
        assert_eq!(playbook.handoff.threshold, 60);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let broken = DEFAULT_PLAYBOOK
            .replace("weight = 25", "weight = 0")
            .replace("key = \"impact\"", "key = \"pain\"")
            .replace("threshold = 60", "threshold = 160")
            .replace("min_score = 50", "min_score = 80")
            .replace(
                "requires_green = [\"pain\", \"next_step\"]",
                "requires_green = [\"pian\"]",
            );
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&broken) else {
            panic!("a broken playbook was accepted");
        };
        assert_eq!(
            problems,
            vec![
                "dimensions[1].weight: must be > 0 (found 0)",
                "dimensions[2].key: duplicate dimension \"pain\"; give each dimension its own key",
                "tiers[0].requires_green[0]: unknown dimension \"pian\"; known: situation, pain, pain, next_step, economic_buyer",
                "tiers[1].min_score: tiers go from highest to lowest; 80 is not below hot's 75",
                "handoff.threshold: must be within 0..=100 (found 160)",
                "conversation.asked.impact: unknown dimension; known: situation, pain, pain, next_step, economic_buyer",
            ]
        );
    }

    #[test]
    fn an_oversized_playbook_is_refused_before_it_is_parsed() {
        let huge = format!("{DEFAULT_PLAYBOOK}\n# {}\n", "x".repeat(MAX_PLAYBOOK_BYTES));
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&huge) else {
            panic!("an oversized playbook was accepted");
        };
        assert!(problems[0].contains("at most 65536"), "{problems:?}");
    }

    #[test]
    fn a_counted_part_the_playbook_does_not_score_is_refused() {
        let source = DEFAULT_PLAYBOOK.replace(
            "threshold = 60",
            "threshold = 60\ncounts = [\"qualification\", \"fit\"]",
        );
        assert!(Playbook::from_toml(&source).is_ok());
        let start = source.find("[fit]").unwrap();
        let end = source.find("[engagement]").unwrap();
        let without_fit = format!("{}{}", &source[..start], &source[end..]);
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&without_fit) else {
            panic!("counting a missing fit was accepted");
        };
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("handoff.counts[1]: the playbook has no [fit] table")),
            "{problems:?}"
        );
    }

    #[test]
    fn stage_names_name_stages_and_an_empty_one_is_refused() {
        let named = format!("{DEFAULT_PLAYBOOK}\n[stage_names]\n\"3\" = \"Qualified\"\n");
        let playbook = Playbook::from_toml(&named).unwrap();
        assert_eq!(playbook.stage_name("3"), "Qualified");
        assert_eq!(playbook.stage_name("4"), "4");
        let empty = format!("{DEFAULT_PLAYBOOK}\n[stage_names]\n\"3\" = \" \"\n");
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&empty) else {
            panic!("an empty stage name was accepted");
        };
        assert_eq!(
            problems,
            ["stage_names.\"3\": give the name reps know the stage by, or remove it"]
        );
    }

    #[test]
    fn the_new_write_back_fields_default_and_map_per_crm() {
        let playbook = Playbook::default_playbook();
        let names = &playbook.write_back;
        assert_eq!(
            [&names.next_question, &names.gaps, &names.not_measured],
            ["pg_next_question", "pg_gaps", "pg_not_measured"]
        );
        let mapped = format!(
            "{DEFAULT_PLAYBOOK}\n[write_back.crm_fields.pipedrive]\n\
             next_question = \"a1b2c3\"\ngaps = \"d4e5f6\"\nnot_measured = \"0a1b2c\"\n"
        );
        let playbook = Playbook::from_toml(&mapped).unwrap();
        let names = &playbook.write_back;
        assert_eq!(names.name_in("pipedrive", "pg_next_question"), "a1b2c3");
        assert_eq!(names.name_in("pipedrive", "pg_gaps"), "d4e5f6");
        assert_eq!(names.name_in("pipedrive", "pg_not_measured"), "0a1b2c");
        assert_eq!(names.name_in("hubspot", "pg_gaps"), "pg_gaps");
    }

    #[test]
    fn a_write_back_field_must_be_named_and_its_own() {
        let broken = DEFAULT_PLAYBOOK
            .replace("gaps = \"pg_gaps\"", "gaps = \" \"")
            .replace(
                "not_measured = \"pg_not_measured\"",
                "not_measured = \"PG_Summary\"",
            );
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&broken) else {
            panic!("an unnamed and a shared write-back field were accepted");
        };
        assert_eq!(
            problems,
            [
                "write_back.gaps: name the CRM field",
                "write_back.not_measured: \"PG_Summary\" already receives summary; give each result its own field",
            ]
        );
    }

    #[test]
    fn a_playbook_must_say_what_its_scores_do_not_measure() {
        let silent = DEFAULT_PLAYBOOK.replace(
            "review_share = 0.2",
            "review_share = 0.2\nnot_measured = [\" \"]",
        );
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&silent) else {
            panic!("a playbook measuring everything was accepted");
        };
        assert_eq!(
            problems,
            [
                "not_measured: list what the scores cannot see; every score says what it does not measure"
            ]
        );
    }

    #[test]
    fn a_template_takes_at_least_two_deals() {
        assert_eq!(Playbook::default_playbook().template_records, 3);
        let two = format!("template_records = 2\n{DEFAULT_PLAYBOOK}");
        assert_eq!(Playbook::from_toml(&two).unwrap().template_records, 2);
        let one = format!("template_records = 1\n{DEFAULT_PLAYBOOK}");
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&one) else {
            panic!("a template of one deal was accepted");
        };
        assert_eq!(
            problems,
            [
                "template_records: must be at least 2 (found 1); 3 makes a text on three deals a template"
            ]
        );
    }

    #[test]
    fn unknown_keys_are_refused_with_their_path() {
        let typo = DEFAULT_PLAYBOOK.replace(
            "evidence = { kind = \"text\", min_words = 3, requires = [\"date\", \"person\"] }",
            "evidence = { kind = \"text\", min_word = 3, requires = [\"date\", \"person\"] }",
        );
        let Err(Error::InvalidPlaybook(problems)) = Playbook::from_toml(&typo) else {
            panic!("a typo was accepted");
        };
        assert!(
            problems[0].starts_with("dimensions[3].evidence"),
            "{problems:?}"
        );
        assert!(problems[0].contains("min_word"), "{problems:?}");
    }
}
