//! What every adapter does the same way with the activities it reads for a deal: a CRM's own
//! activity type named a kind by the playbook ([`crate::engagement::Engagement::activity_types`])
//! or else by the adapter's default table, and a body kept as HTML read as text.

use crate::{engagement::Engagement, model::ActivityKind};

/// The kind of an activity of `crm_type` in `crm` (its route name): the playbook's, where it
/// names one, else the adapter's `default` table's.
pub fn kind(
    engagement: Option<&Engagement>,
    crm: &str,
    crm_type: &str,
    default: fn(&str) -> ActivityKind,
) -> ActivityKind {
    engagement
        .and_then(|e| e.activity_type(crm, crm_type))
        .unwrap_or_else(|| default(crm_type))
}

/// The text of a body a CRM keeps as HTML (`<p>…</p>`): tags dropped, the common entities
/// decoded, blank lines folded.
pub fn plain(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                text.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_html_body_reads_as_text() {
        assert_eq!(
            plain("<p>Pain: close takes <b>nine days</b> &amp; blocks&nbsp;reporting</p>\n<p></p>"),
            "Pain: close takes nine days & blocks reporting"
        );
    }

    #[test]
    fn the_playbook_names_a_type_before_the_default_table() {
        let engagement: Engagement = toml::from_str(
            "weight = 10\nhalf_life_days = 14\nfull_at = 10\nsignals = {}\n[activity_types.pipedrive]\nlunch = \"meeting\"\n",
        )
        .unwrap();
        let other = |t: &str| ActivityKind::Other(t.to_owned());
        assert_eq!(
            kind(Some(&engagement), "pipedrive", "lunch", other),
            ActivityKind::Meeting
        );
        assert_eq!(
            kind(Some(&engagement), "salesforce", "lunch", other),
            other("lunch")
        );
        assert_eq!(kind(None, "pipedrive", "lunch", other), other("lunch"));
    }
}
