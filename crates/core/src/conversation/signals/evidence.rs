//! The buyer's sentences judged by the playbook's own evidence checks, exactly as a record's
//! text is: a pain with a figure or a consequence, a dated next step with a person, a named
//! economic buyer.
//!
//! A text dimension's sentence counts when its rule turns green on it; a sentence green for
//! several dimensions counts for those whose rules require the most (a dated next step with a
//! person is not also a pain because it names a figure), and for each of them on a tie (a
//! figure is Pain's and Impact's). A dimension whose rule
//! requires nothing (Situation: any six words) would take every sentence, so it takes none. A
//! contact dimension (the economic buyer) takes a sentence naming a person, role or meeting and
//! one of the rule's titles or roles ("our CFO Maria signs off"). Picklists, numbers, dates and
//! yes/no fields are what a CRM holds, not what a buyer says: a call gives them no evidence.

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use serde::Serialize;
use time::OffsetDateTime;

use super::talk::clock;
use crate::{
    conversation::sentences::Sentence,
    evidence::{
        EvidenceRule, Judgement, Subject, TextRule,
        text::{Findings, Requirement, words::Word},
    },
    model::Record,
    playbook::{Conversation, Dimension, Playbook},
    score::Status,
};

/// A buyer's sentence that is evidence for a dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The dimension's key.
    pub dimension: Arc<str>,
    /// The sentence, as said: one copy for all the dimensions it is evidence for.
    pub quote: Arc<str>,
    /// When, in seconds.
    pub at_s: Option<f64>,
    /// What the checks found in it.
    pub why: Box<str>,
}

/// Whether a next step was agreed in the call's last part.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NextStep {
    /// Agreed or not; none when the playbook names no next-step dimension a call can show.
    pub agreed: Option<bool>,
    /// The sentence that agreed it (the last one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// Who said it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// When, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_s: Option<f64>,
    /// Why, in one sentence.
    pub why: String,
}

/// Where the call's last part starts.
pub struct Place {
    /// The call's length, when it has times.
    pub duration_ms: Option<u64>,
    /// The call's words.
    pub total_words: usize,
    /// The last part's share of the call.
    pub last_part: f64,
}

impl Place {
    /// Whether `sentence` falls in the last part: by time when both are timed, else by words.
    fn in_last_part(&self, sentence: &Sentence<'_>) -> bool {
        let from = 1.0 - self.last_part;
        match (self.duration_ms, sentence.at_ms) {
            (Some(duration), Some(at)) => at as f64 >= duration as f64 * from,
            _ => sentence.words_before as f64 >= self.total_words as f64 * from,
        }
    }
}

/// The playbook's evidence checks, ready for sentences.
pub struct Judge<'p> {
    playbook: &'p Playbook,
    checks: Vec<(&'p Dimension, Cow<'p, TextRule>)>,
    record: Record,
    now: OffsetDateTime,
}

impl<'p> Judge<'p> {
    /// The checks of `playbook`'s dimensions that a sentence can meet, judging dates from `now`.
    pub fn new(playbook: &'p Playbook, now: OffsetDateTime) -> Judge<'p> {
        let checks = playbook
            .dimensions
            .iter()
            .filter_map(|d| Some((d, sentence_rule(&d.evidence)?)))
            .collect();
        Judge {
            playbook,
            checks,
            record: Record::new_deal("call"),
            now,
        }
    }

    /// Whether `sentence`, cut into `words`, can be green for `check`'s dimension: enough words,
    /// and every requirement met. Only such a sentence is judged in full.
    fn may_be_green(
        &self,
        (_, rule): &(&Dimension, Cow<'_, TextRule>),
        sentence: &Sentence<'_>,
        (words, findings): (&[Word], &Findings),
    ) -> bool {
        sentence.text.split_whitespace().count() >= rule.min_words
            && rule.requirements_met(words, self.now, findings)
    }

    /// `sentence`, cut into `words`, judged in full for `check`'s dimension: green or nothing.
    fn green(
        &self,
        (dimension, rule): &(&Dimension, Cow<'_, TextRule>),
        sentence: &Sentence<'_>,
        (words, findings): (&[Word], &Findings),
    ) -> Option<Judgement> {
        let subject = Subject {
            record: &self.record,
            field: dimension.field(),
            name: &dimension.name,
            question: &dimension.question,
            placeholders: &self.playbook.handoff.placeholders,
        };
        let judgement = rule.judge_words(
            &subject,
            sentence.text.to_owned(),
            words,
            self.now,
            findings,
        );
        (judgement.status == Status::Green).then_some(judgement)
    }

    /// Every sentence of the buyer's side (any speaker but the rep and, when the recorder says
    /// so, the rep's colleagues) that is evidence, for the dimensions whose rule it meets with
    /// the most requirements: "our CFO signs off on anything over fifty thousand" names a figure
    /// (Pain's one requirement) but is the economic buyer's evidence (a person and authority).
    pub fn evidence(
        &self,
        sentences: &[Sentence<'_>],
        rep: usize,
        internal: &[bool],
    ) -> Vec<Evidence> {
        // Each dimension's key once, shared by all its quotes: a call may give hundreds.
        let keys: Vec<Arc<str>> = self
            .checks
            .iter()
            .map(|(dimension, _)| dimension.key.as_str().into())
            .collect();
        let mut found = Vec::new();
        for sentence in sentences
            .iter()
            .filter(|s| s.speaker != rep && !internal[s.speaker])
        {
            let words = sentence.words();
            let findings = Findings::default();
            let read = (words.as_slice(), &findings);
            let candidates: Vec<usize> = (0..self.checks.len())
                .filter(|&c| self.may_be_green(&self.checks[c], sentence, read))
                .collect();
            let requires = |c: usize| self.checks[c].1.requires.len();
            let most = candidates.iter().map(|&c| requires(c)).max();
            let greens: Vec<(usize, Judgement)> = candidates
                .into_iter()
                .filter(|&c| Some(requires(c)) == most)
                .filter_map(|c| Some((c, self.green(&self.checks[c], sentence, read)?)))
                .collect();
            if greens.is_empty() {
                continue;
            }
            let quote: Arc<str> = sentence.text.into();
            for (c, judgement) in greens {
                found.push(Evidence {
                    dimension: Arc::clone(&keys[c]),
                    quote: Arc::clone(&quote),
                    at_s: sentence.at_s(),
                    why: judgement.reason.into(),
                });
            }
        }
        found
    }

    /// Whether a next step was agreed in the call's last part: a sentence there that is
    /// evidence for the playbook's next-step dimension, said by the buyer's side or stated by
    /// the rep ("I'll send the invite for Tuesday with Dana"); the rep's question ("could we meet
    /// Grace on Friday?") only proposes one.
    pub fn next_step(
        &self,
        sentences: &[Sentence<'_>],
        rep: usize,
        names: &[String],
        place: &Place,
        rules: &Conversation,
    ) -> NextStep {
        let unjudged = |why: String| NextStep {
            agreed: None,
            quote: None,
            speaker: None,
            at_s: None,
            why,
        };
        let Some(key) = &rules.next_step else {
            return unjudged(
                "The playbook names no next-step dimension ([conversation] next_step).".to_owned(),
            );
        };
        let Some(check) = self.checks.iter().find(|(d, _)| &d.key == key) else {
            return unjudged(format!(
                "{key}'s evidence is a CRM field a call cannot show, so no next step is judged."
            ));
        };
        let last_part = format!("{:.0} %", rules.last_part * 100.0);
        let agreed = sentences
            .iter()
            .rev()
            .take_while(|s| place.in_last_part(s))
            .filter(|s| !(s.speaker == rep && s.is_question()))
            .find_map(|s| {
                let (words, findings) = (s.words(), Findings::default());
                let read = (words.as_slice(), &findings);
                self.may_be_green(check, s, read)
                    .then(|| self.green(check, s, read))
                    .flatten()
                    .map(|judgement| (s, judgement))
            });
        match agreed {
            Some((sentence, judgement)) => NextStep {
                agreed: Some(true),
                quote: Some(sentence.text.to_owned()),
                speaker: Some(names[sentence.speaker].clone()),
                at_s: sentence.at_s(),
                why: format!(
                    "Agreed{} in the call's last {last_part}: {}.",
                    sentence
                        .at_ms
                        .map_or(String::new(), |ms| format!(" at {}", clock(ms))),
                    judgement.reason
                ),
            },
            None => NextStep {
                agreed: Some(false),
                quote: None,
                speaker: None,
                at_s: None,
                why: format!(
                    "No sentence in the call's last {last_part} gives {} evidence: {}",
                    check.0.name, check.0.question
                ),
            },
        }
    }
}

/// The text rule a sentence is judged by for a dimension judged by `rule`, if any.
fn sentence_rule(rule: &EvidenceRule) -> Option<Cow<'_, TextRule>> {
    match rule {
        EvidenceRule::Text(text) if !text.requires.is_empty() => Some(Cow::Borrowed(text)),
        EvidenceRule::Contact { roles, titles } => {
            let authority: Vec<String> = titles
                .iter()
                .cloned()
                .chain(roles.iter().map(|r| r.replace('_', " ")))
                .collect();
            Some(Cow::Owned(TextRule::new(
                3,
                vec![
                    Requirement::from("person".to_owned()),
                    Requirement::from("authority".to_owned()),
                ],
                BTreeMap::from([("authority".to_owned(), authority)]),
                BTreeMap::new(),
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{sentences::sentences, transcript::Transcript};
    use time::macros::datetime;

    const MONDAY: OffsetDateTime = datetime!(2026-12-07 10:00 UTC);

    fn call(lines: &[(usize, &str)]) -> Transcript {
        let mut t = Transcript::default();
        t.speaker("Sam");
        t.speaker("Dana");
        for (i, &(speaker, line)) in lines.iter().enumerate() {
            let at = i as u64 * 60_000;
            t.push(speaker, Some(at), Some(at + 60_000), line);
        }
        t
    }

    #[test]
    fn the_buyers_sentences_that_pass_a_dimensions_checks_are_evidence() {
        let playbook = Playbook::default_playbook();
        let t = call(&[
            (0, "Month-end close takes nine days and delays reporting."),
            (1, "Month-end close takes nine days and delays reporting."),
            (1, "It is a bit annoying sometimes."),
            (1, "Our CFO Maria Lopez signs off on anything over budget."),
            (1, "Let's book a demo with Priya next Tuesday."),
        ]);
        let judge = Judge::new(&playbook, MONDAY);
        let found: Vec<(String, Option<f64>)> = judge
            .evidence(&sentences(&t), 0, &[false, false])
            .into_iter()
            .map(|e| (e.dimension.to_string(), e.at_s))
            .collect();
        // The rep's own words are never the buyer's evidence; a vague complaint is none.
        assert_eq!(
            found,
            [
                ("pain".to_owned(), Some(60.0)),
                ("impact".to_owned(), Some(60.0)),
                ("economic_buyer".to_owned(), Some(180.0)),
                ("next_step".to_owned(), Some(240.0)),
            ]
        );
    }

    #[test]
    fn a_next_step_counts_only_in_the_calls_last_part() {
        let playbook = Playbook::default_playbook();
        let judge = Judge::new(&playbook, MONDAY);
        let names = ["Sam".to_owned(), "Dana".to_owned()];
        let early = call(&[
            (1, "Let's book a demo with Priya next Tuesday."),
            (0, "Great."),
            (1, "Fine."),
            (0, "Bye."),
        ]);
        let place = Place {
            duration_ms: Some(240_000),
            total_words: 12,
            last_part: 0.25,
        };
        let rules = &playbook.conversation;
        let step = judge.next_step(&sentences(&early), 0, &names, &place, rules);
        assert_eq!(step.agreed, Some(false));
        let late = call(&[
            (0, "Great."),
            (1, "Fine."),
            (0, "So."),
            (
                0,
                "I'll send the invite for the demo with Priya next Tuesday.",
            ),
        ]);
        let proposed = call(&[
            (0, "Great."),
            (1, "Fine."),
            (0, "So."),
            (0, "Could we do the demo with Priya next Tuesday?"),
        ]);
        let step = judge.next_step(&sentences(&proposed), 0, &names, &place, rules);
        assert_eq!(step.agreed, Some(false));
        let step = judge.next_step(&sentences(&late), 0, &names, &place, rules);
        assert_eq!(
            (step.agreed, step.speaker.as_deref(), step.at_s),
            (Some(true), Some("Sam"), Some(180.0))
        );
    }
}
