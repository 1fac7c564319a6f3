//! Evidence kept as one value: a picklist entry, a number, a date, a yes/no.

use time::OffsetDateTime;

use super::Judgement;
use crate::{
    model::{Record, parse_date},
    score::Status,
};

fn missing(field: &str) -> Judgement {
    Judgement::short(
        Status::Red,
        None,
        format!("no evidence in `{field}`"),
        "nothing recorded",
    )
}

/// A picklist value mapped to a status by the `[green, yellow, red]` lists; unlisted is red.
pub fn picklist(
    record: &Record,
    field: &str,
    [green, yellow, red]: [&Vec<String>; 3],
) -> Judgement {
    let Some(value) = record.text(field) else {
        return missing(field);
    };
    let listed = |values: &[String]| values.iter().any(|v| v.eq_ignore_ascii_case(&value));
    if listed(green) {
        let reason = format!("`{field}` is {value:?}");
        Judgement::green(Some(value), reason)
    } else if listed(yellow) {
        let gap = format!("only {value:?}");
        Judgement::short(
            Status::Yellow,
            Some(value),
            format!("`{field}` is {gap}"),
            gap,
        )
    } else if listed(red) {
        let (reason, gap) = (
            format!("`{field}` is {value:?}"),
            format!("recorded as {value:?}"),
        );
        Judgement::short(Status::Red, Some(value), reason, gap)
    } else {
        let gap = format!("{value:?}, which the playbook does not count");
        Judgement::short(Status::Red, Some(value), format!("`{field}` is {gap}"), gap)
    }
}

/// A number: green within `min..=max`, yellow outside, red when missing or not a number.
pub fn number(record: &Record, field: &str, min: Option<f64>, max: Option<f64>) -> Judgement {
    let Some(value) = record.number(field) else {
        return match record.text(field) {
            Some(t) => Judgement::short(
                Status::Red,
                Some(t),
                format!("`{field}` is not a number"),
                "not a number",
            ),
            None => missing(field),
        };
    };
    let in_range = min.is_none_or(|m| value >= m) && max.is_none_or(|m| value <= m);
    let wanted = match (min, max) {
        (Some(min), Some(max)) => format!("between {min} and {max}"),
        (Some(min), None) => format!("at least {min}"),
        (None, Some(max)) => format!("at most {max}"),
        (None, None) => "any value".to_owned(),
    };
    if in_range {
        Judgement::green(
            Some(value.to_string()),
            format!("`{field}` = {value}; it is {wanted}"),
        )
    } else {
        Judgement::short(
            Status::Yellow,
            Some(value.to_string()),
            format!("`{field}` = {value}; it should be {wanted}"),
            format!("{value}, not {wanted}"),
        )
    }
}

/// A date: green within the next `within_days` days, yellow further out or past.
pub fn date(record: &Record, field: &str, within_days: u32, now: OffsetDateTime) -> Judgement {
    let Some(raw) = record.text(field) else {
        return missing(field);
    };
    let Some(date) = parse_date(&raw) else {
        return Judgement::short(
            Status::Red,
            Some(raw),
            format!("`{field}` is not a date"),
            "not a date",
        );
    };
    let days = (date - now.date()).whole_days();
    if (0..=i64::from(within_days)).contains(&days) {
        return Judgement::green(Some(raw), format!("`{field}` is {date}, in {days} day(s)"));
    }
    let gap = if days < 0 {
        format!("{date}, {} day(s) ago", -days)
    } else {
        format!("{date}, more than {within_days} days out")
    };
    Judgement::short(
        Status::Yellow,
        Some(raw),
        format!("`{field}` is {gap}"),
        gap,
    )
}

/// A yes/no: green when yes, red when no or missing.
pub fn boolean(record: &Record, field: &str) -> Judgement {
    match record.flag(field) {
        Some(true) => Judgement::green(Some("yes".into()), format!("`{field}` is yes")),
        Some(false) => Judgement::short(
            Status::Red,
            Some("no".into()),
            format!("`{field}` is recorded as no"),
            "recorded as no",
        ),
        None => missing(field),
    }
}
