//! The rep's page as one HTML document, built from the reports' pieces ([`crate::html`]): no
//! script, nothing fetched, every text from data escaped, one column that fits a 360 px phone.
//! The rep reads their own figures against their own past: no other rep appears, nothing is
//! ranked. The sharing form posts back to the page's own link with the link's token.

use super::{
    card::DealCard,
    kept::StaleDeal,
    page::{Calls, HandoffLine, RepPage, SharingChoice},
};
use crate::{
    html::{
        escape,
        figures::{one_decimal, percent, times, timestamp},
        page::{self, not_measured, section},
    },
    score::Status,
};

/// The page as a complete HTML document; its form carries `token` (the link's signature).
pub fn render(page: &RepPage, token: &str) -> String {
    let body = [
        header(page),
        deals(&page.deals),
        handoffs(&page.handoffs),
        stale(&page.stale),
        calls(&page.calls),
        sharing(&page.sharing, token),
        not_measured(&page.not_measured),
    ]
    .concat();
    page::document("Your coaching page · pipeline-guard", &body)
}

fn header(page: &RepPage) -> String {
    format!(
        "<header><h1>Your coaching page</h1><p class=\"meta\">{crm}: {rep} · made {made} \
         · this link works until {until}; each new notice brings a fresh one</p>\
         <p class=\"hint\">For you first: your manager sees none of this unless you share it \
         below. You are compared with your own past only, never with anyone else.</p></header>",
        crm = escape(page.crm.label()),
        rep = escape(&crate::people::labelled(&page.rep, page.name.as_deref())),
        made = timestamp(page.generated_at),
        until = timestamp(page.link_expires),
    )
}

fn status(status: Status) -> &'static str {
    match status {
        Status::Green => "green: enough evidence",
        Status::Yellow => "yellow: some evidence",
        Status::Red => "red: no evidence yet",
    }
}

fn deals(cards: &[DealCard]) -> String {
    if cards.is_empty() {
        return section(
            "deals",
            "Your open deals",
            "<p class=\"empty\">No open deal or lead of yours has been scored yet.</p>",
        );
    }
    let items: String = cards
        .iter()
        .map(|card| {
            let dimensions: String = card
                .dimensions
                .iter()
                .map(|d| {
                    let missing = d
                        .missing
                        .as_deref()
                        .map_or_else(String::new, |m| format!(" · missing: {}", escape(m)));
                    format!(
                        "<li><strong>{}</strong>: {}{missing}</li>",
                        escape(&d.name),
                        status(d.status)
                    )
                })
                .collect();
            let ask = card.next_question.as_deref().map_or_else(
                || "<p>Nothing left to ask: every dimension is green.</p>".to_owned(),
                |q| {
                    format!(
                        "<p class=\"ask\">Ask next: <strong>{}</strong></p>",
                        escape(q)
                    )
                },
            );
            format!(
                "<li><h3>{}</h3><p class=\"meta\">Score {}/100 ({}) · scored {}</p>{ask}\
                 <details><summary>Every dimension</summary><ul>{dimensions}</ul></details></li>",
                escape(&card.title()),
                card.total,
                escape(&card.tier),
                timestamp(card.scored_at),
            )
        })
        .collect();
    section(
        "deals",
        "Your open deals",
        &format!(
            "<p class=\"hint\">Each deal's latest scorecard: what is missing and the question to \
             ask next.</p><ul class=\"items\">{items}</ul>"
        ),
    )
}

fn handoffs(lines: &[HandoffLine]) -> String {
    if lines.is_empty() {
        return section(
            "handoffs",
            "Your handoffs",
            "<p class=\"empty\">No handoff of yours in the last 90 days.</p>",
        );
    }
    let items: String = lines
        .iter()
        .map(|h| {
            let title = h
                .deal_name
                .clone()
                .unwrap_or_else(|| format!("Deal {}", h.deal_id));
            let outcome = match h.status.as_str() {
                "validated" => "validated and handed to the AE",
                "blocked" => "blocked by the gate",
                "would_block" => "would have been blocked (shadow mode)",
                other => other,
            };
            let missing = if h.missing.is_empty() {
                String::new()
            } else {
                format!("<p>Missing then: {}</p>", escape(&h.missing.join(", ")))
            };
            let verdict = match (&h.verdict, &h.reason) {
                (Some(v), Some(r)) => {
                    format!(
                        "<p>The AE's verdict: <strong>{}</strong>: {}</p>",
                        escape(v),
                        escape(r)
                    )
                }
                (Some(v), None) => format!(
                    "<p>The AE's verdict: <strong>{}</strong> (no reason given)</p>",
                    escape(v)
                ),
                (None, _) if h.status == "validated" => {
                    "<p class=\"hint\">No verdict from the AE yet.</p>".to_owned()
                }
                (None, _) => String::new(),
            };
            format!(
                "<li><h3>{}</h3><p class=\"meta\">{} · score {} against {} · {}</p>\
                 <p>{}</p>{missing}{verdict}</li>",
                escape(&title),
                escape(outcome),
                h.score,
                h.threshold,
                timestamp(h.at),
                escape(&h.rule),
            )
        })
        .collect();
    section(
        "handoffs",
        "Your handoffs",
        &format!(
            "<p class=\"hint\">The last 90 days, newest first, with the AEs' verdicts and their \
             reasons.</p><ul class=\"items\">{items}</ul>"
        ),
    )
}

fn stale(deals: &[StaleDeal]) -> String {
    if deals.is_empty() {
        return section(
            "stale",
            "Your stale deals",
            "<p class=\"empty\">The last sweep found none of your deals stale.</p>",
        );
    }
    let items: String = deals
        .iter()
        .map(|d| {
            let title = d
                .name
                .clone()
                .unwrap_or_else(|| format!("Deal {}", d.deal_id));
            let reasons: String = d
                .reasons
                .iter()
                .map(|r| format!("<li>{}</li>", escape(r)))
                .collect();
            format!(
                "<li><h3>{}</h3><p class=\"meta\">found {}</p><ul>{reasons}</ul></li>",
                escape(&title),
                timestamp(d.swept_at)
            )
        })
        .collect();
    section(
        "stale",
        "Your stale deals",
        &format!(
            "<p class=\"hint\">As the last sweep found them, and why.</p>\
             <ul class=\"items\">{items}</ul>"
        ),
    )
}

fn calls(calls: &Calls) -> String {
    let trend = format!("<p class=\"trend\">{}</p>", escape(&calls.trend.said));
    if calls.calls.is_empty() {
        return section("calls", "Your calls", &trend);
    }
    let rows = calls.calls.iter().map(|c| {
        let next = match c.next_step_agreed {
            Some(true) => "next step agreed",
            Some(false) => "no next step agreed",
            None => "next step: not told",
        };
        let marked = if c.outlier { " · marked for you" } else { "" };
        format!(
            "<tr><th scope=\"row\">{}</th><td>talk {} · {}<br>{next}{marked}</td></tr>",
            escape(&timestamp(c.at)),
            percent(c.talk_share),
            times(u64::from(c.questions), "question"),
        )
    });
    let tracked: Vec<String> = calls
        .calls
        .iter()
        .filter_map(|c| c.tracked.map(one_decimal))
        .collect();
    let series = if tracked.is_empty() {
        String::new()
    } else {
        format!(
            "<p>Your {} call by call: {}</p>",
            escape(&calls.trend.behaviour),
            escape(&tracked.join(" → "))
        )
    };
    section(
        "calls",
        "Your calls",
        &format!("{trend}{series}{}", page::table(&["Call", "Signals"], rows)),
    )
}

fn sharing(choices: &[SharingChoice], token: &str) -> String {
    let boxes: String = choices
        .iter()
        .map(|c| {
            format!(
                "<label class=\"choice\"><input type=\"checkbox\" name=\"share\" value=\"{}\"{}> {}</label>",
                c.section.key(),
                if c.shared { " checked" } else { "" },
                escape(&c.label)
            )
        })
        .collect();
    section(
        "sharing",
        "What your manager sees",
        &format!(
            "<p class=\"hint\">Your choice, section by section, in force at once and withdrawn \
             as easily. Your open deals' scorecards and your calls stay yours alone. Once your \
             team's manager views unlock, managers see every rep's rows.</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"token\" value=\"{}\">{boxes}\
             <button type=\"submit\">Save what I share</button></form>",
            escape(token)
        ),
    )
}
