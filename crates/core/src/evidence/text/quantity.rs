//! `quantity`: a number with a unit, a currency, a percentage or a duration, in figures or in
//! words ("nine working days", "$180k", "two FTEs", "30 %", "€40,000", "half a day").
//!
//! A figure counts unless it is part of a date or a time ("3 December", "2026-12-10", "10am",
//! "Q1", a year): those are the `date` check's. A number word counts when a thing it counts
//! follows ("two FTEs", "half a day"); "one" only before a unit, since "one of them" counts
//! nothing.

use super::{
    consequence::CONSEQUENCE_WORDS,
    date,
    words::{TIME_UNITS, Word, number_word},
};

/// Currencies written as words.
const CURRENCIES: &[&str] = &[
    "usd", "eur", "gbp", "chf", "dollar", "euro", "pound", "bucks", "k", "m", "bn", "million",
    "billion", "thousand",
];

/// Units that make "one" a quantity ("one FTE"); with the time units.
const UNITS: &[&str] = &[
    "fte", "ftes", "person", "head", "hire", "rep", "seat", "licence", "license", "percent",
    "per cent", "team", "deal", "customer", "site", "plant",
];

/// Fractions that count after "by" ("cuts tickets by a quarter").
const FRACTIONS: &[&str] = &["half", "third", "quarter", "fifth", "tenth"];

/// The first quantity in `words`, as written.
pub fn find(words: &[Word]) -> Option<String> {
    (0..words.len()).find_map(|at| quantity_at(words, at))
}

fn quantity_at(words: &[Word], at: usize) -> Option<String> {
    let word = &words[at];
    if word.is_figure() {
        return figure_counts(words, at).then(|| with_unit(words, at));
    }
    if let Some(value) = number_word(&word.lower) {
        let next = next_content(words, at)?;
        let unit = &words[next];
        let counts = if value == 1.0 {
            unit.is_one_of(TIME_UNITS) || unit.is_one_of(UNITS)
        } else {
            !date::is_month(unit) && !date::is_weekday(unit)
        };
        let end = match words.get(next + 1) {
            Some(w) if w.is_one_of(TIME_UNITS) || w.is_one_of(UNITS) => next + 1,
            _ => next,
        };
        return counts.then(|| span(words, at, end));
    }
    if FRACTIONS.contains(&word.lower.as_str()) && by_a(words, at) {
        return Some(span(words, at.saturating_sub(2), at));
    }
    None
}

/// Whether the figure at `at` counts something rather than dating it.
fn figure_counts(words: &[Word], at: usize) -> bool {
    let word = &words[at].lower;
    let digits: String = word.chars().take_while(|c| c.is_ascii_digit()).collect();
    let suffix = &word[digits.len()..];
    if word.contains([':', '/', '-']) || matches!(suffix, "st" | "nd" | "rd" | "th" | "am" | "pm") {
        return false;
    }
    let after = words.get(at + 1);
    if after.is_some_and(|w| date::is_month(w) || matches!(w.lower.as_str(), "am" | "pm")) {
        return false;
    }
    let before = at.checked_sub(1).map(|b| &words[b]);
    if before.is_some_and(|w| date::is_month(w) || w.lower == "at") {
        return false;
    }
    let year = digits.len() == 4 && suffix.is_empty() && !word.contains([',', '.']);
    !year || after.is_some_and(|w| !w.function && !w.is_figure())
}

/// The figure at `at` with the currency before it and the unit after it, when there are.
fn with_unit(words: &[Word], at: usize) -> String {
    let start = match at.checked_sub(1) {
        Some(b) if is_currency(&words[b]) => b,
        _ => at,
    };
    // The word after a figure names what it counts ("300 tickets"), unless it says what
    // happens ("14,000 costs them").
    let counted = |w: &Word| !w.function && !w.is_figure() && !w.is_one_of(CONSEQUENCE_WORDS);
    let end = match words.get(at + 1) {
        Some(w) if w.lower == "%" || is_currency(w) || w.is_one_of(TIME_UNITS) => at + 1,
        // After a currency the amount is complete: "$60k a year", not "$60k costs".
        Some(w) if start == at && counted(w) => at + 1,
        _ => at,
    };
    span(words, start, end)
}

fn is_currency(word: &Word) -> bool {
    matches!(word.lower.as_str(), "$" | "€" | "£" | "¥") || word.is_one_of(CURRENCIES)
}

/// The next word after `at` that is not a function word, within two words ("half a day").
fn next_content(words: &[Word], at: usize) -> Option<usize> {
    (at + 1..words.len().min(at + 3)).find(|&i| !words[i].function)
}

/// Whether "by" or "by a" comes just before `at`.
fn by_a(words: &[Word], at: usize) -> bool {
    let before = |back: usize| at.checked_sub(back).map(|i| words[i].lower.as_str());
    before(1) == Some("by") || (matches!(before(1), Some("a" | "an")) && before(2) == Some("by"))
}

fn span(words: &[Word], start: usize, end: usize) -> String {
    words[start..=end]
        .iter()
        .map(Word::raw)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::text::words::words;

    fn quantity(text: &str) -> Option<String> {
        find(&words(text))
    }

    #[test]
    fn figures_words_currencies_and_fractions_are_quantities() {
        for (text, found) in [
            ("takes nine working days", "nine working days"),
            ("about $180k a year", "$ 180k"),
            ("frees two FTEs", "two FTEs"),
            ("by 30 %", "30 %"),
            ("a €40,000 penalty", "€ 40,000"),
            ("3 hours a week", "3 hours"),
            ("half a day each week", "half a day"),
            ("cuts tickets by a quarter", "by a quarter"),
            ("a team of 12", "12"),
            ("one FTE", "one FTE"),
        ] {
            assert_eq!(quantity(text).as_deref(), Some(found), "{text}");
        }
    }

    #[test]
    fn dates_times_years_and_loose_ones_are_not() {
        for text in [
            "demo on 3 December",
            "call on December 3",
            "by 2026-12-10",
            "call at 10am",
            "call at 10",
            "sign by 15/12",
            "in 2027",
            "by end of Q1",
            "one of them is slow",
            "on the 12th",
            "a few days",
        ] {
            assert_eq!(quantity(text), None, "{text}");
        }
    }
}
