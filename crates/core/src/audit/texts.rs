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
    counts: BTreeMap<(String, TextHash), u32>,
}

impl TextCounts {
    /// Count `record`'s texts (each deal once: an export lists a deal once).
    pub fn add(&mut self, record: &Record, playbook: &Playbook) {
        for text in DimensionText::of(record, playbook) {
            if let Some(hash) = text.hash {
                *self.counts.entry((text.dimension, hash)).or_insert(0) += 1;
            }
        }
    }

    /// For `record`: how many deals hold the text of each of its text dimensions.
    pub fn templates(&self, record: &Record, playbook: &Playbook) -> Templates {
        DimensionText::of(record, playbook)
            .into_iter()
            .filter_map(|text| {
                let hash = text.hash?;
                let count = self.counts.get(&(text.dimension.clone(), hash)).copied()?;
                Some((text.dimension, count))
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
        for record in [
            deal("D-1", pasted),
            deal("D-2", pasted),
            deal("D-3", "Month-end close takes nine days"),
        ] {
            counts.add(&record, &playbook);
        }
        assert_eq!(
            counts
                .templates(&deal("D-1", pasted), &playbook)
                .records_with("pain"),
            2
        );
        assert_eq!(
            counts
                .templates(&deal("D-3", "Month-end close takes nine days"), &playbook)
                .records_with("pain"),
            1
        );
    }
}
