//! The report's charts as inline SVG: a `viewBox` that scales to the page's width, `role="img"`
//! with a title that says what the chart shows, and colours from the Okabe–Ito palette, told
//! apart with colour blindness too.

use super::{escape, figures::one_decimal as num};
use crate::handoffs::report::Counts;

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

/// One bar of a horizontal bar chart.
pub(super) struct Bar {
    /// What it is (data: escaped when drawn).
    pub label: String,
    /// Its length, 0..=1 of the whole.
    pub length: f64,
    /// The figure written after it.
    pub value: String,
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

const BARS_WIDTH: f64 = 320.0;
const BAR_ROW: f64 = 34.0;
/// The most characters a label line holds (label and figure) at the chart's text size.
const LINE_CHARS: usize = 44;

/// Horizontal bars over a track of the whole (100 %), each with its label and figure above it.
pub(super) fn bars(id: &str, bars: &[Bar], label: &str) -> String {
    let body: String = bars
        .iter()
        .enumerate()
        .map(|(i, bar)| {
            let top = i as f64 * BAR_ROW;
            let length = (bar.length.clamp(0.0, 1.0) * BARS_WIDTH).max(1.0);
            let room = LINE_CHARS.saturating_sub(bar.value.chars().count() + 1);
            format!(
                "<text x=\"0\" y=\"{}\">{} <tspan class=\"value\">{}</tspan></text>\
                 <rect class=\"track\" x=\"0\" y=\"{y}\" width=\"{BARS_WIDTH}\" height=\"10\"/>\
                 <rect class=\"bar\" x=\"0\" y=\"{y}\" width=\"{}\" height=\"10\"/>",
                num(top + 13.0),
                escape(&shorten(&bar.label, room.max(12))),
                escape(&bar.value),
                num(length),
                y = num(top + 18.0),
            )
        })
        .collect();
    let height = bars.len() as f64 * BAR_ROW;
    svg(&format!("{id}-chart"), BARS_WIDTH, height, label, &body)
}

/// `label` in at most `chars` characters (the table under the chart has it whole).
fn shorten(label: &str, chars: usize) -> String {
    if label.chars().count() <= chars {
        label.to_owned()
    } else {
        label.chars().take(chars - 1).chain(['…']).collect()
    }
}

/// An SVG element: its `title` (data, escaped) names it for assistive technology.
fn svg(id: &str, width: f64, height: f64, label: &str, body: &str) -> String {
    format!(
        "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {width} {h}\" width=\"100%\" \
         role=\"img\" aria-labelledby=\"{id}-title\">\
         <title id=\"{id}-title\">{title}</title>{body}</svg>",
        h = num(height),
        title = escape(label),
    )
}

/// The top of a scale over 0..=`most`, and its step: 1, 2 or 5 times a power of ten, at most
/// four steps.
fn scale(most: u64) -> (u64, u64) {
    let most = most.max(1);
    let mut power = 1;
    loop {
        for step in [power, 2 * power, 5 * power] {
            let steps = most.div_ceil(step);
            if steps <= 4 {
                return (steps * step, step);
            }
        }
        power *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scale_has_at_most_four_round_steps() {
        assert_eq!(scale(0), (1, 1));
        assert_eq!(scale(3), (3, 1));
        assert_eq!(scale(7), (8, 2));
        assert_eq!(scale(18), (20, 5));
        assert_eq!(scale(41), (60, 20));
        assert_eq!(scale(1234), (1500, 500));
    }

    #[test]
    fn a_long_label_is_shortened_in_the_chart() {
        let long = "x".repeat(60);
        assert_eq!(shorten(&long, 30).chars().count(), 30);
        assert!(shorten(&long, 30).ends_with('…'));
        assert_eq!(shorten("Pain", 30), "Pain");
    }
}
