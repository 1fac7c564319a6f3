//! The outside world as the core sees it: the ports a function's I/O goes through.
//!
//! A leaf module: it depends on nothing but the error and call types, so every stage and adapter
//! can name the ports without depending on the pipeline. Spin implements them in `crates/edge`;
//! [`crate::memory`] implements them in memory for tests and dry runs.

use std::time::Duration;

use crate::{Error, writeback::CrmCall};

/// A key-value store: small values the functions keep between requests (an OAuth access token).
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Store {
    /// The value at `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
    /// Set `key` to `value`.
    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error>;
}

/// The CRM's API.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait CrmClient {
    /// Send one call, giving up after `timeout`, and return the answer's JSON (`null` when it has
    /// none). Errors say whether a retry may succeed ([`Error::is_transient`]):
    /// [`Error::CrmRecordGone`] for a 404, [`Error::CrmRateLimited`] for a 429,
    /// [`Error::CrmRejected`] for another 4xx or an answer that cannot be used,
    /// [`Error::CrmUnavailable`] for a 5xx, a timeout or a broken connection.
    async fn send(&self, call: &CrmCall, timeout: Duration) -> Result<serde_json::Value, Error>;
}

/// Time as a delivery experiences it: how long it has run, and waiting.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Clock {
    /// Time since the delivery started (a monotonic clock).
    fn elapsed(&self) -> Duration;
    /// Wait for `duration`.
    async fn sleep(&self, duration: Duration);
}

/// A value bound to, or read from, a SQL statement.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// No value.
    Null,
}

impl SqlValue {
    /// The text, when this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SqlValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The integer, when this is one.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            SqlValue::Integer(n) => Some(*n),
            _ => None,
        }
    }
}

impl From<&str> for SqlValue {
    fn from(text: &str) -> SqlValue {
        SqlValue::Text(text.to_owned())
    }
}

impl From<String> for SqlValue {
    fn from(text: String) -> SqlValue {
        SqlValue::Text(text)
    }
}

impl From<i64> for SqlValue {
    fn from(n: i64) -> SqlValue {
        SqlValue::Integer(n)
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(value: Option<T>) -> SqlValue {
        value.map_or(SqlValue::Null, Into::into)
    }
}

/// The SQL a [`Database`] speaks. Stores write SQLite's spelling; [`crate::dialect`] rewrites it
/// for PostgreSQL in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Spin's `spin:sqlite` (SQLite embedded, or libSQL shared by several nodes).
    Sqlite,
    /// PostgreSQL through Spin's `spin:postgres`, shared by several nodes.
    Postgres,
}

/// A SQL database: Spin's `spin:sqlite` (SQLite embedded, or libSQL shared by several nodes) or
/// PostgreSQL. Each statement runs on its own and atomically; nothing relies on a transaction
/// spanning two calls, which a remote database would not keep.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait Database {
    /// Run one statement with positional `?` parameters and return its rows.
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error>;

    /// The SQL this database speaks; `execute` takes SQLite's spelling whatever it is.
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
}

/// A database borrowed: several stores over one connection (the rep's page reads what each
/// keeps).
impl<D: Database> Database for &D {
    async fn execute(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Vec<SqlValue>>, Error> {
        (**self).execute(sql, params).await
    }
}
