//! The CRM's names for the playbook's fields, worked out once per job.
//!
//! The playbook speaks of canonical fields (`pain`, `pg_score`, `pg_handoff_verdict`); a CRM may
//! know them by other names (`pg_pain`, `Pain__c`, a Pipedrive key). Adapters read a record's
//! fields through [`FieldNames::incoming`]; decisions and write-backs stay canonical until the
//! write-backs are rendered into calls ([`FieldNames::rename`]).

use std::collections::BTreeMap;

use super::Facts;
use crate::{
    evidence::EvidenceRule,
    model::{Record, RecordKind},
    playbook::Playbook,
    writeback::WriteBack,
};

/// One CRM's names for one playbook's fields, per record kind.
#[derive(Debug, Clone)]
pub struct FieldNames {
    custom: fn(&str) -> String,
    deal: Names,
    lead: Names,
}

#[derive(Debug, Clone, Default)]
struct Names {
    /// Canonical → the CRM's name, for every field pipeline-guard writes.
    outgoing: BTreeMap<String, String>,
    /// The CRM's name → canonical, for every field the playbook reads.
    incoming: BTreeMap<String, String>,
    /// The CRM's names of the write-back fields (not the handoff's).
    written: Vec<String>,
}

impl FieldNames {
    /// The names `facts`' CRM knows `playbook`'s fields by.
    pub fn new(playbook: &Playbook, facts: &Facts) -> FieldNames {
        FieldNames {
            custom: facts.fields.custom,
            deal: Names::of(playbook, facts, RecordKind::Deal),
            lead: Names::of(playbook, facts, RecordKind::Lead),
        }
    }

    fn of(&self, kind: RecordKind) -> &Names {
        match kind {
            RecordKind::Deal => &self.deal,
            RecordKind::Lead => &self.lead,
        }
    }

    /// The CRM's name for the canonical field `field` of a `kind` record that pipeline-guard
    /// writes: the playbook's `crm_fields` entry, else the CRM's name for a custom field.
    pub fn outgoing(&self, kind: RecordKind, field: &str) -> String {
        self.of(kind)
            .outgoing
            .get(field)
            .cloned()
            .unwrap_or_else(|| (self.custom)(field))
    }

    /// The fields the playbook reads from a `kind` record, by the CRM's name, each with the
    /// canonical field it feeds: a dimension's field (contact dimensions are judged from the
    /// record's contacts), the fit fields, the required fields, the handoff's people and verdict
    /// fields and the stale flag written back. Fields every record carries (owner, amount, …)
    /// come from each CRM's own fields and are not listed.
    pub fn incoming(&self, kind: RecordKind) -> &BTreeMap<String, String> {
        &self.of(kind).incoming
    }

    /// The CRM's names of every write-back field of a `kind` record (score, tier, stale flag, …).
    pub fn written(&self, kind: RecordKind) -> impl Iterator<Item = &str> {
        self.of(kind).written.iter().map(String::as_str)
    }

    /// Whether `field` (a CRM field name of a `kind` record) is one pipeline-guard writes back
    /// to: a change to nothing else is the echo of its own write-back.
    pub fn is_write_back(&self, kind: RecordKind, field: &str) -> bool {
        self.of(kind)
            .written
            .iter()
            .any(|name| name.eq_ignore_ascii_case(field))
    }

    /// `write_back` with its fields under the CRM's names.
    pub fn rename(&self, kind: RecordKind, write_back: &mut WriteBack) {
        write_back.rename_fields(|field| self.outgoing(kind, field));
    }

    /// Whether `record`, as a webhook carried it, already holds what `write_back` (canonical)
    /// sets ([`WriteBack::already_in`]).
    pub fn already_in(&self, write_back: &WriteBack, record: &Record) -> bool {
        write_back.already_in_named(record, |field| self.outgoing(record.kind, field))
    }

    /// Whether `record`, as a listing read it, already holds what `write_back` (canonical) sets
    /// ([`WriteBack::already_in_read`]).
    pub fn already_in_read(&self, write_back: &WriteBack, record: &Record) -> bool {
        write_back.already_in_read_named(record, |field| self.outgoing(record.kind, field))
    }
}

impl Names {
    fn of(playbook: &Playbook, facts: &Facts, kind: RecordKind) -> Names {
        let table = facts.field_table(kind);
        let custom = facts.fields.custom;
        let mut outgoing = BTreeMap::new();
        let write_back = &playbook.write_back;
        for name in write_back.names() {
            let named = write_back.name_in(table, name);
            let crm_name = if named == name {
                custom(name)
            } else {
                named.to_owned()
            };
            outgoing.insert(name.to_owned(), crm_name);
        }
        let written = outgoing.values().cloned().collect();
        let handoff = &playbook.handoff;
        let verdict = [&handoff.verdict.field, &handoff.verdict.reason_field];
        for field in handoff.read_fields() {
            let named = handoff.field_in(table, field);
            // People fields are the CRM's own (a user lookup); verdict fields are created for us.
            let crm_name = if named == field && verdict.iter().any(|v| *v == field) {
                custom(field)
            } else {
                named.to_owned()
            };
            outgoing.insert(field.to_owned(), crm_name);
        }
        let incoming = incoming(playbook, table, &outgoing);
        Names {
            outgoing,
            incoming,
            written,
        }
    }
}

fn named(outgoing: &BTreeMap<String, String>, field: &str) -> String {
    outgoing
        .get(field)
        .cloned()
        .unwrap_or_else(|| field.to_owned())
}

/// The CRM fields the playbook reads from records whose `crm_fields` table is `table`.
fn incoming(
    playbook: &Playbook,
    table: &str,
    outgoing: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    for d in &playbook.dimensions {
        if matches!(d.evidence, EvidenceRule::Contact { .. }) {
            continue; // judged from the associated contacts
        }
        let canonical = d.field().to_owned();
        let name = d
            .crm_fields
            .get(table)
            .cloned()
            .unwrap_or_else(|| canonical.clone());
        properties.insert(name, canonical);
    }
    let fit_fields = playbook.fit.iter().flat_map(|f| {
        f.company_size
            .iter()
            .map(|b| b.field.clone())
            .chain(f.industries.iter().map(|s| s.field.clone()))
            .chain(f.regions.iter().map(|s| s.field.clone()))
    });
    for field in fit_fields.chain(playbook.staleness.required_fields.iter().cloned()) {
        properties.entry(field.clone()).or_insert(field);
    }
    for field in playbook.handoff.read_fields() {
        properties.insert(named(outgoing, field), field.to_owned());
    }
    // The stale flag already written says whom staleness told, and when (notify once).
    let stale = &playbook.write_back.stale;
    properties.insert(named(outgoing, stale), stale.clone());
    properties.retain(|_, canonical| !Record::BUILT_IN_FIELDS.contains(&canonical.as_str()));
    properties
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::{
        crm::{
            Adapter, generic::Generic, hubspot::Hubspot, pipedrive::Pipedrive,
            salesforce::Salesforce,
        },
        scorecard,
    };

    const SCORE_FIELDS: [&str; 5] = [
        "pg_score",
        "pg_summary",
        "pg_next_question",
        "pg_gaps",
        "pg_not_measured",
    ];

    fn facts() -> [(&'static str, Facts); 4] {
        [
            ("", Generic::FACTS),
            ("", Hubspot::FACTS),
            ("", Pipedrive::FACTS),
            ("__c", Salesforce::FACTS),
        ]
    }

    #[test]
    fn every_crm_reads_back_and_recognises_what_a_score_writes() {
        let playbook = Playbook::default_playbook();
        for (suffix, facts) in facts() {
            let names = FieldNames::new(&playbook, &facts);
            for field in SCORE_FIELDS {
                let crm_name = format!("{field}{suffix}");
                assert_eq!(names.outgoing(RecordKind::Deal, field), crm_name);
                assert!(
                    names.written(RecordKind::Deal).any(|w| w == crm_name),
                    "{crm_name} is read back"
                );
                assert!(names.is_write_back(RecordKind::Lead, &crm_name));
            }
        }
    }

    #[test]
    fn a_score_the_crm_already_holds_is_not_written_again_and_a_new_gap_is() {
        let playbook = Playbook::default_playbook();
        let mut deal = Record::new_deal("D-1");
        deal.fields.insert(
            "pain".into(),
            "Month-end close takes nine days and blocks reporting".into(),
        );
        let now = datetime!(2026-11-21 12:00 UTC);
        let write_back = scorecard::score(&deal, &playbook, now).write_back(&deal, &playbook);
        for (_, facts) in facts() {
            let names = FieldNames::new(&playbook, &facts);
            let mut held = deal.clone();
            for (field, value) in &write_back.fields {
                held.fields
                    .insert(names.outgoing(deal.kind, field), value.clone());
            }
            assert!(names.already_in(&write_back, &held));
            let gaps = names.outgoing(deal.kind, "pg_gaps");
            held.fields.insert(gaps, "Pain: nothing recorded".into());
            assert!(!names.already_in(&write_back, &held));
        }
    }
}
