//! A call as pipeline-guard reads it, whatever the recorder: its speakers and their turns, each
//! with a start and an end when the format gives them.

use std::{collections::HashMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use super::{gong, text, webvtt};
use crate::Error;

/// The largest transcript read, in bytes: an hour's call is about 60 KB of text, and the upload
/// endpoint takes at most 1 MiB.
pub const MAX_TRANSCRIPT_BYTES: usize = 1 << 20;

/// A transcript format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// WebVTT as Zoom (`Name: ` before a cue's text), Teams and Meet (`<v Name>`) export it.
    Webvtt,
    /// Gong's JSON: `parties` and `transcript[].sentences[]`.
    Gong,
    /// Plain `Name: text` lines, each with an optional `[mm:ss]` before it.
    Text,
}

/// The formats read, as they are named.
pub const FORMATS: &str = "webvtt, gong, text";

impl Format {
    /// The format's name (`webvtt`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Webvtt => "webvtt",
            Format::Gong => "gong",
            Format::Text => "text",
        }
    }

    /// Read a transcript in this format. A source over [`MAX_TRANSCRIPT_BYTES`] is refused
    /// before it is read; one that is not UTF-8 is refused naming the line.
    pub fn parse(self, source: &[u8]) -> Result<Transcript, Error> {
        if source.len() > MAX_TRANSCRIPT_BYTES {
            return Err(Error::TranscriptTooLarge {
                bytes: source.len(),
                limit: MAX_TRANSCRIPT_BYTES,
            });
        }
        let mut transcript = self.parse_checked(source)?;
        // The parsers grow the turns as they read; the rest of the analysis holds them beside
        // everything else, so they keep no room they will not use.
        transcript.turns.shrink_to_fit();
        Ok(transcript)
    }

    /// `source`, within the size cap, read by this format's parser.
    fn parse_checked(self, source: &[u8]) -> Result<Transcript, Error> {
        let text = match self {
            Format::Gong => return gong::parse(source),
            Format::Webvtt | Format::Text => std::str::from_utf8(source).map_err(|e| {
                let valid = &source[..e.valid_up_to()];
                let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
                self.invalid(line, "not UTF-8 text")
            })?,
        };
        if self == Format::Webvtt {
            webvtt::parse(text)
        } else {
            text::parse(text)
        }
    }

    /// The error for a problem on `line` (1-based).
    pub(crate) fn invalid(self, line: usize, message: impl Into<String>) -> Error {
        Error::InvalidTranscript {
            format: self.name(),
            at: format!("line {line}"),
            message: message.into(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;

    fn from_str(name: &str) -> Result<Format, Error> {
        match name.trim().to_ascii_lowercase().as_str() {
            "webvtt" | "vtt" => Ok(Format::Webvtt),
            "gong" => Ok(Format::Gong),
            "text" | "txt" => Ok(Format::Text),
            _ => Err(Error::UnknownTranscriptFormat {
                found: name.to_owned(),
                known: FORMATS,
            }),
        }
    }
}

/// Which side of the call a speaker is on, when the recorder knows it (Gong does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Affiliation {
    /// The rep's own company.
    Internal,
    /// The buyer's side.
    External,
    /// Not said.
    #[default]
    Unknown,
}

/// Someone who speaks in the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Speaker {
    /// The name the recorder shows.
    pub name: String,
    /// Their email, when the recorder gives it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Their side of the call.
    pub affiliation: Affiliation,
}

/// One speaker's turn: a cue, a sentence or a line, with its times in milliseconds from the
/// call's start when the format gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// The speaker, by index into [`Transcript::speakers`].
    pub speaker: usize,
    /// When it starts.
    pub start_ms: Option<u64>,
    /// When it ends.
    pub end_ms: Option<u64>,
    /// What was said, without markup.
    pub text: String,
}

impl Turn {
    /// Its length, when it has a start and an end.
    pub fn duration_ms(&self) -> Option<u64> {
        Some(self.end_ms?.saturating_sub(self.start_ms?))
    }
}

/// A call's transcript.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Transcript {
    /// Everyone who speaks, in order of first appearance.
    pub speakers: Vec<Speaker>,
    /// The turns, in the order the transcript gives them.
    pub turns: Vec<Turn>,
    #[serde(skip)]
    by_name: HashMap<String, usize>,
}

impl Transcript {
    /// The speaker called `name`, added when new.
    pub fn speaker(&mut self, name: &str) -> usize {
        if let Some(&index) = self.by_name.get(name) {
            return index;
        }
        self.add_speaker(Speaker {
            name: name.to_owned(),
            email: None,
            affiliation: Affiliation::Unknown,
        })
    }

    /// Add `speaker`, returning its index; a name already known returns that speaker's.
    pub fn add_speaker(&mut self, speaker: Speaker) -> usize {
        if let Some(&index) = self.by_name.get(&speaker.name) {
            return index;
        }
        let index = self.speakers.len();
        self.by_name.insert(speaker.name.clone(), index);
        self.speakers.push(speaker);
        index
    }

    /// Add a turn; one without any words is left out.
    pub fn push(&mut self, speaker: usize, start_ms: Option<u64>, end_ms: Option<u64>, text: &str) {
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() {
            self.turns.push(Turn {
                speaker,
                start_ms,
                end_ms,
                text,
            });
        }
    }

    /// The speakers' names, in order of first appearance.
    pub fn speaker_names(&self) -> Vec<String> {
        self.speakers.iter().map(|s| s.name.clone()).collect()
    }
}

/// A speaker's name before a colon at the start of a line (`Dana Ruiz: we close in nine days`),
/// and the rest of the line. Zoom writes every cue so and the plain format every line; a name is
/// at most five words and 64 characters, has a letter, and holds none of `?!;"<>`, and the colon
/// is followed by a space or the line's end (`10:30` or `https://` are no names).
pub fn speaker_prefix(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(':')?;
    let name = name.trim();
    let spaced = rest.is_empty() || rest.starts_with([' ', '\t']);
    let plausible = !name.is_empty()
        && name.len() <= 64
        && name.split_whitespace().count() <= 5
        && name.chars().any(char::is_alphabetic)
        && !name.contains(['?', '!', ';', '"', '<', '>']);
    (spaced && plausible).then(|| (name, rest.trim_start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_format_is_refused_naming_the_formats() {
        assert_eq!("WebVTT".parse::<Format>().ok(), Some(Format::Webvtt));
        let err = "srt".parse::<Format>().unwrap_err();
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.to_string(),
            "unknown transcript format \"srt\": use one of webvtt, gong, text"
        );
    }

    #[test]
    fn a_transcript_over_the_cap_is_refused_before_it_is_read() {
        let huge = vec![b'a'; MAX_TRANSCRIPT_BYTES + 1];
        for format in [Format::Webvtt, Format::Gong, Format::Text] {
            let err = format.parse(&huge).unwrap_err();
            assert_eq!(err.status(), 413, "{format}");
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_refused_naming_its_line() {
        let err = Format::Text
            .parse(b"Sam: hello\nDana: caf\xe9\n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid text transcript at line 2: not UTF-8 text"
        );
    }

    #[test]
    fn a_name_before_a_colon_is_a_speaker_and_a_time_is_not() {
        assert_eq!(
            speaker_prefix("Dana Ruiz: nine days"),
            Some(("Dana Ruiz", "nine days"))
        );
        assert_eq!(speaker_prefix("Sam:"), Some(("Sam", "")));
        assert_eq!(speaker_prefix("we start at 10:30 sharp"), None);
        assert_eq!(speaker_prefix("see https://example.com"), None);
        assert_eq!(
            speaker_prefix("so what did you decide? then: nothing"),
            None
        );
        assert_eq!(
            speaker_prefix("and this is a very long clause before it: x"),
            None
        );
    }
}
