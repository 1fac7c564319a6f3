//! The audit as one HTML page, built like the other reports ([`crate::html`]): no script, no
//! outside resource, charts as inline SVG with their figures in a table, every text from data
//! escaped, one column a phone reads. Figures per owner are sorted by owner: no rank.

use super::{
    report::AuditReport,
    stats::{Interval, Rate},
};
use crate::{
    html::{
        chart::{self, Bar},
        escape,
        figures::timestamp,
        page::{self, details, not_measured, row, section, table, tile},
    },
    playbook::rollout::PerRep,
};

/// The report as a complete HTML page.
pub fn render(report: &AuditReport) -> String {
    let body = [
        header(report),
        hygiene(report),
        backtest(report),
        gate(report),
        dimensions(report),
        source(report),
        not_measured(&report.not_measured),
    ]
    .concat();
    page::document("Playbook audit · pipeline-guard", &body)
}

fn pct(value: Option<f64>) -> String {
    value.map_or("–".to_owned(), |v| format!("{:.0} %", v * 100.0))
}

/// `31 % (26–37 %) of 200`.
fn rate(rate: &Rate) -> String {
    match (rate.value, rate.low, rate.high) {
        (Some(v), Some(low), Some(high)) => format!(
            "{:.0} % ({:.0}–{:.0} %) of {}",
            v * 100.0,
            low * 100.0,
            high * 100.0,
            rate.of
        ),
        _ => "no deals".to_owned(),
    }
}

fn header(report: &AuditReport) -> String {
    let warnings: String = report
        .warnings
        .iter()
        .map(|w| format!("<p class=\"alert\">{}</p>", escape(w)))
        .collect();
    format!(
        "<header><h1>Playbook audit</h1><p class=\"meta\">playbook {} v{} · {} deals from {} ({}) · \
         made {}</p>{warnings}<p class=\"hint\">Scores are a coaching surface: nothing here ranks \
         reps.</p></header>",
        escape(&report.playbook.name),
        escape(&report.playbook.version),
        report.deals.len(),
        escape(&report.source.file),
        escape(&report.source.crm),
        timestamp(report.audited_at),
    )
}

fn hygiene(report: &AuditReport) -> String {
    let h = &report.hygiene;
    let tiles = format!(
        "<dl class=\"tiles\">{}{}{}</dl>",
        tile(
            "Every deal",
            &format!("{} %", h.all.hygiene_pct),
            &format!("{} deals", h.all.deals)
        ),
        tile(
            "Sample",
            &format!("{} %", h.sampled.hygiene_pct),
            &format!("{} deals, seed {}", h.sampled.deals, h.seed)
        ),
        tile(
            if h.go { "Go" } else { "No-go" },
            &format!("{} %", h.threshold),
            "the playbook's threshold"
        ),
    );
    let bars: Vec<Bar> = h
        .all
        .checks
        .iter()
        .map(|c| {
            let applicable = c.passed + c.failed;
            Bar {
                label: c.label.clone(),
                length: if applicable == 0 {
                    0.0
                } else {
                    c.passed as f64 / applicable as f64
                },
                value: c
                    .passed_pct()
                    .map_or("not applicable".to_owned(), |p| format!("{p} %")),
            }
        })
        .collect();
    let rows = h
        .all
        .checks
        .iter()
        .zip(&h.sampled.checks)
        .map(|(all, sample)| {
            let figure = |c: &crate::portfolio::CheckFigure| {
                c.passed_pct().map_or("–".to_owned(), |p| {
                    format!("{p} % of {}", c.passed + c.failed)
                })
            };
            row(&all.label, &[figure(all), figure(sample)])
        });
    let per_owner = match &h.per_owner {
        PerRep::Hidden { why, .. } => format!("<p class=\"hint\">{}</p>", escape(why)),
        PerRep::Shown { rows } => {
            let rows = rows.iter().map(|r| {
                let fix = r
                    .all
                    .fix_first
                    .map_or("–".to_owned(), |c| c.label().to_owned());
                let sampled = r.sampled.as_ref().map_or("–".to_owned(), |s| {
                    format!("{} % of {}", s.hygiene_pct, s.deals)
                });
                row(
                    &r.all.owner,
                    &[
                        format!("{} % of {}", r.all.hygiene_pct, r.all.deals),
                        sampled,
                        fix,
                    ],
                )
            });
            format!(
                "<h3>Per owner, by name</h3><div class=\"per-owner\">{}</div>",
                table(&["Owner", "Every deal", "Sample", "Fix first"], rows)
            )
        }
    };
    let sample: String = h
        .sample
        .iter()
        .map(|id| format!("<li>{}</li>", escape(id)))
        .collect();
    let body = format!(
        "<p>{}</p>{tiles}{}{}{per_owner}{}",
        escape(&h.verdict),
        chart::bars(
            "hygiene",
            &bars,
            "Share of deals passing each hygiene check"
        ),
        details(
            "The checks as a table",
            &table(&["Check", "Every deal", "Sample"], rows)
        ),
        details(
            "The sampled deals, to verify by hand",
            &format!("<ol>{sample}</ol>")
        ),
    );
    section("hygiene", "Hygiene", &body)
}

fn auc(auc: &Interval) -> String {
    format!("{:.2} ({:.2}–{:.2})", auc.value, auc.low, auc.high)
}

fn backtest(report: &AuditReport) -> String {
    let b = &report.backtest;
    let mut tiles = tile(
        "Closed deals won",
        &pct(b.win_rate.value),
        &format!("{} won, {} lost", b.won, b.lost),
    );
    if let Some(interval) = &b.auc {
        tiles.push_str(&tile("ROC AUC", &auc(interval), "95 % bootstrap interval"));
    }
    if let Some(lift) = &b.lift {
        tiles.push_str(&tile(
            "Lift of the top 20 %",
            &format!("{:.1}×", lift.lift),
            &format!("{} won of {}", pct(lift.top_win_rate.value), lift.top),
        ));
    }
    let bars: Vec<Bar> = b
        .by_band
        .iter()
        .map(|band| Bar {
            label: format!("score {}–{}", band.from, band.to),
            length: band.win_rate.value.unwrap_or(0.0),
            value: band.win_rate.value.map_or("no deals".to_owned(), |_| {
                format!("{} won of {}", pct(band.win_rate.value), band.win_rate.of)
            }),
        })
        .collect();
    let bands = b.by_band.iter().map(|band| {
        row(
            &format!("{}–{}", band.from, band.to),
            &[
                rate(&band.win_rate),
                band.mean_score
                    .map_or("–".to_owned(), |m| format!("{:.0} %", m)),
            ],
        )
    });
    let tiers = b.by_tier.iter().map(|t| row(&t.tier, &[rate(&t.win_rate)]));
    let calibration = b.calibration_gap.map_or(String::new(), |gap| {
        format!(
            "<p class=\"hint\">Calibration: read as a chance of winning, the score is off by {:.0} points on average (weighted by deals); it ranks deals, it is not a probability.</p>",
            gap * 100.0
        )
    });
    let body = format!(
        "<p>{}</p><dl class=\"tiles\">{tiles}</dl>{}{}<h3>By tier</h3>{}{calibration}",
        escape(&b.verdict),
        chart::bars("bands", &bars, "Win rate of closed deals by score band"),
        details(
            "Score bands as a table (win rate with its 95 % interval; the score read as a chance)",
            &table(&["Score", "Won", "Score as a chance"], bands)
        ),
        table(&["Tier", "Won (95 % interval) of closed"], tiers),
    );
    section("backtest", "Backtest on closed deals", &body)
}

fn gate(report: &AuditReport) -> String {
    let g = &report.gate;
    let tiles = format!(
        "<dl class=\"tiles\">{}{}</dl>",
        tile(
            "Won deals blocked",
            &pct(g.won_blocked.value),
            &format!("{} of {}", g.won_blocked.hits, g.won_blocked.of)
        ),
        tile(
            "Lost deals let through",
            &pct(g.lost_passed.value),
            &format!("{} of {}", g.lost_passed.hits, g.lost_passed.of)
        ),
    );
    let rows = g.thresholds.iter().map(|t| {
        let mark = if Some(t.threshold) == g.advised {
            " (advised)"
        } else if t.threshold == g.threshold {
            " (playbook)"
        } else {
            ""
        };
        row(
            &format!("{}{mark}", t.threshold),
            &[rate(&t.won_kept), rate(&t.lost_blocked)],
        )
    });
    let body = format!(
        "<p>With the playbook's rules and a threshold of {}:</p>{tiles}<p>{}</p>{}",
        g.threshold,
        escape(&g.advice),
        details(
            "Every threshold, in steps of 5",
            &table(&["Threshold", "Won kept", "Lost blocked"], rows)
        ),
    );
    section("gate", "The gate replayed", &body)
}

fn dimensions(report: &AuditReport) -> String {
    let bars: Vec<Bar> = report
        .dimensions
        .iter()
        .flat_map(|d| {
            [
                (format!("{} green", d.name), &d.green),
                (format!("{} not green", d.name), &d.not_green),
            ]
            .map(|(label, r)| Bar {
                label,
                length: r.value.unwrap_or(0.0),
                value: format!("{} of {}", pct(r.value), r.of),
            })
        })
        .collect();
    let findings: String = report
        .dimensions
        .iter()
        .map(|d| format!("<li>{}</li>", escape(&d.finding)))
        .collect();
    let rows = report
        .dimensions
        .iter()
        .map(|d| row(&d.name, &[rate(&d.green), rate(&d.not_green)]));
    let body = format!(
        "<ul>{findings}</ul>{}{}",
        chart::bars(
            "dimensions",
            &bars,
            "Win rate of closed deals with each dimension green and not"
        ),
        details(
            "As a table (win rate with its 95 % interval)",
            &table(&["Dimension", "Green", "Not green"], rows)
        ),
    );
    section("dimensions", "Which dimensions predict", &body)
}

fn source(report: &AuditReport) -> String {
    let s = &report.source;
    let broken = if s.broken == 0 {
        "<p>Every row was read.</p>".to_owned()
    } else {
        let rows = s
            .first_broken
            .iter()
            .map(|b| row(&b.line.to_string(), std::slice::from_ref(&b.problem)));
        format!(
            "<p>{} of {} rows could not be read (the first {} below).</p>{}",
            s.broken,
            s.rows,
            s.first_broken.len(),
            table(&["Line", "Problem"], rows)
        )
    };
    let unknown: String = s
        .unknown_columns
        .iter()
        .map(|c| {
            format!(
                "<li>{}{}</li>",
                escape(&c.column),
                c.suggestion.as_ref().map_or(String::new(), |f| format!(
                    ": perhaps <code>{}</code>",
                    escape(f)
                ))
            )
        })
        .collect();
    let unknown = if unknown.is_empty() {
        String::new()
    } else {
        format!("<h3>Columns not mapped</h3><ul>{unknown}</ul>")
    };
    let notes: String = s
        .notes
        .iter()
        .map(|n| format!("<p class=\"hint\">{}</p>", escape(n)))
        .collect();
    section(
        "source",
        "What was read",
        &format!(
            "<p>{} rows of {} ({}).</p>{broken}{unknown}{notes}<p class=\"hint\">Every deal's \
             row (score, tier, gate, dimensions) is in the JSON report.</p>",
            s.rows,
            escape(&s.file),
            escape(&s.crm)
        ),
    )
}
