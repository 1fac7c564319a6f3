//! Texts that have words but say nothing, so no check may read them: filler ("had a good chat,
//! they seem interested"), a word stuffed in again and again ("cost cost cost risk"), and
//! keyword salad (the words the checks look for, without a sentence around them).

use super::words::Word;

/// Why `words` are no evidence, if they are not; `keywords` are the indexes of the words the
/// checks recognised (consequences, roles, meetings, the playbook's lists, days and months).
pub fn not_evidence(words: &[Word], keywords: &[usize]) -> Option<String> {
    filler(words)
        .or_else(|| stuffed(words))
        .or_else(|| salad(words, keywords))
}

/// Template text, or too few words that carry content among many.
fn filler(words: &[Word]) -> Option<String> {
    let lorem = words
        .windows(2)
        .any(|w| w[0].lower == "lorem" && w[1].lower == "ipsum");
    if lorem {
        return Some("it is template text (lorem ipsum)".to_owned());
    }
    let content = words.iter().filter(|w| w.content).count();
    let thin = if words.len() < 6 {
        content == 0
    } else {
        content * 10 < words.len() * 3
    };
    thin.then(|| "it is filler: no word in it says what was found".to_owned())
}

/// One content word three times or more, or half the content words repeats.
fn stuffed(words: &[Word]) -> Option<String> {
    let content: Vec<&str> = words
        .iter()
        .filter(|w| w.content)
        .map(|w| w.lower.as_str())
        .collect();
    let count = |word: &str| content.iter().filter(|c| **c == word).count();
    if let Some(word) = content
        .iter()
        .find(|w| count(w) >= 3 && count(w) * 3 >= words.len())
    {
        return Some(format!("{word:?} is repeated, not explained"));
    }
    let mut distinct = content.clone();
    distinct.sort_unstable();
    distinct.dedup();
    (content.len() >= 4 && distinct.len() * 2 <= content.len())
        .then(|| "its words repeat instead of saying something".to_owned())
}

/// Four or more recognised keywords making most of the content, with no sentence around them.
fn salad(words: &[Word], keywords: &[usize]) -> Option<String> {
    let function = words.iter().filter(|w| w.function).count();
    let content = words.iter().filter(|w| w.content).count();
    let listed = keywords.len();
    let no_sentence = function == 0 || (function == 1 && listed >= 6);
    (listed >= 4 && listed * 10 >= content * 6 && no_sentence)
        .then(|| "it lists keywords without a sentence that says what happens".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::text::words::words;

    fn judged(text: &str, keywords: usize) -> Option<String> {
        let keywords: Vec<usize> = (0..keywords).collect();
        not_evidence(&words(text), &keywords)
    }

    #[test]
    fn filler_stuffing_and_salad_are_no_evidence() {
        assert!(
            judged(
                "Had a good chat, they seem interested, will know more later",
                0
            )
            .is_some()
        );
        assert!(judged("Lorem ipsum dolor sit amet", 0).is_some());
        assert!(judged("cost cost cost risk delay blocks lose", 7).is_some());
        assert!(judged("money money savings savings percent percent", 0).is_some());
        assert!(judged("risk delay cost loss penalty blocker churn", 7).is_some());
    }

    #[test]
    fn real_sentences_are_evidence_however_many_keywords() {
        assert_eq!(
            judged("Demo with the CFO and VP Finance on Friday", 4),
            None
        );
        assert_eq!(judged("Close takes 9 days", 0), None);
        assert_eq!(judged("Friday", 1), None);
        assert_eq!(
            judged(
                "Manual close delays reporting, risks audit findings and costs overtime",
                4
            ),
            None
        );
    }
}
