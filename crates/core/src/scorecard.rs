//! Scoring a record against the playbook, one dimension at a time, with reasons.
//!
//! A score nobody can explain is not trusted, so every dimension says what evidence it used, why it
//! got its status, and what to ask next when it is not green. Every scorecard also lists what the
//! CRM record cannot show.

use serde::{Deserialize, Serialize};

use crate::{
    hygiene::{self, Hygiene},
    model::Record,
    playbook::{Dimension, Playbook},
    writeback::WriteBack,
};

/// How well one dimension is evidenced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// No evidence.
    Red,
    /// Some evidence, not enough.
    Yellow,
    /// Enough evidence.
    Green,
}

/// One dimension's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// The dimension's key.
    pub key: String,
    /// The dimension's name.
    pub name: String,
    /// Green, yellow or red.
    pub status: Status,
    /// Points earned, out of [`DimensionScore::max_points`].
    pub points: f64,
    /// The dimension's weight.
    pub max_points: f64,
    /// The evidence found, as recorded in the CRM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Why it got its status, in one line.
    pub reason: String,
    /// What to ask next, when not green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_question: Option<String>,
}

/// Which playbook produced a scorecard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookRef {
    /// Its name.
    pub name: String,
    /// Its version label.
    pub version: String,
    /// SHA-256 of its source.
    pub content_hash: String,
}

/// A record's score against the playbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// The record scored.
    pub record_id: String,
    /// The total, 0–100.
    pub total: u8,
    /// Per dimension, in the playbook's order.
    pub dimensions: Vec<DimensionScore>,
    /// Whether the record is complete enough for this score to be trusted.
    pub hygiene: Hygiene,
    /// What this score does not measure.
    pub not_measured: Vec<String>,
    /// The playbook that produced it.
    pub playbook: PlaybookRef,
}

impl Scorecard {
    /// The dimensions that are not green, weakest first.
    pub fn gaps(&self) -> impl Iterator<Item = &DimensionScore> {
        let mut gaps: Vec<_> = self
            .dimensions
            .iter()
            .filter(|d| d.status != Status::Green)
            .collect();
        gaps.sort_by_key(|d| d.status);
        gaps.into_iter()
    }

    /// A one-line summary for a CRM field: `62/100 · green: Situation, Pain · missing: Impact`.
    pub fn summary(&self) -> String {
        let names = |status: Status| -> Vec<&str> {
            self.dimensions
                .iter()
                .filter(|d| d.status == status)
                .map(|d| d.name.as_str())
                .collect()
        };
        let mut parts = vec![format!("{}/100", self.total)];
        for (label, status) in [
            ("green", Status::Green),
            ("partial", Status::Yellow),
            ("missing", Status::Red),
        ] {
            let names = names(status);
            if !names.is_empty() {
                parts.push(format!("{label}: {}", names.join(", ")));
            }
        }
        if !self.hygiene.trustworthy {
            parts.push(format!(
                "record only {}% complete: score not trustworthy",
                self.hygiene.complete_pct
            ));
        }
        parts.join(" · ")
    }

    /// A multi-line explanation for a note: every dimension with its reason and next question.
    pub fn explain(&self) -> String {
        let mut lines = vec![format!(
            "Score {}/100 against playbook \"{}\" v{}.",
            self.total, self.playbook.name, self.playbook.version
        )];
        for d in &self.dimensions {
            let mut line = format!("- {} [{:?}]: {}", d.name, d.status, d.reason);
            if let Some(q) = &d.next_question {
                line.push_str(&format!(". Ask: {q}"));
            }
            lines.push(line);
        }
        if !self.hygiene.trustworthy {
            lines.push(format!(
                "The record is {}% complete (missing: {}), so this score is not trustworthy.",
                self.hygiene.complete_pct,
                self.hygiene.missing.join(", ")
            ));
        }
        lines.push(format!("Not measured: {}.", self.not_measured.join("; ")));
        lines.join("\n")
    }
}

impl Scorecard {
    /// The CRM changes score-lead makes: the score and its one-line summary.
    pub fn write_back(&self, record: &Record, playbook: &Playbook) -> WriteBack {
        let names = &playbook.write_back;
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields: [
                (names.score.clone(), self.total.into()),
                (names.summary.clone(), self.summary().into()),
            ]
            .into_iter()
            .collect(),
            move_to_stage: None,
            note: None,
        }
    }
}

/// Score a record against a playbook.
pub fn score(record: &Record, playbook: &Playbook) -> Scorecard {
    let dimensions: Vec<DimensionScore> = playbook
        .dimensions
        .iter()
        .map(|d| score_dimension(record, d))
        .collect();
    let earned: f64 = dimensions.iter().map(|d| d.points).sum();
    let possible: f64 = dimensions.iter().map(|d| d.max_points).sum();
    let total = if possible > 0.0 {
        (earned / possible * 100.0).round().clamp(0.0, 100.0) as u8
    } else {
        0
    };
    Scorecard {
        record_id: record.id.clone(),
        total,
        dimensions,
        hygiene: hygiene::assess(record, playbook),
        not_measured: playbook.not_measured.clone(),
        playbook: PlaybookRef {
            name: playbook.name.clone(),
            version: playbook.version.clone(),
            content_hash: playbook.content_hash.clone(),
        },
    }
}

fn score_dimension(record: &Record, dimension: &Dimension) -> DimensionScore {
    let evidence = record.text(&dimension.field);
    let words = evidence
        .as_deref()
        .map_or(0, |text| text.split_whitespace().count());
    let (status, points, reason) = match words {
        0 => (
            Status::Red,
            0.0,
            format!("no evidence in field `{}`", dimension.field),
        ),
        n if n < dimension.min_words => (
            Status::Yellow,
            dimension.weight / 2.0,
            format!(
                "only {n} word(s) in `{}`; {} make it complete",
                dimension.field, dimension.min_words
            ),
        ),
        n => (
            Status::Green,
            dimension.weight,
            format!("{n} words of evidence in `{}`", dimension.field),
        ),
    };
    DimensionScore {
        key: dimension.key.clone(),
        name: dimension.name.clone(),
        status,
        points,
        max_points: dimension.weight,
        evidence,
        reason,
        next_question: (status != Status::Green).then(|| dimension.question.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qualified_deal() -> Record {
        let mut deal = Record::new_deal("D-1");
        for (field, text) in [
            (
                "situation",
                "Finance team of 12 closes books in spreadsheets",
            ),
            (
                "pain",
                "Month-end close takes nine days and delays board reporting",
            ),
            ("impact", "Cutting close to three days frees two FTE by Q2"),
            ("next_step", "Demo with the CFO on 3 December"),
            ("economic_buyer", "Dana Ruiz, CFO"),
        ] {
            deal.fields.insert(field.into(), text.into());
        }
        deal
    }

    #[test]
    fn full_evidence_scores_100_and_asks_nothing() {
        let card = score(&qualified_deal(), &Playbook::default_playbook());
        assert_eq!(card.total, 100);
        assert!(card.dimensions.iter().all(|d| d.next_question.is_none()));
        assert_eq!(card.gaps().count(), 0);
    }

    #[test]
    fn thin_evidence_is_yellow_and_missing_is_red_with_a_question() {
        let playbook = Playbook::default_playbook();
        let mut deal = qualified_deal();
        deal.fields.insert("pain".into(), "slow close".into());
        deal.fields.remove("impact");
        let card = score(&deal, &playbook);
        // 15 + 12.5 + 0 + 20 + 20 = 67.5 of 100
        assert_eq!(card.total, 68);
        let gaps: Vec<_> = card.gaps().map(|d| (d.key.as_str(), d.status)).collect();
        assert_eq!(
            gaps,
            vec![("impact", Status::Red), ("pain", Status::Yellow)]
        );
        assert_eq!(
            card.dimensions[2].next_question.as_deref(),
            Some(playbook.dimensions[2].question.as_str())
        );
        assert!(card.summary().contains("partial: Pain"));
        assert!(card.summary().contains("missing: Impact"));
    }

    #[test]
    fn every_scorecard_says_what_it_does_not_measure() {
        let card = score(&Record::new_deal("D-2"), &Playbook::default_playbook());
        assert_eq!(card.total, 0);
        assert!(
            card.not_measured
                .iter()
                .any(|m| m.contains("email threads"))
        );
        assert!(card.explain().contains("Not measured:"));
    }
}
