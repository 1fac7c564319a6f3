//! The scorecard as a rep reads it in the CRM: the summary with qualification, fit and
//! engagement apart, the gaps per dimension, the one question to ask next, and what the score
//! does not measure, each one line short enough for any CRM's text field
//! ([`crate::writeback::text_field`]).

use std::cmp::Ordering;

use super::Scorecard;
use crate::score::{DimensionScore, Part, Status};

impl Scorecard {
    /// The dimensions short of green, most valuable first: the most points an answer could
    /// still earn (all of a red dimension's, the missing half of a yellow one's), then red before
    /// yellow, then the playbook's order. Value first, so the line of gaps cut short for a CRM
    /// field drops the least useful, and the next question is the one worth most.
    pub fn gaps(&self) -> impl Iterator<Item = &DimensionScore> {
        let mut gaps: Vec<&DimensionScore> = self
            .dimensions
            .iter()
            .filter(|d| d.status != Status::Green)
            .collect();
        // A stable sort keeps the playbook's order on a tie.
        gaps.sort_by(|a, b| {
            let to_earn = |d: &DimensionScore| d.max_points - d.points;
            to_earn(b)
                .partial_cmp(&to_earn(a))
                .unwrap_or(Ordering::Equal)
                .then(a.status.cmp(&b.status))
        });
        gaps.into_iter()
    }

    /// The one question to ask next: the most valuable gap's ([`Scorecard::gaps`]); `None` when
    /// every dimension is green.
    pub fn next_question(&self) -> Option<&str> {
        self.gaps().find_map(|d| d.next_question.as_deref())
    }

    /// What keeps each dimension short of green, most valuable first:
    /// `Pain: no cost or consequence · Next step: no date`; `None` when every dimension is green.
    pub fn gaps_line(&self) -> Option<String> {
        let gaps: Vec<String> = self
            .gaps()
            .map(|d| match &d.gap {
                Some(gap) => format!("{}: {gap}", d.name),
                // A scorecard kept in the ledger from before gaps were recorded.
                None => format!("{}: {}", d.name, d.status),
            })
            .collect();
        (!gaps.is_empty()).then(|| gaps.join(" · "))
    }

    /// What the score does not measure: `Not measured: champion activity between calls; …`.
    pub fn not_measured_line(&self) -> String {
        format!("Not measured: {}", self.not_measured.join("; "))
    }

    /// The score's parts apart, never blended into one number, then the tier:
    /// `Qualification 62/100 · Fit B · Engagement 3/10 · Tier warm`. Qualification is the share
    /// of the dimensions' points earned, out of 100 ([`Scorecard::qualification`]); fit a grade
    /// ([`FitGrade`]); engagement in tenths of full engagement ([`engagement_tenths`]). A part
    /// the playbook does not score, or gives no points, is left out. A record too incomplete
    /// for its score to be trusted says so.
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("Qualification {}/100", self.qualification())];
        if let Some(grade) = self.fit.as_ref().and_then(FitGrade::of) {
            parts.push(format!("Fit {grade}"));
        }
        if let Some(tenths) = self.engagement.as_ref().and_then(engagement_tenths) {
            parts.push(format!("Engagement {tenths}/10"));
        }
        parts.push(format!("Tier {}", self.tier));
        if !self.hygiene.trustworthy {
            parts.push(format!(
                "record only {}% complete: score not trustworthy",
                self.hygiene.complete_pct
            ));
        }
        parts.join(" · ")
    }

    /// The share of the qualification dimensions' points earned, 0–100: qualification on its
    /// own scale, whatever share of the total fit and engagement take.
    pub fn qualification(&self) -> u8 {
        let most: f64 = self.dimensions.iter().map(|d| d.max_points).sum();
        if most <= 0.0 {
            return 0;
        }
        let earned: f64 = self.dimensions.iter().map(|d| d.points).sum();
        (earned * 100.0 / most).round().clamp(0.0, 100.0) as u8
    }
}

/// Fit with the ideal customer profile as a grade, from the share of the fit points earned
/// (every criterion the playbook sets counts equally): A at 90 % or more (every criterion met),
/// B from 60 % (three of four), C from 30 % (two of four, one of three), D below. A grade, not
/// points, so it is never read as part of the qualification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitGrade {
    /// Fits the profile on every criterion.
    A,
    /// Fits on most criteria.
    B,
    /// Fits on some.
    C,
    /// Fits on few or none.
    D,
}

impl FitGrade {
    /// The grade of a fit `part`; `None` for a fit worth no points, whose share is unknown.
    pub fn of(part: &Part) -> Option<FitGrade> {
        let share = share(part)?;
        Some(if share >= 0.9 {
            FitGrade::A
        } else if share >= 0.6 {
            FitGrade::B
        } else if share >= 0.3 {
            FitGrade::C
        } else {
            FitGrade::D
        })
    }
}

impl std::fmt::Display for FitGrade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FitGrade::A => "A",
            FitGrade::B => "B",
            FitGrade::C => "C",
            FitGrade::D => "D",
        })
    }
}

/// Engagement in tenths of full engagement, 0–10: the playbook's `full_at` decayed signal
/// points are 10/10, whatever share of the total its weight gives engagement; `None` for an
/// engagement worth no points, whose share is unknown.
pub fn engagement_tenths(part: &Part) -> Option<u8> {
    share(part).map(|share| (share * 10.0).round().clamp(0.0, 10.0) as u8)
}

fn share(part: &Part) -> Option<f64> {
    (part.max_points > 0.0).then(|| part.points / part.max_points)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        hygiene::Hygiene,
        scorecard::{PlaybookRef, Scorecard},
    };

    fn dimension(name: &str, status: Status, max_points: f64, gap: &str) -> DimensionScore {
        let points = match status {
            Status::Green => max_points,
            Status::Yellow => max_points / 2.0,
            Status::Red => 0.0,
        };
        let short = status != Status::Green;
        DimensionScore {
            key: name.to_lowercase().replace(' ', "_"),
            name: name.into(),
            status,
            points,
            max_points,
            evidence: None,
            reason: String::new(),
            next_question: short.then(|| format!("Ask about {name}?")),
            gap: short.then(|| gap.to_owned()),
        }
    }

    fn part(points: f64, max_points: f64) -> Part {
        Part {
            points,
            max_points,
            reasons: Vec::new(),
        }
    }

    fn card(dimensions: Vec<DimensionScore>) -> Scorecard {
        Scorecard {
            record_id: "D-1".into(),
            total: 0,
            tier: "warm".into(),
            tier_reason: String::new(),
            dimensions,
            fit: Some(part(7.5, 10.0)),
            engagement: Some(part(2.6, 10.0)),
            flagged_for_review: None,
            hygiene: Hygiene {
                complete_pct: 100,
                missing: Vec::new(),
                trustworthy: true,
            },
            not_measured: vec!["champion activity between calls".into()],
            playbook: PlaybookRef {
                name: "default".into(),
                version: "2".into(),
                content_hash: String::new(),
            },
        }
    }

    #[test]
    fn the_next_question_is_the_gap_worth_most_points() {
        let card = card(vec![
            dimension("Situation", Status::Red, 12.0, "nothing recorded"),
            dimension("Pain", Status::Yellow, 20.0, "no cost or consequence"),
            dimension("Impact", Status::Green, 16.0, ""),
            dimension("Next step", Status::Red, 16.0, "nothing recorded"),
            dimension(
                "Economic buyer",
                Status::Red,
                16.0,
                "no contact with the role",
            ),
        ]);
        // Red Next step and Economic buyer can each still earn 16; Next step comes first in the
        // playbook. Situation earns 12, Pain's missing half 10.
        assert_eq!(card.next_question(), Some("Ask about Next step?"));
        let order: Vec<&str> = card.gaps().map(|d| d.name.as_str()).collect();
        assert_eq!(order, ["Next step", "Economic buyer", "Situation", "Pain"]);
    }

    #[test]
    fn on_equal_points_red_comes_before_yellow() {
        let card = card(vec![
            dimension("Pain", Status::Yellow, 20.0, "no figure"),
            dimension("Impact", Status::Red, 10.0, "nothing recorded"),
        ]);
        assert_eq!(card.next_question(), Some("Ask about Impact?"));
    }

    #[test]
    fn a_green_card_asks_nothing_and_has_no_gaps() {
        let card = card(vec![dimension("Pain", Status::Green, 20.0, "")]);
        assert_eq!(card.next_question(), None);
        assert_eq!(card.gaps_line(), None);
    }

    #[test]
    fn the_gaps_line_names_each_dimension_and_what_it_lacks() {
        let card = card(vec![
            dimension("Pain", Status::Yellow, 20.0, "no cost or consequence"),
            dimension("Next step", Status::Red, 20.0, "no date"),
            dimension(
                "Economic buyer",
                Status::Red,
                20.0,
                "no contact with the role",
            ),
        ]);
        assert_eq!(
            card.gaps_line().as_deref(),
            Some(
                "Next step: no date · Economic buyer: no contact with the role · Pain: no cost or consequence"
            )
        );
    }

    #[test]
    fn the_summary_shows_qualification_fit_and_engagement_apart() {
        let mut card = card(vec![
            dimension("Pain", Status::Yellow, 20.0, "no figure"),
            dimension("Impact", Status::Green, 30.0, ""),
        ]);
        // 10 + 30 of 50 qualification points: 80/100.
        assert_eq!(
            card.summary(),
            "Qualification 80/100 · Fit B · Engagement 3/10 · Tier warm"
        );
        card.fit = Some(part(0.0, 0.0));
        card.engagement = None;
        card.hygiene.trustworthy = false;
        card.hygiene.complete_pct = 40;
        assert_eq!(
            card.summary(),
            "Qualification 80/100 · Tier warm · record only 40% complete: score not trustworthy"
        );
    }

    #[test]
    fn fit_grades_follow_the_share_of_criteria_met() {
        let grade = |points| FitGrade::of(&part(points, 10.0));
        assert_eq!(grade(10.0), Some(FitGrade::A));
        assert_eq!(grade(7.5), Some(FitGrade::B));
        assert_eq!(grade(5.0), Some(FitGrade::C));
        assert_eq!(grade(10.0 / 3.0), Some(FitGrade::C));
        assert_eq!(grade(2.5), Some(FitGrade::D));
        assert_eq!(grade(0.0), Some(FitGrade::D));
        assert_eq!(FitGrade::of(&part(0.0, 0.0)), None);
    }

    #[test]
    fn engagement_counts_tenths_of_full_engagement_whatever_its_weight() {
        assert_eq!(engagement_tenths(&part(1.88, 10.0)), Some(2));
        assert_eq!(engagement_tenths(&part(15.0, 20.0)), Some(8));
        assert_eq!(engagement_tenths(&part(0.0, 0.0)), None);
    }
}
