//! Pasted templates: the same text in the same dimension of several of a CRM's deals (or leads)
//! is a template pasted in, not what a buyer said, and is no evidence.
//!
//! - [`TextHash`]: a dimension's text as it is kept: the SHA-256 of its
//!   [normalised](crate::placeholder::normalised) form, never the text.
//! - [`DimensionText`]: what one dimension of one record holds now, as a hash (nothing for an
//!   empty field or a placeholder).
//! - [`TextHashes`]: where every record's current hashes are kept and counted (the port):
//!   [`sql::SqlTextHashes`] in the SQL database, [`memory::MemoryTextHashes`] for tests and dry
//!   runs, [`NoTextHashes`] where nothing is scored.
//! - [`Templates`]: for one record, how many records hold each dimension's text: what the
//!   scorer judges ([`crate::scorecard::score_among`]).

pub mod memory;
pub mod sql;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::{
    Error,
    crm_id::Crm,
    evidence::EvidenceRule,
    model::{Record, RecordKind},
    placeholder,
    playbook::Playbook,
};

/// The SHA-256 of a text's normalised form: two texts that say the same thing, however cased,
/// punctuated or spaced, have the same hash. The text is not kept, but a hash is no secret: a
/// short, common text can be confirmed by hashing a guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextHash([u8; 32]);

impl TextHash {
    /// The hash of `text`, unless it is no text at all: empty, only punctuation, or one of the
    /// playbook's `placeholders` ([`placeholder::placeholder`]), which are never recorded.
    pub fn of(text: &str, placeholders: &[String]) -> Option<TextHash> {
        if placeholder::placeholder(text, placeholders).is_some() {
            return None;
        }
        Some(TextHash(
            Sha256::digest(placeholder::normalised(text).as_bytes()).into(),
        ))
    }

    /// The hash's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What one text dimension of one record holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DimensionText {
    /// Lead or deal: texts are compared among records of one kind (a lead converted into a deal
    /// carries its text along, and is not a second record holding it).
    pub kind: RecordKind,
    /// The record.
    pub record_id: String,
    /// The dimension's key.
    pub dimension: String,
    /// Its text's hash; `None` when the field is empty or holds a placeholder.
    pub hash: Option<TextHash>,
}

impl DimensionText {
    /// What `record` holds in each of `playbook`'s text dimensions whose field it carries. A
    /// field the CRM did not send (an outbound message or a Flow callout carries only the fields
    /// its admin chose) says nothing of the text: what was kept for it stays. A field sent empty
    /// or holding a placeholder forgets it.
    pub fn of(record: &Record, playbook: &Playbook) -> Vec<DimensionText> {
        Self::each(record, playbook)
            .into_iter()
            .filter(|(field, _)| record.fields.contains_key(field))
            .map(|(_, text)| text)
            .collect()
    }

    /// Every text dimension of `record` forgotten (the record was deleted).
    pub fn forgotten(record: &Record, playbook: &Playbook) -> Vec<DimensionText> {
        Self::each(record, playbook)
            .into_iter()
            .map(|(_, text)| DimensionText { hash: None, ..text })
            .collect()
    }

    /// Each text dimension's field with what `record` holds in it.
    fn each(record: &Record, playbook: &Playbook) -> Vec<(String, DimensionText)> {
        let placeholders = &playbook.handoff.placeholders;
        playbook
            .dimensions
            .iter()
            .filter(|d| matches!(d.evidence, EvidenceRule::Text(_)))
            .map(|d| {
                let text = DimensionText {
                    kind: record.kind,
                    record_id: record.id.clone(),
                    dimension: d.key.clone(),
                    hash: record
                        .text(d.field())
                        .and_then(|text| TextHash::of(&text, placeholders)),
                };
                (d.field().to_owned(), text)
            })
            .collect()
    }
}

/// Where the hashes of every record's dimension texts are kept, one per (CRM, kind, dimension,
/// record): keeping a record's text again replaces what it held, so a redelivery or a re-score
/// never counts it twice and an edited text moves its count.
#[allow(async_fn_in_trait)] // Spin components are single-threaded: no `Send` bound wanted.
pub trait TextHashes {
    /// Keep `texts` of `crm`'s records (a `None` hash forgets what the record held), then answer,
    /// for each, how many records of `crm` of its kind hold the same hash in its dimension, the
    /// record itself included (0 for `None`).
    async fn keep(&self, crm: Crm, texts: &[DimensionText]) -> Result<Vec<u32>, Error>;
}

/// A function that scores nothing (flag-stale-deals), or a dry run: nothing is kept, so every
/// text is on its own record only.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTextHashes;

impl TextHashes for NoTextHashes {
    async fn keep(&self, _: Crm, texts: &[DimensionText]) -> Result<Vec<u32>, Error> {
        Ok(texts.iter().map(|t| u32::from(t.hash.is_some())).collect())
    }
}

/// For one record: how many records of its CRM and kind hold the same text as each of its text
/// dimensions, by dimension key (itself included). A dimension not listed is on no other record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Templates(BTreeMap<String, u32>);

impl Templates {
    /// How many records hold the text of `dimension` (its key); 0 when not known.
    pub fn records_with(&self, dimension: &str) -> u32 {
        self.0.get(dimension).copied().unwrap_or(0)
    }
}

impl FromIterator<(String, u32)> for Templates {
    fn from_iter<I: IntoIterator<Item = (String, u32)>>(counts: I) -> Templates {
        Templates(counts.into_iter().collect())
    }
}

/// Keep the texts of several records in `hashes` in one call (`per_record`: each record's
/// [`DimensionText::of`]), and answer each record's [`Templates`], in their order.
pub async fn compare(
    crm: Crm,
    per_record: Vec<Vec<DimensionText>>,
    hashes: &impl TextHashes,
) -> Result<Vec<Templates>, Error> {
    let texts: Vec<DimensionText> = per_record.iter().flatten().cloned().collect();
    if texts.is_empty() {
        return Ok(vec![Templates::default(); per_record.len()]);
    }
    let counts = hashes.keep(crm, &texts).await?;
    if counts.len() != texts.len() {
        return Err(Error::Store(format!(
            "{} text counts answered for {} texts",
            counts.len(),
            texts.len()
        )));
    }
    let mut counts = counts.into_iter();
    Ok(per_record
        .into_iter()
        .map(|texts| {
            texts
                .into_iter()
                .zip(counts.by_ref())
                .filter(|(text, _)| text.hash.is_some())
                .map(|(text, count)| (text.dimension, count))
                .collect()
        })
        .collect())
}
