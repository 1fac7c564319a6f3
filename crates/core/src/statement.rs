//! Building SQL statements and reading their rows: shared by the ledger and the handoff log.

use crate::{Error, ports::SqlValue};

/// `n` positional parameters: `?, ?, ?`.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `n` copies of a `VALUES` row such as `(?, ?)`.
pub(crate) fn rows(n: usize, row: &str) -> String {
    vec![row; n].join(", ")
}

/// A row's `N` columns.
pub(crate) fn columns<const N: usize>(row: Vec<SqlValue>) -> Result<[SqlValue; N], Error> {
    row.try_into()
        .map_err(|_| Error::Store(format!("expected {N} columns from the database")))
}

/// A text column.
pub(crate) fn text(value: &SqlValue) -> Result<String, Error> {
    value
        .as_text()
        .map(str::to_owned)
        .ok_or_else(|| corrupt("a text column"))
}

/// A text column that may be null.
pub(crate) fn optional_text(value: &SqlValue) -> Option<String> {
    value.as_text().map(str::to_owned)
}

/// An integer column (a count is never null; a `SUM` over no row is, and reads as 0).
pub(crate) fn integer(value: &SqlValue) -> i64 {
    match value {
        SqlValue::Integer(n) => *n,
        SqlValue::Real(x) => *x as i64,
        _ => 0,
    }
}

/// A value the database holds that pipeline-guard cannot read.
pub(crate) fn corrupt(what: &str) -> Error {
    Error::Store(format!("the database holds an unreadable value in {what}"))
}
