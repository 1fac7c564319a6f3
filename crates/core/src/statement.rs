//! Building SQL statements and reading their rows: shared by the ledger, the handoff log and the
//! review queue and the text hashes.

use crate::{
    Error,
    ports::{Database, SqlValue},
};

/// `n` positional parameters: `?, ?, ?`.
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// `n` copies of a `VALUES` row such as `(?, ?)`.
pub(crate) fn rows(n: usize, row: &str) -> String {
    vec![row; n].join(", ")
}

/// How many rows `condition` holds for, as an aggregate: 0 over no row. Counted with `CASE`,
/// since PostgreSQL has no sum of comparisons.
pub(crate) fn count_where(condition: &str) -> String {
    format!("COALESCE(SUM(CASE WHEN {condition} THEN 1 ELSE 0 END), 0)")
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

/// Run the `CREATE … IF NOT EXISTS` `statements` unless every object they create is there: one
/// read in the usual case (Spin gives each request a new instance, and each checks once). On
/// PostgreSQL they run as one block under a lock ([`crate::ports::Dialect::schema`]).
pub(crate) async fn create_missing(db: &impl Database, statements: &[&str]) -> Result<(), Error> {
    let names: Vec<SqlValue> = statements
        .iter()
        .filter_map(|statement| created_name(statement))
        .map(SqlValue::from)
        .collect();
    let dialect = db.dialect();
    if names.len() == statements.len() {
        let found = db.execute(&dialect.existing(names.len()), names).await?;
        let count = found.first().and_then(|row| row.first()).map_or(0, integer);
        if count == statements.len() as i64 {
            return Ok(());
        }
    }
    for statement in dialect.schema(statements) {
        db.execute(&statement, Vec::new()).await?;
    }
    Ok(())
}

/// The object a `CREATE … IF NOT EXISTS <name>` statement creates.
pub(crate) fn created_name(statement: &str) -> Option<&str> {
    let mut words = statement.split_whitespace();
    words.find(|word| word.eq_ignore_ascii_case("EXISTS"))?;
    words.next().map(|name| name.trim_end_matches('('))
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::{handoffs, ledger, review, templates, test_sqlite::Sqlite};

    #[test]
    fn every_schema_statement_names_what_it_creates_and_a_second_check_creates_nothing() {
        let schemas: [&[&str]; 5] = [
            ledger::sql::SCHEMA,
            handoffs::sql::SCHEMA,
            handoffs::rollup::SCHEMA,
            review::sql::SCHEMA,
            templates::sql::SCHEMA,
        ];
        let db = Sqlite::in_memory();
        for schema in schemas {
            let names: Vec<&str> = schema.iter().filter_map(|s| created_name(s)).collect();
            assert_eq!(names.len(), schema.len(), "{names:?}");
            assert!(names.iter().all(|n| n.starts_with("pg_")), "{names:?}");
        }
        let all: Vec<&str> = schemas.iter().flat_map(|s| s.iter().copied()).collect();
        block_on(create_missing(&db, &all)).unwrap();
        let objects = |db: &Sqlite| {
            block_on(db.execute(
                "SELECT COUNT(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                Vec::new(),
            ))
            .unwrap()
        };
        let created = objects(&db);
        assert_eq!(created[0][0], SqlValue::Integer(all.len() as i64));
        block_on(create_missing(&db, &all)).unwrap();
        assert_eq!(objects(&db), created);
    }
}
