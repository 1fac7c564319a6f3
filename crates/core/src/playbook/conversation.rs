//! The playbook's `[conversation]` table: the bands a call's signals are read against, the words
//! that show a rep asked about a dimension, and the competitors worth noticing.
//!
//! The defaults come from public research, never from the code that reads them: Gong Labs'
//! 25,537 calls (updated 2025) found a 43 % rep talk share converts best and conversion drops
//! above about 65 %; 11–14 questions per discovery call went with the best calls (second-hand,
//! from a Gong deck); a pitch longer than two minutes hurts (second-hand, a Gong infographic).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a call's signals are read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Conversation {
    /// The rep's talk share (0–1) the best calls have.
    pub talk_share_target: f64,
    /// Above this talk share (0–1) a call is an outlier.
    pub talk_share_max: f64,
    /// The rep's questions per call the best calls have, `[min, max]`.
    pub questions: [u32; 2],
    /// The longest the rep should talk without the buyer saying a word, in seconds.
    pub longest_monologue_max_s: u32,
    /// The last share (0–1] of the call in which a next step must be agreed.
    pub last_part: f64,
    /// The dimension whose evidence is an agreed next step (`next_step` in the default
    /// playbook); none: whether a next step was agreed is not judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<String>,
    /// The behaviour followed from call to call.
    pub tracked: Behaviour,
    /// Words that show a rep's question asks about a dimension, by dimension key, besides the
    /// words of the dimension's own question.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub asked: BTreeMap<String, Vec<String>>,
    /// Competitors whose mention is noted, with the minute it came up.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub competitors: Vec<String>,
}

/// A behaviour followed from call to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// The rep's questions in the call.
    QuestionsPerCall,
    /// The rep's share of the talking.
    TalkShare,
    /// The rep's longest monologue.
    LongestMonologue,
}

impl Behaviour {
    /// The behaviour as a rep reads it.
    pub fn label(self) -> &'static str {
        match self {
            Behaviour::QuestionsPerCall => "questions per call",
            Behaviour::TalkShare => "talk share",
            Behaviour::LongestMonologue => "longest monologue",
        }
    }
}

impl Default for Conversation {
    fn default() -> Self {
        Conversation {
            talk_share_target: 0.43,
            talk_share_max: 0.65,
            questions: [11, 14],
            longest_monologue_max_s: 120,
            last_part: 0.25,
            next_step: None,
            tracked: Behaviour::QuestionsPerCall,
            asked: BTreeMap::new(),
            competitors: Vec::new(),
        }
    }
}

impl Conversation {
    /// Every problem, each `conversation.<field>: what is wrong; how to fix it`, given the
    /// playbook's dimension keys.
    pub fn problems(&self, dimension_keys: &[&str]) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, share) in [
            ("talk_share_target", self.talk_share_target),
            ("talk_share_max", self.talk_share_max),
        ] {
            if !(share > 0.0 && share < 1.0) {
                problems.push(format!(
                    "conversation.{name}: a share between 0 and 1 (found {share}); 0.43 is 43 %"
                ));
            }
        }
        if self.talk_share_target > self.talk_share_max {
            problems.push(format!(
                "conversation.talk_share_target: {} is above talk_share_max {}",
                self.talk_share_target, self.talk_share_max
            ));
        }
        let [min, max] = self.questions;
        if min > max {
            problems.push(format!(
                "conversation.questions: [{min}, {max}] is no band; write [lowest, highest]"
            ));
        }
        if self.longest_monologue_max_s == 0 {
            problems.push("conversation.longest_monologue_max_s: must be at least 1".to_owned());
        }
        if !(self.last_part > 0.0 && self.last_part <= 1.0) {
            problems.push(format!(
                "conversation.last_part: a share within (0, 1] (found {}); 0.25 is the last quarter",
                self.last_part
            ));
        }
        let known = dimension_keys.join(", ");
        if let Some(key) = &self.next_step
            && !dimension_keys.contains(&key.as_str())
        {
            problems.push(format!(
                "conversation.next_step: unknown dimension {key:?}; known: {known}"
            ));
        }
        for (key, words) in &self.asked {
            if !dimension_keys.contains(&key.as_str()) {
                problems.push(format!(
                    "conversation.asked.{key}: unknown dimension; known: {known}"
                ));
            } else if words.iter().any(|w| w.trim().is_empty()) {
                problems.push(format!(
                    "conversation.asked.{key}: an empty word matches every question; remove it"
                ));
            }
        }
        for (i, competitor) in self.competitors.iter().enumerate() {
            if competitor.trim().is_empty() {
                problems.push(format!(
                    "conversation.competitors[{i}]: name the competitor, or remove it"
                ));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_research_figures_and_valid() {
        let defaults = Conversation::default();
        assert_eq!(defaults.talk_share_target, 0.43);
        assert_eq!(defaults.talk_share_max, 0.65);
        assert_eq!(defaults.questions, [11, 14]);
        assert!(defaults.problems(&["next_step"]).is_empty());
    }

    #[test]
    fn every_problem_names_its_field() {
        let broken = Conversation {
            talk_share_target: 0.7,
            talk_share_max: 1.5,
            questions: [14, 11],
            longest_monologue_max_s: 0,
            last_part: 0.0,
            next_step: Some("nxt".into()),
            tracked: Behaviour::TalkShare,
            asked: BTreeMap::from([
                ("pain".into(), vec![" ".into()]),
                ("budget".into(), vec!["money".into()]),
            ]),
            competitors: vec![String::new()],
        };
        assert_eq!(
            broken.problems(&["pain", "next_step"]),
            [
                "conversation.talk_share_max: a share between 0 and 1 (found 1.5); 0.43 is 43 %",
                "conversation.questions: [14, 11] is no band; write [lowest, highest]",
                "conversation.longest_monologue_max_s: must be at least 1",
                "conversation.last_part: a share within (0, 1] (found 0); 0.25 is the last quarter",
                "conversation.next_step: unknown dimension \"nxt\"; known: pain, next_step",
                "conversation.asked.budget: unknown dimension; known: pain, next_step",
                "conversation.asked.pain: an empty word matches every question; remove it",
                "conversation.competitors[0]: name the competitor, or remove it",
            ]
        );
    }
}
