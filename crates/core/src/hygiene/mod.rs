//! CRM hygiene: how complete a record is, and whether a score built on it can be trusted.
//!
//! Two measures. [`assess`] is a record's completeness: the share of the playbook's required
//! fields it has, which the scorecard shows and the handoff gate requires. [`checklist()`] is the
//! team's hygiene checklist for a deal (stage and close date accurate, contacts complete, calls
//! logged with useful notes, lost deals explained, dates readable), each check weighed as the
//! playbook says ([`crate::playbook::ChecklistWeights`]) and reported passed or failed one by
//! one, so a portfolio can be broken down by check; flag-stale-deals writes its score back.

mod checklist;

pub use checklist::{Check, CheckResult, Checklist, Outcome, Rotting, checklist};

use serde::{Deserialize, Serialize};

use crate::{model::Record, placeholder, playbook::Playbook};

/// How complete one record is against the playbook's required fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hygiene {
    /// Percentage of required fields present (0–100, rounded down).
    pub complete_pct: u8,
    /// The required fields that are empty.
    pub missing: Vec<String>,
    /// Whether the record is complete enough for its score to be trusted.
    pub trustworthy: bool,
}

/// Check a record's required fields; one holding a placeholder ("TBD") is empty.
pub fn assess(record: &Record, playbook: &Playbook) -> Hygiene {
    let required = &playbook.staleness.required_fields;
    let placeholders = &playbook.handoff.placeholders;
    let missing: Vec<String> = required
        .iter()
        .filter(|field| !placeholder::filled(record, field, placeholders))
        .cloned()
        .collect();
    let complete_pct = if required.is_empty() {
        100
    } else {
        ((required.len() - missing.len()) * 100 / required.len()) as u8
    };
    Hygiene {
        complete_pct,
        trustworthy: complete_pct >= playbook.staleness.hygiene_threshold,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_threshold_is_not_trustworthy() {
        let playbook = Playbook::default_playbook();
        let mut deal = Record::new_deal("D-1");
        deal.owner_id = Some("u-1".into());
        deal.amount = Some(5000.0);
        let h = assess(&deal, &playbook);
        assert_eq!(h.complete_pct, 50);
        assert_eq!(h.missing, vec!["close_date", "next_step"]);
        assert!(!h.trustworthy);
        deal.fields.insert("next_step".into(), "T.B.D.".into());
        assert_eq!(
            assess(&deal, &playbook).complete_pct,
            50,
            "a placeholder is empty"
        );
        deal.fields
            .insert("next_step".into(), "demo with CFO on Friday".into());
        let h = assess(&deal, &playbook);
        assert_eq!(h.complete_pct, 75);
        assert!(h.trustworthy);
    }
}
