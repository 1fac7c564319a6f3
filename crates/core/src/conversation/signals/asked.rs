//! The rep's questions, and the playbook dimensions they ask about.
//!
//! A question asks about a dimension when it holds one of the words the playbook lists for it
//! (`[conversation.asked]`), or shares two content words with the dimension's own question
//! ("What does it *cost* them when it *happens*?").

use serde::Serialize;

use crate::{
    conversation::sentences::Sentence,
    evidence::text::{
        phrases::Phrases,
        words::{self, Word},
    },
    playbook::{Conversation, Dimension, Playbook},
};

/// The rep's questions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Questions {
    /// How many sentences of the rep's end in `?`.
    pub count: usize,
    /// Per 10 minutes of call; none when the call has no times.
    pub per_10_min: Option<f64>,
    /// The band the best calls ask within (`questions`).
    pub band: [u32; 2],
    /// Why, in one sentence.
    pub why: String,
}

/// One dimension the rep asked about: the first question that did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Asked {
    /// The dimension's key.
    pub dimension: String,
    /// The rep's question.
    pub question: String,
    /// When, in seconds.
    pub at_s: Option<f64>,
}

/// The dimensions the rep asked about, and those never asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DimensionsAsked {
    /// Each dimension asked about, in the playbook's order.
    pub asked: Vec<Asked>,
    /// The keys of the dimensions no question asked about.
    pub not_asked: Vec<String>,
    /// Why, in one sentence.
    pub why: String,
}

/// Count the rep's questions, per 10 minutes over a call of `duration_ms`.
pub fn questions(
    sentences: &[Sentence<'_>],
    rep: usize,
    duration_ms: Option<u64>,
    rules: &Conversation,
) -> Questions {
    let count = sentences
        .iter()
        .filter(|s| s.speaker == rep && s.is_question())
        .count();
    let per_10_min = duration_ms
        .filter(|&ms| ms > 0)
        .map(|ms| (count as f64 * 600_000.0 / ms as f64 * 10.0).round() / 10.0);
    let [low, high] = rules.questions;
    let reading = if count < low as usize {
        format!("fewer than the {low}–{high} the best discovery calls ask")
    } else if count > high as usize {
        format!("more than the {low}–{high} of the best discovery calls: more is not better")
    } else {
        format!("within the best discovery calls' {low}–{high}")
    };
    let rate = per_10_min.map_or(String::new(), |r| format!(" ({r} per 10 minutes)"));
    Questions {
        count,
        per_10_min,
        band: rules.questions,
        why: format!("The rep asked {count} question(s){rate}: {reading}."),
    }
}

/// The dimensions the rep's questions asked about, each by its first question.
pub fn dimensions(sentences: &[Sentence<'_>], rep: usize, playbook: &Playbook) -> DimensionsAsked {
    let shapes: Vec<(&Dimension, Vec<String>, Phrases)> = playbook
        .dimensions
        .iter()
        .map(|d| {
            let listed = playbook
                .conversation
                .asked
                .get(&d.key)
                .map_or(&[][..], Vec::as_slice);
            let listed = Phrases::new(listed.iter().map(String::as_str));
            (d, content_words(&words::words(&d.question)), listed)
        })
        .collect();
    let mut first: Vec<Option<&Sentence<'_>>> = vec![None; shapes.len()];
    for sentence in sentences
        .iter()
        .filter(|s| s.speaker == rep && s.is_question())
    {
        let words = sentence.words();
        let content = content_words(&words);
        for (slot, (_, own, listed)) in first.iter_mut().zip(&shapes) {
            if slot.is_none() && asks(&words, &content, own, listed) {
                *slot = Some(sentence);
            }
        }
    }
    let mut asked = Vec::new();
    let mut not_asked = Vec::new();
    for (found, (dimension, _, _)) in first.into_iter().zip(&shapes) {
        match found {
            Some(sentence) => asked.push(Asked {
                dimension: dimension.key.clone(),
                question: sentence.text.to_owned(),
                at_s: sentence.at_s(),
            }),
            None => not_asked.push(dimension.key.clone()),
        }
    }
    let names = |keys: &mut dyn Iterator<Item = &String>| {
        keys.filter_map(|k| playbook.dimension(k).map(|d| d.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let why = match (asked.is_empty(), not_asked.is_empty()) {
        (true, _) => "No question of the rep's asked about a playbook dimension.".to_owned(),
        (false, true) => format!(
            "The rep asked about every dimension: {}.",
            names(&mut asked.iter().map(|a| &a.dimension))
        ),
        (false, false) => format!(
            "The rep asked about {}; never about {}.",
            names(&mut asked.iter().map(|a| &a.dimension)),
            names(&mut not_asked.iter())
        ),
    };
    DimensionsAsked {
        asked,
        not_asked,
        why,
    }
}

/// The distinct content words of a question, lower case.
fn content_words(words: &[Word]) -> Vec<String> {
    let mut content: Vec<String> = words
        .iter()
        .filter(|w| w.content && w.lower.len() > 2)
        .map(|w| w.lower.clone())
        .collect();
    content.sort_unstable();
    content.dedup();
    content
}

/// Whether a question of `words`, with the distinct `content` words, asks about a dimension
/// whose question has the content words `own` and whose listed words are `listed`.
fn asks(words: &[Word], content: &[String], own: &[String], listed: &Phrases) -> bool {
    if !listed.find(words).is_empty() {
        return true;
    }
    let shared = content
        .iter()
        .filter(|w| own.binary_search(w).is_ok())
        .count();
    shared >= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{sentences::sentences, transcript::Transcript};

    fn rep_says(lines: &[&str]) -> Transcript {
        let mut t = Transcript::default();
        let sam = t.speaker("Sam");
        for (i, line) in lines.iter().enumerate() {
            let at = i as u64 * 60_000;
            t.push(sam, Some(at), Some(at + 60_000), line);
        }
        t
    }

    #[test]
    fn questions_are_counted_per_ten_minutes_against_the_band() {
        let t = rep_says(&["How do you close?", "I see. And who signs?", "Great."]);
        let q = questions(&sentences(&t), 0, Some(300_000), &Conversation::default());
        // 2 questions in 5 minutes: 4 per 10 minutes.
        assert_eq!((q.count, q.per_10_min), (2, Some(4.0)));
        assert_eq!(
            q.why,
            "The rep asked 2 question(s) (4 per 10 minutes): fewer than the 11–14 the best discovery calls ask."
        );
    }

    #[test]
    fn a_question_asks_about_a_dimension_by_its_words_or_the_dimensions_question() {
        let playbook = Playbook::default_playbook();
        let t = rep_says(&[
            // Shares "broken" and "today" with Pain's own question… and "today" is a Situation word.
            "What is broken in the close today?",
            // Listed for the economic buyer: "budget".
            "Whose budget would this come from?",
            // Not a question: no dimension.
            "Our budget tool is great.",
        ]);
        let asked = dimensions(&sentences(&t), 0, &playbook);
        let keys: Vec<(&str, Option<f64>)> = asked
            .asked
            .iter()
            .map(|a| (a.dimension.as_str(), a.at_s))
            .collect();
        assert_eq!(
            keys,
            [
                ("situation", Some(0.0)),
                ("pain", Some(0.0)),
                ("economic_buyer", Some(60.0))
            ]
        );
        assert_eq!(asked.not_asked, ["impact", "next_step"]);
        assert_eq!(
            asked.why,
            "The rep asked about Situation, Pain, Economic buyer; never about Impact, Next step."
        );
    }
}
