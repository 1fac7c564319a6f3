//! Scoring a record against the playbook, one dimension at a time, with reasons.
//!
//! A score nobody can explain is not trusted, so every dimension says what evidence it used, why it
//! got its status, and what to ask next when it is not green. Every scorecard also lists what the
//! CRM record cannot show.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

mod lines;

pub use lines::{FitGrade, engagement_tenths};

pub use crate::score::{DimensionScore, Part, Status};
use crate::{
    evidence::EvidenceRule,
    hygiene::{self, Hygiene},
    model::{Record, RecordKind},
    placeholder,
    playbook::{Dimension, Playbook, WriteBackFields},
    templates::Templates,
    tier,
    writeback::{WriteBack, text_field},
};

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
    /// The tier it lands in.
    pub tier: String,
    /// Why that tier.
    pub tier_reason: String,
    /// Per dimension, in the playbook's order.
    pub dimensions: Vec<DimensionScore>,
    /// Fit with the ideal customer profile, when the playbook scores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fit: Option<Part>,
    /// Recent engagement, when the playbook scores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engagement: Option<Part>,
    /// Whether the score is in the top share of recent scores and wants a human look; set by
    /// score-lead, absent where it was not computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flagged_for_review: Option<bool>,
    /// Whether the record is complete enough for this score to be trusted.
    pub hygiene: Hygiene,
    /// What this score does not measure.
    pub not_measured: Vec<String>,
    /// The playbook that produced it.
    pub playbook: PlaybookRef,
}

impl Scorecard {
    /// A multi-line explanation for a note: every dimension with its reason and next question.
    pub fn explain(&self) -> String {
        let mut lines = vec![format!(
            "Score {}/100 ({}) against playbook \"{}\" v{}: {}.",
            self.total, self.tier, self.playbook.name, self.playbook.version, self.tier_reason
        )];
        for d in &self.dimensions {
            let mut line = format!("- {} [{}]: {}", d.name, d.status, d.reason);
            if let Some(q) = &d.next_question {
                line.push_str(&format!(". Ask: {q}"));
            }
            lines.push(line);
        }
        for (name, part) in [("Fit", &self.fit), ("Engagement", &self.engagement)] {
            if let Some(part) = part {
                lines.push(format!(
                    "- {name}: {:.1} of {} points ({}).",
                    part.points,
                    part.max_points,
                    part.reasons.join("; ")
                ));
            }
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
    /// The CRM changes score-lead makes: the fields of [`Scorecard::fields`], the tier and the
    /// review flag.
    pub fn write_back(&self, record: &Record, playbook: &Playbook) -> WriteBack {
        let names = &playbook.write_back;
        let mut fields = self.fields(names);
        fields.insert(names.tier.clone(), self.tier.clone().into());
        if let Some(flagged) = self.flagged_for_review {
            fields.insert(names.review.clone(), flagged.into());
        }
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields,
            move_to_stage: None,
            move_only_from: None,
            notices: Vec::new(),
            personal: false,
        }
    }

    /// The fields every write-back of this score sets, by the playbook's `names`: the total (what
    /// the gate counts), the summary with its parts apart, the next question, the gaps and what
    /// the score does not measure. Texts fit any CRM's text field ([`text_field`]); a question
    /// or gaps the record no longer has are emptied, so the CRM never shows an old one.
    pub fn fields(&self, names: &WriteBackFields) -> BTreeMap<String, Value> {
        let text = |line: Option<&str>| line.map_or(Value::Null, |line| text_field(line).into());
        BTreeMap::from([
            (names.score.clone(), self.total.into()),
            (names.summary.clone(), text(Some(&self.summary()))),
            (names.next_question.clone(), text(self.next_question())),
            (names.gaps.clone(), text(self.gaps_line().as_deref())),
            (
                names.not_measured.clone(),
                text(Some(&self.not_measured_line())),
            ),
        ])
    }
}

/// Score a record on its own against a playbook at time `now` (dates and engagement decay
/// depend on it): no other record's texts are known, so none is a pasted template.
pub fn score(record: &Record, playbook: &Playbook, now: OffsetDateTime) -> Scorecard {
    score_among(record, playbook, &Templates::default(), now)
}

/// Score a record against a playbook at time `now`, knowing from `templates` how many of its
/// CRM's records hold each of its dimensions' texts: a text on `template_records` of them or
/// more is a pasted template, no evidence.
pub fn score_among(
    record: &Record,
    playbook: &Playbook,
    templates: &Templates,
    now: OffsetDateTime,
) -> Scorecard {
    let weights: f64 = playbook.dimensions.iter().map(|d| d.weight).sum();
    let scale = if weights > 0.0 {
        playbook.qualification_points() / weights
    } else {
        0.0
    };
    let mut dimensions: Vec<DimensionScore> = playbook
        .dimensions
        .iter()
        .map(|d| {
            let placeholders = &playbook.handoff.placeholders;
            score_dimension(record, d, d.weight * scale, placeholders, now)
        })
        .collect();
    discount_templates(&mut dimensions, playbook, templates, record.kind);
    discount_non_evidence(&mut dimensions, playbook);
    let fit = playbook.fit.as_ref().map(|f| f.score(record));
    let engagement = playbook.engagement.as_ref().map(|e| e.score(record, now));
    let earned: f64 = dimensions.iter().map(|d| d.points).sum::<f64>()
        + fit.as_ref().map_or(0.0, |p| p.points)
        + engagement.as_ref().map_or(0.0, |p| p.points);
    let total = earned.round().clamp(0.0, 100.0) as u8;
    let placement = tier::place(&playbook.tiers, total, &dimensions);
    Scorecard {
        record_id: record.id.clone(),
        total,
        tier: placement.tier,
        tier_reason: placement.reason,
        dimensions,
        fit,
        engagement,
        flagged_for_review: None,
        hygiene: hygiene::assess(record, playbook),
        not_measured: playbook.not_measured.clone(),
        playbook: PlaybookRef {
            name: playbook.name.clone(),
            version: playbook.version.clone(),
            content_hash: playbook.content_hash.clone(),
        },
    }
}

/// A text on `template_records` or more of the CRM's records of its kind is a pasted template,
/// no evidence, whatever it says: the rep is asked for what this buyer said.
fn discount_templates(
    dimensions: &mut [DimensionScore],
    playbook: &Playbook,
    templates: &Templates,
    kind: RecordKind,
) {
    for (d, score) in playbook.dimensions.iter().zip(dimensions.iter_mut()) {
        let records = templates.records_with(&d.key);
        let text = matches!(d.evidence, EvidenceRule::Text(_)) && score.evidence.is_some();
        if records < playbook.template_records || !text {
            continue;
        }
        let gap = format!("the same text is on {records} {}s", kind.as_str());
        let reason = format!(
            "`{}` holds no evidence: {gap}: write what this buyer said",
            d.field()
        );
        score.not_evidence(d, gap, reason);
    }
}

/// A text copied from another dimension is no evidence: of dimensions sharing one text (as
/// [`placeholder::normalised`] compares it), only the heaviest keeps it (the first on a tie), so
/// copying a text never lowers a score more than leaving the field empty would. Placeholders and
/// filler the text rule itself refuses.
fn discount_non_evidence(dimensions: &mut [DimensionScore], playbook: &Playbook) {
    let texts: Vec<Option<String>> = playbook
        .dimensions
        .iter()
        .zip(dimensions.iter())
        .map(|(d, score)| match (&d.evidence, &score.evidence) {
            (EvidenceRule::Text(_), Some(text)) => Some(placeholder::normalised(text)),
            _ => None,
        })
        .collect();
    for (i, d) in playbook.dimensions.iter().enumerate() {
        let Some(text) = &texts[i] else { continue };
        if dimensions[i].status == Status::Red {
            continue;
        }
        let copied = playbook.dimensions.iter().enumerate().find(|(j, other)| {
            *j != i
                && texts[*j].as_ref() == Some(text)
                && (other.weight > d.weight || (other.weight == d.weight && *j < i))
        });
        if let Some((_, other)) = copied {
            let gap = format!("copies {}'s text", other.name);
            let reason = format!("`{}` holds no evidence: it {gap}", d.field());
            dimensions[i].not_evidence(d, gap, reason);
        }
    }
}

impl DimensionScore {
    /// This dimension's text is not evidence, for `reason`, shown to the rep as `gap` (`copies
    /// Pain's text`): red, no points, and the question to ask.
    fn not_evidence(&mut self, dimension: &Dimension, gap: String, reason: String) {
        self.status = Status::Red;
        self.points = 0.0;
        self.reason = reason;
        self.next_question = Some(dimension.question.clone());
        self.gap = Some(gap);
    }
}

fn score_dimension(
    record: &Record,
    dimension: &Dimension,
    max_points: f64,
    placeholders: &[String],
    now: OffsetDateTime,
) -> DimensionScore {
    let judgement = dimension.judge(record, placeholders, now);
    let points = match judgement.status {
        Status::Green => max_points,
        Status::Yellow => max_points / 2.0,
        Status::Red => 0.0,
    };
    DimensionScore {
        key: dimension.key.clone(),
        name: dimension.name.clone(),
        status: judgement.status,
        points,
        max_points,
        evidence: judgement.evidence,
        reason: judgement.reason,
        next_question: (judgement.status != Status::Green).then(|| dimension.question.clone()),
        gap: judgement.gap,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Activity, ActivityKind, Contact};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

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
        ] {
            deal.fields.insert(field.into(), text.into());
        }
        deal.contacts.push(Contact {
            id: "C-1".into(),
            name: Some("Dana Ruiz".into()),
            email: None,
            title: Some("CFO".into()),
            role: Some("economic_buyer".into()),
            authority: None,
        });
        deal
    }

    fn engaged(mut record: Record) -> Record {
        record.activities = (0..6)
            .map(|_| Activity {
                kind: ActivityKind::Meeting,
                at: NOW,
                subject: None,
                notes: None,
            })
            .collect();
        record
    }

    #[test]
    fn full_qualification_is_hot_and_asks_nothing() {
        let card = score(&qualified_deal(), &Playbook::default_playbook(), NOW);
        // 80 qualification points, and 2.5 of 10 for fit (a CFO on the deal): 82.5.
        assert_eq!(card.total, 83);
        assert_eq!(card.tier, "hot");
        assert!(card.dimensions.iter().all(|d| d.next_question.is_none()));
        assert_eq!(card.gaps().count(), 0);
    }

    #[test]
    fn thin_evidence_is_yellow_and_missing_is_red_with_a_question() {
        let playbook = Playbook::default_playbook();
        let mut deal = qualified_deal();
        deal.fields
            .insert("pain".into(), "close delays reporting".into());
        deal.fields.remove("impact");
        let card = score(&deal, &playbook, NOW);
        let gaps: Vec<_> = card.gaps().map(|d| (d.key.as_str(), d.status)).collect();
        assert_eq!(
            gaps,
            vec![("impact", Status::Red), ("pain", Status::Yellow)]
        );
        assert_eq!(
            card.dimensions[2].next_question.as_deref(),
            Some(playbook.dimensions[2].question.as_str())
        );
        assert_eq!(
            card.gaps_line().as_deref(),
            Some("Impact: nothing recorded · Pain: only 3 of 4 words")
        );
        assert_eq!(
            card.next_question(),
            Some(playbook.dimensions[2].question.as_str())
        );
    }

    #[test]
    fn engagement_without_pain_is_never_hot() {
        let mut deal = engaged(qualified_deal());
        deal.fields.remove("pain");
        for (field, value) in [
            ("employees", "200"),
            ("industry", "Software"),
            ("region", "EMEA"),
        ] {
            deal.fields.insert(field.into(), value.into());
        }
        let card = score(&deal, &Playbook::default_playbook(), NOW);
        assert!(card.total >= 75, "{}", card.total);
        assert_eq!(card.tier, "warm");
        assert!(
            card.tier_reason
                .contains("not hot: it needs Pain green (it is red)"),
            "{}",
            card.tier_reason
        );
    }

    #[test]
    fn a_text_on_as_many_deals_as_the_playbook_says_is_a_template_and_red() {
        let playbook = Playbook::default_playbook();
        let deal = qualified_deal();
        let on = |pain: u32, impact: u32| -> Templates {
            [("pain".to_owned(), pain), ("impact".to_owned(), impact)]
                .into_iter()
                .collect()
        };
        let alone = score(&deal, &playbook, NOW);
        assert_eq!(score_among(&deal, &playbook, &on(2, 1), NOW), alone);
        let card = score_among(&deal, &playbook, &on(3, 1), NOW);
        let pain = &card.dimensions[1];
        assert_eq!((pain.status, pain.points), (Status::Red, 0.0));
        assert_eq!(
            pain.reason,
            "`pain` holds no evidence: the same text is on 3 deals: write what this buyer said"
        );
        assert_eq!(
            pain.next_question.as_ref(),
            Some(&playbook.dimensions[1].question)
        );
        assert_eq!(card.dimensions[2].status, Status::Green);
        assert_eq!(card.total, alone.total - 20);
        assert_ne!(card.tier, "hot");
        let mut lead = deal.clone();
        lead.kind = RecordKind::Lead;
        let card = score_among(&lead, &playbook, &on(7, 1), NOW);
        assert!(
            card.dimensions[1].reason.contains("on 7 leads"),
            "{:?}",
            card.dimensions[1]
        );
    }

    #[test]
    fn a_template_copied_into_two_dimensions_is_red_in_both() {
        let playbook = Playbook::default_playbook();
        let mut deal = qualified_deal();
        let pain = deal.fields["pain"].clone();
        deal.fields.insert("impact".into(), pain);
        let copied = score(&deal, &playbook, NOW);
        assert!(
            copied.dimensions[2]
                .reason
                .contains("it copies Pain's text")
        );
        let templates: Templates = [("pain".to_owned(), 3), ("impact".to_owned(), 3)]
            .into_iter()
            .collect();
        let card = score_among(&deal, &playbook, &templates, NOW);
        for d in &card.dimensions[1..=2] {
            assert_eq!(d.status, Status::Red);
            assert!(
                d.reason.contains("the same text is on 3 deals"),
                "{}",
                d.reason
            );
        }
    }

    #[test]
    fn every_scorecard_says_what_it_does_not_measure() {
        let card = score(&Record::new_deal("D-2"), &Playbook::default_playbook(), NOW);
        assert_eq!(card.total, 0);
        assert_eq!(card.tier, "disqualified");
        assert!(
            card.not_measured
                .iter()
                .any(|m| m.contains("email threads"))
        );
        assert!(card.explain().contains("Not measured:"));
    }
}
