//! What every adapter does the same way with the activities it reads for a deal: a CRM's own
//! activity type named a kind by the playbook ([`crate::engagement::Engagement::activity_types`])
//! or else by the adapter's default table, whether a type is worth a read at all, and a body
//! kept as HTML read as text.

use crate::{engagement::Engagement, model::ActivityKind};

/// Whether activities of any of `crm_types` (of `crm`, its route name) can change a score: a
/// call or a meeting (the hygiene checklist reads their notes), or a signal the playbook's
/// engagement gives points to. A type the playbook renames is judged by its new kind, and a
/// type the playbook names with `prefix` (`call_no_answer` for calls) counts as one of them.
pub fn wanted(
    engagement: Option<&Engagement>,
    crm: &str,
    crm_types: &[&str],
    prefix: &str,
    default: fn(&str) -> ActivityKind,
) -> bool {
    let renamed = engagement
        .and_then(|e| e.activity_types.get(crm))
        .into_iter()
        .flat_map(|types| types.keys())
        .filter(|t| t.to_lowercase().starts_with(prefix))
        .map(String::as_str);
    crm_types.iter().copied().chain(renamed).any(|crm_type| {
        let kind = kind(engagement, crm, crm_type, default);
        matches!(kind, ActivityKind::Call | ActivityKind::Meeting)
            || engagement.is_some_and(|e| e.weighs(&kind))
    })
}

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
    fn a_type_is_read_when_it_holds_calls_or_a_weighted_signal() {
        let default = |t: &str| match t {
            "call" => ActivityKind::Call,
            "email" => ActivityKind::Email,
            "incoming_email" => ActivityKind::EmailReply,
            "note" => ActivityKind::Note,
            other => ActivityKind::Other(other.to_owned()),
        };
        let engagement = |extra: &str| -> Engagement {
            toml::from_str(&format!(
                "weight = 10\nhalf_life_days = 14\nfull_at = 10\nsignals = {{ email_reply = 3 }}\n{extra}"
            ))
            .unwrap()
        };
        let plain = engagement("");
        let read = |e: Option<&Engagement>, types: &[&str], prefix: &str| {
            wanted(e, "hubspot", types, prefix, default)
        };
        // Calls always (their notes), emails for the reply signal, notes for nothing.
        assert!(read(None, &["call"], "call"));
        assert!(!read(None, &["email", "incoming_email"], "email"));
        assert!(read(Some(&plain), &["email", "incoming_email"], "email"));
        assert!(!read(Some(&plain), &["note"], "note"));
        // A playbook that makes a note a meeting reads notes.
        let notes = engagement("[activity_types.hubspot]\nnote = \"meeting\"\n");
        assert!(read(Some(&notes), &["note"], "note"));
        let no_reply = engagement("[activity_types.hubspot]\nincoming_email = \"email\"\n");
        assert!(!read(
            Some(&no_reply),
            &["email", "incoming_email"],
            "email"
        ));
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
