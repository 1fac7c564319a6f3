//! `date`: a calendar date or a dated timeframe ("3 December", "2026-12-10", "Friday", "next
//! Tuesday", "by end of Q1", "within two weeks", "tomorrow"), read on the day the record is
//! judged. A date that has already passed is found but does not count: a step dated last week
//! is overdue, not planned.

use time::{Date, Duration, Month, Weekday};

use super::words::{TIME_UNITS, Word, number_word};

/// The dates a text gives, as read on one day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dating {
    /// The first date or timeframe today or later, as written (with the day it falls on).
    pub ahead: Option<String>,
    /// The first date already passed, as written.
    pub passed: Option<String>,
}

/// The dates in `words`, read on `today`.
pub fn find(words: &[Word], today: Date) -> Dating {
    let mut dating = Dating::default();
    for at in 0..words.len() {
        let Some((found, day)) = date_at(words, at, today) else {
            continue;
        };
        match day {
            When::Passed(day) => {
                dating
                    .passed
                    .get_or_insert_with(|| format!("{found} ({day})"));
            }
            When::Ahead(Some(day)) => {
                dating
                    .ahead
                    .get_or_insert_with(|| format!("{found} ({day})"));
            }
            When::Ahead(None) => {
                dating.ahead.get_or_insert(found);
            }
        }
    }
    dating
}

/// When a date falls, seen from today.
enum When {
    /// Today or later; on this day when the text names one.
    Ahead(Option<Date>),
    /// Before today.
    Passed(Date),
}

fn on(day: Date, today: Date) -> When {
    if day < today {
        When::Passed(day)
    } else {
        When::Ahead(Some(day))
    }
}

/// The date or timeframe starting at `at`, as written, and when it falls.
fn date_at(words: &[Word], at: usize, today: Date) -> Option<(String, When)> {
    let word = &words[at];
    let text = |end: usize| {
        words[at..=end.min(words.len() - 1)]
            .iter()
            .map(Word::raw)
            .collect::<Vec<_>>()
            .join(" ")
    };
    if let Some(day) = numeric_date(&word.lower, today) {
        return Some((word.raw().to_owned(), on(day, today)));
    }
    if let Some(found) = day_and_month(words, at, today) {
        return Some(found);
    }
    if let Some(weekday) = weekday(word) {
        let last = at.checked_sub(1).is_some_and(|b| words[b].lower == "last");
        let ahead = i64::from(weekday.number_days_from_monday())
            - i64::from(today.weekday().number_days_from_monday());
        let day = if last {
            today - Duration::days((-ahead).rem_euclid(7).max(1))
        } else {
            today + Duration::days(ahead.rem_euclid(7))
        };
        return Some((word.raw().to_owned(), on(day, today)));
    }
    match word.lower.as_str() {
        "today" | "tonight" | "tomorrow" | "tmrw" | "eod" | "cob" | "eow" | "eom" | "eoq"
        | "eoy" => return Some((word.raw().to_owned(), When::Ahead(None))),
        "yesterday" => return Some((word.raw().to_owned(), When::Passed(today - Duration::DAY))),
        "this" | "next" | "coming" => {
            let period = words.get(at + 1)?;
            return matches!(period.lower.as_str(), "week" | "month" | "quarter")
                .then(|| (text(at + 1), When::Ahead(None)));
        }
        "end" if words.get(at + 1).is_some_and(|w| w.lower == "of") => {
            let skip = usize::from(words.get(at + 2).is_some_and(|w| w.lower == "the"));
            let period = words.get(at + 2 + skip)?;
            let dated = matches!(period.lower.as_str(), "week" | "month" | "quarter" | "year")
                || quarter(&period.lower);
            return dated.then(|| (text(at + 2 + skip), When::Ahead(None)));
        }
        "in" | "within" => return within(words, at).map(|end| (text(end), When::Ahead(None))),
        _ => {}
    }
    if quarter(&word.lower) && at.checked_sub(1).is_none_or(|b| words[b].lower != "last") {
        return Some((word.raw().to_owned(), When::Ahead(None)));
    }
    None
}

/// `2026-12-10`, `10/12/2026`, `10.12.2026`, `10/12`: day first, unless only month first fits.
fn numeric_date(word: &str, today: Date) -> Option<Date> {
    let parts: Vec<&str> = word.split(['-', '/', '.']).collect();
    let numbers: Vec<i32> = parts
        .iter()
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let dotted = word.contains('.');
    match numbers[..] {
        [y, m, d] if parts[0].len() == 4 => calendar(y, m, d),
        [d, m, y] if parts[2].len() == 4 || parts[2].len() == 2 => {
            let y = if y < 100 { 2000 + y } else { y };
            calendar(y, m, d).or_else(|| calendar(y, d, m))
        }
        [d, m] if !dotted => nearest(today, m, d).or_else(|| nearest(today, d, m)),
        _ => None,
    }
}

fn calendar(year: i32, month: i32, day: i32) -> Option<Date> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// The day `month`/`day` nearest to `today`, in the year before, this year or the next.
fn nearest(today: Date, month: i32, day: i32) -> Option<Date> {
    (today.year() - 1..=today.year() + 1)
        .filter_map(|year| calendar(year, month, day))
        .min_by_key(|date| (*date - today).whole_days().abs())
}

/// "3 December", "3rd of Dec", "December 3", "Dec 3rd 2026", and a month named as a timeframe
/// ("in January", "by end of March").
fn day_and_month(words: &[Word], at: usize, today: Date) -> Option<(String, When)> {
    let month = month(&words[at])?;
    let day_after = words.get(at + 1).and_then(|w| day_of_month(&w.lower));
    let day_before = at
        .checked_sub(1)
        .and_then(|b| day_of_month(&words[b].lower));
    let day_before = day_before.or_else(|| {
        let of = at.checked_sub(1).is_some_and(|b| words[b].lower == "of");
        at.checked_sub(2)
            .and_then(|b| day_of_month(&words[b].lower))
            .filter(|_| of)
    });
    let start = if day_before.is_some() && day_after.is_none() {
        at - 1 - usize::from(words[at - 1].lower == "of")
    } else {
        at
    };
    let Some(day) = day_after.or(day_before) else {
        let framed = at.checked_sub(1).is_some_and(|b| {
            matches!(
                words[b].lower.as_str(),
                "in" | "by"
                    | "before"
                    | "until"
                    | "till"
                    | "of"
                    | "early"
                    | "mid"
                    | "late"
                    | "during"
                    | "from"
                    | "this"
                    | "next"
            )
        });
        let end = nearest(today, month, 1)?
            .replace_day(1)
            .ok()
            .and_then(|first| first.checked_add(Duration::days(40)))
            .and_then(|d| d.replace_day(1).ok())
            .map(|next| next - Duration::DAY)?;
        return framed.then(|| (words[at].raw().to_owned(), on(end, today)));
    };
    let end = if day_after.is_some() { at + 1 } else { at };
    let year = words
        .get(end + 1)
        .and_then(|w| w.lower.parse::<i32>().ok())
        .filter(|y| (2000..2100).contains(y));
    let date = match year {
        Some(year) => calendar(year, month, day),
        None => nearest(today, month, day),
    }?;
    let text = words[start..=end + usize::from(year.is_some())]
        .iter()
        .map(Word::raw)
        .collect::<Vec<_>>()
        .join(" ");
    Some((text, on(date, today)))
}

/// A day of the month: `3`, `3rd`, `21st`.
fn day_of_month(word: &str) -> Option<i32> {
    let digits = word.trim_end_matches(['s', 't', 'n', 'd', 'r', 'h']);
    let suffix = &word[digits.len()..];
    let day: i32 = digits.parse().ok()?;
    (matches!(suffix, "" | "st" | "nd" | "rd" | "th") && (1..=31).contains(&day)).then_some(day)
}

/// "in two weeks", "within 10 business days", "in a month", "within the next 3 weeks": the index
/// of the unit that ends it.
fn within(words: &[Word], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while words.get(i).is_some_and(|w| {
        matches!(
            w.lower.as_str(),
            "the" | "next" | "a" | "an" | "couple" | "of"
        )
    }) {
        i += 1;
    }
    let counted = i > at + 1 && matches!(words[i - 1].lower.as_str(), "a" | "an" | "of");
    let number = words.get(i).is_some_and(|w| {
        w.lower.chars().all(|c| c.is_ascii_digit()) || number_word(&w.lower).is_some()
    });
    // A number may have a word before its unit ("10 business days"); "a" counts only one.
    let units = if number {
        i + 1..i + 3
    } else if counted {
        i..i + 1
    } else {
        return None;
    };
    let unit_at = units
        .into_iter()
        .find(|&u| words.get(u).is_some_and(|w| w.is_one_of(TIME_UNITS)))?;
    Some(unit_at)
}

/// `q1`–`q4`, `h1`, `h2`: a quarter or half, always ahead (the next one).
fn quarter(word: &str) -> bool {
    matches!(word, "q1" | "q2" | "q3" | "q4" | "h1" | "h2")
}

/// Whether `word` names a month.
pub fn is_month(word: &Word) -> bool {
    month(word).is_some()
}

fn month(word: &Word) -> Option<i32> {
    let months = [
        ("jan", "january"),
        ("feb", "february"),
        ("mar", "march"),
        ("apr", "april"),
        ("may", "may"),
        ("jun", "june"),
        ("jul", "july"),
        ("aug", "august"),
        ("sep", "september"),
        ("oct", "october"),
        ("nov", "november"),
        ("dec", "december"),
    ];
    let w = word.lower.as_str();
    let found = months
        .iter()
        .position(|(short, long)| w == *short || w == *long || (w == "sept" && *short == "sep"))?;
    Some(found as i32 + 1)
}

/// Whether `word` names a day of the week.
pub fn is_weekday(word: &Word) -> bool {
    weekday(word).is_some()
}

fn weekday(word: &Word) -> Option<Weekday> {
    Some(match word.lower.as_str() {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" | "weds" => Weekday::Wednesday,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;
    use crate::evidence::text::words::words;

    /// A Monday.
    const TODAY: Date = date!(2026 - 12 - 07);

    fn dating(text: &str) -> Dating {
        find(&words(text), TODAY)
    }

    #[test]
    fn dates_and_timeframes_ahead_are_found_with_their_day() {
        for (text, found) in [
            ("demo on 10 December", "10 December (2026-12-10)"),
            ("demo on 2026-12-10", "2026-12-10 (2026-12-10)"),
            ("call Friday", "Friday (2026-12-11)"),
            ("next Tuesday", "Tuesday (2026-12-08)"),
            ("by end of Q1", "end of Q1"),
            ("within two weeks", "within two weeks"),
            ("in a month", "in a month"),
            ("tomorrow at 10", "tomorrow"),
            ("sign by 3rd of January", "3rd of January (2027-01-03)"),
            ("Dec 15th", "Dec 15th (2026-12-15)"),
            ("board meeting in January", "January (2027-01-31)"),
            ("by 15/12", "15/12 (2026-12-15)"),
            ("next week", "next week"),
            ("end of the month", "end of the month"),
        ] {
            assert_eq!(dating(text).ahead.as_deref(), Some(found), "{text}");
        }
    }

    #[test]
    fn a_date_already_passed_is_found_but_not_ahead() {
        for text in [
            "demo on 3 December",
            "call on 2026-12-01",
            "met last Friday",
            "yesterday",
        ] {
            let d = dating(text);
            assert_eq!(d.ahead, None, "{text}");
            assert!(d.passed.is_some(), "{text}");
        }
    }

    #[test]
    fn vague_times_and_loose_month_words_are_no_date() {
        for text in [
            "soon",
            "asap",
            "later this year",
            "we may lose it",
            "after the holidays",
            "in a few weeks",
            "March forward",
        ] {
            assert_eq!(dating(text), Dating::default(), "{text}");
        }
    }
}
