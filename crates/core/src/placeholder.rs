//! Placeholder values: what reps type when they have nothing to write ("TBD", "n/a", "-",
//! "see above"), however punctuated, spaced or repeated ("T.B.D.", "n/a n/a n/a", "N/A - TBD"),
//! and one word repeated. None of them is evidence, in any score, staleness or hygiene check:
//! [`placeholder`] is the one rule they all ask, [`filled`] its form for a record's field.

use crate::model::Record;

/// Why `text` is a placeholder rather than evidence, if it is one. `placeholders` is the
/// playbook's list (`handoff.placeholders`). Both are compared [`normalised`] and without
/// spaces, so a text made only of listed values, each punctuated or spaced any way and in any
/// number ("t.b.d. / N-A"), is one; so is a text labelled only with its own field ("Next step:
/// TBD").
pub fn placeholder(text: &str, placeholders: &[String]) -> Option<String> {
    let normal = normalised(text);
    if normal.is_empty() {
        return Some(format!("{:?} is only punctuation", text.trim()));
    }
    let words: Vec<&str> = normal.split(' ').collect();
    let unlabelled: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !LABELS.contains(w))
        .collect();
    // Spaces may cut a placeholder anywhere, even into a label's letters ("unk now n"): the
    // whole text is tried as well as the text without its labels.
    if made_of(&words.concat(), placeholders)
        || (!unlabelled.is_empty() && made_of(&unlabelled.concat(), placeholders))
    {
        return Some(format!("{:?} is a placeholder", text.trim()));
    }
    let first = words[0];
    (words.len() > 1 && words.iter().all(|w| *w == first))
        .then(|| format!("{first:?} repeated is not evidence"))
}

/// Words that only label a placeholder ("Next step: TBD", "still n/a for now").
const LABELS: &[&str] = &[
    "next",
    "step",
    "steps",
    "pain",
    "impact",
    "situation",
    "status",
    "still",
    "is",
    "are",
    "currently",
    "for",
    "now",
    "yet",
    "all",
    "here",
];

/// Whether `text` is one or more of the listed `placeholders` end to end, each compared
/// [`normalised`] and without spaces.
fn made_of(text: &str, placeholders: &[String]) -> bool {
    let mut reachable = vec![false; text.len() + 1];
    reachable[0] = true;
    for start in 0..text.len() {
        if !reachable[start] || !text.is_char_boundary(start) {
            continue;
        }
        for placeholder in placeholders {
            if let Some(len) = listed_prefix(&text[start..], placeholder) {
                reachable[start + len] = true;
            }
        }
    }
    reachable[text.len()]
}

/// Text as it is compared with other text: lower case, every punctuation mark and symbol
/// removed (inside words too: "N.A." is "na"), whitespace collapsed to single spaces. Two
/// evidence values with the same normalised text say the same thing.
pub fn normalised(text: &str) -> String {
    // One string built in place: every text of every deal passes here (an audit of 100,000).
    let mut normal = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        let start = normal.len();
        if start > 0 {
            normal.push(' ');
        }
        let letters = normal.len();
        // Lower-cased before the filter: a capital may lower-case to a letter and a mark
        // ("İ" is "i" and U+0307), and the mark must go, or normalising again would change it.
        normal.extend(
            word.chars()
                .flat_map(char::to_lowercase)
                .filter(|c| c.is_alphanumeric()),
        );
        if normal.len() == letters {
            normal.truncate(start);
        }
    }
    normal
}

/// The length in bytes of `placeholder`, [`normalised`] and without its spaces, at the start
/// of `text`; `None` when it is not there or normalises to nothing. Compared as it is read, so
/// no placeholder is copied for every text judged (every text of every deal passes here).
fn listed_prefix(text: &str, placeholder: &str) -> Option<usize> {
    let mut rest = text.chars();
    let mut len = 0;
    for c in placeholder
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_alphanumeric())
    {
        if rest.next()? != c {
            return None;
        }
        len += c.len_utf8();
    }
    (len > 0).then_some(len)
}

/// Whether `record` holds evidence in `field` at all: the field is there (see [`Record::has`])
/// and its text is no placeholder. Staleness and hygiene ask it for "is there a next step", so
/// "TBD" is no next step anywhere.
pub fn filled(record: &Record, field: &str, placeholders: &[String]) -> bool {
    record.has(field)
        && record
            .text(field)
            .is_none_or(|text| placeholder(&text, placeholders).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        ["tbd", "n/a", "-", "?", "see above", "x", "to be determined"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn listed_values_however_punctuated_spaced_or_repeated_are_placeholders() {
        for text in [
            "TBD",
            " tbd. ",
            "T.B.D.",
            "t b d",
            "N/A",
            "N.A.",
            "n/a n/a n/a n/a n/a n/a",
            "tbd n/a tbd n/a",
            "N/A - TBD",
            "-",
            "?",
            "???",
            "...",
            "—",
            "see above",
            "See above!",
            "x",
            "Next step: TBD",
            "Next steps to be determined",
            "pain pain pain pain pain pain",
            "test test test test test test",
        ] {
            assert!(placeholder(text, &defaults()).is_some(), "{text}");
        }
    }

    #[test]
    fn real_evidence_is_not() {
        for text in [
            "Month-end close takes nine days",
            "TBD with the CFO next week",
            "nine",
            "Next step",
            "x-ray machines are down 3 days a month",
        ] {
            assert_eq!(placeholder(text, &defaults()), None, "{text}");
        }
    }

    #[test]
    fn normalised_text_drops_case_punctuation_and_spacing() {
        assert_eq!(normalised("  N/A -  T.B.D.!  "), "na tbd");
        assert_eq!(
            normalised("Month-end close: 9 days."),
            "monthend close 9 days"
        );
    }

    #[test]
    fn a_capital_lower_cased_to_a_letter_and_a_mark_normalises_once() {
        // "İ" lower-cases to "i" and a combining dot: the dot is dropped the first time.
        assert_eq!(normalised("İstanbul"), "istanbul");
        assert_eq!(normalised(&normalised("İ")), normalised("İ"));
    }

    #[test]
    fn a_field_holding_a_placeholder_is_not_filled() {
        let mut deal = Record::new_deal("D-1");
        assert!(!filled(&deal, "next_step", &defaults()));
        deal.fields.insert("next_step".into(), "T.B.D.".into());
        assert!(!filled(&deal, "next_step", &defaults()));
        deal.fields
            .insert("next_step".into(), "Demo with the CFO on Friday".into());
        assert!(filled(&deal, "next_step", &defaults()));
    }
}
