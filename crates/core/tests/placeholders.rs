//! Properties of "is this evidence at all": a placeholder stays one however it is punctuated,
//! cased, spaced or repeated, and a real sentence stays evidence however punctuation is
//! sprinkled between its words.

use pipeline_guard_core::{
    model::Record,
    placeholder::{normalised, placeholder},
    playbook::Playbook,
    score::Status,
};
use proptest::prelude::*;
use time::{OffsetDateTime, macros::datetime};

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

/// Marks reps put in and around placeholders.
const MARKS: &[&str] = &[
    ".", "-", "/", "_", "!", "?", "(", ")", "[", "]", "*", ",", ";", ":", "—", "…", " ",
];

fn mark() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(MARKS.to_vec()), 0..3).prop_map(|m| m.concat())
}

/// One of the default playbook's placeholders, each letter in either case and followed by any
/// marks.
fn disguised_placeholder() -> impl Strategy<Value = String> {
    let listed: Vec<String> = Playbook::default_playbook()
        .handoff
        .placeholders
        .into_iter()
        .filter(|p| p.chars().any(char::is_alphanumeric))
        .collect();
    prop::sample::select(listed).prop_flat_map(|p| {
        let letters: Vec<char> = p.chars().filter(|c| !c.is_whitespace()).collect();
        let n = letters.len();
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(mark(), n),
        )
            .prop_map(move |(upper, marks)| {
                letters
                    .iter()
                    .zip(upper)
                    .zip(marks)
                    .map(|((c, up), m)| {
                        let c = if up { c.to_ascii_uppercase() } else { *c };
                        format!("{c}{m}")
                    })
                    .collect::<String>()
            })
    })
}

/// Real evidence, as reps write it.
const SENTENCES: &[(&str, &str)] = &[
    (
        "pain",
        "Month-end close takes nine working days and delays board reporting",
    ),
    (
        "pain",
        "Manual invoice matching costs the AP team about 3 hours a day",
    ),
    ("impact", "Saves about $180k a year in duplicate payments"),
    ("impact", "Would free 3 hours a week per rep for selling"),
    ("next_step", "Demo with the CFO on 10 December"),
    ("next_step", "Workshop with the controller next Tuesday"),
    (
        "situation",
        "Finance team of 12 closes the books in Excel spreadsheets",
    ),
];

fn judged(dimension: &str, text: &str) -> (Status, String) {
    let playbook = Playbook::default_playbook();
    let d = playbook.dimension(dimension).expect("dimension");
    let mut record = Record::new_deal("D-prop");
    record.fields.insert(d.field().to_owned(), text.into());
    let j = d.judge(&record, &playbook.handoff.placeholders, NOW);
    (j.status, j.reason)
}

proptest! {
    #[test]
    fn a_placeholder_disguised_and_repeated_is_never_evidence(
        pieces in prop::collection::vec((disguised_placeholder(), mark()), 1..5),
        dimension in prop::sample::select(vec!["situation", "pain", "impact", "next_step"]),
    ) {
        let text: String = pieces.iter().map(|(p, m)| format!("{p}{m} ")).collect();
        let placeholders = Playbook::default_playbook().handoff.placeholders;
        prop_assert!(placeholder(&text, &placeholders).is_some(), "{:?}", text);
        let (status, reason) = judged(dimension, &text);
        prop_assert_eq!(status, Status::Red, "{:?}: {}", text, reason);
    }

    #[test]
    fn one_word_repeated_is_never_evidence(
        word in "[A-Za-z]{1,10}",
        separators in prop::collection::vec(mark(), 1..7),
    ) {
        let text: String = separators.iter().map(|s| format!("{word}{s} ")).collect::<String>()
            + &word;
        prop_assert!(placeholder(&text, &[]).is_some(), "{:?}", text);
    }

    #[test]
    fn a_real_sentence_with_punctuation_sprinkled_stays_evidence(
        (dimension, sentence) in prop::sample::select(SENTENCES.to_vec()),
        marks in prop::collection::vec(mark(), 12),
    ) {
        let text: String = sentence
            .split(' ')
            .zip(marks.iter().cycle())
            .map(|(word, m)| format!("{word}{m} "))
            .collect();
        let placeholders = Playbook::default_playbook().handoff.placeholders;
        prop_assert_eq!(placeholder(&text, &placeholders), None, "{:?}", text);
        let (status, reason) = judged(dimension, &text);
        prop_assert!(!reason.contains("holds no evidence"), "{:?}: {}", text, reason);
        prop_assert_ne!(status, Status::Red, "{:?}: {}", text, reason);
    }

    #[test]
    fn normalised_text_has_no_punctuation_and_is_stable(text in "\\PC{0,40}") {
        let once = normalised(&text);
        prop_assert!(once.chars().all(|c| c.is_alphanumeric() || c == ' '), "{:?}", once);
        prop_assert_eq!(normalised(&once), once.clone());
    }
}
