//! What a coach reads from a call, each signal with the figure, the band it is read against (from
//! the playbook's `[conversation]` table) and a sentence saying why.
//!
//! Pure and linear in the transcript's length: the sentences are cut once, and each signal is
//! one pass over them.

mod asked;
mod competitors;
mod evidence;
mod outlier;
mod talk;

use serde::Serialize;
use time::OffsetDateTime;

pub use asked::{Asked, DimensionsAsked, Questions};
pub use competitors::Mention;
pub use evidence::{Evidence, NextStep};
pub use outlier::{Outlier, Tracked};
pub use talk::{Basis, Monologue, TalkShare};

use super::{
    sentences,
    transcript::{Affiliation, Transcript},
};
use crate::playbook::Playbook;

/// A call's signals; `--json` prints exactly these keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signals {
    /// The rep's speaker name, as the transcript has it.
    pub rep: String,
    /// Everyone who speaks, in order of first appearance.
    pub speakers: Vec<String>,
    /// The call's length in seconds (its last timed moment), when it has times.
    pub duration_s: Option<f64>,
    /// The rep's share of the talking.
    pub rep_talk_share: TalkShare,
    /// The rep's longest stretch of talking without the buyer saying a word.
    pub longest_rep_monologue_s: Monologue,
    /// The rep's questions, and per 10 minutes.
    pub rep_questions: Questions,
    /// The playbook dimensions the rep asked about.
    pub dimensions_asked: DimensionsAsked,
    /// The buyer's sentences that pass a dimension's evidence checks.
    pub evidence: Vec<Evidence>,
    /// The playbook's competitors mentioned, with the minute.
    pub competitors: Vec<Mention>,
    /// Whether a next step was agreed in the call's last part.
    pub next_step: NextStep,
    /// Whether the call is an outlier, and why.
    pub outlier: Outlier,
    /// The behaviour the playbook follows from call to call, in this call.
    pub tracked: Tracked,
}

/// Compute `transcript`'s signals for the rep against `playbook`; dates said in the call are
/// judged from `started_at`. `rep` is the speaker index [`RepRef::find_in`] returned for this
/// transcript.
///
/// [`RepRef::find_in`]: crate::conversation::rep::RepRef::find_in
pub fn signals(
    transcript: &Transcript,
    rep: usize,
    playbook: &Playbook,
    started_at: OffsetDateTime,
) -> Signals {
    let rules = &playbook.conversation;
    let sentences = sentences::sentences(transcript);
    let duration_ms = transcript
        .turns
        .iter()
        .filter_map(|t| t.end_ms.or(t.start_ms))
        .max();
    let total_words = sentences
        .last()
        .map_or(0, |s| s.words_before + s.text.split_whitespace().count());
    let place = evidence::Place {
        duration_ms,
        total_words,
        last_part: rules.last_part,
    };
    let rep_talk_share = talk::share(transcript, rep, rules);
    let longest_rep_monologue_s = talk::monologue(transcript, rep, rules);
    let rep_questions = asked::questions(&sentences, rep, duration_ms, rules);
    let dimensions_asked = asked::dimensions(&sentences, rep, playbook);
    let judge = evidence::Judge::new(playbook, started_at);
    let internal: Vec<bool> = transcript
        .speakers
        .iter()
        .map(|s| s.affiliation == Affiliation::Internal)
        .collect();
    let names = transcript.speaker_names();
    let evidence = judge.evidence(&sentences, rep, &internal);
    let next_step = judge.next_step(&sentences, rep, &names, &place, rules);
    let outlier = outlier::outlier(&rep_talk_share, &rep_questions, &next_step, rules);
    let tracked = outlier::tracked(
        rules.tracked,
        &rep_talk_share,
        &longest_rep_monologue_s,
        &rep_questions,
    );
    Signals {
        rep: transcript.speakers[rep].name.clone(),
        speakers: names,
        duration_s: duration_ms.map(|ms| ms as f64 / 1000.0),
        rep_talk_share,
        longest_rep_monologue_s,
        rep_questions,
        dimensions_asked,
        evidence,
        competitors: competitors::mentions(&sentences, &rules.competitors, transcript),
        next_step,
        outlier,
        tracked,
    }
}

/// A share rounded to a tenth of a percent, as reports show it.
fn rounded(share: f64) -> f64 {
    (share * 1000.0).round() / 1000.0
}

/// A share as a rep reads it: `43 %`.
fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}
