//! Pasted templates across an export: how many deals hold each dimension's text, counted over
//! the whole file first, so each deal is scored knowing them as score-lead knows them from its
//! store ([`crate::templates`]).

use std::collections::BTreeMap;

use crate::{
    model::Record,
    playbook::Playbook,
    templates::{DimensionText, Templates, TextHash},
};

/// Every deal's dimension texts, counted by dimension and hash (never the texts).
#[derive(Debug, Clone, Default)]
pub struct TextCounts {
    /// Dimension key → text hash → deals holding it.
    counts: BTreeMap<String, BTreeMap<TextHash, u32>>,
}

/// One deal's texts as hashes, by dimension key: kept between counting and scoring, so no text
/// is hashed twice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DealTexts(Vec<(String, TextHash)>);

impl DealTexts {
    /// `record`'s text dimensions that hold a text, hashed.
    pub fn of(record: &Record, playbook: &Playbook) -> DealTexts {
        DealTexts(
            DimensionText::of(record, playbook)
                .into_iter()
                .filter_map(|text| Some((text.dimension, text.hash?)))
                .collect(),
        )
    }
}

impl TextCounts {
    /// Count a deal's `texts` (each deal once: an export lists a deal once).
    pub fn add(&mut self, texts: &DealTexts) {
        for (dimension, hash) in &texts.0 {
            let hashes = match self.counts.get_mut(dimension) {
                Some(hashes) => hashes,
                None => self.counts.entry(dimension.clone()).or_default(),
            };
            *hashes.entry(*hash).or_insert(0) += 1;
        }
    }

    /// For a deal with `texts`: how many deals hold the text of each of its text dimensions.
    pub fn templates(&self, texts: &DealTexts) -> Templates {
        texts
            .0
            .iter()
            .filter_map(|(dimension, hash)| {
                let count = self.counts.get(dimension)?.get(hash).copied()?;
                Some((dimension.clone(), count))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_on_several_deals_is_counted_on_each() {
        let playbook = Playbook::default_playbook();
        let mut counts = TextCounts::default();
        let deal = |id: &str, pain: &str| {
            let mut deal = Record::new_deal(id);
            deal.fields.insert("pain".into(), pain.into());
            deal
        };
        let pasted = "Reporting takes too long and costs us money every month";
        let texts: Vec<DealTexts> = [
            deal("D-1", pasted),
            deal("D-2", pasted),
            deal("D-3", "Month-end close takes nine days"),
        ]
        .iter()
        .map(|record| DealTexts::of(record, &playbook))
        .collect();
        for deal_texts in &texts {
            counts.add(deal_texts);
        }
        assert_eq!(counts.templates(&texts[0]).records_with("pain"), 2);
        assert_eq!(counts.templates(&texts[2]).records_with("pain"), 1);
    }
}
