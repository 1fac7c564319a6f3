//! The core's [`Database`] over Spin's `spin:postgres`: one PostgreSQL database several nodes
//! share, at `database_url`. Statements arrive in SQLite's spelling and leave through
//! [`Dialect::statement`]; values map to and from [`SqlValue`] (PostgreSQL's booleans and
//! integers of any width as integers, `NUMERIC` sums as integers when whole).

use pipeline_guard_core::{
    Error,
    ports::{Database, Dialect, SqlValue},
};
use spin_sdk::pg::{Connection, DbValue, ParameterValue};

use crate::database_address::checked_url;

/// A PostgreSQL database, as a [`Database`].
pub struct SpinPostgres(Connection);

impl SpinPostgres {
    /// The database at `url`, once its host and port are those `database_host` lets Spin call.
    pub async fn open(url: &str, allowed_host: &str) -> Result<SpinPostgres, Error> {
        let url = checked_url(url, allowed_host)?;
        let connection = Connection::open(url).await.map_err(|e| {
            Error::Store(format!(
                "cannot connect to the PostgreSQL database at `database_url` ({e})"
            ))
        })?;
        Ok(SpinPostgres(connection))
    }
}

impl Database for SpinPostgres {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        let Some(statement) = Dialect::Postgres.statement(sql, &params) else {
            return Ok(Vec::new());
        };
        let failed = |e: spin_sdk::pg::Error| Error::Store(format!("PostgreSQL: {e}"));
        let params: Vec<ParameterValue> = params
            .into_iter()
            .map(|p| match p {
                SqlValue::Integer(n) => ParameterValue::Int64(n),
                SqlValue::Real(x) => ParameterValue::Floating64(x),
                SqlValue::Text(t) => ParameterValue::Str(t),
                SqlValue::Blob(b) => ParameterValue::Binary(b),
                SqlValue::Null => ParameterValue::DbNull,
            })
            .collect();
        let result = self
            .0
            .query(statement.into_owned(), params)
            .await
            .map_err(failed)?;
        let width = result.columns().len();
        let rows = result.collect().await.map_err(failed)?;
        rows.iter()
            .map(|row| (0..width).map(|i| value(&row[i])).collect())
            .collect()
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
}

/// A value read from PostgreSQL as the core's.
fn value(value: &DbValue) -> Result<SqlValue, Error> {
    Ok(match value {
        DbValue::Boolean(b) => SqlValue::Integer(i64::from(*b)),
        DbValue::Int8(n) => SqlValue::Integer(i64::from(*n)),
        DbValue::Int16(n) => SqlValue::Integer(i64::from(*n)),
        DbValue::Int32(n) => SqlValue::Integer(i64::from(*n)),
        DbValue::Int64(n) => SqlValue::Integer(*n),
        DbValue::Floating32(x) => SqlValue::Real(f64::from(*x)),
        DbValue::Floating64(x) => SqlValue::Real(*x),
        DbValue::Str(t) => SqlValue::Text(t.clone()),
        DbValue::Binary(b) => SqlValue::Blob(b.clone()),
        DbValue::Decimal(d) => decimal(d)?,
        DbValue::DbNull => SqlValue::Null,
        other => {
            return Err(Error::Store(format!(
                "PostgreSQL answered a value pipeline-guard does not read: {other:?}"
            )));
        }
    })
}

/// A `NUMERIC` (what PostgreSQL's `SUM` of `BIGINT` is): an integer when whole.
fn decimal(text: &str) -> Result<SqlValue, Error> {
    let whole = match text.split_once('.') {
        None => Some(text),
        Some((int, fraction)) => fraction.bytes().all(|c| c == b'0').then_some(int),
    };
    if let Some(n) = whole.and_then(|w| w.parse::<i64>().ok()) {
        return Ok(SqlValue::Integer(n));
    }
    text.parse::<f64>()
        .map(SqlValue::Real)
        .map_err(|_| Error::Store(format!("PostgreSQL answered an unreadable number {text:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_numeric_reads_as_an_integer_and_another_as_a_real() {
        assert_eq!(decimal("42").unwrap(), SqlValue::Integer(42));
        assert_eq!(decimal("42.000").unwrap(), SqlValue::Integer(42));
        assert_eq!(decimal("-7").unwrap(), SqlValue::Integer(-7));
        assert_eq!(decimal("2.5").unwrap(), SqlValue::Real(2.5));
        assert!(decimal("x").is_err());
    }
}
