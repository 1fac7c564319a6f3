//! Charts as inline SVG: a `viewBox` that scales to the page's width, `role="img"` with a title
//! that says what the chart shows, and colours from the Okabe–Ito palette, told apart with
//! colour blindness too. Here: the parts every report draws with (an SVG element, a round scale)
//! and horizontal bars over a track of the whole.

use super::{escape, figures::one_decimal as num};

/// One bar of a horizontal bar chart.
pub(crate) struct Bar {
    /// What it is (data: escaped when drawn).
    pub label: String,
    /// Its length, 0..=1 of the whole.
    pub length: f64,
    /// The figure written after it.
    pub value: String,
}

const BARS_WIDTH: f64 = 320.0;
const BAR_ROW: f64 = 34.0;
/// The most characters a label line holds (label and figure) at the chart's text size.
const LINE_CHARS: usize = 44;

/// Horizontal bars over a track of the whole (100 %), each with its label and figure above it.
pub(crate) fn bars(id: &str, bars: &[Bar], label: &str) -> String {
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
pub(crate) fn svg(id: &str, width: f64, height: f64, label: &str, body: &str) -> String {
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
pub(crate) fn scale(most: u64) -> (u64, u64) {
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
