//! The coaching report as one HTML page: no script, no outside resource, charts as inline SVG,
//! readable on a phone.
//!
//! Every figure a chart shows is also on the page as text or in a table (a screen reader, a
//! printout and a narrow screen all get it), and every text that comes from data (BDR ids,
//! reasons, dimension names) is escaped. Figures per BDR are counts sorted by BDR with the one
//! dimension to coach next: no rank, no score, no colour that judges a rep.

mod chart;
mod figures;

use super::report::{BdrRow, Counts, PerBdr, Report};
use crate::html::{
    chart::{self as bars_chart, Bar},
    escape,
    figures::{percent, times, timestamp},
    page::{self, details, not_measured, row, section, table, tile},
    person,
};
use chart::{Series, WeekColumn};
use figures::{bdr_counts, counts_text, duration, short_date};

/// The report as a complete HTML page.
pub fn render(report: &Report) -> String {
    let sections = [
        header(report),
        summary(report),
        weeks(report),
        missing(report),
        reasons(report),
        thresholds(report),
        per_bdr(&report.per_bdr),
        not_measured(&report.not_measured),
    ];
    page::document("Handoff report · pipeline-guard", &sections.concat())
}

fn header(report: &Report) -> String {
    let crm = report.crm.as_deref().map_or("all CRMs".to_owned(), escape);
    format!(
        "<header><h1>Handoff report</h1><p class=\"meta\">{from} to {to} · {crm} · \
         handoff threshold now {threshold} · made {made}</p></header>",
        from = report.from,
        to = report.to,
        threshold = report.threshold,
        made = timestamp(report.generated_at),
    )
}

fn summary(report: &Report) -> String {
    let t = &report.totals;
    let verdicts = t.accepted + t.rejected;
    let rate = report.rejection_rate.map_or("—".to_owned(), percent);
    let rate_note = match (verdicts, t.unreadable) {
        (0, 0) => "no AE verdict yet".to_owned(),
        (n, 0) => format!("{} of {n} verdicts", t.rejected),
        (n, u) => format!("{} of {n} verdicts · {u} unreadable", t.rejected),
    };
    let median = report
        .median_hours_to_verdict
        .map_or("—".to_owned(), duration);
    let tiles = [
        tile(
            "Handoffs attempted",
            &t.attempted.to_string(),
            &gate_note(t),
        ),
        tile("AE rejection rate", &rate, &rate_note),
        tile(
            "Median time to verdict",
            &median,
            "from handoff to the AE's verdict",
        ),
        tile(
            "Verdicts within 24 h",
            &report.verdicts_within_24h.map_or("—".to_owned(), percent),
            "of validated handoffs (the bar: all, with no follow-up question)",
        ),
        tile(
            "Verdicts without handoff",
            &report.verdicts_without_handoff.to_string(),
            "AE verdicts on deals with no handoff record",
        ),
    ];
    section(
        "summary",
        "At a glance",
        &format!("<dl class=\"tiles\">{}</dl>", tiles.concat()),
    )
}

fn gate_note(t: &Counts) -> String {
    let mut parts = vec![
        format!("{} validated", t.validated),
        format!("{} blocked", t.blocked),
    ];
    if t.would_block > 0 {
        parts.push(format!("{} would block (shadow)", t.would_block));
    }
    parts.join(" · ")
}

fn weeks(report: &Report) -> String {
    let body = if report.totals.attempted == 0 {
        "<p class=\"empty\">No handoffs in this period yet.</p>".to_owned()
    } else {
        let columns: Vec<WeekColumn> = report
            .weeks
            .iter()
            .map(|w| WeekColumn {
                label: short_date(w.week_start),
                counts: w.counts,
            })
            .collect();
        let label = format!(
            "Handoffs by week, {} to {}: {}.",
            report.from,
            report.to,
            counts_text(&report.totals)
        );
        [
            chart::weeks(&columns, &label),
            legend(&report.totals),
            details("The weeks as a table", &weeks_table(report)),
        ]
        .concat()
    };
    section("weeks", "Handoffs by week", &body)
}

fn legend(totals: &Counts) -> String {
    let items: String = Series::ALL
        .iter()
        .filter(|s| **s != Series::WouldBlock || totals.would_block > 0)
        .map(|s| {
            format!(
                "<li><span class=\"swatch {}\"></span>{}</li>",
                s.class(),
                s.name()
            )
        })
        .collect();
    format!(
        "<ul class=\"legend\">{items}</ul><p class=\"hint\">Left bar of each week: what the gate \
         decided. Right bar: what the AE said.</p>"
    )
}

fn weeks_table(report: &Report) -> String {
    let rows = report
        .weeks
        .iter()
        .filter(|w| w.counts.attempted > 0)
        .map(|w| {
            let c = &w.counts;
            let figures = [
                c.attempted,
                c.blocked + c.would_block,
                c.validated,
                c.accepted,
                c.rejected,
            ];
            row(&w.week_start.to_string(), &figures.map(|n| n.to_string()))
        });
    let headings = [
        "Week of",
        "At&shy;tempt&shy;ed",
        "Blocked",
        "Val&shy;i&shy;dat&shy;ed",
        "Ac&shy;cept&shy;ed",
        "Re&shy;ject&shy;ed",
    ];
    table(&headings, rows)
        + "<p class=\"hint\">Weeks without a handoff are left out. Blocked includes handoffs \
           that would have been blocked in shadow mode.</p>"
}

fn missing(report: &Report) -> String {
    let dimensions = &report.missing_dimensions;
    let body = if dimensions.is_empty() {
        empty(report, "No handoff lacked a dimension in this period.")
    } else {
        let bars: Vec<Bar> = dimensions
            .iter()
            .map(|d| Bar {
                label: d.name.clone(),
                length: d.share,
                value: format!("{} · {}", percent(d.share), times(d.count, "handoff")),
            })
            .collect();
        let chart = bars_chart::bars(
            "missing",
            &bars,
            &bars_label("Dimensions most often missing", &bars),
        );
        let rows = dimensions
            .iter()
            .map(|d| row(&d.name, &[d.count.to_string(), percent(d.share)]));
        let table = table(&["Dimension", "Handoffs lacking it", "Share"], rows);
        chart
            + &details("As a table", &table)
            + "<p class=\"hint\">Share of all handoff attempts whose scorecard had the \
               dimension red or yellow.</p>"
    };
    section("missing", "Dimensions most often missing", &body)
}

fn reasons(report: &Report) -> String {
    let reasons = &report.rejection_reasons;
    let body = if reasons.is_empty() {
        "<p class=\"empty\">No AE rejected a handoff in this period.</p>".to_owned()
    } else {
        let total = reasons.iter().map(|r| r.count).sum::<u64>().max(1) as f64;
        let bars: Vec<Bar> = reasons
            .iter()
            .map(|r| Bar {
                label: r.reason.clone(),
                length: r.count as f64 / total,
                value: format!(
                    "{} · {}",
                    percent(r.count as f64 / total),
                    times(r.count, "rejection")
                ),
            })
            .collect();
        let chart = bars_chart::bars(
            "reasons",
            &bars,
            &bars_label("Most common rejection reasons", &bars),
        );
        let rows = reasons
            .iter()
            .map(|r| row(&r.reason, &[r.count.to_string()]));
        chart + &details("As a table", &table(&["Reason", "Rejections"], rows))
    };
    section("reasons", "Most common rejection reasons", &body)
}

fn thresholds(report: &Report) -> String {
    let body = if report.thresholds.is_empty() {
        "<p class=\"empty\">No validated handoff in this period yet.</p>".to_owned()
    } else {
        let rows = report.thresholds.iter().map(|t| {
            let name = if t.threshold == report.threshold {
                format!("{} (now)", t.threshold)
            } else {
                t.threshold.to_string()
            };
            let figures = [
                t.validated.to_string(),
                t.accepted.to_string(),
                t.rejected_later.to_string(),
                t.rejection_rate.map_or("—".to_owned(), percent),
            ];
            row(&name, &figures)
        });
        table(
            &[
                "Thresh&shy;old",
                "Val&shy;i&shy;dat&shy;ed",
                "Ac&shy;cept&shy;ed",
                "Re&shy;ject&shy;ed later",
                "Share re&shy;ject&shy;ed",
            ],
            rows,
        )
    };
    let hint = "<p class=\"hint\">A high share rejected at a threshold suggests it is too low; \
                almost none rejected while many handoffs are blocked suggests it may be too \
                high.</p>";
    section(
        "thresholds",
        "Validated handoffs later rejected, per threshold",
        &(body + hint),
    )
}

fn per_bdr(per_bdr: &PerBdr) -> String {
    let (view, body) = match per_bdr {
        PerBdr::Hidden { why, shared, .. } if shared.is_empty() => {
            ("hidden", format!("<p>{}</p>", escape(why)))
        }
        PerBdr::Hidden { why, shared, .. } => (
            "hidden",
            format!(
                "<p>{}</p><p class=\"hint\">Shared by their own choice, on their own page:</p>{}",
                escape(why),
                bdr_table(shared)
            ),
        ),
        PerBdr::Shown { rows } if rows.is_empty() => (
            "shown",
            "<p class=\"empty\">No handoffs by any BDR in this period yet.</p>".to_owned(),
        ),
        PerBdr::Shown { rows } => {
            let intro = "<p class=\"hint\">Sorted by BDR. Counts for coaching each BDR, not \
                         for comparing them: the dimension to coach next is the one their \
                         handoffs lacked most often.</p>";
            ("shown", format!("{intro}{}", bdr_table(rows)))
        }
    };
    format!(
        "<section id=\"per-bdr\" data-view=\"{view}\" aria-labelledby=\"per-bdr-h\">\
         <h2 id=\"per-bdr-h\">Per BDR</h2>{body}</section>"
    )
}

/// The BDRs' rows, in the order given (by name).
fn bdr_table(rows: &[BdrRow]) -> String {
    let rows = rows.iter().map(|r| {
        let coach = r.coach_next.as_deref().map_or_else(
            || "coach next: nothing missing".to_owned(),
            |d| format!("coach next: <strong>{}</strong>", escape(d)),
        );
        format!(
            "<tr><th scope=\"row\">{}</th><td>{}<br>{coach}</td></tr>",
            person(r.name.as_deref(), &r.bdr),
            bdr_counts(&r.counts)
        )
    });
    table(&["BDR", "Handoffs, and what to coach next"], rows)
}

fn bars_label(title: &str, bars: &[Bar]) -> String {
    let items: Vec<String> = bars
        .iter()
        .map(|b| format!("{} {}", b.label, b.value))
        .collect();
    format!("{title}: {}.", items.join("; "))
}

/// The text for an empty section: no handoffs at all, or `otherwise`.
fn empty(report: &Report, otherwise: &str) -> String {
    let text = if report.totals.attempted == 0 {
        "No handoffs in this period yet."
    } else {
        otherwise
    };
    format!("<p class=\"empty\">{text}</p>")
}

#[cfg(test)]
mod tests;
