//! Evidence kept as one value: a picklist entry, a number, a date, a yes/no.

use time::OffsetDateTime;

use super::Judgement;
use crate::{
    model::{Record, parse_date},
    score::Status,
};

fn missing(field: &str) -> Judgement {
    Judgement::new(Status::Red, None, format!("no evidence in `{field}`"))
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
    let (status, reason) = if listed(green) {
        (Status::Green, format!("`{field}` is {value:?}"))
    } else if listed(yellow) {
        (Status::Yellow, format!("`{field}` is only {value:?}"))
    } else if listed(red) {
        (Status::Red, format!("`{field}` is {value:?}"))
    } else {
        (
            Status::Red,
            format!("`{field}` is {value:?}, which the playbook does not count"),
        )
    };
    Judgement::new(status, Some(value), reason)
}

/// A number: green within `min..=max`, yellow outside, red when missing or not a number.
pub fn number(record: &Record, field: &str, min: Option<f64>, max: Option<f64>) -> Judgement {
    let Some(value) = record.number(field) else {
        return match record.text(field) {
            Some(t) => Judgement::new(Status::Red, Some(t), format!("`{field}` is not a number")),
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
    let (status, verdict) = if in_range {
        (Status::Green, "is")
    } else {
        (Status::Yellow, "should be")
    };
    Judgement::new(
        status,
        Some(value.to_string()),
        format!("`{field}` = {value}; it {verdict} {wanted}"),
    )
}

/// A date: green within the next `within_days` days, yellow further out or past.
pub fn date(record: &Record, field: &str, within_days: u32, now: OffsetDateTime) -> Judgement {
    let Some(raw) = record.text(field) else {
        return missing(field);
    };
    let Some(date) = parse_date(&raw) else {
        return Judgement::new(Status::Red, Some(raw), format!("`{field}` is not a date"));
    };
    let days = (date - now.date()).whole_days();
    let (status, reason) = if (0..=i64::from(within_days)).contains(&days) {
        (
            Status::Green,
            format!("`{field}` is {date}, in {days} day(s)"),
        )
    } else if days < 0 {
        (
            Status::Yellow,
            format!("`{field}` is {date}, {} day(s) ago", -days),
        )
    } else {
        (
            Status::Yellow,
            format!("`{field}` is {date}, more than {within_days} days out"),
        )
    };
    Judgement::new(status, Some(raw), reason)
}

/// A yes/no: green when yes, red when no or missing.
pub fn boolean(record: &Record, field: &str) -> Judgement {
    match record.flag(field) {
        Some(true) => Judgement::new(
            Status::Green,
            Some("yes".into()),
            format!("`{field}` is yes"),
        ),
        Some(false) => Judgement::new(
            Status::Red,
            Some("no".into()),
            format!("`{field}` is recorded as no"),
        ),
        None => missing(field),
    }
}
