//! SQL dialects: the one place where SQLite and PostgreSQL differ.
//!
//! Every store writes its statements once, in SQLite's spelling, restricted to what both
//! databases mean the same way: `?` or `?N` placeholders; `INTEGER`, `REAL`, `TEXT` and `BLOB`
//! columns; `INSERT … ON CONFLICT (target) DO …` with qualified columns on the right of a
//! `SET` (`n = pg_roll.n + 1`); `CASE WHEN … THEN 1 ELSE 0 END` where a comparison is counted
//! (PostgreSQL has no arithmetic on booleans); `COALESCE`. A [`Database`] names its
//! [`Dialect`], and a PostgreSQL database sends each statement through
//! [`Dialect::statement`], which rewrites what cannot be written alike:
//!
//! - placeholders become `$N`, cast to the type of the value bound (`$1::BIGINT`), since
//!   PostgreSQL types each parameter from its context and refuses a 64-bit integer where it
//!   guessed a 32-bit one;
//! - a `CREATE TABLE` gets PostgreSQL's 64-bit types (`BIGINT`, `DOUBLE PRECISION`, `BYTEA`);
//! - a SQLite trigger (`CREATE TRIGGER IF NOT EXISTS … BEGIN …; END`) becomes a PL/pgSQL
//!   function and a `FOR EACH ROW` trigger calling it, so a rollup is still written in the
//!   statement's own transaction;
//! - `IFNULL`, two-argument `max`/`min`, `json_extract(x, '$.key')` and `json_each(x)` become
//!   `COALESCE`, `GREATEST`/`LEAST`, `x::jsonb ->> 'key'` and `jsonb_array_elements(x::jsonb)`;
//! - a `PRAGMA` is SQLite's alone and is not sent.
//!
//! [`Dialect::schema`] turns a store's `CREATE … IF NOT EXISTS` statements into what runs:
//! on PostgreSQL one `DO` block under an advisory lock, so two nodes creating the same tables
//! at once (`CREATE TABLE IF NOT EXISTS` is not safe against a concurrent creation there) take
//! turns. [`Dialect::existing`] reads which of them exist from the database's catalog.
//!
//! [`Database`]: crate::ports::Database

#[cfg(test)]
mod on_postgres;
mod postgres;
mod scan;

use std::borrow::Cow;

use crate::ports::{Dialect, SqlValue};

impl Dialect {
    /// The statement to send for `sql` with `params` bound; `None` when there is nothing to
    /// send on this database (a SQLite `PRAGMA` on PostgreSQL).
    pub fn statement<'a>(self, sql: &'a str, params: &[SqlValue]) -> Option<Cow<'a, str>> {
        match self {
            Dialect::Sqlite => Some(Cow::Borrowed(sql)),
            Dialect::Postgres => postgres::statement(sql, params).map(Cow::Owned),
        }
    }

    /// What runs to create the objects of `statements` (each `CREATE … IF NOT EXISTS`):
    /// the statements themselves on SQLite, one `DO` block under an advisory lock on
    /// PostgreSQL.
    pub fn schema(self, statements: &[&str]) -> Vec<String> {
        match self {
            Dialect::Sqlite => statements.iter().map(|s| (*s).to_owned()).collect(),
            Dialect::Postgres => vec![postgres::schema(statements)],
        }
    }

    /// A query counting how many of `names` (tables, indexes, triggers) exist, with one `?` per
    /// name.
    pub fn existing(self, names: usize) -> String {
        let placeholders = vec!["?"; names].join(", ");
        match self {
            Dialect::Sqlite => {
                format!("SELECT COUNT(*) FROM sqlite_master WHERE name IN ({placeholders})")
            }
            Dialect::Postgres => format!(
                "SELECT COUNT(*) FROM (SELECT c.relname AS name FROM pg_class c \
                 WHERE c.relnamespace = current_schema()::regnamespace \
                 UNION ALL SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 WHERE c.relnamespace = current_schema()::regnamespace) o \
                 WHERE o.name IN ({placeholders})"
            ),
        }
    }
}
