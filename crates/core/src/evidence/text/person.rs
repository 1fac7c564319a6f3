//! `person`: a named person, or a role or meeting word ("CFO", "demo", "workshop", "call with
//! Dana"). The playbook can add its own words (`extend = { person = ["steering committee"] }`).
//!
//! A name is a word written with a capital after "with", "to", "for", "and", "from", "cc" or
//! "ask", or before "to", "will" or "and" (not at a sentence's start, where any word has one),
//! and not a month, a day or a word the other lists know; an email address is a person too.

use std::sync::LazyLock;

use super::{
    date,
    phrases::Phrases,
    words::{Word, shown},
};

/// Roles that name who is involved.
pub const ROLE_WORDS: &[&str] = &[
    "cfo",
    "ceo",
    "coo",
    "cto",
    "cio",
    "cro",
    "cmo",
    "ciso",
    "cpo",
    "vp",
    "svp",
    "evp",
    "director",
    "head of",
    "manager",
    "controller",
    "comptroller",
    "treasurer",
    "founder",
    "cofounder",
    "co founder",
    "president",
    "chairman",
    "board",
    "procurement",
    "purchasing",
    "legal",
    "counsel",
    "sponsor",
    "champion",
    "economic buyer",
    "decision maker",
    "stakeholder",
    "accountant",
    "analyst",
    "signatory",
    "exec",
    "executive",
    "leadership",
    "committee",
];

/// Meetings, where someone will be met.
pub const MEETING_WORDS: &[&str] = &[
    "demo",
    "meeting",
    "meet",
    "call",
    "workshop",
    "presentation",
    "session",
    "walkthrough",
    "walk through",
    "kickoff",
    "kick off",
    "onsite",
    "on site",
    "visit",
    "lunch",
    "dinner",
    "webinar",
    "qbr",
    "sync",
    "check in",
    "catch up",
    "interview",
    "intro",
    "pitch",
    "standup",
    "huddle",
    "zoom",
];

/// Words before a name.
const BEFORE_NAME: &[&str] = &[
    "with", "to", "for", "and", "from", "cc", "ask", "ping", "email",
];

/// Words after a name.
const AFTER_NAME: &[&str] = &["to", "will", "and", "is", "has", "s"];

/// The built-in role and meeting words, prepared once.
pub static LIST: LazyLock<Phrases> =
    LazyLock::new(|| Phrases::new(ROLE_WORDS.iter().chain(MEETING_WORDS).copied()));

/// The first person, role or meeting in `words`, by `list` (the built-in words, or those and a
/// playbook's own) or by a name.
pub fn find(words: &[Word], list: &Phrases) -> Option<String> {
    let listed = hits(words, list).into_iter().next();
    let named = (0..words.len()).find(|&at| is_name(words, at));
    match (listed, named) {
        (Some((at, phrase)), named) if named.is_none_or(|n| at <= n) => {
            Some(shown(words, at, phrase))
        }
        (_, named) => named.map(|at| words[at].raw().to_owned()),
    }
}

/// Every word (by index) naming a role or a meeting of `list`, with the phrase.
pub fn hits<'l>(words: &[Word], list: &'l Phrases) -> Vec<(usize, &'l str)> {
    list.find(words)
}

fn is_name(words: &[Word], at: usize) -> bool {
    let word = &words[at];
    if word.raw().contains('@') {
        return true;
    }
    // Most words are not capitalised: that is asked before the lists are searched.
    if !word.capitalised() || word.starts_sentence {
        return false;
    }
    let known = date::is_month(word) || date::is_weekday(word) || word.function || LIST.has(word);
    if known {
        return false;
    }
    let before = at.checked_sub(1).map(|b| words[b].lower.as_str());
    let after = words.get(at + 1).map(|w| w.lower.as_str());
    before.is_some_and(|b| BEFORE_NAME.contains(&b))
        || after.is_some_and(|a| AFTER_NAME.contains(&a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::text::words::words;

    fn person(text: &str) -> Option<String> {
        find(&words(text), &LIST)
    }

    #[test]
    fn names_roles_and_meetings_are_found() {
        for (text, found) in [
            ("call with Dana", "call"),
            ("send the deck to Priya by Friday", "Priya"),
            ("review with the CFO", "CFO"),
            ("workshop next week", "workshop"),
            ("send pricing to dana@acme.com", "dana@acme.com"),
            ("proposal for Tom and Omar", "Tom"),
        ] {
            assert_eq!(person(text).as_deref(), Some(found), "{text}");
        }
    }

    #[test]
    fn pronouns_days_months_and_sentence_starts_are_not_names() {
        for text in [
            "send the proposal to them by Friday",
            "Proposal goes out on Monday",
            "sign by end of January",
            "follow up next week",
        ] {
            assert_eq!(person(text), None, "{text}");
        }
    }
}
