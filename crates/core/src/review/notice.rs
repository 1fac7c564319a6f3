//! What the owner of a record entering the top share is told, once: its score, the share, and
//! what to check before the score is relied on (each dimension's evidence as recorded). A task of
//! normal priority in enforce mode; in shadow mode a note, since shadow mode assigns nobody work.

use super::Standing;
use crate::{
    mode::Mode,
    model::{Record, RecordKind},
    scorecard::Scorecard,
    writeback::{Notice, Priority},
};

/// The notice for the owner of `record`, scored `card` and standing `standing`, in `mode`.
pub fn notice(card: &Scorecard, record: &Record, standing: &Standing, mode: Mode) -> Notice {
    let what = match (&record.name, record.kind) {
        (Some(name), _) => format!("\"{name}\""),
        (None, RecordKind::Lead) => format!("lead {}", record.id),
        (None, RecordKind::Deal) => format!("deal {}", record.id),
    };
    let title = format!(
        "{what} scored {}/100, in the top {:.0} % of recent scores",
        card.total,
        standing.share * 100.0
    );
    let mut lines = vec![
        format!(
            "{what} scored {}/100 ({}), {}. A score this high is looked at by a person before \
             it is relied on: please check that the evidence behind each dimension holds up, \
             and correct the record where it does not.",
            card.total,
            card.tier,
            standing.why(record.kind, card.total)
        ),
        String::new(),
        "The evidence, as recorded:".to_owned(),
    ];
    for d in &card.dimensions {
        let evidence = d
            .evidence
            .as_deref()
            .map_or_else(|| "(nothing recorded)".to_owned(), |e| format!("\"{e}\""));
        lines.push(format!(
            "- {} [{}]: {evidence}: {}",
            d.name, d.status, d.reason
        ));
    }
    if !card.hygiene.trustworthy {
        lines.push(format!(
            "The record is only {} % complete (missing: {}): check those too.",
            card.hygiene.complete_pct,
            card.hygiene.missing.join(", ")
        ));
    }
    lines.push(String::new());
    lines.push(format!(
        "What this score does not measure: {}.",
        card.not_measured.join("; ")
    ));
    let owner = record.owner_id.clone();
    match mode {
        Mode::Enforce => Notice::task(
            owner,
            format!("Review: {title}"),
            lines.join("\n"),
            Priority::Normal,
        ),
        Mode::Shadow => {
            let fyi = "pipeline-guard runs in shadow mode: no task is assigned, and you need do \
                       nothing now. Once it is enforced, a score like this one comes with a \
                       review task.";
            Notice::note(
                owner,
                format!("FYI: {title}"),
                format!("{fyi}\n\n{}", lines.join("\n")),
            )
        }
    }
}
