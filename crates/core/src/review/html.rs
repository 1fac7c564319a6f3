//! The review queue as one HTML page, built like the other reports ([`crate::html`]): no script,
//! no outside resource, every text from data escaped, readable on a phone. Records only, highest
//! score first: the page names no rep.

use super::queue::{QueuedEntry, ReviewReport};
use crate::html::{
    escape,
    figures::{percent, times, timestamp},
    page::{self, not_measured, section, table, tile},
};

/// The queue as a complete HTML page.
pub fn render(report: &ReviewReport) -> String {
    let body = [
        header(report),
        records(report),
        not_measured(&report.not_measured),
    ]
    .concat();
    page::document("Review queue · pipeline-guard", &body)
}

fn header(report: &ReviewReport) -> String {
    let crm = report.crm.map_or("every CRM", |crm| crm.label());
    let tiles = [
        tile(
            "In review",
            &report.records.len().to_string(),
            if report.truncated {
                "the highest scores only: narrow with ?crm="
            } else {
                "records flagged when last scored"
            },
        ),
        tile(
            "Top share",
            &percent(report.share),
            "of each CRM's leads, and of its deals",
        ),
        tile(
            "Window",
            &times(u64::from(report.window_days), "day"),
            "each record's latest score counts",
        ),
    ];
    format!(
        "<header><h1>Review queue</h1><p class=\"meta\">{crm} · made {made}</p>\
         <p class=\"hint\">Scores this high are looked at by a person before they are relied \
         on: check that each dimension's evidence holds up. Each record's owner was asked \
         once, when it entered the top share.</p></header><dl class=\"tiles\">{}</dl>",
        tiles.concat(),
        crm = escape(crm),
        made = timestamp(report.generated_at),
    )
}

fn records(report: &ReviewReport) -> String {
    if report.records.is_empty() {
        return section(
            "records",
            "Records in review",
            "<p class=\"empty\">No record is in review: none of the recent scores is in the \
             top share yet.</p>",
        );
    }
    let rows = report.records.iter().map(record);
    section(
        "records",
        "Records in review",
        &format!(
            "<p class=\"hint\">Highest score first.</p>{}",
            table(&["Record", "Score, when, and why"], rows)
        ),
    )
}

fn record(entry: &QueuedEntry) -> String {
    let told = if entry.record.owner_told {
        "owner asked to check"
    } else {
        "owner not asked yet"
    };
    let r = &entry.record.latest;
    format!(
        "<tr data-record=\"{id}\"><th scope=\"row\">{id}<br><span class=\"meta\">{crm} {kind}\
         </span></th><td><strong>{score}/100</strong> {tier} · {at}<br>{why}<br>\
         <span class=\"meta\">{told}</span></td></tr>",
        id = escape(&r.record_id),
        crm = escape(r.crm.label()),
        kind = r.kind.as_str(),
        score = r.score,
        tier = escape(&r.tier),
        at = timestamp(r.scored_at),
        why = escape(&entry.why),
    )
}
