//! The hygiene report as one HTML page, built like the handoff report's ([`crate::html`]): no
//! script, no outside resource, the checks' pass rates as inline SVG bars with the same figures
//! in a table, every text from data escaped, readable on a phone. Figures per owner are sorted
//! by owner with the check to fix first: no rank, no colour that judges a rep.

use super::report::{HygieneReport, Measurement, PortfolioView, SweepView};
use crate::{
    html::{
        chart::{self, Bar},
        escape,
        figures::{times, timestamp},
        page::{self, details, not_measured, row, section, table, tile},
        person,
    },
    mode::Mode,
    playbook::rollout::PerRep,
    portfolio::OwnerRow,
};

/// The report as a complete HTML page.
pub fn render(report: &HygieneReport) -> String {
    let crms: String = if report.portfolios.is_empty() {
        section(
            "no-sweep",
            "No sweep yet",
            "<p class=\"empty\">No CRM has been swept yet: schedule \
             <code>POST /flag-stale-deals/&lt;crm&gt;/sweep</code> (see docs/operations.md) and \
             the portfolio is measured when a sweep ends.</p>",
        )
    } else {
        report.portfolios.iter().map(portfolio).collect()
    };
    let body = [header(report), crms, not_measured(&report.not_measured)].concat();
    page::document("CRM hygiene report · pipeline-guard", &body)
}

fn header(report: &HygieneReport) -> String {
    let crm = report
        .crm
        .as_deref()
        .map_or("every CRM swept".to_owned(), escape);
    format!(
        "<header><h1>CRM hygiene report</h1><p class=\"meta\">{crm} · blocking pauses below \
         {threshold} % · a deal's score is trusted from {deal} % · made {made}</p></header>",
        threshold = report.threshold,
        deal = report.deal_threshold,
        made = timestamp(report.generated_at),
    )
}

fn portfolio(view: &PortfolioView) -> String {
    let id = format!("crm-{}", escape(&view.crm));
    let body = [
        enforcement(view),
        view.measurement.as_ref().map_or_else(
            || {
                "<p class=\"empty\">Not measured yet: the portfolio is measured when a sweep \
                 reaches its last page.</p>"
                    .to_owned()
            },
            |m| measurement(&id, m, view.sweep.as_ref()),
        ),
        view.sweep
            .as_ref()
            .map_or_else(String::new, |s| sweep(s, view.measurement.is_some())),
    ]
    .concat();
    format!(
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\"><h2 id=\"{id}-h\">{crm}</h2>{body}</section>",
        crm = escape(&view.crm),
    )
}

fn enforcement(view: &PortfolioView) -> String {
    let e = &view.enforcement;
    let text = match (&e.why, e.configured, e.mode) {
        (Some(why), _, _) if e.fell_back() => {
            return format!(
                "<p class=\"alert\" role=\"status\" data-mode=\"shadow\">{}</p>",
                escape(why)
            );
        }
        (Some(why), _, _) => escape(why),
        (None, Mode::Shadow, _) => {
            "Shadow mode, as configured: handoffs are checked and reps told; nothing is blocked."
                .to_owned()
        }
        (None, Mode::Enforce, _) => format!(
            "The gate enforces: the portfolio's hygiene reaches {} %.",
            e.threshold
        ),
    };
    format!(
        "<p class=\"meta\" data-mode=\"{}\">{text}</p>",
        e.mode.as_str()
    )
}

fn measurement(id: &str, m: &Measurement, sweep: Option<&SweepView>) -> String {
    let over = match m.sample {
        Some(_) => format!(
            "a random sample of {} of {}",
            m.measured,
            times(m.open_deals, "open deal")
        ),
        None => times(m.measured, "open deal"),
    };
    let tiles = [
        tile(
            "Portfolio hygiene",
            &format!("{} %", m.hygiene_pct),
            &format!("{over} · measured {}", timestamp(m.measured_at)),
        ),
        tile(
            "Deals whose score can be trusted",
            &format!("{} of {}", m.deals_trustworthy, m.measured),
            "their own checklist score reaches the per-deal threshold",
        ),
        tile(
            "Sweep",
            &sweep.map_or("—".to_owned(), |s| {
                if s.done { "done" } else { "under way" }.to_owned()
            }),
            &sweep.map_or(String::new(), |s| {
                let deals = times(s.seen, "deal");
                if s.done {
                    format!("{deals} · {}", times(s.pages, "page"))
                } else {
                    format!("{deals} so far · page {}", s.pages)
                }
            }),
        ),
    ];
    [
        format!("<dl class=\"tiles\">{}</dl>", tiles.concat()),
        checks(id, m),
        per_owner(id, &m.per_owner),
    ]
    .concat()
}

fn checks(id: &str, m: &Measurement) -> String {
    let applicable: Vec<_> = m.checks.iter().filter(|c| c.passed_pct.is_some()).collect();
    let bars: Vec<Bar> = applicable
        .iter()
        .map(|c| Bar {
            label: c.figure.label.clone(),
            length: f64::from(c.passed_pct.unwrap_or(0)) / 100.0,
            value: format!(
                "{} % pass · {} failing",
                c.passed_pct.unwrap_or(0),
                c.figure.failed
            ),
        })
        .collect();
    let label = format!(
        "Share of deals passing each check: {}.",
        bars.iter()
            .map(|b| format!("{} {}", b.label, b.value))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let chart = if bars.is_empty() {
        "<p class=\"empty\">No check applied to any measured deal.</p>".to_owned()
    } else {
        chart::bars(&format!("{id}-checks"), &bars, &label)
    };
    let rows = m.checks.iter().map(|c| {
        let f = &c.figure;
        let figures = [
            f.weight.to_string(),
            f.passed.to_string(),
            f.failed.to_string(),
            f.not_applicable.to_string(),
            c.passed_pct.map_or("—".to_owned(), |p| format!("{p} %")),
        ];
        row(&f.label, &figures)
    });
    let table = table(
        &[
            "Check",
            "Weight",
            "Passed",
            "Failed",
            "Not ap&shy;pli&shy;ca&shy;ble",
            "Pass&shy;ing",
        ],
        rows,
    );
    format!("<h3>By check</h3>{chart}{}", details("As a table", &table))
}

fn per_owner(id: &str, per_owner: &PerRep<OwnerRow>) -> String {
    let (view, body) = match per_owner {
        PerRep::Hidden { why, shared, .. } if shared.is_empty() => {
            ("hidden", format!("<p>{}</p>", escape(why)))
        }
        PerRep::Hidden { why, shared, .. } => (
            "hidden",
            format!(
                "<p>{}</p><p class=\"hint\">Shared by their own choice, on their own page:</p>{}",
                escape(why),
                owner_table(shared)
            ),
        ),
        PerRep::Shown { rows } if rows.is_empty() => (
            "shown",
            "<p class=\"empty\">No measured deal has an owner.</p>".to_owned(),
        ),
        PerRep::Shown { rows } => {
            let intro = "<p class=\"hint\">Sorted by owner. For fixing each owner's data, not \
                         for comparing owners: the check to fix first is the one their deals \
                         fail most often.</p>";
            ("shown", format!("{intro}{}", owner_table(rows)))
        }
    };
    format!(
        "<div id=\"{id}-per-owner\" class=\"per-owner\" data-view=\"{view}\"><h3>Per owner</h3>{body}</div>"
    )
}

/// The owners' rows, in the order given (by owner).
fn owner_table(rows: &[OwnerRow]) -> String {
    let rows = rows.iter().map(|r| {
        let fix = r.fix_first.map_or_else(
            || "nothing failing".to_owned(),
            |c| format!("fix first: <strong>{}</strong>", escape(c.label())),
        );
        format!(
            "<tr><th scope=\"row\">{}</th><td>{} · {} %<br>{fix}</td></tr>",
            person(r.name.as_deref(), &r.owner),
            times(r.deals, "deal"),
            r.hygiene_pct,
        )
    });
    table(&["Owner", "Deals, hygiene, and what to fix first"], rows)
}

/// A sweep under way, said under the figures of the last one that ended (if any).
fn sweep(s: &SweepView, measured: bool) -> String {
    if s.done {
        return String::new();
    }
    let figures = if measured {
        "the figures above are from the last one that ended"
    } else {
        "the portfolio is measured when it reaches its last page"
    };
    format!(
        "<p class=\"hint\">A sweep started {} is under way ({} so far, page {}); {figures}.</p>",
        timestamp(s.started_at),
        times(s.seen, "deal"),
        s.pages,
    )
}
