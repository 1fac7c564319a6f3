use time::macros::{date, datetime};

use super::*;
use crate::handoffs::report::{
    BdrRow, MissingDimension, NOT_MEASURED, RejectionReason, ThresholdRow, Week,
};

const SECTIONS: [&str; 7] = [
    "summary",
    "weeks",
    "missing",
    "reasons",
    "thresholds",
    "per-bdr",
    "not-measured",
];

fn counts(attempted: u64, blocked: u64, validated: u64, accepted: u64, rejected: u64) -> Counts {
    Counts {
        attempted,
        blocked,
        would_block: 0,
        validated,
        accepted,
        rejected,
        unreadable: 0,
    }
}

fn empty_report() -> Report {
    Report {
        generated_at: datetime!(2026-11-22 14:05 UTC),
        from: date!(2026 - 11 - 02),
        to: date!(2026 - 11 - 22),
        crm: None,
        threshold: 60,
        totals: Counts::default(),
        rejection_rate: None,
        median_hours_to_verdict: None,
        verdicts_within_24h: None,
        verdicts_without_handoff: 0,
        weeks: [
            date!(2026 - 11 - 02),
            date!(2026 - 11 - 09),
            date!(2026 - 11 - 16),
        ]
        .map(|week_start| Week {
            week_start,
            counts: Counts::default(),
        })
        .to_vec(),
        missing_dimensions: vec![],
        rejection_reasons: vec![],
        thresholds: vec![],
        per_bdr: PerBdr::Shown { rows: vec![] },
        not_measured: NOT_MEASURED.iter().map(|s| (*s).to_owned()).collect(),
    }
}

fn report() -> Report {
    let mut report = empty_report();
    report.weeks[0].counts = counts(5, 2, 3, 2, 1);
    report.weeks[2].counts = counts(9, 3, 6, 4, 2);
    report.totals = counts(14, 5, 9, 6, 3);
    report.rejection_rate = Some(1.0 / 3.0);
    report.median_hours_to_verdict = Some(19.5);
    report.verdicts_without_handoff = 2;
    report.missing_dimensions = vec![MissingDimension {
        dimension: "economic_buyer".into(),
        name: "Economic <buyer>".into(),
        count: 7,
        share: 0.5,
    }];
    report.rejection_reasons = vec![RejectionReason {
        reason: "no budget & \"authority\"".into(),
        count: 3,
    }];
    report.thresholds = vec![ThresholdRow {
        threshold: 60,
        validated: 9,
        accepted: 6,
        rejected_later: 3,
        rejection_rate: Some(1.0 / 3.0),
    }];
    report.per_bdr = PerBdr::Shown {
        rows: vec![
            BdrRow {
                name: None,
                bdr: "<script>alert(1)</script>".into(),
                counts: counts(4, 1, 3, 2, 1),
                coach_next: Some("Pain".into()),
            },
            BdrRow {
                name: None,
                bdr: "ada".into(),
                counts: counts(10, 4, 6, 4, 2),
                coach_next: None,
            },
        ],
    };
    report
}

#[test]
fn a_bdr_id_or_a_reason_from_the_crm_is_escaped() {
    let html = render(&report());
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("no budget &amp; &quot;authority&quot;"));
    assert!(html.contains("Economic &lt;buyer&gt;"));
    assert!(!html.contains("Economic <buyer>"));
}

#[test]
fn escape_covers_markup_and_both_quotes() {
    assert_eq!(
        escape(r#"<a href="x" title='y'>&</a>"#),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
    );
}

#[test]
fn every_section_is_on_the_page_with_or_without_handoffs() {
    for report in [report(), empty_report()] {
        let html = render(&report);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<meta name=\"viewport\""));
        for id in SECTIONS {
            assert!(
                html.contains(&format!("<section id=\"{id}\"")),
                "{id} missing"
            );
        }
        assert!(html.contains("What this report does not measure"));
        for item in NOT_MEASURED {
            assert!(html.contains(&escape(item)), "{item}");
        }
    }
}

#[test]
fn the_page_needs_nothing_from_outside_and_runs_no_script() {
    let html = render(&report());
    for outside in [
        "<script", "<link", "src=", "http://", "https://", "@import", "url(",
    ] {
        assert!(!html.contains(outside), "{outside}");
    }
}

#[test]
fn every_chart_is_an_image_with_a_title_that_says_its_figures() {
    let html = render(&report());
    let charts = html.matches("<svg ").count();
    assert_eq!(charts, 3, "weeks, missing dimensions, rejection reasons");
    assert_eq!(html.matches("role=\"img\"").count(), charts);
    assert_eq!(html.matches("<title id=").count(), charts);
    assert!(html.contains("viewBox=\"0 0 400 200\""));
    assert!(html.contains(
        "Handoffs by week, 2026-11-02 to 2026-11-22: 14 attempted, 5 blocked, 9 validated, \
         6 accepted, 3 rejected."
    ));
}

#[test]
fn an_empty_report_says_so_and_draws_no_chart() {
    let html = render(&empty_report());
    assert!(html.contains("No handoffs in this period yet."));
    assert!(html.contains("No handoffs by any BDR in this period yet."));
    assert!(!html.contains("<svg"));
    assert!(html.contains("no AE verdict yet"));
}

#[test]
fn the_figures_are_the_reports() {
    let html = render(&report());
    assert!(html.contains("<dt>Handoffs attempted</dt><dd class=\"figure\">14</dd>"));
    assert!(html.contains("<dd class=\"figure\">33 %</dd><dd>3 of 9 verdicts</dd>"));
    assert!(html.contains("<dd class=\"figure\">19.5 h</dd>"));
    assert!(html.contains("<dt>Verdicts without handoff</dt><dd class=\"figure\">2</dd>"));
    assert!(html.contains(
        "<th scope=\"row\">2026-11-16</th><td>9</td><td>3</td><td>6</td><td>4</td><td>2</td>"
    ));
    assert!(
        !html.contains("<th scope=\"row\">2026-11-09</th>"),
        "an empty week is left out"
    );
    assert!(html.contains("<th scope=\"row\">Economic &lt;buyer&gt;</th><td>7</td><td>50 %</td>"));
    assert!(
        html.contains("<th scope=\"row\">60 (now)</th><td>9</td><td>6</td><td>3</td><td>33 %</td>")
    );
    assert!(html.contains("suggests it is too low"));
}

#[test]
fn a_median_past_two_days_is_in_days() {
    assert_eq!(duration(19.5), "19.5 h");
    assert_eq!(duration(48.0), "48 h");
    assert_eq!(duration(80.0), "3.3 days");
}

#[test]
fn shown_rows_keep_their_order_with_counts_and_what_to_coach_next() {
    let html = render(&report());
    assert!(html.contains("<section id=\"per-bdr\" data-view=\"shown\""));
    let first = html.find("&lt;script&gt;").unwrap();
    let second = html.find("<th scope=\"row\">ada</th>").unwrap();
    assert!(first < second, "rows stay in the report's order (by BDR)");
    assert!(html.contains("coach next: <strong>Pain</strong>"));
    assert!(html.contains("coach next: nothing missing"));
    assert!(html.contains("10 handoffs<br>4 blocked · 6 validated<br>AE: 4 accepted · 2 rejected"));
    for ranking in ["Rank", "rank", "Top ", "best", "worst"] {
        assert!(!html.contains(ranking), "{ranking}");
    }
}

#[test]
fn hidden_rows_show_why_and_nothing_per_rep() {
    let mut report = report();
    report.per_bdr = PerBdr::Hidden {
        from: Some(date!(2027 - 01 - 04)),
        why: "Team totals only until 2027-01-04 <reps first>.".into(),
        shared: Vec::new(),
    };
    let html = render(&report);
    assert!(html.contains("<section id=\"per-bdr\" data-view=\"hidden\""));
    assert!(html.contains("Team totals only until 2027-01-04 &lt;reps first&gt;."));
    assert!(!html.contains("&lt;script&gt;"));
    assert!(!html.contains(">ada<"));
    assert!(!html.contains("coach next"));
}
