//! WebVTT as meeting recorders export it: Teams and Meet name the speaker in a voice span
//! (`<v Dana Ruiz>…</v>`, `<v.loud Dana>`), Zoom before the cue's text (`Dana Ruiz: …`); a Zoom
//! cue with no name continues the speaker before it, as one turn spans several cues there.
//!
//! Hand-written, after weighing the crates (December 2026): `vtt` 1.0 reads neither NOTE blocks
//! nor `<v>`; `subtp` 0.2 reads NOTE, STYLE and REGION but has been idle since February 2024;
//! `webvtt-parser` 1.4 keeps `<v …>` as raw text and brings `nom`; `subparse` is unmaintained.
//! None finds speakers, so each would be a second pass over text it had already cut, and none
//! names the line of a malformed cue. What is read here: the `WEBVTT` header (after an optional
//! BOM), blank-line separated blocks, NOTE, STYLE and REGION blocks (skipped), an optional cue
//! id, `[hh:]mm:ss.ttt --> [hh:]mm:ss.ttt [settings]`, then the cue's lines; tags are dropped,
//! `&amp; &lt; &gt; &nbsp; &lrm; &rlm;` unescaped. One pass over the lines, no backtracking.

use super::transcript::{Format, Transcript, speaker_prefix};
use crate::Error;

/// Read a WebVTT transcript.
pub fn parse(source: &str) -> Result<Transcript, Error> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut lines = source
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .peekable();
    match lines.next() {
        Some((_, header))
            if header
                .strip_prefix("WEBVTT")
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t'])) => {}
        _ => return Err(invalid(1, "a WebVTT file starts with the line `WEBVTT`")),
    }
    // The header's own lines run to the first blank line.
    for (_, line) in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    let mut transcript = Transcript::default();
    let mut speaker: Option<usize> = None;
    let mut block: Vec<(usize, &str)> = Vec::new();
    loop {
        let next = lines.next();
        match next {
            Some((number, line)) if !line.trim().is_empty() => block.push((number, line)),
            _ => {
                if !block.is_empty() {
                    cue(&block, &mut transcript, &mut speaker)?;
                    block.clear();
                }
                if next.is_none() {
                    return Ok(transcript);
                }
            }
        }
    }
}

fn invalid(line: usize, message: impl Into<String>) -> Error {
    Format::Webvtt.invalid(line, message)
}

/// Read one block: a NOTE, STYLE or REGION block is skipped, anything else is a cue.
fn cue(
    block: &[(usize, &str)],
    transcript: &mut Transcript,
    speaker: &mut Option<usize>,
) -> Result<(), Error> {
    let (first_number, first) = block[0];
    let keyword = first.split([' ', '\t']).next().unwrap_or_default();
    if matches!(keyword, "NOTE" | "STYLE" | "REGION") && !first.contains("-->") {
        return Ok(());
    }
    let timing_at = if first.contains("-->") { 0 } else { 1 };
    let Some(&(number, timing)) = block.get(timing_at).filter(|(_, l)| l.contains("-->")) else {
        return Err(invalid(
            first_number,
            "expected a cue timing such as `00:01:02.500 --> 00:01:05.000`",
        ));
    };
    let (start, end) = timings(timing).map_err(|message| invalid(number, message))?;
    let mut segments = Segments::default();
    for &(number, line) in &block[timing_at + 1..] {
        if line.contains("-->") {
            return Err(invalid(
                number,
                "a cue's text cannot hold `-->`; is a blank line missing before this cue?",
            ));
        }
        segments.line(line);
    }
    let voiced = segments.voiced;
    for (voice, text) in segments.done() {
        let (name, text) = match voice {
            Some(name) => (Some(name), text),
            None if !voiced => match speaker_prefix(&text) {
                Some((name, rest)) => (Some(name.to_owned()), rest.to_owned()),
                None => (None, text),
            },
            None => (None, text),
        };
        let who = match name {
            Some(name) => transcript.speaker(&name),
            None => match *speaker {
                Some(previous) => previous,
                None => transcript.speaker("Unknown speaker"),
            },
        };
        *speaker = Some(who);
        transcript.push(who, Some(start), Some(end), &text);
    }
    Ok(())
}

/// `00:01:02.500 --> 00:01:05.000 align:start`, in milliseconds.
fn timings(line: &str) -> Result<(u64, u64), String> {
    let (start, rest) = line.split_once("-->").ok_or("expected `start --> end`")?;
    let end = rest.split_whitespace().next().unwrap_or_default();
    let start = timestamp(start.trim())
        .ok_or_else(|| format!("{:?} is no timestamp; write [hh:]mm:ss.ttt", start.trim()))?;
    let end =
        timestamp(end).ok_or_else(|| format!("{end:?} is no timestamp; write [hh:]mm:ss.ttt"))?;
    if end < start {
        return Err("the cue ends before it starts".to_owned());
    }
    Ok((start, end))
}

/// `[hh:]mm:ss.ttt` in milliseconds.
fn timestamp(text: &str) -> Option<u64> {
    let (clock, millis) = text.split_once('.')?;
    let parts: Vec<&str> = clock.split(':').collect();
    let digits = |s: &str, len: Option<usize>| {
        (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
            .then_some(())
            .filter(|()| len.is_none_or(|len| s.len() == len))
            .and_then(|()| s.parse::<u64>().ok())
    };
    let (hours, minutes, seconds) = match parts.as_slice() {
        [m, s] => (0, digits(m, Some(2))?, digits(s, Some(2))?),
        [h, m, s] => (digits(h, None)?, digits(m, Some(2))?, digits(s, Some(2))?),
        _ => return None,
    };
    if minutes > 59 || seconds > 59 {
        return None;
    }
    let millis = digits(millis, Some(3))?;
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
}

/// A cue's text cut at voice spans: each span's speaker and words, tags dropped.
#[derive(Default)]
struct Segments {
    done: Vec<(Option<String>, String)>,
    voice: Option<String>,
    text: String,
    voiced: bool,
}

impl Segments {
    fn line(&mut self, line: &str) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        let mut rest = line;
        while let Some(open) = rest.find('<') {
            unescape(&rest[..open], &mut self.text);
            let Some(close) = rest[open..].find('>') else {
                // A `<` that opens no tag is text, as browsers show it.
                unescape(&rest[open..], &mut self.text);
                return;
            };
            self.tag(&rest[open + 1..open + close]);
            rest = &rest[open + close + 1..];
        }
        unescape(rest, &mut self.text);
    }

    fn tag(&mut self, tag: &str) {
        let Some(voice) = tag
            .strip_prefix('v')
            .filter(|v| v.starts_with([' ', '\t', '.']))
        else {
            return;
        };
        let name = voice
            .split_once([' ', '\t'])
            .map_or("", |(_, name)| name.trim());
        self.flush();
        self.voiced = true;
        let mut unescaped = String::new();
        unescape(name, &mut unescaped);
        self.voice = (!unescaped.is_empty()).then_some(unescaped);
    }

    fn flush(&mut self) {
        if !self.text.trim().is_empty() {
            self.done
                .push((self.voice.clone(), std::mem::take(&mut self.text)));
        }
        self.text.clear();
    }

    fn done(mut self) -> Vec<(Option<String>, String)> {
        self.flush();
        self.done
    }
}

fn unescape(text: &str, out: &mut String) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let entity = [
            ("&amp;", "&"),
            ("&lt;", "<"),
            ("&gt;", ">"),
            ("&nbsp;", " "),
            ("&lrm;", ""),
            ("&rlm;", ""),
        ]
        .into_iter()
        .find(|(escaped, _)| rest.starts_with(escaped));
        match entity {
            Some((escaped, plain)) => {
                out.push_str(plain);
                rest = &rest[escaped.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(source: &str) -> Vec<(String, Option<u64>, String)> {
        let t = parse(source).unwrap();
        t.turns
            .iter()
            .map(|turn| {
                (
                    t.speakers[turn.speaker].name.clone(),
                    turn.start_ms,
                    turn.text.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn teams_voice_spans_name_the_speaker() {
        let vtt = "WEBVTT\n\nNOTE exported by Teams\n\n1\n00:00:01.000 --> 00:00:04.500\n<v Sam Rivera>How do you close &amp; report today?</v>\n\n00:00:05.000 --> 00:00:09.000\n<v.buyer Dana Ruiz>Nine days,\nby hand.</v>\n";
        assert_eq!(
            turns(vtt),
            [
                (
                    "Sam Rivera".into(),
                    Some(1000),
                    "How do you close & report today?".into()
                ),
                ("Dana Ruiz".into(), Some(5000), "Nine days, by hand.".into()),
            ]
        );
    }

    #[test]
    fn a_zoom_cue_without_a_name_continues_the_speaker_before_it() {
        let vtt = "\u{feff}WEBVTT\n\n1\n01:00:01.000 --> 01:00:04.000\nSam Rivera: So the close\n\n2\n01:00:04.000 --> 01:00:06.000\nruns nine days?\n";
        assert_eq!(
            turns(vtt),
            [
                ("Sam Rivera".into(), Some(3_601_000), "So the close".into()),
                (
                    "Sam Rivera".into(),
                    Some(3_604_000),
                    "runs nine days?".into()
                ),
            ]
        );
    }

    #[test]
    fn two_voices_in_one_cue_are_two_turns() {
        let vtt = "WEBVTT\n\n00:01.000 --> 00:02.000\n<v Sam>Right?</v> <v Dana>Right.</v>\n";
        let t = turns(vtt);
        assert_eq!(t.len(), 2);
        assert_eq!((t[1].0.as_str(), t[1].2.as_str()), ("Dana", "Right."));
    }

    #[test]
    fn malformed_cues_are_refused_naming_their_line() {
        for (vtt, message) in [
            (
                "WEBVT\n",
                "invalid webvtt transcript at line 1: a WebVTT file starts with the line `WEBVTT`",
            ),
            (
                "WEBVTT\n\n1\nhello\n",
                "invalid webvtt transcript at line 3: expected a cue timing such as `00:01:02.500 --> 00:01:05.000`",
            ),
            (
                "WEBVTT\n\n00:01.000 --> 00:0x.000\nhi\n",
                "invalid webvtt transcript at line 3: \"00:0x.000\" is no timestamp; write [hh:]mm:ss.ttt",
            ),
            (
                "WEBVTT\n\n00:05.000 --> 00:01.000\nhi\n",
                "invalid webvtt transcript at line 3: the cue ends before it starts",
            ),
            (
                "WEBVTT\n\n00:01.000 --> 00:02.000\nhi\n00:02.000 --> 00:03.000\nthere\n",
                "invalid webvtt transcript at line 5: a cue's text cannot hold `-->`; is a blank line missing before this cue?",
            ),
        ] {
            assert_eq!(parse(vtt).unwrap_err().to_string(), message, "{vtt:?}");
        }
    }

    #[test]
    fn timestamps_read_with_and_without_hours() {
        assert_eq!(timestamp("00:01.250"), Some(1250));
        assert_eq!(timestamp("1:02:03.004"), Some(3_723_004));
        assert_eq!(timestamp("00:60.000"), None);
        assert_eq!(timestamp("00:01"), None);
    }
}
