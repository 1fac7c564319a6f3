//! The default playbook's text judge against `fixtures/evidence/labelled.jsonl`: evidence texts
//! labelled green, yellow or red by hand (before the judge was written), each read at its own
//! `now`. The judge must agree on at least 90 % of them; every disagreement is printed.

use pipeline_guard_core::{model::Record, playbook::Playbook, score::Status};
use serde::Deserialize;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// One labelled text.
#[derive(Debug, Deserialize)]
struct Label {
    dimension: String,
    text: String,
    now: String,
    expected: Status,
    why: String,
}

fn labels() -> Vec<Label> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/evidence/labelled.jsonl");
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    source
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", i + 1))
        })
        .collect()
}

#[test]
fn the_judge_agrees_with_the_labels() {
    let playbook = Playbook::default_playbook();
    let labels = labels();
    assert!(labels.len() >= 100, "only {} labelled texts", labels.len());
    let mut disagreements = Vec::new();
    for label in &labels {
        let dimension = playbook
            .dimension(&label.dimension)
            .unwrap_or_else(|| panic!("no dimension {:?}", label.dimension));
        let now = OffsetDateTime::parse(&label.now, &Rfc3339).expect("now");
        let mut record = Record::new_deal("D-labelled");
        record
            .fields
            .insert(dimension.field().to_owned(), label.text.clone().into());
        let judged = dimension.judge(&record, &playbook.handoff.placeholders, now);
        if judged.status != label.expected {
            disagreements.push(format!(
                "{} {:?}: labelled {} ({}), judged {}: {}",
                label.dimension,
                label.text,
                label.expected,
                label.why,
                judged.status,
                judged.reason
            ));
        }
    }
    let agreed = labels.len() - disagreements.len();
    let share = agreed as f64 / labels.len() as f64;
    if std::env::var_os("SHOW_REASONS").is_some() {
        for label in &labels {
            let dimension = playbook.dimension(&label.dimension).expect("dimension");
            let now = OffsetDateTime::parse(&label.now, &Rfc3339).expect("now");
            let mut record = Record::new_deal("D-labelled");
            record
                .fields
                .insert(dimension.field().to_owned(), label.text.clone().into());
            let judged = dimension.judge(&record, &playbook.handoff.placeholders, now);
            println!(
                "{} {:?} → {}: {}",
                label.dimension, label.text, judged.status, judged.reason
            );
        }
    }
    println!(
        "agreement: {agreed}/{} = {:.1} %",
        labels.len(),
        share * 100.0
    );
    for d in &disagreements {
        println!("  {d}");
    }
    assert!(share >= 0.9, "agreement {:.1} % < 90 %", share * 100.0);
}
