//! A real PostgreSQL server for the scenarios that run on Spin against it:
//! `PIPELINE_GUARD_POSTGRES_URL` (`postgres://user@host:port`, as `.ci/run` starts one) names
//! it; without it those scenarios say so and run nowhere, unless
//! `PIPELINE_GUARD_POSTGRES=required`, which makes its absence a failure. Each node's state
//! directory gets a database of its own (nodes given the same directory share it), created and
//! read with `psql`.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use serde::de::{Deserializer, MapAccess, Visitor};

/// The server the scenarios may use, or `None` after saying why there is none.
pub fn server() -> Option<PostgresServer> {
    match std::env::var("PIPELINE_GUARD_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(PostgresServer {
            url: url.trim().trim_end_matches('/').to_owned(),
        }),
        _ => {
            let required = std::env::var("PIPELINE_GUARD_POSTGRES").is_ok_and(|v| v == "required");
            assert!(
                !required,
                "PIPELINE_GUARD_POSTGRES=required, but PIPELINE_GUARD_POSTGRES_URL is not set"
            );
            None
        }
    }
}

/// A PostgreSQL server: `postgres://user[:password]@host:port`, no database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresServer {
    url: String,
}

impl PostgresServer {
    /// The server at `url` (`postgres://user@host:port`).
    pub fn new(url: impl Into<String>) -> PostgresServer {
        PostgresServer { url: url.into() }
    }

    /// `postgres://host:port`: what `database_host` is set to.
    pub fn host(&self) -> String {
        let rest = self.url.trim_start_matches("postgres://");
        let authority = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        format!("postgres://{authority}")
    }

    /// The URL of `database` on this server, without TLS (a local server has none).
    pub fn database_url(&self, database: &str) -> String {
        format!("{}/{database}?sslmode=disable", self.url)
    }

    /// The database of the node state kept in `state_dir`, created when it does not exist.
    pub fn database_for(&self, state_dir: &Path) -> anyhow::Result<String> {
        let path = state_dir.to_string_lossy();
        let hash = path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let name = format!("pg_node_{hash:016x}");
        let exists = self.psql(
            "postgres",
            &format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
        )?;
        if exists.trim().is_empty() {
            self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        }
        Ok(name)
    }

    /// Runs `sql` on `database`: each row's columns as JSON values, in order.
    pub fn query(&self, database: &str, sql: &str) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
        let sql = sql.trim().trim_end_matches(';');
        let out = self.psql(
            database,
            &format!("SELECT COALESCE(json_agg(q), '[]') FROM ({sql}) q"),
        )?;
        let rows: Vec<Row> =
            serde_json::from_str(out.trim()).with_context(|| format!("psql answered {out:?}"))?;
        Ok(rows.into_iter().map(|row| row.0).collect())
    }

    /// `script` run by `psql` on `database`, stopping at the first error: its unaligned output.
    fn psql(&self, database: &str, script: &str) -> anyhow::Result<String> {
        let mut child = Command::new("psql")
            .arg(format!("{}/{database}", self.url))
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("psql (PostgreSQL's client) could not be started")?;
        child
            .stdin
            .take()
            .context("psql's input")?
            .write_all(script.as_bytes())?;
        let output = child.wait_with_output()?;
        if !output.status.success() {
            bail!(
                "psql on {database}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }
}

/// One row of `json_agg`: its values in column order (a JSON map would sort them).
struct Row(Vec<serde_json::Value>);

impl<'de> serde::Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Row, D::Error> {
        struct Columns;
        impl<'de> Visitor<'de> for Columns {
            type Value = Row;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a row as a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
                let mut values = Vec::new();
                while let Some((_, value)) = map.next_entry::<String, serde_json::Value>()? {
                    values.push(value);
                }
                Ok(Row(values))
            }
        }
        deserializer.deserialize_map(Columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_keeps_its_columns_in_order() {
        let rows: Vec<Row> = serde_json::from_str(r#"[{"z": 1, "a": "x", "a": null}]"#).unwrap();
        assert_eq!(
            rows[0].0,
            [
                serde_json::json!(1),
                serde_json::json!("x"),
                serde_json::Value::Null
            ]
        );
    }

    #[test]
    fn the_host_is_the_url_without_its_user() {
        let server = PostgresServer::new("postgres://guard:pw@127.0.0.1:5544");
        assert_eq!(server.host(), "postgres://127.0.0.1:5544");
        assert_eq!(
            server.database_url("d"),
            "postgres://guard:pw@127.0.0.1:5544/d?sslmode=disable"
        );
    }
}
