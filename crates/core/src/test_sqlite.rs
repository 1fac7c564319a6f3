//! A SQLite database in memory for unit tests, as Spin's embedded one behaves.

use crate::{
    Error,
    ports::{Database, SqlValue},
};

/// A SQLite database in memory, as Spin's embedded one behaves.
pub(crate) struct Sqlite(rusqlite::Connection);

impl Sqlite {
    /// An empty database in memory.
    pub(crate) fn in_memory() -> Sqlite {
        Sqlite(rusqlite::Connection::open_in_memory().expect("SQLite in memory"))
    }
}

impl Database for Sqlite {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        let fail = |e: rusqlite::Error| Error::Store(e.to_string());
        let mut statement = self.0.prepare(sql).map_err(fail)?;
        let columns = statement.column_count();
        let params: Vec<rusqlite::types::Value> = params
            .into_iter()
            .map(|p| match p {
                SqlValue::Integer(n) => rusqlite::types::Value::Integer(n),
                SqlValue::Real(x) => rusqlite::types::Value::Real(x),
                SqlValue::Text(t) => rusqlite::types::Value::Text(t),
                SqlValue::Blob(b) => rusqlite::types::Value::Blob(b),
                SqlValue::Null => rusqlite::types::Value::Null,
            })
            .collect();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params))
            .map_err(fail)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(fail)? {
            let mut values = Vec::with_capacity(columns);
            for i in 0..columns {
                values.push(
                    match row.get::<_, rusqlite::types::Value>(i).map_err(fail)? {
                        rusqlite::types::Value::Integer(n) => SqlValue::Integer(n),
                        rusqlite::types::Value::Real(x) => SqlValue::Real(x),
                        rusqlite::types::Value::Text(t) => SqlValue::Text(t),
                        rusqlite::types::Value::Blob(b) => SqlValue::Blob(b),
                        rusqlite::types::Value::Null => SqlValue::Null,
                    },
                );
            }
            out.push(values);
        }
        Ok(out)
    }
}
