//! Properties of the transcript parsers (the fuzz targets of the issue, on stable Rust): any
//! input, and inputs built from each format's own pieces, is read or refused, never a panic;
//! what is refused names a line or a JSON path; and reading grows linearly with the transcript.

#[path = "support/generated_call.rs"]
mod generated_call;

use std::time::{Duration, Instant};

use generated_call::generated;
use pipeline_guard_core::{
    Error,
    conversation::{self, Format, rep::RepRef},
    playbook::Playbook,
};
use proptest::prelude::*;
use time::macros::datetime;

const FORMATS: [Format; 3] = [Format::Webvtt, Format::Gong, Format::Text];

/// Read `source` as `format` and, when it reads, compute its signals for its first speaker.
fn read_and_analyse(format: Format, source: &[u8]) {
    match format.parse(source) {
        Ok(transcript) => {
            if let Some(first) = transcript.speakers.first() {
                let rep = RepRef::named(&first.name);
                let playbook = Playbook::default_playbook();
                conversation::analyse(
                    format,
                    source,
                    &rep,
                    &playbook,
                    datetime!(2026-12-07 15:00 UTC),
                )
                .expect("a transcript that reads is analysed");
            }
        }
        Err(Error::InvalidTranscript { at, .. }) => {
            assert!(
                at.starts_with("line ") || format == Format::Gong,
                "{format}: a refusal names its line, not {at:?}"
            );
        }
        Err(other) => panic!("{format}: unexpected {other}"),
    }
}

/// Lines built from the pieces WebVTT is made of.
fn webvtt_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "WEBVTT",
        "",
        "NOTE hi",
        "STYLE",
        "1",
        "00:00:01.000 --> 00:00:04.000",
        "00:01.000 --> 00:00.500",
        "99:59.999 --> 100:00:00.000 align:start",
        "-->",
        "<v Sam Rivera>How do you close today?</v>",
        "<v.loud Dana>Nine days.",
        "<v>",
        "<",
        "Dana Ruiz: we lose $14k a month",
        "Sam: ",
        ": ",
        "&amp;&lt;&",
        "<c.x><i>é</i></c>",
        "and it delays reporting.",
        "\u{feff}WEBVTT",
        "9999999999:00:00.000 --> 9999999999:59:59.999",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|lines| lines.join("\n"))
}

/// Lines built from the pieces a plain transcript is made of.
fn text_like() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[00:00] Sam: How do you close?",
        "Dana: nine days",
        "[1:00:05] and more",
        "[999999:59:59] Sam: a b c d e f",
        "[",
        "[99:99] x",
        "[00:01",
        "Sam Rivera  0:05",
        "  0:05",
        "plain words",
        ":",
        "Sam:",
        "",
        "[00:10]",
        "What? Really! Yes.",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|lines| lines.join("\n"))
}

/// Gong documents with values of every shape where the parser expects one.
fn gong_like() -> impl Strategy<Value = String> {
    let value = prop::sample::select(vec![
        "0",
        "-1",
        "18446744073709551615",
        "1.5",
        "\"7\"",
        "null",
        "[]",
        "{}",
        "\"\"",
        "true",
    ]);
    let text = prop::sample::select(vec!["\"Hi?\"", "\"\"", "3", "null", "\"a. b? c!\""]);
    (
        prop::collection::vec((value.clone(), value.clone(), value, text), 0..8),
        any::<bool>(),
    )
        .prop_map(|(sentences, with_parties)| {
            let sentences: Vec<String> = sentences
                .iter()
                .map(|(id, start, end, text)| {
                    format!(r#"{{"speakerId": {id}, "sentences": [{{"start": {start}, "end": {end}, "text": {text}}}]}}"#)
                })
                .collect();
            let parties = if with_parties {
                r#""parties": [{"speakerId": "7", "name": "Sam", "affiliation": "Internal"}, {"speakerId": 0}],"#
            } else {
                ""
            };
            format!(r#"{{{parties} "transcript": [{}]}}"#, sentences.join(","))
        })
}

proptest! {
    #[test]
    fn arbitrary_bytes_are_read_or_refused_never_a_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        for format in FORMATS {
            read_and_analyse(format, &bytes);
        }
    }

    #[test]
    fn webvtt_pieces_in_any_order_are_read_or_refused_by_line(source in webvtt_like()) {
        read_and_analyse(Format::Webvtt, source.as_bytes());
    }

    #[test]
    fn text_pieces_in_any_order_are_read_or_refused_by_line(source in text_like()) {
        read_and_analyse(Format::Text, source.as_bytes());
    }

    #[test]
    fn gong_values_of_any_shape_are_read_or_refused_by_path(source in gong_like()) {
        read_and_analyse(Format::Gong, source.as_bytes());
    }
}

/// The faster of two runs of `work`.
fn fastest(work: impl Fn()) -> Duration {
    (0..2)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn reading_and_analysing_grow_linearly_with_the_transcript() {
    let playbook = Playbook::default_playbook();
    let rep = RepRef::named("Sam Rivera");
    for format in FORMATS {
        let small = generated(format, 2_000, 15);
        let large = generated(format, 16_000, 120);
        assert!(
            large.len() < conversation::MAX_TRANSCRIPT_BYTES,
            "{format}: {}",
            large.len()
        );
        let time = |source: &str| {
            fastest(|| {
                conversation::analyse(
                    format,
                    source.as_bytes(),
                    &rep,
                    &playbook,
                    datetime!(2026-12-07 15:00 UTC),
                )
                .expect("generated call reads");
            })
        };
        let (small_time, large_time) = (time(&small), time(&large));
        // 8 times the words: linear work takes about 8 times as long, quadratic 64 times.
        let ratio = large_time.as_secs_f64() / small_time.as_secs_f64().max(1e-6);
        assert!(
            ratio < 24.0,
            "{format}: 8x the words took {ratio:.1}x as long ({small_time:?} → {large_time:?})"
        );
    }
}
