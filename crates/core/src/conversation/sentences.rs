//! The turns cut into sentences, each with the second it was said at: within a timed turn, a
//! sentence is placed by how many of the turn's words come before it. A sentence borrows its
//! text from the transcript.

use super::transcript::Transcript;
use crate::evidence::text::words::{self, Word};

/// One sentence of the call.
#[derive(Debug, Clone)]
pub struct Sentence<'t> {
    /// The speaker, by index into the transcript's speakers.
    pub speaker: usize,
    /// The sentence as said.
    pub text: &'t str,
    /// When it was said, in milliseconds from the call's start, when the turn is timed.
    pub at_ms: Option<u64>,
    /// How many of the call's words come before it: where it falls when nothing is timed.
    pub words_before: usize,
}

impl Sentence<'_> {
    /// Its words, as the evidence checks read them: cut when a signal needs them and dropped
    /// after, so a call's words are never all held at once.
    pub fn words(&self) -> Vec<Word> {
        words::words(self.text)
    }

    /// Whether it is a question: it ends in `?` (closing quotes and brackets aside).
    pub fn is_question(&self) -> bool {
        self.text
            .trim_end_matches(['"', '\'', ')', '”', '’', ' '])
            .ends_with('?')
    }

    /// When it was said, in seconds.
    pub fn at_s(&self) -> Option<f64> {
        self.at_ms.map(|ms| ms as f64 / 1000.0)
    }
}

/// Every sentence of `transcript`, in order.
pub fn sentences(transcript: &Transcript) -> Vec<Sentence<'_>> {
    // Counted first: a call's sentences are held through the whole analysis, and a vector grown
    // by doubling may hold twice the room they need.
    let count = transcript
        .turns
        .iter()
        .map(|t| split(&t.text).count())
        .sum();
    let mut all = Vec::with_capacity(count);
    let mut words_before = 0;
    for turn in &transcript.turns {
        let total = turn.text.split_whitespace().count().max(1) as u64;
        let mut in_turn = 0u64;
        for text in split(&turn.text) {
            let at_ms = match (turn.start_ms, turn.end_ms) {
                // In u128: a transcript may claim times no call lasts.
                (Some(start), Some(end)) => {
                    let into = u128::from(end.saturating_sub(start)) * u128::from(in_turn)
                        / u128::from(total);
                    Some(start.saturating_add(u64::try_from(into).unwrap_or(u64::MAX)))
                }
                (start, _) => start,
            };
            let count = text.split_whitespace().count();
            all.push(Sentence {
                speaker: turn.speaker,
                text,
                at_ms,
                words_before,
            });
            in_turn += count as u64;
            words_before += count;
        }
    }
    all
}

/// `text` cut after each `.`, `?` or `!` that a space follows (or that ends it).
fn split(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let bytes = rest.as_bytes();
        let cut = (0..bytes.len())
            .find(|&i| {
                matches!(bytes[i], b'.' | b'?' | b'!')
                    && bytes.get(i + 1).is_none_or(|&b| b == b' ')
            })
            .map_or(rest.len(), |i| i + 1);
        let (sentence, tail) = rest.split_at(cut);
        rest = tail.trim_start();
        Some(sentence.trim())
    })
    .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timed_turn_places_each_sentence_by_the_words_before_it() {
        let mut t = Transcript::default();
        let sam = t.speaker("Sam");
        t.push(
            sam,
            Some(10_000),
            Some(20_000),
            "One two three four. Five six seven eight?",
        );
        t.push(sam, None, None, "Nine. Ten!");
        let s = sentences(&t);
        let placed: Vec<(&str, Option<u64>, usize, bool)> = s
            .iter()
            .map(|s| (s.text, s.at_ms, s.words_before, s.is_question()))
            .collect();
        assert_eq!(
            placed,
            [
                ("One two three four.", Some(10_000), 0, false),
                ("Five six seven eight?", Some(15_000), 4, true),
                ("Nine.", None, 8, false),
                ("Ten!", None, 9, false),
            ]
        );
    }

    #[test]
    fn decimals_and_abbreviated_figures_do_not_end_a_sentence() {
        let cut: Vec<&str> = split("It costs $1.5m a year. Really?").collect();
        assert_eq!(cut, ["It costs $1.5m a year.", "Really?"]);
    }
}
