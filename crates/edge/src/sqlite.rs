//! The core's [`Database`] over Spin's `spin:sqlite`: the `default` database, SQLite embedded in
//! `spin up`, or libSQL shared by several nodes through a runtime config.

use pipeline_guard_core::{
    Error,
    ports::{Database, SqlValue},
};
use spin_sdk::sqlite::{Connection, Value};

/// The `default` SQLite database, as a [`Database`].
pub struct SpinSqlite(Connection);

impl SpinSqlite {
    /// The `default` database.
    pub async fn open() -> Result<SpinSqlite, Error> {
        let connection = Connection::open_default().await.map_err(|e| {
            Error::Store(format!(
                "cannot open the `default` SQLite database ({e:?}); add sqlite_databases = [\"default\"] to the component"
            ))
        })?;
        Ok(SpinSqlite(connection))
    }
}

impl Database for SpinSqlite {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        let failed = |e: spin_sdk::sqlite::Error| Error::Store(format!("SQLite: {e:?}"));
        let params = params.into_iter().map(|p| match p {
            SqlValue::Integer(n) => Value::Integer(n),
            SqlValue::Real(x) => Value::Real(x),
            SqlValue::Text(t) => Value::Text(t),
            SqlValue::Blob(b) => Value::Blob(b),
            SqlValue::Null => Value::Null,
        });
        let result = self.0.execute(sql, params).await.map_err(failed)?;
        let rows = result.collect().await.map_err(failed)?;
        let rows = rows
            .into_iter()
            .map(|row| {
                row.values
                    .into_iter()
                    .map(|v| match v {
                        Value::Integer(n) => SqlValue::Integer(n),
                        Value::Real(x) => SqlValue::Real(x),
                        Value::Text(t) => SqlValue::Text(t),
                        Value::Blob(b) => SqlValue::Blob(b),
                        Value::Null => SqlValue::Null,
                    })
                    .collect()
            })
            .collect();
        Ok(rows)
    }
}
