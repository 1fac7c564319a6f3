//! The text hashes in a SQL database (Spin's `spin:sqlite`, the same `default` database as the
//! ledger): one row per (CRM, kind, dimension, record) holding the hash of the record's current
//! text, counted through an index on the hash. A batch costs one upsert of the texts it holds,
//! then a delete of those it no longer holds and a count, each per [`MAX_TERMS`] texts: three
//! statements for a hundred records of the default playbook.

use std::collections::BTreeMap;

use super::{DimensionText, TextHash, TextHashes};
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{columns, create_missing, integer, rows, text},
};

/// The statements that create the text hashes' table, each run on its own. No column holds a
/// text: only the hash, and the keys saying whose dimension it is.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_text_hashes (
        crm TEXT NOT NULL,
        kind TEXT NOT NULL,
        dimension TEXT NOT NULL,
        record_id TEXT NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (crm, kind, dimension, record_id)
    )",
    "CREATE INDEX IF NOT EXISTS pg_text_hashes_same ON pg_text_hashes (crm, kind, dimension, hash)",
];

/// The most parameters one statement binds (SQLite's limit); a batch larger than that (a
/// playbook of hundreds of text dimensions) takes more statements.
const MAX_PARAMETERS: usize = 32_766;

/// The most texts one delete or count names: SQLite nests a chain of `OR`s one level deeper per
/// term and refuses an expression deeper than 1,000 (`SQLITE_MAX_EXPR_DEPTH`).
pub const MAX_TERMS: usize = 250;

/// The text hashes over a [`Database`].
#[derive(Debug)]
pub struct SqlTextHashes<D> {
    pub(super) db: D,
}

impl<D: Database> SqlTextHashes<D> {
    /// The hashes in `db`; call [`SqlTextHashes::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlTextHashes<D> {
        SqlTextHashes { db }
    }

    /// Create the table when it does not exist yet.
    pub async fn create_tables(&self) -> Result<(), Error> {
        create_missing(&self.db, SCHEMA).await
    }

    /// Replace the rows of `held` (texts with a hash).
    async fn upsert(&self, crm: Crm, held: &[(&DimensionText, &TextHash)]) -> Result<(), Error> {
        for chunk in held.chunks(MAX_PARAMETERS / 5) {
            let mut params = Vec::with_capacity(chunk.len() * 5);
            for (text, hash) in chunk {
                params.extend([
                    crm.name().into(),
                    text.kind.as_str().into(),
                    text.dimension.as_str().into(),
                    text.record_id.as_str().into(),
                    SqlValue::Blob(hash.as_bytes().to_vec()),
                ]);
            }
            let sql = format!(
                "INSERT INTO pg_text_hashes (crm, kind, dimension, record_id, hash) VALUES {} \
                 ON CONFLICT (crm, kind, dimension, record_id) DO UPDATE SET hash = excluded.hash",
                rows(chunk.len(), "(?, ?, ?, ?, ?)")
            );
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }

    /// Delete the rows of `emptied` (texts without a hash).
    async fn forget(&self, crm: Crm, emptied: &[&DimensionText]) -> Result<(), Error> {
        for chunk in emptied.chunks(MAX_TERMS) {
            let mut params = vec![SqlValue::from(crm.name())];
            for text in chunk {
                params.extend([
                    text.kind.as_str().into(),
                    text.dimension.as_str().into(),
                    text.record_id.as_str().into(),
                ]);
            }
            let sql = format!(
                "DELETE FROM pg_text_hashes WHERE crm = ? AND ({})",
                vec!["(kind = ? AND dimension = ? AND record_id = ?)"; chunk.len()].join(" OR ")
            );
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }

    /// How many records hold each of `wanted` (kind, dimension, hash).
    async fn count(
        &self,
        crm: Crm,
        wanted: &[(&str, &str, &TextHash)],
    ) -> Result<BTreeMap<(String, String, TextHash), u32>, Error> {
        let mut counts = BTreeMap::new();
        for chunk in wanted.chunks(MAX_TERMS) {
            let mut params = vec![SqlValue::from(crm.name())];
            for (kind, dimension, hash) in chunk {
                params.extend([
                    (*kind).into(),
                    (*dimension).into(),
                    SqlValue::Blob(hash.as_bytes().to_vec()),
                ]);
            }
            let sql = format!(
                "SELECT kind, dimension, hash, COUNT(*) FROM pg_text_hashes WHERE crm = ? AND ({}) \
                 GROUP BY kind, dimension, hash",
                vec!["(kind = ? AND dimension = ? AND hash = ?)"; chunk.len()].join(" OR ")
            );
            for row in self.db.execute(&sql, params).await? {
                let [kind, dimension, hash, count] = columns(row)?;
                let hash = match hash {
                    SqlValue::Blob(bytes) => bytes.try_into().map(TextHash).ok(),
                    _ => None,
                }
                .ok_or_else(|| crate::statement::corrupt("a text hash"))?;
                let count = u32::try_from(integer(&count)).unwrap_or(u32::MAX);
                counts.insert((text(&kind)?, text(&dimension)?, hash), count);
            }
        }
        Ok(counts)
    }
}

impl<D: Database> TextHashes for SqlTextHashes<D> {
    async fn keep(&self, crm: Crm, texts: &[DimensionText]) -> Result<Vec<u32>, Error> {
        // A row is written once per statement: of one record's dimension given twice, the last.
        let mut latest: BTreeMap<(&str, &str, &str), &DimensionText> = BTreeMap::new();
        for t in texts {
            latest.insert((t.kind.as_str(), &t.dimension, &t.record_id), t);
        }
        let (held, emptied): (Vec<&DimensionText>, Vec<&DimensionText>) =
            latest.into_values().partition(|t| t.hash.is_some());
        let held: Vec<(&DimensionText, &TextHash)> = held
            .into_iter()
            .filter_map(|t| t.hash.as_ref().map(|hash| (t, hash)))
            .collect();
        if !emptied.is_empty() {
            self.forget(crm, &emptied).await?;
        }
        if held.is_empty() {
            return Ok(vec![0; texts.len()]);
        }
        self.upsert(crm, &held).await?;
        let mut wanted: Vec<(&str, &str, &TextHash)> = held
            .iter()
            .map(|(t, hash)| (t.kind.as_str(), t.dimension.as_str(), *hash))
            .collect();
        wanted.sort();
        wanted.dedup();
        let counts = self.count(crm, &wanted).await?;
        Ok(texts
            .iter()
            .map(|t| {
                t.hash.map_or(0, |hash| {
                    let key = (t.kind.as_str().to_owned(), t.dimension.clone(), hash);
                    counts.get(&key).copied().unwrap_or(0)
                })
            })
            .collect())
    }
}
