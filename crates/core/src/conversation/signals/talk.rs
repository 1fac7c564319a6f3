//! How much the rep talks: their share of the call, and their longest monologue.

use serde::Serialize;

use super::{percent, rounded};
use crate::{conversation::transcript::Transcript, playbook::Conversation};

/// What a talk share is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Speaking time: every turn has a start and an end.
    Time,
    /// Words: some turn has no time.
    Words,
}

/// The rep's share of the talking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TalkShare {
    /// The share, 0–1.
    pub share: f64,
    /// Counted in time or in words.
    pub basis: Basis,
    /// The share the best calls have (`talk_share_target`).
    pub target: f64,
    /// Above this the call is an outlier (`talk_share_max`).
    pub max: f64,
    /// Why, in one sentence.
    pub why: String,
}

/// The rep's longest monologue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Monologue {
    /// Its length in seconds; none when the call has no times.
    pub seconds: Option<f64>,
    /// When it started, in seconds.
    pub at_s: Option<f64>,
    /// The longest a rep should talk (`longest_monologue_max_s`).
    pub max_s: u32,
    /// Why, in one sentence.
    pub why: String,
}

/// The rep's talk share: by time when every turn is timed, else by words. Overlapping turns
/// each count in full: two people talking at once both talk.
pub fn share(transcript: &Transcript, rep: usize, rules: &Conversation) -> TalkShare {
    let timed =
        !transcript.turns.is_empty() && transcript.turns.iter().all(|t| t.duration_ms().is_some());
    let (basis, unit) = if timed {
        (Basis::Time, "of the speaking time")
    } else {
        (Basis::Words, "of the words (some turns have no time)")
    };
    // In u128: a transcript may claim times no call lasts.
    let (mut own, mut all) = (0u128, 0u128);
    for turn in &transcript.turns {
        let amount = match basis {
            Basis::Time => u128::from(turn.duration_ms().unwrap_or(0)),
            Basis::Words => turn.text.split_whitespace().count() as u128,
        };
        all += amount;
        if turn.speaker == rep {
            own += amount;
        }
    }
    let share = if all == 0 {
        0.0
    } else {
        own as f64 / all as f64
    };
    let (target, max) = (rules.talk_share_target, rules.talk_share_max);
    let reading = if share > max {
        format!("above the {} where conversion drops", percent(max))
    } else if share > target {
        format!(
            "between the best calls' {} and the {} limit",
            percent(target),
            percent(max)
        )
    } else {
        format!("at or below the best calls' {}", percent(target))
    };
    TalkShare {
        share: rounded(share),
        basis,
        target,
        max,
        why: format!("The rep spoke {} {unit}: {reading}.", percent(share)),
    }
}

/// The rep's longest monologue: consecutive rep turns with no other speaker's turn between
/// them, from the first's start to the last's end.
pub fn monologue(transcript: &Transcript, rep: usize, rules: &Conversation) -> Monologue {
    let max_s = rules.longest_monologue_max_s;
    let mut longest: Option<(u64, u64)> = None;
    let mut current: Option<(u64, u64)> = None;
    for turn in &transcript.turns {
        let times = turn.start_ms.zip(turn.end_ms);
        current = match (turn.speaker == rep, times, current) {
            (true, Some((start, end)), Some((from, to))) => Some((from, to.max(end).max(start))),
            (true, Some(times), None) => Some(times),
            _ => None,
        };
        if let Some((from, to)) = current
            && longest.is_none_or(|(f, t)| to.saturating_sub(from) > t.saturating_sub(f))
        {
            longest = Some((from, to));
        }
    }
    let Some((from, to)) = longest else {
        return Monologue {
            seconds: None,
            at_s: None,
            max_s,
            why: "The rep's turns have no times, so no monologue can be measured.".to_owned(),
        };
    };
    let seconds = to.saturating_sub(from) as f64 / 1000.0;
    let reading = if seconds > f64::from(max_s) {
        format!("longer than the {max_s} s a buyer listens to")
    } else {
        format!("within {max_s} s")
    };
    Monologue {
        seconds: Some(seconds),
        at_s: Some(from as f64 / 1000.0),
        max_s,
        why: format!(
            "The rep's longest stretch without the buyer speaking ran {seconds:.0} s from {}: {reading}.",
            clock(from)
        ),
    }
}

/// `mm:ss`, or `h:mm:ss` past the hour.
pub(super) fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A turn: the speaker, its start and end, its words.
    type Said<'a> = (usize, Option<(u64, u64)>, &'a str);

    fn call(turns: &[Said<'_>]) -> Transcript {
        let mut t = Transcript::default();
        t.speaker("Sam");
        t.speaker("Dana");
        for &(speaker, times, text) in turns {
            t.push(speaker, times.map(|t| t.0), times.map(|t| t.1), text);
        }
        t
    }

    #[test]
    fn a_timed_call_counts_seconds_and_an_untimed_one_words() {
        let rules = Conversation::default();
        // Sam 30 s + 40 s = 70 s of 100 s.
        let timed = call(&[
            (0, Some((0, 30_000)), "a b c"),
            (1, Some((30_000, 60_000)), "d"),
            (0, Some((60_000, 100_000)), "e"),
        ]);
        let share = share(&timed, 0, &rules);
        assert_eq!((share.share, share.basis), (0.7, Basis::Time));
        assert_eq!(
            share.why,
            "The rep spoke 70 % of the speaking time: above the 65 % where conversion drops."
        );
        // One turn untimed: 4 of Sam's words out of 6.
        let untimed = call(&[
            (0, Some((0, 30_000)), "a b c"),
            (1, None, "d e"),
            (0, Some((60_000, 100_000)), "f"),
        ]);
        let share = super::share(&untimed, 0, &rules);
        assert_eq!((share.share, share.basis), (0.667, Basis::Words));
    }

    #[test]
    fn a_monologue_runs_until_another_speaker_talks() {
        let rules = Conversation::default();
        let t = call(&[
            (0, Some((0, 20_000)), "a"),
            (1, Some((20_000, 25_000)), "b"),
            (0, Some((25_000, 90_000)), "c"),
            (0, Some((90_000, 175_000)), "d"),
            (1, Some((175_000, 180_000)), "e"),
        ]);
        let m = monologue(&t, 0, &rules);
        assert_eq!((m.seconds, m.at_s), (Some(150.0), Some(25.0)));
        assert_eq!(
            m.why,
            "The rep's longest stretch without the buyer speaking ran 150 s from 00:25: longer than the 120 s a buyer listens to."
        );
        let untimed = call(&[(0, None, "a")]);
        assert_eq!(monologue(&untimed, 0, &rules).seconds, None);
    }
}
