//! Whether a call is an outlier for a coach to look at, and the behaviour followed from call to
//! call.

use serde::Serialize;

use super::{Monologue, NextStep, Questions, TalkShare, percent};
use crate::playbook::{Behaviour, Conversation};

/// Whether the call is an outlier: the rep talked above the band, asked no question, or agreed
/// no next step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outlier {
    /// Marked for a coach.
    pub marked: bool,
    /// Each reason it is.
    pub reasons: Vec<String>,
}

/// The playbook's tracked behaviour (`[conversation] tracked`), in this call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracked {
    /// The behaviour.
    pub behaviour: Behaviour,
    /// Its value in this call; none when the call cannot show it (no times).
    pub value: Option<f64>,
}

/// Mark the call when any outlier rule holds.
pub fn outlier(
    talk: &TalkShare,
    questions: &Questions,
    next_step: &NextStep,
    rules: &Conversation,
) -> Outlier {
    let mut reasons = Vec::new();
    if talk.share > rules.talk_share_max {
        reasons.push(format!(
            "the rep talked {} of the call, above the {} band",
            percent(talk.share),
            percent(rules.talk_share_max)
        ));
    }
    if questions.count == 0 {
        reasons.push("the rep asked no question".to_owned());
    }
    if next_step.agreed == Some(false) {
        reasons.push(format!(
            "no next step was agreed in the call's last {}",
            percent(rules.last_part)
        ));
    }
    Outlier {
        marked: !reasons.is_empty(),
        reasons,
    }
}

/// The value of `behaviour` in this call.
pub fn tracked(
    behaviour: Behaviour,
    talk: &TalkShare,
    monologue: &Monologue,
    questions: &Questions,
) -> Tracked {
    let value = match behaviour {
        Behaviour::QuestionsPerCall => Some(questions.count as f64),
        Behaviour::TalkShare => Some(talk.share),
        Behaviour::LongestMonologue => monologue.seconds,
    };
    Tracked { behaviour, value }
}
