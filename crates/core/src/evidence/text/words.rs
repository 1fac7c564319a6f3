//! A text cut into the words the checks read, and the small vocabularies they share.
//!
//! Words are lower-cased, apostrophes dropped (`can't` is `cant`), and cut at punctuation, except
//! that figures keep their inner separators (`40,000`, `1.5`, `2026-12-10`, `10:30`) and the
//! symbols `$ € £ ¥ %` stand as words of their own, so a check can see "$" next to "180k".

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

/// One word of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as written, when that is not [`Word::lower`] (most words are written in lower
    /// case: they keep one string, not two).
    raw: Option<String>,
    /// Lower case, apostrophes dropped.
    pub lower: String,
    /// Whether a sentence starts with it (a capital there is no sign of a name).
    pub starts_sentence: bool,
    /// Whether it is one of the [`FUNCTION_WORDS`].
    pub function: bool,
    /// Whether it carries content: no function word, no vague word, no symbol.
    pub content: bool,
}

impl Word {
    /// The word as written.
    pub fn raw(&self) -> &str {
        self.raw.as_deref().unwrap_or(&self.lower)
    }

    /// Whether it is written with a capital and then small letters, as names are (`Dana`, not
    /// `CFO`).
    pub fn capitalised(&self) -> bool {
        let mut chars = self.raw().chars();
        chars.next().is_some_and(char::is_uppercase) && chars.any(char::is_lowercase)
    }

    /// Whether it is a figure: it starts with a digit (`9`, `40,000`, `180k`, `2026-12-10`).
    pub fn is_figure(&self) -> bool {
        self.lower.starts_with(|c: char| c.is_ascii_digit())
    }

    /// Whether it is one of `list`, in any of the simple inflections English adds (`delay`,
    /// `delays`, `delayed`, `delaying`).
    pub fn is_one_of(&self, list: &[&str]) -> bool {
        list.iter().any(|base| inflects(base, &self.lower))
    }
}

/// Whether `word` is `base` or `base` with `s`, `es`, `d`, `ed` or `ing` (a final `e` dropped).
pub fn inflects(base: &str, word: &str) -> bool {
    if word == base {
        return true;
    }
    let Some(ending) = word.strip_prefix(base) else {
        return base
            .strip_suffix('e')
            .filter(|stem| !stem.is_empty())
            .is_some_and(|stem| word.strip_prefix(stem) == Some("ing"));
    };
    matches!(ending, "s" | "es" | "d" | "ed" | "ing")
}

/// The symbols that stand as words of their own.
const SYMBOLS: &[char] = &['$', '€', '£', '¥', '%'];

/// Cut `text` into words.
pub fn words(text: &str) -> Vec<Word> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    let mut sentence_start = true;
    let mut starts_sentence = true;
    for (i, &c) in chars.iter().enumerate() {
        let between_digits = |c: char| {
            matches!(c, '.' | ',' | ':' | '/' | '-')
                && current.chars().last().is_some_and(|p| p.is_ascii_digit())
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        };
        let in_address = |c: char| {
            (c == '@' || (c == '.' && current.contains('@')))
                && chars.get(i + 1).is_some_and(|n| n.is_alphanumeric())
        };
        if c.is_alphanumeric() || (!current.is_empty() && (between_digits(c) || in_address(c))) {
            if current.is_empty() {
                starts_sentence = sentence_start;
                sentence_start = false;
            }
            current.push(c);
            continue;
        }
        if matches!(c, '\'' | '’') && !current.is_empty() {
            current.push(c);
            continue;
        }
        push(&mut words, &mut current, starts_sentence);
        if SYMBOLS.contains(&c) {
            words.push(word(c.encode_utf8(&mut [0; 4]), false));
        } else if matches!(c, '.' | '!' | '?' | ':' | ';' | '\n') {
            sentence_start = true;
        }
    }
    push(&mut words, &mut current, starts_sentence);
    words
}

/// The word in `current`, if any, pushed onto `words`; `current` is cleared for the next, its
/// room kept.
fn push(words: &mut Vec<Word>, current: &mut String, starts_sentence: bool) {
    if !current.is_empty() {
        words.push(word(current, starts_sentence));
        current.clear();
    }
}

fn word(raw: &str, starts_sentence: bool) -> Word {
    let raw = raw.trim_end_matches(['\'', '’']);
    let mut lower = raw.to_lowercase();
    if lower.contains(['\'', '’']) {
        lower.retain(|c| !matches!(c, '\'' | '’'));
    }
    // Each word is looked up once, when the text is cut: every check asks again and again.
    let kind = VOCABULARY.get(lower.as_str()).copied();
    let mut chars = lower.chars();
    let symbol = match (chars.next(), chars.next()) {
        (Some(c), None) => SYMBOLS.contains(&c),
        _ => false,
    };
    Word {
        function: kind == Some(Contentless::Function),
        content: !symbol && kind.is_none(),
        raw: (raw != lower).then(|| raw.to_owned()),
        lower,
        starts_sentence,
    }
}

/// The words of `phrase`, cut as a text is ("Sign-off" is "sign", "off"); the built-in lists,
/// already plain lower-case words, are not cut again.
pub(super) fn parts(phrase: &str) -> Vec<String> {
    if plain(phrase) {
        phrase.split_whitespace().map(str::to_owned).collect()
    } else {
        words(phrase).into_iter().map(|w| w.lower).collect()
    }
}

/// Whether `phrase` is lower-case words and digits only, so its words are its spaces' pieces.
fn plain(phrase: &str) -> bool {
    phrase
        .chars()
        .all(|c| c.is_lowercase() || c.is_ascii_digit() || c == ' ')
}

/// The words of `phrase` as `words` has them at `at`, as written ("Kick off").
pub fn shown(words: &[Word], at: usize, phrase: &str) -> String {
    let end = (at + parts(phrase).len()).min(words.len());
    words[at..end.max(at + 1)]
        .iter()
        .map(Word::raw)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether one of the two words before `at` denies what follows ("no delays", "does not cost").
pub fn negated(words: &[Word], at: usize) -> bool {
    words[at.saturating_sub(2)..at]
        .iter()
        .any(|w| NEGATIONS.contains(&w.lower.as_str()))
}

const NEGATIONS: &[&str] = &[
    "no", "not", "never", "without", "nothing", "none", "dont", "doesnt", "didnt", "isnt", "arent",
    "wasnt", "wont", "hardly",
];

/// Words that carry no content of their own: what a sentence is built with.
pub const FUNCTION_WORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "and",
    "or",
    "but",
    "of",
    "to",
    "in",
    "on",
    "at",
    "by",
    "for",
    "with",
    "from",
    "about",
    "as",
    "into",
    "over",
    "after",
    "before",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "they",
    "them",
    "their",
    "we",
    "our",
    "us",
    "you",
    "your",
    "he",
    "she",
    "his",
    "her",
    "i",
    "my",
    "me",
    "will",
    "would",
    "can",
    "could",
    "should",
    "may",
    "might",
    "do",
    "does",
    "did",
    "has",
    "have",
    "had",
    "so",
    "if",
    "then",
    "than",
    "because",
    "which",
    "who",
    "what",
    "when",
    "where",
    "how",
    "there",
    "here",
    "not",
    "no",
    "yet",
    "still",
    "also",
    "just",
    "very",
    "really",
    "more",
    "much",
    "some",
    "any",
    "all",
    "each",
    "every",
    "per",
    "up",
    "out",
    "off",
    "until",
    "via",
    "while",
    "too",
    "quite",
    "nothing",
    "something",
    "anything",
    "im",
    "were",
    "theyre",
    "its",
    "dont",
    "doesnt",
    "lets",
    "get",
    "got",
    "getting",
    "go",
    "going",
    "make",
    "made",
];

/// Words that say nothing a rep found out: politeness, impressions, intentions.
pub const VAGUE_WORDS: &[&str] = &[
    "good",
    "great",
    "nice",
    "fine",
    "okay",
    "ok",
    "positive",
    "interested",
    "interest",
    "keen",
    "happy",
    "excited",
    "thing",
    "things",
    "stuff",
    "chat",
    "talk",
    "talked",
    "spoke",
    "speak",
    "conversation",
    "discuss",
    "discussed",
    "seem",
    "seems",
    "seemed",
    "know",
    "learn",
    "say",
    "said",
    "see",
    "look",
    "looking",
    "forward",
    "currently",
    "later",
    "soon",
    "point",
    "lot",
    "lots",
    "bit",
    "general",
    "overall",
    "maybe",
    "probably",
    "touch",
    "base",
    "circle",
    "back",
    "follow",
    "followup",
    "update",
    "info",
    "information",
    "details",
    "think",
    "feel",
    "want",
    "wants",
    "like",
    "need",
    "needs",
    "asap",
    "etc",
    "stuff",
    "vibe",
    "vibes",
    "company",
    "way",
    "work",
    "people",
    "best",
    "better",
    "well",
    "sure",
    "definitely",
    "maybe",
    "somehow",
    "someone",
    "somewhere",
    "whatever",
    "various",
    "different",
    "many",
    "several",
    "yes",
];

/// What a word without content is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Contentless {
    /// One of the [`FUNCTION_WORDS`].
    Function,
    /// One of the [`VAGUE_WORDS`].
    Vague,
}

/// The function and vague words, looked up once per word of every text cut (an audit judges
/// 100,000 deals), where a scan of both lists compares it with 200 words.
static VOCABULARY: LazyLock<FxHashMap<&'static str, Contentless>> = LazyLock::new(|| {
    let vague = VAGUE_WORDS.iter().map(|w| (*w, Contentless::Vague));
    // A word in both lists is a function word.
    vague
        .chain(FUNCTION_WORDS.iter().map(|w| (*w, Contentless::Function)))
        .collect()
});

/// Numbers written as words, with their value.
pub const NUMBER_WORDS: &[(&str, f64)] = &[
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
    ("hundred", 100.0),
    ("thousand", 1000.0),
    ("million", 1e6),
    ("billion", 1e9),
    ("dozen", 12.0),
    ("half", 0.5),
    ("twice", 2.0),
    ("double", 2.0),
    ("triple", 3.0),
];

/// The value of a number word (`nine`), if `word` is one.
pub fn number_word(word: &str) -> Option<f64> {
    NUMBER_WORDS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, value)| *value)
}

/// Units of time, as a figure's unit or a period (`3 days`, `within two weeks`).
pub const TIME_UNITS: &[&str] = &[
    "minute",
    "min",
    "mins",
    "hour",
    "hr",
    "hrs",
    "day",
    "week",
    "wk",
    "month",
    "quarter",
    "year",
    "yr",
    "weekend",
    "fortnight",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.lower).collect()
    }

    #[test]
    fn figures_keep_their_separators_and_symbols_stand_alone() {
        assert_eq!(
            lower("Saves $180k (€40,000) by 2026-12-10, 30% at 10:30; can't wait"),
            [
                "saves",
                "$",
                "180k",
                "€",
                "40,000",
                "by",
                "2026-12-10",
                "30",
                "%",
                "at",
                "10:30",
                "cant",
                "wait"
            ]
        );
    }

    #[test]
    fn sentence_starts_and_capitals_are_told_apart() {
        let w = words("Call with Dana. Then CFO");
        assert!(w[0].starts_sentence && !w[2].starts_sentence && w[3].starts_sentence);
        assert!(w[2].capitalised() && !w[4].capitalised());
    }

    #[test]
    fn inflections_match_and_other_words_do_not() {
        for word in ["delay", "delays", "delayed", "delaying"] {
            assert!(inflects("delay", word), "{word}");
        }
        assert!(inflects("lose", "losing"));
        assert!(!inflects("cost", "costume"));
        assert!(!inflects("miss", "mission"));
    }
}
