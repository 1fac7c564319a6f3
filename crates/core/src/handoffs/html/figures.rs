//! Figures in words: counts, shares, durations and dates as the report writes them.

use time::Date;

use crate::{
    handoffs::report::Counts,
    html::figures::{one_decimal, times},
};

/// A counts line in words, for a table cell or a chart's summary.
pub(super) fn counts_text(c: &Counts) -> String {
    let mut parts = vec![
        format!("{} attempted", c.attempted),
        format!("{} blocked", c.blocked),
    ];
    if c.would_block > 0 {
        parts.push(format!("{} would block", c.would_block));
    }
    parts.extend([
        format!("{} validated", c.validated),
        format!("{} accepted", c.accepted),
        format!("{} rejected", c.rejected),
    ]);
    parts.join(", ")
}

/// A BDR's counts: their handoffs, then the AEs' verdicts on them.
pub(super) fn bdr_counts(c: &Counts) -> String {
    let shadow = match c.would_block {
        0 => String::new(),
        n => format!(" · {n} would block"),
    };
    format!(
        "{}<br>{} blocked{shadow} · {} validated<br>AE: {} accepted · {} rejected",
        times(c.attempted, "handoff"),
        c.blocked,
        c.validated,
        c.accepted,
        c.rejected
    )
}

/// Hours as hours, or as days past 48 hours.
pub(super) fn duration(hours: f64) -> String {
    if hours > 48.0 {
        format!("{} days", one_decimal(hours / 24.0))
    } else {
        format!("{} h", one_decimal(hours))
    }
}

/// `16 Nov`, for a chart's axis.
pub(super) fn short_date(date: Date) -> String {
    let month = date.month().to_string();
    format!("{} {}", date.day(), &month[..3])
}
