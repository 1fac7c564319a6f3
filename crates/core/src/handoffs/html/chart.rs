//! The handoff report's weekly chart: the gate's decisions beside the AE's verdicts, week by
//! week, in the shared chart style ([`crate::html::chart`]).

use crate::handoffs::report::Counts;
use crate::html::{
    chart::{scale, svg},
    escape,
    figures::one_decimal as num,
};

/// A series of the weekly chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Series {
    Blocked,
    WouldBlock,
    Validated,
    Accepted,
    Rejected,
}

impl Series {
    /// Every series, in the legend's order.
    pub(super) const ALL: [Series; 5] = [
        Series::Blocked,
        Series::WouldBlock,
        Series::Validated,
        Series::Accepted,
        Series::Rejected,
    ];

    /// Its CSS class, which colours a bar and its legend swatch.
    pub(super) fn class(self) -> &'static str {
        match self {
            Series::Blocked => "s-blocked",
            Series::WouldBlock => "s-would-block",
            Series::Validated => "s-validated",
            Series::Accepted => "s-accepted",
            Series::Rejected => "s-rejected",
        }
    }

    /// Its name in the legend.
    pub(super) fn name(self) -> &'static str {
        match self {
            Series::Blocked => "blocked",
            Series::WouldBlock => "would block (shadow)",
            Series::Validated => "validated",
            Series::Accepted => "accepted by the AE",
            Series::Rejected => "rejected by the AE",
        }
    }

    fn of(self, c: &Counts) -> u64 {
        match self {
            Series::Blocked => c.blocked,
            Series::WouldBlock => c.would_block,
            Series::Validated => c.validated,
            Series::Accepted => c.accepted,
            Series::Rejected => c.rejected,
        }
    }
}

/// One week of the weekly chart.
pub(super) struct WeekColumn {
    /// Its axis label (`16 Nov`).
    pub label: String,
    /// Its counts.
    pub counts: Counts,
}

const WIDTH: f64 = 400.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 30.0;
const RIGHT: f64 = 6.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 24.0;

/// The stack of the gate's decisions, bottom first, and of the AE's verdicts.
const GATE: [Series; 3] = [Series::Validated, Series::WouldBlock, Series::Blocked];
const VERDICTS: [Series; 2] = [Series::Accepted, Series::Rejected];

/// Handoffs by week: for each week a bar of the gate's decisions beside a bar of the AE's
/// verdicts, over a scale with gridlines.
pub(super) fn weeks(columns: &[WeekColumn], label: &str) -> String {
    let most = columns
        .iter()
        .map(|c| {
            c.counts
                .attempted
                .max(c.counts.accepted + c.counts.rejected)
        })
        .max()
        .unwrap_or(0);
    let (top, step) = scale(most);
    let plot = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let y = |v: u64| TOP + plot.1 - v as f64 / top as f64 * plot.1;
    let mut body = String::new();
    for tick in (0..=top).step_by(step as usize) {
        body += &format!(
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{tick}</text>",
            WIDTH - RIGHT,
            LEFT - 4.0,
            num(y(tick) + 4.0),
            y = num(y(tick)),
        );
    }
    let slot = plot.0 / columns.len().max(1) as f64;
    for (i, column) in columns.iter().enumerate() {
        let x = LEFT + i as f64 * slot;
        body += &stack(&column.counts, &GATE, x + slot * 0.1, slot * 0.45, &y);
        body += &stack(&column.counts, &VERDICTS, x + slot * 0.55, slot * 0.35, &y);
    }
    body += &axis_labels(columns, slot);
    svg("weeks-chart", WIDTH, HEIGHT, label, &body)
}

/// One stacked bar: `series` of `counts`, bottom first.
fn stack(counts: &Counts, series: &[Series], x: f64, width: f64, y: &dyn Fn(u64) -> f64) -> String {
    let mut below = 0;
    let mut bars = String::new();
    for s in series {
        let n = s.of(counts);
        if n > 0 {
            bars += &format!(
                "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>",
                s.class(),
                num(x),
                num(y(below + n)),
                num(width),
                num(y(below) - y(below + n)),
            );
        }
        below += n;
    }
    bars
}

/// A few week labels under the axis, the first and the last among them.
fn axis_labels(columns: &[WeekColumn], slot: f64) -> String {
    let n = columns.len();
    let mut picks: Vec<usize> = (0..4).map(|k| k * (n.saturating_sub(1)) / 3).collect();
    picks.dedup();
    picks
        .iter()
        .map(|&i| {
            let anchor = match i {
                0 if n > 1 => "start",
                i if i + 1 == n && n > 1 => "end",
                _ => "middle",
            };
            let x = match anchor {
                "start" => LEFT,
                "end" => WIDTH - RIGHT,
                _ => LEFT + (i as f64 + 0.5) * slot,
            };
            format!(
                "<text x=\"{}\" y=\"{}\" text-anchor=\"{anchor}\">{}</text>",
                num(x),
                HEIGHT - 6.0,
                escape(&columns[i].label)
            )
        })
        .collect()
}
