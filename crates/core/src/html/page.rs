//! The page around a report's sections (and the rep's page's) (one document, its only style inline, nothing fetched)
//! and the blocks they are built of.

use super::escape;

/// The document: `title` (not data: never escaped) and the sections' `body`.
pub(crate) fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n"
    )
}

/// System fonts only, a column that fits a 360 px phone, and the series' colours (Okabe–Ito).
const STYLE: &str = "\
:root{color-scheme:light;--ink:#1d2430;--muted:#58616d;--line:#d9dee5;--panel:#f3f5f8}\
*{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}\
body{margin:0;background:#fff;color:var(--ink);\
font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,sans-serif}\
main{max-width:46rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;line-height:1.2;margin:.25rem 0}\
h2{font-size:1.125rem;line-height:1.3;margin:0 0 .5rem}\
section{margin-top:1.25rem;padding-top:1rem;border-top:1px solid var(--line)}\
p{margin:.5rem 0}\
.meta,.hint{color:var(--muted);font-size:.875rem}\
.empty{color:var(--muted);font-style:italic}\
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(9.5rem,1fr));gap:.5rem;margin:0}\
.tiles div{background:var(--panel);border-radius:.5rem;padding:.6rem .75rem}\
.tiles dt{font-size:.875rem;color:var(--muted)}\
.tiles dd{margin:0;font-size:.8125rem;color:var(--muted)}\
.tiles dd.figure{font-size:1.5rem;font-weight:600;line-height:1.25;color:var(--ink)}\
svg.chart{display:block;width:100%;height:auto;max-width:36rem;margin:.5rem 0}\
svg text{font-size:13px;fill:#333b46}\
#weeks-chart text{font-size:11px}\
.grid{stroke:var(--line);stroke-width:1}\
.bar{fill:#0072b2}\
.track{fill:#e9edf2}\
svg .value{fill:var(--muted)}\
.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;\
font-size:.875rem}\
.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.35rem;\
vertical-align:-.1rem}\
.s-blocked{fill:#d55e00;background:#d55e00}\
.s-would-block{fill:#e69f00;background:#e69f00}\
.s-validated{fill:#0072b2;background:#0072b2}\
.s-accepted{fill:#009e73;background:#009e73}\
.s-rejected{fill:#cc79a7;background:#cc79a7}\
table{border-collapse:collapse;width:100%;font-size:.8125rem;margin:.5rem 0}\
th,td{text-align:left;padding:.3rem .25rem;border-bottom:1px solid var(--line);\
vertical-align:top}\
tbody th{overflow-wrap:anywhere}\
#per-bdr tbody th,.per-owner tbody th{width:30%}\
[id^=crm-] details thead th{font-size:.6875rem;padding:.3rem .2rem}\
td{font-variant-numeric:tabular-nums}\
thead th{font-weight:600;color:var(--muted)}\
details{margin:.5rem 0}\
h3{font-size:1rem;margin:1rem 0 .25rem}\
.alert{background:#fff4e5;border-left:4px solid #e69f00;padding:.5rem .75rem;margin:.5rem 0}\
summary{cursor:pointer;color:#0b5394}\
.items{list-style:none;padding:0;margin:0}\
.items>li{background:var(--panel);border-radius:.5rem;padding:.6rem .75rem;margin:.5rem 0;\
overflow-wrap:anywhere}\
.items h3{margin:0 0 .25rem}\
.items ul{padding-left:1.25rem;margin:.25rem 0}\
.choice{display:flex;gap:.6rem;align-items:flex-start;padding:.6rem 0;min-height:44px}\
.choice input{width:1.35rem;height:1.35rem;flex:none;margin:.1rem 0 0}\
button{font:inherit;min-height:44px;padding:.5rem 1rem;border-radius:.5rem;\
border:1px solid #0b5394;background:#0b5394;color:#fff}\
";

/// A figure of the summary: its label, the figure, a note under it.
pub(crate) fn tile(label: &str, value: &str, note: &str) -> String {
    format!("<div><dt>{label}</dt><dd class=\"figure\">{value}</dd><dd>{note}</dd></div>")
}

/// A section, `id` and `heading` not data (never escaped), labelled by its heading.
pub(crate) fn section(id: &str, heading: &str, body: &str) -> String {
    format!(
        "<section id=\"{id}\" aria-labelledby=\"{id}-h\"><h2 id=\"{id}-h\">{heading}</h2>\
         {body}</section>"
    )
}

/// Something shown on demand (a chart's figures as a table): there without a script.
pub(crate) fn details(summary: &str, body: &str) -> String {
    format!("<details><summary>{summary}</summary>{body}</details>")
}

/// A table row: its first cell (data, escaped) heads it.
pub(crate) fn row(head: &str, figures: &[String]) -> String {
    let cells: String = figures
        .iter()
        .map(|f| format!("<td>{}</td>", escape(f)))
        .collect();
    format!("<tr><th scope=\"row\">{}</th>{cells}</tr>", escape(head))
}

/// A table: `headings` are not data (never escaped); `rows` are finished rows.
pub(crate) fn table(headings: &[&str], rows: impl Iterator<Item = String>) -> String {
    let head: String = headings
        .iter()
        .map(|h| format!("<th scope=\"col\">{h}</th>"))
        .collect();
    let body: String = rows.collect();
    format!("<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
}

/// The list of what a report's figures do not measure (data, escaped), in its own section.
pub(crate) fn not_measured(items: &[String]) -> String {
    let items: String = items
        .iter()
        .map(|i| format!("<li>{}</li>", escape(i)))
        .collect();
    section(
        "not-measured",
        "What this report does not measure",
        &format!("<ul>{items}</ul>"),
    )
}
