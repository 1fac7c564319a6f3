//! Narrative text judged on what it says, not on how long it is.
//!
//! A text rule names the checks its dimension requires (`quantity`, `consequence`, `date`,
//! `person`, or a word list of the playbook's own) and a floor of words. A placeholder, filler,
//! a word stuffed in again and again or keyword salad is no evidence at all: red. Otherwise the
//! dimension is green when every requirement holds and the floor is met, red when no requirement
//! holds, and yellow in between; its reason names what is missing with the question to ask.

mod check;
mod consequence;
mod date;
mod gamed;
mod lists;
mod person;
pub(crate) mod phrases;
mod quantity;
pub(crate) mod words;

use std::{borrow::Cow, cell::OnceCell, collections::BTreeMap};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use check::{BUILT_IN, Check, EXTENDABLE, Requirement};

use super::{Judgement, Subject};
use crate::{placeholder, score::Status};
use words::Word;

/// How narrative text is judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextRule {
    /// The fewest words complete evidence has.
    pub min_words: usize,
    /// What the text must say: each entry one check, or several joined by "or", any of which
    /// will do (`["quantity or consequence"]`, `["date", "person"]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// The playbook's own checks: a name and the words, any of which shows it
    /// (`{ decision = ["signed", "approved"] }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub any_of: BTreeMap<String, Vec<String>>,
    /// Words added to a built-in check's list (`{ consequence = ["fines"], person = ["Dana"] }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extend: BTreeMap<String, Vec<String>>,
    /// The lists above, prepared for matching on first use.
    #[serde(skip)]
    lists: lists::Lists,
}

/// What the built-in checks find in one text read on one day against one list of placeholders,
/// kept so that several rules judging the same text (a call's sentence is judged for every
/// dimension) each find it once. A rule that adds words to a check (`extend`) finds that check
/// on its own.
#[derive(Default)]
pub(crate) struct Findings {
    quantity: OnceCell<Option<String>>,
    consequence: OnceCell<Option<String>>,
    person: OnceCell<Option<String>>,
    dating: OnceCell<date::Dating>,
    consequence_hits: OnceCell<Vec<usize>>,
    person_hits: OnceCell<Vec<usize>>,
    /// Why the text is no evidence at all, for the rules with no words of their own.
    not_evidence: OnceCell<Option<String>>,
}

/// A text, read once for every check.
struct Reading<'r> {
    rule: &'r TextRule,
    words: Cow<'r, [Word]>,
    today: time::Date,
    /// What the checks found, each when first asked: most rules ask for few.
    own: Findings,
    /// Findings shared with other rules reading the same text on the same day.
    shared: Option<&'r Findings>,
}

impl<'r> Reading<'r> {
    fn new(rule: &'r TextRule, text: &str, now: OffsetDateTime) -> Reading<'r> {
        Reading::of(rule, Cow::Owned(words::words(text)), now, None)
    }

    /// A text already cut into `words`, sharing `shared` findings when given.
    fn of(
        rule: &'r TextRule,
        words: Cow<'r, [Word]>,
        now: OffsetDateTime,
        shared: Option<&'r Findings>,
    ) -> Reading<'r> {
        Reading {
            rule,
            words,
            today: now.to_offset(time::UtcOffset::UTC).date(),
            own: Findings::default(),
            shared,
        }
    }

    /// The findings `check` may use: the shared ones unless the rule extends it.
    fn findings(&self, check: &str) -> &Findings {
        match self.shared {
            Some(shared) if self.extended(check).is_empty() => shared,
            _ => &self.own,
        }
    }

    fn dating(&self) -> &date::Dating {
        self.findings("date")
            .dating
            .get_or_init(|| date::find(&self.words, self.today))
    }

    fn extended(&self, check: &str) -> &[String] {
        self.rule.extend.get(check).map_or(&[], Vec::as_slice)
    }

    /// What `check` found in the text, as written.
    fn find(&self, check: Check<'_>) -> Option<String> {
        match check {
            Check::Quantity => self
                .findings("quantity")
                .quantity
                .get_or_init(|| quantity::find(&self.words))
                .clone(),
            Check::Consequence => self
                .findings("consequence")
                .consequence
                .get_or_init(|| consequence::find(&self.words, self.rule.consequence_words()))
                .clone(),
            Check::Date => self.dating().ahead.clone(),
            Check::Person => self
                .findings("person")
                .person
                .get_or_init(|| person::find(&self.words, self.rule.person_words()))
                .clone(),
            Check::Words(name, _) => {
                let list = self.rule.lists.own(self.rule, name);
                list.find(&self.words)
                    .into_iter()
                    .find(|(at, _)| !words::negated(&self.words, *at))
                    .map(|(at, phrase)| words::shown(&self.words, at, phrase))
            }
        }
    }

    /// Why the text is no evidence at all (a placeholder, filler, a stuffed word, keyword
    /// salad), if it is none; shared by the rules with no words of their own, as only a rule's
    /// own lists change what counts as a keyword.
    fn not_evidence(&self, text: &str, placeholders: &[String]) -> Option<String> {
        let find = || {
            placeholder::placeholder(text, placeholders)
                .or_else(|| gamed::not_evidence(&self.words, &self.keywords()))
        };
        match self.shared {
            Some(shared) if self.rule.any_of.is_empty() && self.rule.extend.is_empty() => {
                shared.not_evidence.get_or_init(find).clone()
            }
            _ => find(),
        }
    }

    /// The words any check recognises: what keyword salad is made of.
    fn keywords(&self) -> Vec<usize> {
        let at = |hits: Vec<(usize, &str)>| hits.into_iter().map(|(at, _)| at).collect();
        let consequence = self
            .findings("consequence")
            .consequence_hits
            .get_or_init(|| {
                at(consequence::hits(
                    &self.words,
                    self.rule.consequence_words(),
                ))
            });
        let person = self
            .findings("person")
            .person_hits
            .get_or_init(|| at(person::hits(&self.words, self.rule.person_words())));
        let own = self.rule.lists.all_own(self.rule);
        let mut keywords: Vec<usize> = consequence
            .iter()
            .chain(person)
            .copied()
            .chain(own.find(&self.words).into_iter().map(|(at, _)| at))
            .chain((0..self.words.len()).filter(|&at| {
                let w = &self.words[at];
                date::is_month(w)
                    || date::is_weekday(w)
                    || matches!(w.lower.as_str(), "today" | "tomorrow")
            }))
            .collect();
        keywords.sort_unstable();
        keywords.dedup();
        keywords
    }
}

/// One requirement as the text meets it: the check that held and what it found, or every
/// check it names.
enum Met<'r> {
    Holds(Check<'r>, String),
    Missing(Vec<Check<'r>>),
}

impl TextRule {
    /// A rule of at least `min_words` words that `requires` checks, with its own lists `any_of`
    /// and its words added to built-in checks (`extend`).
    pub fn new(
        min_words: usize,
        requires: Vec<Requirement>,
        any_of: BTreeMap<String, Vec<String>>,
        extend: BTreeMap<String, Vec<String>>,
    ) -> TextRule {
        TextRule {
            min_words,
            requires,
            any_of,
            extend,
            lists: lists::Lists::default(),
        }
    }

    /// The consequence words this rule reads: the built-in list and its `extend.consequence`.
    fn consequence_words(&self) -> &phrases::Phrases {
        self.lists.consequence(self)
    }

    /// The role and meeting words this rule reads: the built-in lists and its `extend.person`.
    fn person_words(&self) -> &phrases::Phrases {
        self.lists.person(self)
    }

    /// Judge the text `subject` holds, at time `now`.
    pub fn judge(&self, subject: &Subject<'_>, now: OffsetDateTime) -> Judgement {
        let field = subject.field;
        let Some(text) = subject.record.text(field) else {
            return Judgement::short(
                Status::Red,
                None,
                format!("no evidence in `{field}`"),
                "nothing recorded",
            );
        };
        self.judge_text(subject, text, now)
    }

    /// Judge `text` as if `subject`'s field held it, at time `now`: a sentence said in a call
    /// is judged as a record's text would be.
    pub fn judge_text(
        &self,
        subject: &Subject<'_>,
        text: String,
        now: OffsetDateTime,
    ) -> Judgement {
        let reading = Reading::new(self, &text, now);
        self.judge_reading(subject, &reading, text)
    }

    /// Judge `text`, already cut into `words`, as [`TextRule::judge_text`] does.
    /// `findings` are shared with the other rules judging the same text at the same `now`.
    pub(crate) fn judge_words(
        &self,
        subject: &Subject<'_>,
        text: String,
        words: &[Word],
        now: OffsetDateTime,
        findings: &Findings,
    ) -> Judgement {
        let reading = Reading::of(self, Cow::Borrowed(words), now, Some(findings));
        self.judge_reading(subject, &reading, text)
    }

    fn judge_reading(
        &self,
        subject: &Subject<'_>,
        reading: &Reading<'_>,
        text: String,
    ) -> Judgement {
        let field = subject.field;
        if let Some(why) = reading.not_evidence(&text, subject.placeholders) {
            return Judgement::short(
                Status::Red,
                Some(text),
                format!("`{field}` holds no evidence: {why}"),
                why,
            );
        }
        let met: Vec<Met<'_>> = self
            .requirements()
            .map(|checks| meet(reading, checks))
            .collect();
        self.verdict(subject, reading, &met, &text)
    }

    /// Whether a text cut into `words` meets every requirement, read at time `now`: what a text
    /// must say to be green, before it is judged in full (placeholders, keyword salad, the
    /// floor of words, the reason). Cheaper than [`TextRule::judge_text`], so a call's
    /// sentences are sifted with it first.
    pub(crate) fn requirements_met(
        &self,
        words: &[Word],
        now: OffsetDateTime,
        findings: &Findings,
    ) -> bool {
        let reading = Reading::of(self, Cow::Borrowed(words), now, Some(findings));
        self.requirements()
            .all(|checks| matches!(meet(&reading, checks), Met::Holds(..)))
    }

    /// Each requirement's checks; a name the playbook validation refused is skipped.
    fn requirements(&self) -> impl Iterator<Item = Vec<Check<'_>>> {
        self.requires.iter().map(|r| {
            r.any_of
                .iter()
                .filter_map(|name| Check::named(name, &self.any_of))
                .collect()
        })
    }

    fn verdict(
        &self,
        subject: &Subject<'_>,
        reading: &Reading<'_>,
        met: &[Met<'_>],
        text: &str,
    ) -> Judgement {
        let (field, min_words) = (subject.field, self.min_words);
        let words = text.split_whitespace().count();
        let floor = (words < min_words).then(|| {
            (
                format!("only {words} word(s) in `{field}`; {min_words} make it complete"),
                format!("only {words} of {min_words} words"),
            )
        });
        let found: Vec<String> = met
            .iter()
            .filter_map(|m| match m {
                Met::Holds(check, what) => Some(format!("{} ({what})", check.found())),
                Met::Missing(_) => None,
            })
            .collect();
        let missing: Vec<&[Check<'_>]> = met
            .iter()
            .filter_map(|m| match m {
                Met::Missing(checks) => Some(checks.as_slice()),
                Met::Holds(..) => None,
            })
            .collect();
        let evidence = Some(text.to_owned());
        if met.is_empty() {
            return match floor {
                None => {
                    Judgement::green(evidence, format!("{words} words of evidence in `{field}`"))
                }
                Some((floor, gap)) => Judgement::short(Status::Yellow, evidence, floor, gap),
            };
        }
        if missing.is_empty() {
            let has = format!("{} gives {}", subject.name, found.join(" and "));
            return match floor {
                None => Judgement::green(evidence, has),
                Some((floor, gap)) => {
                    Judgement::short(Status::Yellow, evidence, format!("{has}, but {floor}"), gap)
                }
            };
        }
        let lacks = lacks(reading, &missing);
        let mut reason = names_no(subject, &lacks, &missing);
        let mut gap = lacks;
        if !found.is_empty() {
            reason.push_str(&format!("; it gives {}", found.join(" and ")));
        }
        if let Some((floor, short)) = floor {
            reason.push_str(&format!("; {floor}"));
            gap.push_str(&format!(", {short}"));
        }
        let status = if found.is_empty() {
            Status::Red
        } else {
            Status::Yellow
        };
        Judgement::short(status, evidence, reason, gap)
    }
}

fn meet<'r>(reading: &Reading<'_>, checks: Vec<Check<'r>>) -> Met<'r> {
    for check in &checks {
        if let Some(found) = reading.find(*check) {
            return Met::Holds(*check, found);
        }
    }
    Met::Missing(checks)
}

/// What the text lacks, one clause per requirement missed: "no figure, cost or consequence".
fn lacks(reading: &Reading<'_>, missing: &[&[Check<'_>]]) -> String {
    let what: Vec<String> = missing
        .iter()
        .map(|checks| {
            let mut names: Vec<String> = checks.iter().map(|c| c.missing()).collect();
            if let (Some(passed), true) = (&reading.dating().passed, checks.contains(&Check::Date))
            {
                names.push(format!("date ahead ({passed} has passed)"));
                names.retain(|n| n != "date");
            }
            format!("no {}", names.join(", "))
        })
        .collect();
    what.join(" and ")
}

/// "Pain names no figure, cost or consequence: ask 'what does it cost them when it happens?'"
fn names_no(subject: &Subject<'_>, lacks: &str, missing: &[&[Check<'_>]]) -> String {
    let asks: Vec<String> = missing
        .iter()
        .filter_map(|checks| checks.last())
        .map(|check| format!("'{}'", check.question(subject.question)))
        .collect();
    format!("{} names {lacks}: ask {}", subject.name, asks.join(" and "))
}

impl TextRule {
    /// Problems with the rule, each `field: what is wrong`, for the dimension called `name`.
    pub fn problems(&self, name: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if self.min_words == 0 {
            problems.push("min_words: must be at least 1".to_owned());
        }
        let mut known: Vec<&str> = BUILT_IN.to_vec();
        known.extend(
            self.any_of
                .keys()
                .map(String::as_str)
                .filter(|k| !BUILT_IN.contains(k)),
        );
        for (i, requirement) in self.requires.iter().enumerate() {
            if requirement.any_of.is_empty() {
                problems.push(format!("requires[{i}]: name a check for {name}"));
            }
            for check in &requirement.any_of {
                if Check::named(check, &self.any_of).is_none() {
                    problems.push(format!(
                        "requires[{i}]: {name} requires {check:?}, which is no check; use one of {}",
                        known.join(", ")
                    ));
                }
            }
        }
        for (list, words) in &self.any_of {
            let required = self.requires.iter().any(|r| r.any_of.contains(list));
            if EXTENDABLE.contains(&list.as_str()) {
                problems.push(format!(
                    "any_of.{list}: {list} is a built-in check; name the list otherwise, or add words with extend.{list}"
                ));
            } else if BUILT_IN.contains(&list.as_str()) {
                problems.push(format!(
                    "any_of.{list}: {list} is a built-in check; name the list otherwise"
                ));
            } else if words.iter().all(|w| w.trim().is_empty()) {
                problems.push(format!("any_of.{list}: list the words that show it"));
            } else if !required {
                problems.push(format!(
                    "any_of.{list}: {name} never requires it; add \"{list}\" to requires or remove the list"
                ));
            }
        }
        for check in self.extend.keys() {
            if !EXTENDABLE.contains(&check.as_str()) {
                problems.push(format!(
                    "extend.{check}: only {} take more words",
                    EXTENDABLE.join(" and ")
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests;
