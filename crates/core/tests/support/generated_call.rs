//! A sales call generated in each transcript format, for the linearity test and the bench: two
//! speakers taking turns over an even clock, saying sentences a discovery call has (questions,
//! figures, consequences, a dated next step) and filler, deterministically.

use pipeline_guard_core::conversation::Format;

const REP: &[&str] = &[
    "How does your team run the month-end close today?",
    "What does a late close cost you when it happens?",
    "Who signs off on a change like this, and what budget would it come from?",
    "That makes sense, and it is what we hear from most finance teams of your size.",
    "We connect to the banks and the ledger and match every transaction overnight.",
    "Anything that does not match lands in one queue with an owner and an amount.",
    "Could we book a demo with your controller next Tuesday?",
];

const BUYER: &[&str] = &[
    "We close in nine working days, mostly in spreadsheets.",
    "The board pack slips a week, so we present stale numbers.",
    "Our CFO Maria Lopez signs off on anything over fifty thousand.",
    "Honestly it is fine most months, but the quarter end is rough.",
    "We pay two contractors $14k a month to catch up.",
    "Let's do a demo with Maria on Thursday.",
    "I would need to check with the team first.",
];

/// A call of about `words` words over `minutes` minutes in `format`.
pub fn generated(format: Format, words: usize, minutes: u64) -> String {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let mut turns: Vec<(&str, String)> = Vec::new();
    let mut count = 0;
    while count < words {
        let (name, pool) = if turns.len().is_multiple_of(2) {
            ("Sam Rivera", REP)
        } else {
            ("Dana Ruiz", BUYER)
        };
        let mut text = String::new();
        for _ in 0..1 + next(4) {
            let sentence = pool[next(pool.len())];
            count += sentence.split_whitespace().count();
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(sentence);
        }
        turns.push((name, text));
    }
    let step = minutes * 60_000 / turns.len() as u64;
    let times = |i: usize| (i as u64 * step, (i as u64 + 1) * step);
    match format {
        Format::Webvtt => {
            let mut out = String::from("WEBVTT\n\n");
            for (i, (name, text)) in turns.iter().enumerate() {
                let (start, end) = times(i);
                // Teams' voice spans on even turns, Zoom's prefix on odd ones.
                let cue = if i.is_multiple_of(2) {
                    format!("<v {name}>{text}</v>")
                } else {
                    format!("{name}: {text}")
                };
                out.push_str(&format!(
                    "{}\n{} --> {}\n{cue}\n\n",
                    i + 1,
                    vtt(start),
                    vtt(end)
                ));
            }
            out
        }
        Format::Gong => {
            let ids = |name: &str| if name == "Sam Rivera" { "1" } else { "2" };
            let monologues: Vec<serde_json::Value> = turns
                .iter()
                .enumerate()
                .map(|(i, (name, text))| {
                    let (start, end) = times(i);
                    serde_json::json!({"speakerId": ids(name), "topic": "Discovery",
                        "sentences": [{"start": start, "end": end, "text": text}]})
                })
                .collect();
            serde_json::json!({
                "parties": [
                    {"speakerId": "1", "name": "Sam Rivera", "affiliation": "Internal"},
                    {"speakerId": "2", "name": "Dana Ruiz", "affiliation": "External"},
                ],
                "transcript": monologues,
            })
            .to_string()
        }
        Format::Text => {
            let mut out = String::new();
            for (i, (name, text)) in turns.iter().enumerate() {
                let s = times(i).0 / 1000;
                out.push_str(&format!("[{:02}:{:02}] {name}: {text}\n", s / 60, s % 60));
            }
            out
        }
    }
}

fn vtt(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}
