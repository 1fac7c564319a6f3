//! A word list prepared once for finding its phrases in texts.
//!
//! Every list is searched at every word of every text judged: a call's buyer says thousands of
//! sentences, an audit reads 100,000 deals. Trying each phrase at each word costs the list's
//! length per word; here the phrases are indexed by their first word, so a word asks only for the
//! few bases it can be an inflection of (as [`inflects`](super::words::inflects) reads them) and then compares the phrases led by them.

use rustc_hash::FxHashMap;

use super::words::{Word, parts};

/// One phrase of the list.
#[derive(Debug, Clone)]
struct Entry {
    /// Its place in the list: the first listed phrase wins where several start at one word.
    order: usize,
    /// As listed.
    phrase: String,
    /// The words after the first, compared exactly.
    rest: Vec<String>,
}

/// A word list, indexed by the first word of each phrase.
#[derive(Debug, Default)]
pub struct Phrases {
    /// First word → the phrases it leads.
    by_first: FxHashMap<String, Vec<Entry>>,
    /// A first word ending in `e`, without it → the phrases it leads (`closing` of `close`).
    by_stem: FxHashMap<String, Vec<Entry>>,
}

/// The endings [`inflects`](super::words::inflects) allows after a base.
const ENDINGS: [&str; 5] = ["s", "es", "d", "ed", "ing"];

impl Phrases {
    /// The list `phrases`, in order.
    pub fn new<'p>(phrases: impl IntoIterator<Item = &'p str>) -> Phrases {
        let mut list = Phrases::default();
        for (order, phrase) in phrases.into_iter().enumerate() {
            let mut words = parts(phrase).into_iter();
            let Some(first) = words.next().filter(|first| !first.is_empty()) else {
                continue;
            };
            let entry = Entry {
                order,
                phrase: phrase.to_owned(),
                rest: words.collect(),
            };
            if let Some(stem) = first.strip_suffix('e').filter(|stem| !stem.is_empty()) {
                let by_stem = list.by_stem.entry(stem.to_owned()).or_default();
                by_stem.push(entry.clone());
            }
            list.by_first.entry(first).or_default().push(entry);
        }
        list
    }

    /// Whether the list has no phrase.
    pub fn is_empty(&self) -> bool {
        self.by_first.is_empty()
    }

    /// The first listed phrase starting at `at` in `words`, its first word in any inflection.
    pub fn at<'s>(&'s self, words: &[Word], at: usize) -> Option<&'s str> {
        let follows = |entry: &&Entry| {
            entry
                .rest
                .iter()
                .enumerate()
                .all(|(k, part)| words.get(at + 1 + k).is_some_and(|w| w.lower == *part))
        };
        self.led_by(&words.get(at)?.lower)
            .filter(follows)
            .min_by_key(|entry| entry.order)
            .map(|entry| entry.phrase.as_str())
    }

    /// The phrases whose first word `lower` is, in any inflection: `lower` itself, `lower`
    /// without an ending, or without `ing` and with an `e` again.
    fn led_by<'s, 'w>(&'s self, lower: &'w str) -> impl Iterator<Item = &'s Entry> + use<'s, 'w> {
        let bases = std::iter::once(lower)
            .chain(
                ENDINGS
                    .iter()
                    .filter_map(|ending| lower.strip_suffix(ending)),
            )
            .filter(|base| !base.is_empty())
            .filter_map(|base| self.by_first.get(base));
        let stemmed = lower
            .strip_suffix("ing")
            .filter(|stem| !stem.is_empty())
            .and_then(|stem| self.by_stem.get(stem));
        bases.chain(stemmed).flatten()
    }

    /// The words at which one of the phrases starts, with the phrase as listed.
    pub fn find(&self, words: &[Word]) -> Vec<(usize, &str)> {
        if self.is_empty() {
            return Vec::new();
        }
        (0..words.len())
            .filter_map(|at| self.at(words, at).map(|phrase| (at, phrase)))
            .collect()
    }

    /// Whether `word` is one of the list's single words, in any inflection.
    pub fn has(&self, word: &Word) -> bool {
        self.led_by(&word.lower).any(|entry| entry.rest.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::evidence::text::words::{inflects, words};

    /// What finding a list means, read off its definition: at each word, the first listed
    /// phrase whose first word the text's word inflects and whose other words follow exactly.
    fn reference<'p>(text: &[Word], list: &[&'p str]) -> Vec<(usize, &'p str)> {
        (0..text.len())
            .filter_map(|at| {
                let found = list.iter().find(|phrase| {
                    let parts = parts(phrase);
                    parts.split_first().is_some_and(|(first, rest)| {
                        inflects(first, &text[at].lower)
                            && rest.iter().enumerate().all(|(k, part)| {
                                text.get(at + 1 + k).is_some_and(|w| w.lower == *part)
                            })
                    })
                });
                found.map(|phrase| (at, *phrase))
            })
            .collect()
    }

    #[test]
    fn inflections_of_a_phrases_first_word_are_found_and_the_first_listed_wins() {
        let list = ["close", "close date", "hold up", "sign-off", "cost"];
        let phrases = Phrases::new(list);
        let text = words("Closing the deal: costs held up, sign-off holds up the close date.");
        let found = phrases.find(&text);
        let shown: Vec<(&str, &str)> = found
            .iter()
            .map(|&(at, phrase)| (text[at].raw(), phrase))
            .collect();
        assert_eq!(
            shown,
            [
                ("Closing", "close"),
                ("costs", "cost"),
                ("sign", "sign-off"),
                ("holds", "hold up"),
                ("close", "close"),
            ]
        );
        assert_eq!(found, reference(&text, &list));
        assert!(Phrases::new(["demo", "head of"]).has(&words("demos")[0]));
        assert!(!Phrases::new(["head of"]).has(&words("head")[0]));
    }

    proptest! {
        /// The index finds exactly what trying every phrase at every word finds.
        #[test]
        fn the_index_finds_what_trying_every_phrase_finds(
            list in prop::collection::vec("[a-e]{1,4}( [a-e]{1,3})?|[a-e]{1,3}e", 0..12),
            text in "([a-e]{1,6}(s|es|d|ed|ing)? ){0,30}",
        ) {
            let list: Vec<&str> = list.iter().map(String::as_str).collect();
            let text = words(&text);
            let phrases = Phrases::new(list.iter().copied());
            prop_assert_eq!(phrases.find(&text), reference(&text, &list));
        }
    }
}
