//! Reading a CRM's CSV export: its encoding and delimiter checked and named, each row turned
//! into a canonical deal through the [`ColumnMap`], a row that cannot be read reported with its
//! line, and a Salesforce report's trailer ("Grand Totals", "Confidential Information",
//! "Copyright") left out.

use anyhow::{Context, bail};
use pipeline_guard_core::model::{Contact, DealStatus, Record, parse_date, parse_time};
use serde_json::Value;
use time::{Date, OffsetDateTime, macros::format_description};

use super::columns::{ColumnMap, Target};

/// An export's text, checked.
#[derive(Debug, Clone)]
pub struct Export {
    text: String,
    delimiter: u8,
    /// What was noticed while checking it.
    pub notes: Vec<String>,
}

/// One data row of an export.
#[derive(Debug, Clone)]
pub enum Row {
    /// A deal.
    Deal(Box<Record>),
    /// A row that cannot be read: what is wrong.
    Broken(String),
    /// A line of a report's trailer.
    Trailer,
}

impl Export {
    /// Check `bytes` read from `file`: UTF-8 (a byte-order mark is dropped), and separated by
    /// commas, semicolons or tabs (the one the header has most of).
    pub fn check(bytes: Vec<u8>, file: &str) -> anyhow::Result<Export> {
        let mut notes = Vec::new();
        if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
            bail!(
                "{file} is UTF-16 (Excel's \"Unicode text\"), not UTF-8: export it again as \"CSV UTF-8\""
            );
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
                bail!(
                    "{file} is not UTF-8 (line {line}, byte {at}): probably Windows-1252 or Latin-1, as Excel saves \"CSV\"; export it again as \"CSV UTF-8\""
                );
            }
        };
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => {
                notes.push(format!(
                    "{file} starts with a byte-order mark (Excel's \"CSV UTF-8\"): dropped."
                ));
                rest.to_owned()
            }
            None => text,
        };
        let header = text.lines().next().unwrap_or_default();
        let count = |d: char| header.matches(d).count();
        let Some((delimiter, name)) = [(b',', "comma"), (b';', "semicolon"), (b'\t', "tab")]
            .into_iter()
            .filter(|(d, _)| count(char::from(*d)) > 0)
            .max_by_key(|(d, _)| count(char::from(*d)))
        else {
            bail!(
                "{file}: the header {header:?} has a single column: its delimiter is none of comma, semicolon or tab"
            );
        };
        if delimiter != b',' {
            notes.push(format!(
                "{file} is {name}-separated, not comma-separated (as Excel saves CSV in many locales): read with {name}s."
            ));
        }
        Ok(Export {
            text,
            delimiter,
            notes,
        })
    }

    fn reader(&self) -> csv::Reader<&[u8]> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .flexible(true)
            .from_reader(self.text.as_bytes())
    }

    /// The header's labels.
    pub fn headers(&self) -> anyhow::Result<Vec<String>> {
        Ok(self
            .reader()
            .headers()
            .context("cannot read the header")?
            .iter()
            .map(str::to_owned)
            .collect())
    }

    /// Each data row with its line, as `map` reads it.
    pub fn rows<'a>(&'a self, map: &'a ColumnMap) -> impl Iterator<Item = (u64, Row)> + 'a {
        let width = map.targets.len();
        self.reader()
            .into_records()
            .map(move |result| match result {
                Ok(record) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    (line, deal(&record, width, map))
                }
                Err(e) => {
                    let line = e.position().map_or(0, csv::Position::line);
                    (line, Row::Broken(e.to_string()))
                }
            })
    }
}

/// The trailer a Salesforce report ends with.
const TRAILER: &[&str] = &["Grand Totals", "Confidential Information", "Copyright (c)"];

fn deal(cells: &csv::StringRecord, width: usize, map: &ColumnMap) -> Row {
    let first = cells.get(0).unwrap_or_default().trim();
    if TRAILER.iter().any(|t| first.starts_with(t))
        && cells.iter().skip(1).all(|c| c.trim().is_empty())
    {
        return Row::Trailer;
    }
    if cells.len() != width {
        return Row::Broken(format!(
            "{} fields where the header has {width}: a delimiter or a quote inside a value?",
            cells.len()
        ));
    }
    match read(cells, map) {
        Ok(record) => Row::Deal(Box::new(record)),
        Err(problem) => Row::Broken(problem),
    }
}

fn read(cells: &csv::StringRecord, map: &ColumnMap) -> Result<Record, String> {
    let cell = |target: &Target| {
        map.position(target)
            .and_then(|i| cells.get(i))
            .map(str::trim)
            .filter(|c| !c.is_empty())
    };
    let id = cell(&Target::Id).ok_or("no deal id")?;
    let mut record = Record::new_deal(id);
    record.status = status(&cell, map)?;
    record.name = cell(&Target::Name).map(str::to_owned);
    record.owner_id = cell(&Target::Owner).map(str::to_owned);
    record.stage = cell(&Target::Stage).map(str::to_owned);
    record.pipeline = cell(&Target::Pipeline).map(str::to_owned);
    record.amount = cell(&Target::Amount).map(amount).transpose()?;
    let text = |target: &Target| cell(target).map(str::to_owned);
    record.close_date = record.read_date("close_date", text(&Target::CloseDate), export_date);
    record.last_activity_at =
        record.read_date("last_activity_at", text(&Target::LastActivity), export_time);
    record.next_activity_at =
        record.read_date("next_activity_at", text(&Target::NextActivity), export_time);
    for (i, target) in map.targets.iter().enumerate() {
        if let (Target::Field(field), Some(value)) = (target, cells.get(i))
            && !value.trim().is_empty()
        {
            record
                .fields
                .insert(field.clone(), Value::String(value.trim().to_owned()));
        }
    }
    let (name, title, role) = (
        text(&Target::ContactName),
        text(&Target::ContactTitle),
        text(&Target::ContactRole),
    );
    record.contact_roles_read = map.position(&Target::ContactRole).is_some();
    if name.is_some() || title.is_some() || role.is_some() {
        record.contacts.push(Contact {
            id: format!("{id}/contact"),
            name,
            email: None,
            title,
            role,
            authority: None,
        });
    }
    Ok(record)
}

/// Open, won or lost: from a status column, else Salesforce's `Won` and `Closed`, else the
/// stage's label; a status none of those is refused.
fn status<'c>(
    cell: &impl Fn(&Target) -> Option<&'c str>,
    map: &ColumnMap,
) -> Result<DealStatus, String> {
    let by_label = |label: &str| {
        let label = label.to_lowercase();
        if map.won.contains(&label) {
            Some(DealStatus::Won)
        } else if map.lost.contains(&label) {
            Some(DealStatus::Lost)
        } else {
            None
        }
    };
    if let Some(status) = cell(&Target::Status) {
        return match by_label(status) {
            Some(status) => Ok(status),
            None if status.eq_ignore_ascii_case("open") => Ok(DealStatus::Open),
            None => Err(format!(
                "status {status:?} is neither open, won nor lost (the override file's [stages] can name it)"
            )),
        };
    }
    if let Some(closed) = cell(&Target::Closed) {
        let closed = yes(closed).ok_or(format!("Closed {closed:?} is neither true nor false"))?;
        if !closed {
            return Ok(DealStatus::Open);
        }
        let won = cell(&Target::Won).unwrap_or("false");
        let won = yes(won).ok_or(format!("Won {won:?} is neither true nor false"))?;
        return Ok(if won {
            DealStatus::Won
        } else {
            DealStatus::Lost
        });
    }
    Ok(cell(&Target::Stage)
        .and_then(by_label)
        .unwrap_or(DealStatus::Open))
}

fn yes(text: &str) -> Option<bool> {
    match text.to_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// An amount as exports write it: `12000`, `12,000.50`, `$12,000`, `12.000,50 €`.
fn amount(text: &str) -> Result<f64, String> {
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '-'))
        .collect();
    let normal = match (kept.rfind('.'), kept.rfind(',')) {
        (Some(dot), Some(comma)) if comma > dot => kept.replace('.', "").replace(',', "."),
        (Some(_), Some(_)) => kept.replace(',', ""),
        // A comma alone before three digits groups thousands; before one or two it is decimal.
        (None, Some(comma)) if kept.len() - comma - 1 == 3 => kept.replace(',', ""),
        (None, Some(_)) => kept.replace(',', "."),
        _ => kept,
    };
    normal
        .parse()
        .map_err(|_| format!("amount {text:?} is not a number"))
}

/// A date as exports write it: ISO (`2026-11-30`, with a time or not), or `11/30/2026` (US).
fn export_date(text: &str) -> Option<Date> {
    parse_date(text)
        .or_else(|| text.get(..10).and_then(parse_date))
        .or_else(|| {
            Date::parse(
                text,
                format_description!("[month padding:none]/[day padding:none]/[year]"),
            )
            .ok()
        })
}

/// A time as exports write it, or a date's midnight (UTC).
fn export_time(text: &str) -> Option<OffsetDateTime> {
    parse_time(text).or_else(|| export_date(text).map(|d| d.midnight().assume_utc()))
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn amounts_read_as_exports_write_them() {
        assert_eq!(amount("12000"), Ok(12000.0));
        assert_eq!(amount("$12,000.50"), Ok(12000.5));
        assert_eq!(amount("12.000,50 €"), Ok(12000.5));
        assert_eq!(amount("12,5"), Ok(12.5));
        assert!(amount("n/a").is_err());
    }

    #[test]
    fn dates_read_iso_with_a_time_and_us() {
        assert_eq!(export_date("2026-11-30"), Some(date!(2026 - 11 - 30)));
        assert_eq!(export_date("2026-11-30 00:00"), Some(date!(2026 - 11 - 30)));
        assert_eq!(export_date("11/30/2026"), Some(date!(2026 - 11 - 30)));
        assert_eq!(export_date("soon"), None);
    }
}
