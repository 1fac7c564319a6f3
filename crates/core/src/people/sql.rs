//! The names in a SQL database (the same `default` database as the ledger): one row per CRM
//! user, with when the CRM was asked. Reports read it; only a delivery writes it.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use super::{KnownName, PeopleStore};
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{corrupt, create_missing, integer, optional_text, placeholders, rows, text},
};

/// The statement that creates the names' table. A name is a CRM user's display name, nothing
/// else about them.
pub const SCHEMA: &[&str] = &["CREATE TABLE IF NOT EXISTS pg_people (
        crm TEXT NOT NULL,
        id TEXT NOT NULL,
        name TEXT,
        fetched_at INTEGER NOT NULL,
        PRIMARY KEY (crm, id)
    )"];

/// The most ids one statement names (well under SQLite's parameter limit).
const IDS_PER_STATEMENT: usize = 500;

/// The names over a [`Database`].
#[derive(Debug)]
pub struct SqlPeople<D> {
    db: D,
}

impl<D: Database> SqlPeople<D> {
    /// The names in `db`; call [`SqlPeople::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlPeople<D> {
        SqlPeople { db }
    }

    /// The database the names are in, for [`kept_names`].
    pub fn database(&self) -> &D {
        &self.db
    }

    /// Create the table when it does not exist yet.
    pub async fn create_tables(&self) -> Result<(), Error> {
        create_missing(&self.db, SCHEMA).await
    }
}

impl<D: Database> PeopleStore for SqlPeople<D> {
    async fn known(&self, crm: Crm, ids: &[&str]) -> Result<Vec<KnownName>, Error> {
        let mut known = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT id, name, fetched_at FROM pg_people WHERE crm = ? AND id IN ({})",
                placeholders(chunk.len())
            );
            let params = std::iter::once(crm.name().into())
                .chain(chunk.iter().map(|id| SqlValue::from(*id)))
                .collect();
            for row in self.db.execute(&sql, params).await? {
                let [id, name, fetched_at] =
                    row.try_into().map_err(|_| corrupt("pg_people's columns"))?;
                known.push(KnownName {
                    id: text(&id)?,
                    name: optional_text(&name),
                    fetched_at: OffsetDateTime::from_unix_timestamp(integer(&fetched_at))
                        .map_err(|_| corrupt("pg_people.fetched_at"))?,
                });
            }
        }
        Ok(known)
    }

    async fn keep(&self, crm: Crm, found: &[KnownName]) -> Result<(), Error> {
        for chunk in found.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "INSERT INTO pg_people (crm, id, name, fetched_at) VALUES {} \
                 ON CONFLICT (crm, id) DO UPDATE SET name = excluded.name, \
                 fetched_at = excluded.fetched_at",
                rows(chunk.len(), "(?, ?, ?, ?)")
            );
            let params = chunk
                .iter()
                .flat_map(|known| {
                    [
                        crm.name().into(),
                        known.id.as_str().into(),
                        known.name.as_deref().map_or(SqlValue::Null, SqlValue::from),
                        known.fetched_at.unix_timestamp().into(),
                    ]
                })
                .collect();
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }
}

/// Every name kept, by (CRM name, user id): what reports and pages show people by. Read from
/// the database only; a report never asks the CRM.
pub async fn kept_names(db: &impl Database) -> Result<BTreeMap<(String, String), String>, Error> {
    let rows = db
        .execute(
            "SELECT crm, id, name FROM pg_people WHERE name IS NOT NULL",
            Vec::new(),
        )
        .await?;
    rows.iter()
        .map(|row| match row.as_slice() {
            [crm, id, name] => Ok(((text(crm)?, text(id)?), text(name)?)),
            _ => Err(corrupt("pg_people's columns")),
        })
        .collect()
}

/// The name of `crm`'s user `id`, when a delivery kept it: what a rep's own page greets them by.
pub async fn name_of(db: &impl Database, crm: Crm, id: &str) -> Result<Option<String>, Error> {
    let rows = db
        .execute(
            "SELECT name FROM pg_people WHERE crm = ? AND id = ?",
            vec![crm.name().into(), id.into()],
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|row| row.first())
        .and_then(optional_text))
}
