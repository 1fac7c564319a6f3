//! The gate's rules, checked against a scorecard: required dimensions, record completeness and
//! the threshold on the parts that count. Each rule that fails is named the way a BDR reads it:
//! `Pain is red (required green)`, `completeness 50% < 70%`, `qualification 58/100 < 60`.

use serde::{Deserialize, Serialize};

use crate::{
    playbook::{Playbook, ScorePart},
    score::Status,
    scorecard::Scorecard,
};

/// What the rules found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCheck {
    /// The score of the parts that count toward the threshold, scaled to 100.
    pub score: u8,
    /// What that score is made of (`qualification`, `qualification + fit`).
    pub counted: String,
    /// Every rule that failed, in the order above; empty when all pass.
    pub failed: Vec<String>,
    /// Every rule that passed, in the same words, for the AE's brief.
    pub passed: Vec<String>,
}

/// Check `card` against the playbook's gate rules.
pub fn check(card: &Scorecard, playbook: &Playbook) -> RuleCheck {
    let handoff = &playbook.handoff;
    let keys: Vec<&str> = playbook.dimensions.iter().map(|d| d.key.as_str()).collect();
    let mut failed = Vec::new();
    let mut passed = Vec::new();
    let mut judge = |ok: bool, text: String| {
        if ok {
            passed.push(text)
        } else {
            failed.push(text)
        }
    };
    for (keys, wanted, ok) in [
        (
            handoff.required_green(&keys),
            "required green",
            (|s: Status| s == Status::Green) as fn(Status) -> bool,
        ),
        (
            handoff.requires_not_red.clone(),
            "required not red",
            |s: Status| s != Status::Red,
        ),
    ] {
        for key in keys {
            if let Some(d) = card.dimensions.iter().find(|d| d.key == key) {
                judge(
                    ok(d.status),
                    format!("{} is {} ({wanted})", d.name, d.status),
                );
            }
        }
    }
    let needed = handoff.completeness_needed(playbook.staleness.hygiene_threshold);
    let pct = card.hygiene.complete_pct;
    let sign = if pct >= needed { ">=" } else { "<" };
    judge(
        pct >= needed,
        format!("completeness {pct}% {sign} {needed}%"),
    );
    let (score, counted) = counted_score(card, &handoff.counts);
    let threshold = handoff.threshold;
    let sign = if score >= threshold { ">=" } else { "<" };
    judge(
        score >= threshold,
        format!("{counted} {score}/100 {sign} {threshold}"),
    );
    RuleCheck {
        score,
        counted,
        failed,
        passed,
    }
}

/// The playbook's gate rules in words, one line each, as `check` prints them (docs/handoff-gate.md).
pub fn describe(playbook: &Playbook) -> Vec<String> {
    let handoff = &playbook.handoff;
    let keys: Vec<&str> = playbook.dimensions.iter().map(|d| d.key.as_str()).collect();
    let names = |keys: &[String]| -> String {
        if keys.is_empty() {
            return "none".to_owned();
        }
        keys.iter()
            .map(|k| {
                playbook
                    .dimension(k)
                    .map_or(k.as_str(), |d| d.name.as_str())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let counted: Vec<&str> = handoff
        .counts
        .iter()
        .map(|part| match part {
            ScorePart::Qualification => "qualification",
            ScorePart::Fit => "fit",
            ScorePart::Engagement => "engagement",
        })
        .collect();
    let mut lines = vec![
        format!(
            "Handoff stages: {}.",
            handoff
                .stages
                .iter()
                .map(|s| playbook.stage_name(s))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        format!(
            "Score: {} must reach {}/100 (scaled to 100 over what counts).",
            counted.join(" + "),
            handoff.threshold
        ),
        format!("Must be green: {}.", names(&handoff.required_green(&keys))),
        format!("Must not be red: {}.", names(&handoff.requires_not_red)),
        format!(
            "Record completeness: at least {}% of {}.",
            handoff.completeness_needed(playbook.staleness.hygiene_threshold),
            playbook.staleness.required_fields.join(", ")
        ),
        format!(
            "Never evidence: {}, however punctuated or repeated; one word repeated; filler or keyword salad; a copy of another dimension's text.",
            handoff.placeholders.join(", ")
        ),
        format!(
            "BDR: {}.",
            handoff.bdr_field.as_deref().map_or_else(
                || "the user who made the move".to_owned(),
                |f| format!("the {f:?} field, else the user who made the move")
            )
        ),
        format!(
            "AE: {}the owner after the move, when that is not the BDR; without an AE the handoff is blocked.",
            handoff
                .ae_field
                .as_deref()
                .map_or(String::new(), |f| format!("the {f:?} field, else "))
        ),
    ];
    lines.push(match &handoff.return_stage {
        Some(stage) => format!(
            "Blocked in enforce mode: moved back to the stage it came from, else {}.",
            playbook.stage_name(stage)
        ),
        None => "Blocked in enforce mode: moved back to the stage it came from. Set handoff.return_stage so a deal created in a handoff stage can be moved back too.".to_owned(),
    });
    lines.push(format!(
        "The AE's verdict: {}; a rejection sends the BDR a task and, in enforce mode, moves the deal back.",
        handoff.verdict.allowed_values()
    ));
    lines.push(format!(
        "Figures per BDR in the report {}; before that, team totals only.",
        playbook.rollout.schedule()
    ));
    lines
}

/// The points of the `counted` parts, scaled to 100, and their names.
fn counted_score(card: &Scorecard, counted: &[ScorePart]) -> (u8, String) {
    let (mut earned, mut max) = (0.0, 0.0);
    let mut names = Vec::new();
    for part in [
        ScorePart::Qualification,
        ScorePart::Fit,
        ScorePart::Engagement,
    ] {
        if !counted.contains(&part) {
            continue;
        }
        let (points, most, name) = match part {
            ScorePart::Qualification => (
                card.dimensions.iter().map(|d| d.points).sum(),
                card.dimensions.iter().map(|d| d.max_points).sum(),
                "qualification",
            ),
            ScorePart::Fit => card
                .fit
                .as_ref()
                .map_or((0.0, 0.0, "fit"), |p| (p.points, p.max_points, "fit")),
            ScorePart::Engagement => card
                .engagement
                .as_ref()
                .map_or((0.0, 0.0, "engagement"), |p| {
                    (p.points, p.max_points, "engagement")
                }),
        };
        if most > 0.0 {
            earned += points;
            max += most;
            names.push(name);
        }
    }
    let score = if max > 0.0 {
        (earned * 100.0 / max).round().clamp(0.0, 100.0) as u8
    } else {
        0
    };
    (score, names.join(" + "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::Record, scorecard::score};
    use time::macros::datetime;

    fn card_of(fields: &[(&str, &str)], playbook: &Playbook) -> Scorecard {
        let mut deal = Record::new_deal("D-1");
        deal.owner_id = Some("u-1".into());
        deal.amount = Some(1000.0);
        deal.close_date = Some(time::macros::date!(2026 - 12 - 20));
        for (k, v) in fields {
            deal.fields.insert((*k).into(), (*v).into());
        }
        score(&deal, playbook, datetime!(2026-11-21 12:00 UTC))
    }

    const SITUATION: (&str, &str) = (
        "situation",
        "Finance team of 12 closes books in spreadsheets",
    );
    const PAIN: (&str, &str) = (
        "pain",
        "Month-end close takes nine days and delays reporting",
    );
    const IMPACT: (&str, &str) = ("impact", "Cutting close to three days frees two FTE by Q2");
    const NEXT: (&str, &str) = ("next_step", "Demo with the CFO on 3 December");

    #[test]
    fn the_default_rules_read_as_the_readme_shows_them() {
        let lines = describe(&Playbook::default_playbook());
        assert_eq!(
            lines[1],
            "Score: qualification must reach 60/100 (scaled to 100 over what counts)."
        );
        assert_eq!(lines[2], "Must be green: Pain, Next step.");
        assert_eq!(
            lines[4],
            "Record completeness: at least 70% of owner, amount, close_date, next_step."
        );
    }

    #[test]
    fn pain_red_fails_whatever_the_total() {
        let playbook = Playbook::default_playbook();
        let card = card_of(&[SITUATION, IMPACT, NEXT], &playbook);
        let check = check(&card, &playbook);
        assert_eq!(check.failed[0], "Pain is red (required green)");
    }

    #[test]
    fn only_qualification_counts_by_default_scaled_to_100() {
        let playbook = Playbook::default_playbook();
        // 15 + 25 + 20 + 20 of 100 weight = 80 of 100 qualification, economic buyer missing.
        let card = card_of(&[SITUATION, PAIN, IMPACT, NEXT], &playbook);
        let check = check(&card, &playbook);
        assert_eq!(check.score, 80);
        assert_eq!(check.counted, "qualification");
        assert!(check.failed.is_empty(), "{:?}", check.failed);
        assert!(
            check
                .passed
                .contains(&"qualification 80/100 >= 60".to_owned())
        );
        let mut strict = playbook.clone();
        strict.handoff.threshold = 81;
        assert_eq!(
            super::check(&card, &strict).failed,
            ["qualification 80/100 < 81"]
        );
    }

    #[test]
    fn counting_fit_and_engagement_scales_over_them_too() {
        let mut playbook = Playbook::default_playbook();
        playbook.handoff.counts = vec![
            ScorePart::Qualification,
            ScorePart::Fit,
            ScorePart::Engagement,
        ];
        let card = card_of(&[SITUATION, PAIN, IMPACT, NEXT], &playbook);
        let check = check(&card, &playbook);
        assert_eq!(check.counted, "qualification + fit + engagement");
        assert_eq!(check.score, card.total);
    }

    #[test]
    fn an_incomplete_record_and_a_red_required_dimension_are_both_named() {
        let mut playbook = Playbook::default_playbook();
        playbook.handoff.requires_not_red = vec!["impact".into()];
        let mut deal = Record::new_deal("D-2");
        deal.fields.insert(PAIN.0.into(), PAIN.1.into());
        let card = score(&deal, &playbook, datetime!(2026-11-21 12:00 UTC));
        assert_eq!(
            check(&card, &playbook).failed,
            [
                "Next step is red (required green)",
                "Impact is red (required not red)",
                "completeness 0% < 70%",
                "qualification 25/100 < 60",
            ]
        );
    }
}
