//! The text hashes in memory, with the same semantics as [`super::sql::SqlTextHashes`]: for the
//! fixture tests and dry runs.

use std::{cell::RefCell, collections::BTreeMap};

use super::{DimensionText, TextHash, TextHashes};
use crate::{Error, crm_id::Crm};

/// Whose text a hash is: CRM, kind, dimension, record.
type Key = (&'static str, &'static str, String, String);

/// Text hashes in memory.
#[derive(Debug, Default)]
pub struct MemoryTextHashes(RefCell<BTreeMap<Key, TextHash>>);

impl TextHashes for MemoryTextHashes {
    async fn keep(&self, crm: Crm, texts: &[DimensionText]) -> Result<Vec<u32>, Error> {
        let key = |t: &DimensionText| {
            (
                crm.name(),
                t.kind.as_str(),
                t.dimension.clone(),
                t.record_id.clone(),
            )
        };
        let mut kept = self.0.borrow_mut();
        for t in texts {
            match t.hash {
                Some(hash) => kept.insert(key(t), hash),
                None => kept.remove(&key(t)),
            };
        }
        Ok(texts
            .iter()
            .map(|t| {
                let Some(hash) = t.hash else { return 0 };
                let same = kept.iter().filter(|((c, kind, dimension, _), h)| {
                    *c == crm.name()
                        && *kind == t.kind.as_str()
                        && *dimension == t.dimension
                        && **h == hash
                });
                u32::try_from(same.count()).unwrap_or(u32::MAX)
            })
            .collect())
    }
}
