//! A text rule's word lists, prepared once per rule (once per playbook an instance keeps) for
//! every text it judges: the built-in consequence and person lists with the rule's `extend`
//! words, and its own `any_of` lists.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{LazyLock, OnceLock},
};

use super::{TextRule, consequence, person, phrases::Phrases};

/// The rule's lists, prepared on first use. A copy of a rule prepares its own again; two rules
/// compare equal whatever either has prepared.
#[derive(Default)]
pub struct Lists(OnceLock<Box<Prepared>>);

/// The lists of one rule.
struct Prepared {
    /// The consequence list with the rule's words, when it adds some.
    consequence: Option<Phrases>,
    /// The person list with the rule's words, when it adds some.
    person: Option<Phrases>,
    /// Each `any_of` list by its name.
    own: BTreeMap<String, Phrases>,
    /// Every `any_of` list's words: what keyword salad may be made of.
    all_own: Phrases,
}

/// An empty list.
static NONE: LazyLock<Phrases> = LazyLock::new(Phrases::default);

impl Lists {
    fn prepared(&self, rule: &TextRule) -> &Prepared {
        // Boxed: a rule is held inline in the playbook's evidence rules; its lists need not be.
        self.0.get_or_init(|| {
            let extended = |check: &str, built_in: &[&str]| {
                let extra = rule.extend.get(check).filter(|words| !words.is_empty())?;
                let words = built_in.iter().copied();
                Some(Phrases::new(words.chain(extra.iter().map(String::as_str))))
            };
            let person_words: Vec<&str> = person::ROLE_WORDS
                .iter()
                .chain(person::MEETING_WORDS)
                .copied()
                .collect();
            Box::new(Prepared {
                consequence: extended("consequence", consequence::CONSEQUENCE_WORDS),
                person: extended("person", &person_words),
                own: rule
                    .any_of
                    .iter()
                    .map(|(name, words)| {
                        (name.clone(), Phrases::new(words.iter().map(String::as_str)))
                    })
                    .collect(),
                all_own: Phrases::new(rule.any_of.values().flatten().map(String::as_str)),
            })
        })
    }

    /// The consequence words `rule` reads: the built-in list and its `extend.consequence`.
    pub fn consequence(&self, rule: &TextRule) -> &Phrases {
        self.prepared(rule)
            .consequence
            .as_ref()
            .unwrap_or(&consequence::LIST)
    }

    /// The role and meeting words `rule` reads: the built-in lists and its `extend.person`.
    pub fn person(&self, rule: &TextRule) -> &Phrases {
        self.prepared(rule).person.as_ref().unwrap_or(&person::LIST)
    }

    /// `rule`'s own list `name` (`any_of.name`); empty when it has none.
    pub fn own(&self, rule: &TextRule, name: &str) -> &Phrases {
        self.prepared(rule).own.get(name).unwrap_or(&NONE)
    }

    /// The words of every one of `rule`'s own lists.
    pub fn all_own(&self, rule: &TextRule) -> &Phrases {
        &self.prepared(rule).all_own
    }
}

impl Clone for Lists {
    fn clone(&self) -> Self {
        Lists::default()
    }
}

impl PartialEq for Lists {
    fn eq(&self, _: &Lists) -> bool {
        true
    }
}

impl Eq for Lists {}

impl fmt::Debug for Lists {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Lists")
    }
}
