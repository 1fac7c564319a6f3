//! Figures in words: counts, shares, durations and dates as the report writes them.

use time::{Date, OffsetDateTime, UtcOffset};

use crate::handoffs::report::Counts;

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

/// `n` `things`, in words (`1 handoff`, `7 handoffs`).
pub(super) fn times(n: u64, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// A share as a whole percentage (`42 %`).
pub(super) fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// Hours as hours, or as days past 48 hours.
pub(super) fn duration(hours: f64) -> String {
    if hours > 48.0 {
        format!("{} days", one_decimal(hours / 24.0))
    } else {
        format!("{} h", one_decimal(hours))
    }
}

/// `x` to a tenth, without a trailing `.0`.
pub(super) fn one_decimal(x: f64) -> String {
    let text = format!("{x:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// `16 Nov`, for a chart's axis.
pub(super) fn short_date(date: Date) -> String {
    let month = date.month().to_string();
    format!("{} {}", date.day(), &month[..3])
}

/// `2026-11-22 14:05 UTC`.
pub(super) fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}
