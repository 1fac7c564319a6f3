//! Figures in words, as every report writes them: counts of things, shares, tenths and times.

use time::{OffsetDateTime, UtcOffset};

/// `n` `things`, in words (`1 handoff`, `7 handoffs`).
pub(crate) fn times(n: u64, thing: &str) -> String {
    match n {
        1 => format!("1 {thing}"),
        n => format!("{n} {thing}s"),
    }
}

/// A share as a whole percentage (`42 %`).
pub(crate) fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

/// `x` to a tenth, without a trailing `.0`.
pub(crate) fn one_decimal(x: f64) -> String {
    let text = format!("{x:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// `2026-11-22 14:05 UTC`.
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(UtcOffset::UTC);
    format!("{} {:02}:{:02} UTC", at.date(), at.hour(), at.minute())
}
