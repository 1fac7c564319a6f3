//! The pieces the HTML reports are built of (the handoff report, the hygiene report): one
//! document with its only style inline and nothing fetched ([`page`]), charts as inline SVG
//! ([`chart`]), figures in words ([`figures`]), and [`escape`] for every text that comes from data.

pub(crate) mod chart;
pub(crate) mod figures;
pub(crate) mod page;

/// `text` safe inside an element or a quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A rep in a report's row: their name with the id beside it in small type, or the id alone
/// while no name is known.
pub(crate) fn person(name: Option<&str>, id: &str) -> String {
    match name {
        Some(name) => format!(
            "{}<br><small class=\"hint\">user {}</small>",
            escape(name),
            escape(id)
        ),
        None => escape(id),
    }
}
