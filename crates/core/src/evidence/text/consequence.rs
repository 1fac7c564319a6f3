//! `consequence`: the text says what the problem costs, delays, loses, risks or blocks. The
//! playbook can add its own words (`extend = { consequence = ["fines"] }`). A word denied just
//! before it ("no delays", "does not cost") does not count.

use std::sync::LazyLock;

use super::{
    phrases::Phrases,
    words::{Word, negated, shown},
};

/// What a problem does to the business, in the words reps use for it.
pub const CONSEQUENCE_WORDS: &[&str] = &[
    "cost",
    "costly",
    "costing",
    "lose",
    "loss",
    "losses",
    "lost",
    "delay",
    "risk",
    "risky",
    "block",
    "blocker",
    "miss",
    "penalty",
    "penalties",
    "fined",
    "churn",
    "overtime",
    "rework",
    "error",
    "mistake",
    "breach",
    "fail",
    "failure",
    "outage",
    "downtime",
    "complaint",
    "complain",
    "escalation",
    "escalate",
    "overrun",
    "overspend",
    "leak",
    "leakage",
    "waste",
    "attrition",
    "slip",
    "slipped",
    "slipping",
    "late",
    "behind",
    "backlog",
    "bottleneck",
    "jeopardise",
    "jeopardize",
    "threaten",
    "exposure",
    "hurt",
    "hurting",
    "damage",
    "prevent",
    "stall",
    "unable",
    "cannot",
    "cant",
    "write off",
    "writeoff",
    "turnover",
    "fraud",
    "lawsuit",
    "sanction",
    "slows",
    "slowed",
    "slowing",
    "stuck",
    "hold up",
    "holds up",
    "overdue",
];

/// The built-in consequence words, prepared once.
pub static LIST: LazyLock<Phrases> =
    LazyLock::new(|| Phrases::new(CONSEQUENCE_WORDS.iter().copied()));

/// The first consequence in `words` that is not denied, by `list` (the built-in words, or those
/// and a playbook's own).
pub fn find(words: &[Word], list: &Phrases) -> Option<String> {
    hits(words, list)
        .into_iter()
        .map(|(at, phrase)| shown(words, at, phrase))
        .next()
}

/// Every word (by index) where a consequence of `list` is named and not denied, with the phrase.
pub fn hits<'l>(words: &[Word], list: &'l Phrases) -> Vec<(usize, &'l str)> {
    list.find(words)
        .into_iter()
        .filter(|(at, _)| !negated(words, *at))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::text::words::words;

    fn consequence(text: &str, extra: &[&str]) -> Option<String> {
        let list = Phrases::new(CONSEQUENCE_WORDS.iter().chain(extra).copied());
        find(&words(text), &list)
    }

    #[test]
    fn costs_delays_losses_risks_and_blocks_are_consequences() {
        for text in [
            "the close delays board reporting",
            "they risk failing the audit",
            "approvals blocked for weeks",
            "losing two deals a quarter",
            "finance can't see spend",
        ] {
            assert!(consequence(text, &[]).is_some(), "{text}");
        }
    }

    #[test]
    fn denied_and_unrelated_words_are_not_and_the_playbook_can_add_its_own() {
        for text in [
            "no delays so far",
            "it does not cost them anything",
            "a costume party",
            "the mission",
        ] {
            assert_eq!(consequence(text, &[]), None, "{text}");
        }
        assert_eq!(
            consequence("regulator fines each quarter", &["fines"]).as_deref(),
            Some("fines")
        );
    }
}
