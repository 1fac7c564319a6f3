//! Sales calls: a transcript read from the format a team's recorder exports, the rep found among
//! its speakers, and the signals a coach reads from it, each explained.
//!
//! # Map
//! - [`transcript`]: speakers and their turns, with times when the format has them; the
//!   formats read and the size cap.
//! - [`webvtt`], [`gong`], [`text`]: one parser per format (Zoom, Teams and Meet WebVTT; Gong's
//!   JSON; `Name: text` lines).
//! - [`rep`]: which speaker is the rep, by name or email.
//! - [`sentences`]: the turns cut into sentences, each with the second it was said at.
//! - [`signals`]: talk share, longest monologue, questions, dimensions asked about, the buyer's
//!   evidence, competitors, an agreed next step, and whether the call is an outlier.
//! - [`upload`]: a call as `POST /score-lead/<crm>/calls` receives it, read and analysed.
//! - [`note`]: what the rep reads on the call's record: a note, never a task, nothing in a field.
//! - [`history`]: each rep's calls kept as metrics (never the transcript), compared only with the
//!   rep's own last 30 days.
//!
//! # Example
//! ```
//! use pipeline_guard_core::conversation::{self, Format, rep::RepRef};
//! use pipeline_guard_core::playbook::Playbook;
//! use time::macros::datetime;
//!
//! let call = "Sam Rivera: What is broken today?\nDana Ruiz: Month-end close takes nine days.\n";
//! let rep = RepRef::named("Sam Rivera");
//! let playbook = Playbook::default_playbook();
//! let signals =
//!     conversation::analyse(Format::Text, call.as_bytes(), &rep, &playbook, datetime!(2026-12-07 10:00 UTC))
//!         .unwrap();
//! assert_eq!(signals.rep_questions.count, 1);
//! assert_eq!(&*signals.evidence[0].dimension, "pain");
//! ```

pub mod gong;
pub mod history;
pub mod note;
pub mod rep;
pub mod sentences;
pub mod signals;
pub mod text;
pub mod transcript;
pub mod upload;
pub mod webvtt;

use time::OffsetDateTime;

pub use signals::Signals;
pub use transcript::{Format, MAX_TRANSCRIPT_BYTES, Transcript};

use crate::{Error, playbook::Playbook};

/// Read `source` as `format`, find `rep` among its speakers and compute the call's signals
/// against `playbook`; `started_at` is when the call began (a date said in it is judged from
/// that day).
pub fn analyse(
    format: Format,
    source: &[u8],
    rep: &rep::RepRef,
    playbook: &Playbook,
    started_at: OffsetDateTime,
) -> Result<Signals, Error> {
    let transcript = format.parse(source)?;
    let rep = rep.find_in(&transcript)?;
    Ok(signals::signals(&transcript, rep, playbook, started_at))
}
