//! The playbook's competitors, each time one is named in the call, with the minute.

use serde::Serialize;

use crate::{
    conversation::{sentences::Sentence, transcript::Transcript},
    evidence::text::words,
};

/// A competitor named in the call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mention {
    /// The competitor, as the playbook lists it.
    pub competitor: String,
    /// The minute of the call it came up in (0 for the first), when the call has times.
    pub minute: Option<u64>,
    /// Who named it.
    pub speaker: String,
    /// The sentence.
    pub quote: String,
}

/// Every sentence naming one of `competitors` (whole words, any case), once per competitor.
pub fn mentions(
    sentences: &[Sentence<'_>],
    competitors: &[String],
    transcript: &Transcript,
) -> Vec<Mention> {
    let mut found = Vec::new();
    if competitors.is_empty() {
        return found;
    }
    let names: Vec<Vec<words::Word>> = competitors.iter().map(|c| words::words(c)).collect();
    for sentence in sentences {
        let said = sentence.words();
        for (competitor, name) in competitors.iter().zip(&names) {
            let named = (0..said.len()).any(|at| named_at(&said, at, name));
            if named {
                found.push(Mention {
                    competitor: competitor.clone(),
                    minute: sentence.at_ms.map(|ms| ms / 60_000),
                    speaker: transcript.speakers[sentence.speaker].name.clone(),
                    quote: sentence.text.to_owned(),
                });
            }
        }
    }
    found
}

/// Whether the words of `name` start at `at`, exactly (a competitor's name takes no endings).
fn named_at(said: &[words::Word], at: usize, name: &[words::Word]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .enumerate()
            .all(|(k, w)| said.get(at + k).is_some_and(|s| s.lower == w.lower))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::sentences::sentences;

    #[test]
    fn a_competitor_is_noted_with_the_minute_it_came_up() {
        let mut t = Transcript::default();
        let dana = t.speaker("Dana");
        t.push(
            dana,
            Some(125_000),
            Some(130_000),
            "We also look at LedgerLoop. Acme Close too.",
        );
        t.push(
            dana,
            None,
            None,
            "Ledgerloops are everywhere, acme is not a competitor.",
        );
        let found = mentions(
            &sentences(&t),
            &["Acme Close".to_owned(), "LedgerLoop".to_owned()],
            &t,
        );
        let seen: Vec<(&str, Option<u64>)> = found
            .iter()
            .map(|m| (m.competitor.as_str(), m.minute))
            .collect();
        assert_eq!(seen, [("LedgerLoop", Some(2)), ("Acme Close", Some(2))]);
    }
}
