//! `pipeline-guard call`, run as a real process on the transcripts in `fixtures/calls/`.

mod common;

use common::pipeline_guard;

const STARTED: &str = "2026-12-07T15:00:00Z";

#[test]
fn json_prints_the_signals_the_fixture_expects() {
    let (ok, out, err) = pipeline_guard(&[
        "call",
        "fixtures/calls/teams-discovery-balanced.vtt",
        "--format",
        "webvtt",
        "--rep",
        "Priya Shah",
        "--started",
        STARTED,
        "--json",
    ]);
    assert!(ok, "{err}");
    let printed: serde_json::Value = serde_json::from_str(&out).expect("json on stdout");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(root.join("fixtures/calls/teams-discovery-balanced.expected.json"))
            .expect("expected file"),
    )
    .expect("expected json");
    assert_eq!(printed, expected["signals"]);
    for key in [
        "rep_talk_share",
        "longest_rep_monologue_s",
        "rep_questions",
        "dimensions_asked",
        "evidence",
        "competitors",
        "next_step",
        "outlier",
    ] {
        assert!(printed.get(key).is_some(), "no {key}");
    }
}

#[test]
fn the_human_summary_reads_each_signal() {
    let (ok, out, err) = pipeline_guard(&[
        "call",
        "fixtures/calls/zoom-discovery-pitch-heavy.vtt",
        "--format",
        "webvtt",
        "--rep",
        "sam rivera",
        "--started",
        STARTED,
    ]);
    assert!(ok, "{err}");
    for expected in [
        "Call of 07:12 with Sam Rivera, Dana Ruiz; the rep is Sam Rivera.",
        "Talk share: The rep spoke 87 % of the speaking time: above the 65 % where conversion drops.",
        "Longest monologue: The rep's longest stretch without the buyer speaking ran 208 s from 00:42",
        "Questions: The rep asked 2 question(s)",
        "  [05:31] economic_buyer: \"Our CFO Maria Lopez signs off on anything over fifty thousand.\"",
        "Outlier call: the rep talked 87 % of the call, above the 65 % band.",
    ] {
        assert!(out.contains(expected), "{expected:?} not in\n{out}");
    }
}

#[test]
fn a_rep_no_speaker_matches_scores_nothing_and_names_the_speakers() {
    let (ok, out, err) = pipeline_guard(&[
        "call",
        "fixtures/calls/plain-text-missing-timestamp.txt",
        "--format",
        "text",
        "--rep",
        "Sam Rivera",
    ]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("the speakers are Alex Chen, Morgan Hale"),
        "{err}"
    );
}

#[test]
fn an_unknown_format_and_a_malformed_transcript_fail_naming_what_to_fix() {
    let (ok, _, err) = pipeline_guard(&[
        "call",
        "fixtures/calls/teams-discovery-balanced.vtt",
        "--format",
        "srt",
        "--rep",
        "Priya Shah",
    ]);
    assert!(!ok);
    assert!(err.contains("use one of webvtt, gong, text"), "{err}");
    let (ok, _, err) = pipeline_guard(&[
        "call",
        "fixtures/calls/webvtt-cue-without-timing.vtt",
        "--format",
        "webvtt",
        "--rep",
        "Sam Rivera",
    ]);
    assert!(!ok);
    assert!(err.contains("at line 7: expected a cue timing"), "{err}");
}
