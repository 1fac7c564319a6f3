//! Plain transcripts: `Name: text` lines, each with an optional `[mm:ss]` or `[h:mm:ss]` before
//! it, and Otter's export, where a line `Name  0:05` (the name, two spaces, the time) heads the
//! lines that follow. A line without a name continues the turn before it; with a time of its
//! own, it is a new turn of the same speaker. A turn without a time has none (talk share is then
//! counted in words); a timed turn ends where the next one starts when that one is timed (else its
//! end is unknown), the last one after as long as its words take at the pace of the rest of the
//! call.

use super::transcript::{Format, Transcript, speaker_prefix};
use crate::Error;

/// Read a plain transcript.
pub fn parse(source: &str) -> Result<Transcript, Error> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut transcript = Transcript::default();
    let mut turn: Option<(usize, Option<u64>, String)> = None;
    for (i, line) in source.lines().enumerate() {
        let number = i + 1;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some((name, at)) = otter_heading(line) {
            flush(&mut transcript, turn.take());
            turn = Some((transcript.speaker(name), Some(at), String::new()));
            continue;
        }
        let (at, rest) = match line.strip_prefix('[') {
            Some(bracketed) => {
                let (time, rest) = bracketed
                    .split_once(']')
                    .ok_or_else(|| Format::Text.invalid(number, "a `[` opens no `[mm:ss]` time"))?;
                let at = clock(time).ok_or_else(|| {
                    Format::Text.invalid(
                        number,
                        format!("[{time}] is no time; write [mm:ss] or [h:mm:ss]"),
                    )
                })?;
                (Some(at), rest.trim_start())
            }
            None => (None, line),
        };
        match (speaker_prefix(rest), &mut turn) {
            (Some((name, text)), _) => {
                flush(&mut transcript, turn.take());
                turn = Some((transcript.speaker(name), at, text.to_owned()));
            }
            (None, Some((speaker, _, _))) if at.is_some() => {
                let speaker = *speaker;
                flush(&mut transcript, turn.take());
                turn = Some((speaker, at, rest.to_owned()));
            }
            (None, Some((_, _, text))) => {
                text.push(' ');
                text.push_str(rest);
            }
            (None, None) => {
                return Err(
                    Format::Text.invalid(number, "no speaker yet; start the line with `Name: `")
                );
            }
        }
    }
    flush(&mut transcript, turn);
    close_turns(&mut transcript);
    Ok(transcript)
}

fn flush(transcript: &mut Transcript, turn: Option<(usize, Option<u64>, String)>) {
    if let Some((speaker, at, text)) = turn {
        transcript.push(speaker, at, None, &text);
    }
}

/// A timed turn ends where the next turn starts, when that one is timed; the last one lasts as
/// long as its words take at the pace of the timed turns before it.
fn close_turns(transcript: &mut Transcript) {
    let mut next_start: Option<u64> = None;
    for turn in transcript.turns.iter_mut().rev() {
        turn.end_ms = turn
            .start_ms
            .zip(next_start)
            .map(|(start, next)| next.max(start));
        next_start = turn.start_ms;
    }
    // In u128: a transcript may claim times no call lasts.
    let (mut words, mut ms) = (0u128, 0u128);
    for turn in &transcript.turns {
        if let Some(duration) = turn.duration_ms() {
            words += turn.text.split_whitespace().count() as u128;
            ms += u128::from(duration);
        }
    }
    if let Some(last) = transcript.turns.last_mut()
        && let Some(start) = last.start_ms
        && last.end_ms.is_none()
        && words > 0
    {
        let own = last.text.split_whitespace().count() as u128;
        let lasts = u64::try_from(own * ms / words).unwrap_or(u64::MAX);
        last.end_ms = Some(start.saturating_add(lasts));
    }
}

/// `mm:ss` or `h:mm:ss`, in milliseconds.
fn clock(text: &str) -> Option<u64> {
    let parts: Vec<&str> = text.trim().split(':').collect();
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u64>().ok())
            .flatten()
    };
    let (hours, minutes, seconds) = match parts.as_slice() {
        [m, s] => (0, number(m)?, number(s)?),
        [h, m, s] => (number(h)?, number(m)?, number(s)?),
        _ => return None,
    };
    if seconds > 59 || (parts.len() == 3 && minutes > 59) {
        return None;
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000)
}

/// Otter's `Dana Ruiz  0:05` heading: a name, at least two spaces, a time, nothing else.
fn otter_heading(line: &str) -> Option<(&str, u64)> {
    let (name, time) = line.rsplit_once("  ")?;
    let name = name.trim();
    let at = clock(time)?;
    (!name.is_empty() && name.len() <= 64 && !name.contains(':')).then_some((name, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turns(source: &str) -> Vec<(String, Option<u64>, Option<u64>, String)> {
        let t = parse(source).unwrap();
        t.turns
            .iter()
            .map(|turn| {
                let name = t.speakers[turn.speaker].name.clone();
                (name, turn.start_ms, turn.end_ms, turn.text.clone())
            })
            .collect()
    }

    #[test]
    fn timed_lines_end_where_the_next_starts_and_the_last_at_the_calls_pace() {
        let text = "[00:00] Sam: How is the close today?\n[00:10] Dana: Nine days,\nall by hand.\n[00:20] Sam: Why?\n";
        assert_eq!(
            turns(text),
            [
                (
                    "Sam".into(),
                    Some(0),
                    Some(10_000),
                    "How is the close today?".into()
                ),
                (
                    "Dana".into(),
                    Some(10_000),
                    Some(20_000),
                    "Nine days, all by hand.".into()
                ),
                // 10 words took 20 s before: one word takes 2 s.
                ("Sam".into(), Some(20_000), Some(22_000), "Why?".into()),
            ]
        );
    }

    #[test]
    fn a_line_without_a_time_has_none_and_a_time_without_a_name_keeps_the_speaker() {
        let text = "Sam: Hello.\n[1:00:05] and welcome.\n[1:00:09] Dana: Thanks.\nSam: Sure.\n";
        let t = turns(text);
        assert_eq!((t[0].1, t[0].2), (None, None));
        // Dana's turn is timed, the one after it is not: her end is unknown.
        assert_eq!((t[2].1, t[2].2), (Some(3_609_000), None));
        assert_eq!((t[1].0.as_str(), t[1].1), ("Sam", Some(3_605_000)));
    }

    #[test]
    fn otter_headings_start_turns() {
        let text = "Dana Ruiz  0:05\nWe close in nine days.\n\nSam Rivera  0:12\nWhy?\n";
        let t = turns(text);
        assert_eq!(
            (t[0].0.as_str(), t[0].1, t[0].3.as_str()),
            ("Dana Ruiz", Some(5000), "We close in nine days.")
        );
        assert_eq!((t[1].0.as_str(), t[1].1), ("Sam Rivera", Some(12_000)));
    }

    #[test]
    fn bad_lines_are_refused_naming_them() {
        for (text, message) in [
            (
                "hello there\n",
                "invalid text transcript at line 1: no speaker yet; start the line with `Name: `",
            ),
            (
                "Sam: hi\n[1:2x] Dana: no\n",
                "invalid text transcript at line 2: [1:2x] is no time; write [mm:ss] or [h:mm:ss]",
            ),
            (
                "Sam: hi\n\n[00:01 Dana: no\n",
                "invalid text transcript at line 3: a `[` opens no `[mm:ss]` time",
            ),
        ] {
            assert_eq!(parse(text).unwrap_err().to_string(), message);
        }
    }
}
