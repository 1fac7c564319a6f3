//! Placeholder values: what reps type when they have nothing to write ("TBD", "n/a", "-"), one
//! word repeated, or a copy of another dimension's text. None of them is evidence, in any score.

/// Why `text` is a placeholder rather than evidence, if it is one. `placeholders` is the
/// playbook's list (`handoff.placeholders`), compared without case, surrounding whitespace and
/// punctuation.
pub fn placeholder(text: &str, placeholders: &[String]) -> Option<String> {
    let text = normalize(text);
    let bare = text.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace());
    if bare.is_empty() {
        return Some(format!("{text:?} is only punctuation"));
    }
    let listed = placeholders.iter().map(|p| normalize(p)).find(|p| {
        *p == text
            || p.trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()) == bare
    });
    if listed.is_some() {
        return Some(format!("{text:?} is a placeholder"));
    }
    let mut words = bare
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    let first = words.next()?;
    let mut count = 1;
    for word in words {
        if word != first {
            return None;
        }
        count += 1;
    }
    (count > 1).then(|| format!("{first:?} repeated is not evidence"))
}

/// Text as it is compared with other text: lower case, whitespace collapsed.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        ["tbd", "n/a", "-", "?"].map(String::from).to_vec()
    }

    #[test]
    fn listed_values_punctuation_and_repeats_are_placeholders() {
        for text in [
            "TBD",
            " tbd. ",
            "N/A",
            "-",
            "?",
            "???",
            "...",
            "pain pain pain pain pain pain",
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
        ] {
            assert_eq!(placeholder(text, &defaults()), None, "{text}");
        }
    }
}
