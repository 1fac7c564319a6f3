//! The text hashes on a real SQLite database and in memory, alike: a re-score replaces, an edit
//! moves a count, another CRM or kind does not count; and the database never holds a text.

use futures::executor::block_on;
use proptest::prelude::*;
use sha2::{Digest, Sha256};
use time::macros::datetime;

use super::{
    DimensionText, Templates, TextHash, TextHashes, compare, memory::MemoryTextHashes,
    sql::SqlTextHashes,
};
use crate::{
    crm_id::Crm,
    model::{Record, RecordKind},
    placeholder,
    playbook::Playbook,
    ports::{Database, SqlValue},
    scorecard::{Status, score_among},
    test_sqlite::Sqlite,
};

const PASTED: &str = "Customer struggles with manual processes, which cost time and money.";

fn sql() -> SqlTextHashes<Sqlite> {
    let hashes = SqlTextHashes::new(Sqlite::in_memory());
    block_on(hashes.create_tables()).unwrap();
    hashes
}

/// Runs `check` on the SQL and the memory implementation.
fn each(check: impl Fn(&dyn TextHashesUnderTest)) {
    check(&sql());
    check(&MemoryTextHashes::default());
}

/// The port, blocking, for the checks.
trait TextHashesUnderTest {
    fn keep(&self, crm: Crm, texts: &[DimensionText]) -> Vec<u32>;
}

impl<T: TextHashes> TextHashesUnderTest for T {
    fn keep(&self, crm: Crm, texts: &[DimensionText]) -> Vec<u32> {
        block_on(TextHashes::keep(self, crm, texts)).unwrap()
    }
}

fn pain(kind: RecordKind, record: &str, text: &str) -> DimensionText {
    DimensionText {
        kind,
        record_id: record.into(),
        dimension: "pain".into(),
        hash: TextHash::of(text, &Playbook::default_playbook().handoff.placeholders),
    }
}

fn deal(record: &str, text: &str) -> DimensionText {
    pain(RecordKind::Deal, record, text)
}

#[test]
fn keeping_a_deal_again_replaces_its_text_and_never_counts_it_twice() {
    each(|hashes| {
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-1", PASTED)]), [1]);
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-1", PASTED)]), [1]);
        // However cased, punctuated or spaced, it is the same text.
        let shouted = PASTED.to_uppercase().replace(',', " ;  ");
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-1", &shouted)]), [1]);
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-2", PASTED)]), [2]);
    });
}

#[test]
fn the_third_deal_with_the_same_text_is_red_with_the_count_in_its_reason() {
    let playbook = Playbook::default_playbook();
    each(|hashes| {
        let mut counts = Vec::new();
        for id in ["D-1", "D-2", "D-3"] {
            counts.extend(hashes.keep(Crm::Pipedrive, &[deal(id, PASTED)]));
        }
        assert_eq!(counts, [1, 2, 3]);
        let mut third = Record::new_deal("D-3");
        third.fields.insert("pain".into(), PASTED.into());
        let templates: Templates = [("pain".to_owned(), counts[2])].into_iter().collect();
        let now = datetime!(2026-11-21 12:00 UTC);
        let card = score_among(&third, &playbook, &templates, now);
        assert_eq!(card.dimensions[1].status, Status::Red);
        assert_eq!(
            card.dimensions[1].reason,
            "`pain` holds no evidence: the same text is on 3 deals: write what this buyer said"
        );
    });
}

#[test]
fn an_edited_text_moves_its_count_and_an_emptied_one_is_forgotten() {
    each(|hashes| {
        let batch: Vec<DimensionText> = ["D-1", "D-2", "D-3"]
            .into_iter()
            .map(|id| deal(id, PASTED))
            .collect();
        assert_eq!(hashes.keep(Crm::Generic, &batch), [3, 3, 3]);
        let own = "Month-end close takes nine days and delays board reporting";
        assert_eq!(hashes.keep(Crm::Generic, &[deal("D-3", own)]), [1]);
        assert_eq!(hashes.keep(Crm::Generic, &[deal("D-1", PASTED)]), [2]);
        // A placeholder is no text: the deal's row goes, and nothing is counted for it.
        assert_eq!(hashes.keep(Crm::Generic, &[deal("D-2", "T.B.D.")]), [0]);
        assert_eq!(hashes.keep(Crm::Generic, &[deal("D-1", PASTED)]), [1]);
        assert_eq!(hashes.keep(Crm::Generic, &[deal("D-2", "")]), [0]);
    });
}

#[test]
fn another_crm_another_kind_or_another_dimension_does_not_count() {
    each(|hashes| {
        hashes.keep(Crm::Hubspot, &[deal("D-1", PASTED), deal("D-2", PASTED)]);
        assert_eq!(hashes.keep(Crm::Salesforce, &[deal("D-3", PASTED)]), [1]);
        let lead = pain(RecordKind::Lead, "L-1", PASTED);
        assert_eq!(hashes.keep(Crm::Hubspot, &[lead]), [1]);
        let mut impact = deal("D-4", PASTED);
        impact.dimension = "impact".into();
        assert_eq!(hashes.keep(Crm::Hubspot, &[impact]), [1]);
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-3", PASTED)]), [3]);
    });
}

#[test]
fn a_record_gets_a_count_for_each_text_dimension_it_fills() {
    let playbook = Playbook::default_playbook();
    let hashes = sql();
    let records: Vec<Record> = ["D-1", "D-2", "D-3"]
        .into_iter()
        .map(|id| {
            let mut deal = Record::new_deal(id);
            deal.fields.insert("pain".into(), PASTED.into());
            deal.fields
                .insert("impact".into(), format!("{id} saves 2 FTE").into());
            deal.fields.insert("next_step".into(), "TBD".into());
            deal
        })
        .collect();
    let per_record = records
        .iter()
        .map(|r| DimensionText::of(r, &playbook))
        .collect();
    let found = block_on(compare(Crm::Generic, per_record, &hashes)).unwrap();
    let third = &found[2];
    assert_eq!(third.records_with("pain"), 3);
    assert_eq!(third.records_with("impact"), 1);
    // A placeholder is kept nowhere; a contact dimension is no text.
    assert_eq!(third.records_with("next_step"), 0);
    assert_eq!(third.records_with("economic_buyer"), 0);
}

/// Every column of every row of the text hashes' table.
fn rows(db: &Sqlite) -> Vec<Vec<SqlValue>> {
    block_on(db.execute(
        "SELECT crm, kind, dimension, record_id, hash FROM pg_text_hashes",
        Vec::new(),
    ))
    .unwrap()
}

#[test]
fn the_table_has_no_column_for_a_text() {
    let hashes = sql();
    let columns = block_on(hashes.db.execute(
        "SELECT name, type FROM pragma_table_info('pg_text_hashes') ORDER BY cid",
        Vec::new(),
    ))
    .unwrap();
    let columns: Vec<(String, String)> = columns
        .into_iter()
        .map(|c| {
            (
                c[0].as_text().unwrap().into(),
                c[1].as_text().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("crm", "TEXT"),
        ("kind", "TEXT"),
        ("dimension", "TEXT"),
        ("record_id", "TEXT"),
        ("hash", "BLOB"),
    ]
    .map(|(name, kind)| (name.to_owned(), kind.to_owned()));
    assert_eq!(columns, expected);
}

proptest! {
    #[test]
    fn the_database_keeps_a_hash_of_the_text_never_the_text(
        text in "[A-Za-z .,!-]{1,80}",
        record in "[A-Z]-[0-9]{1,4}",
    ) {
        let hashes = sql();
        let placeholders = Playbook::default_playbook().handoff.placeholders;
        let kept = deal(&record, &text);
        block_on(TextHashes::keep(&hashes, Crm::Hubspot, &[kept])).unwrap();
        let rows = rows(&hashes.db);
        if placeholder::placeholder(&text, &placeholders).is_some() {
            prop_assert!(rows.is_empty());
        } else {
            let digest = Sha256::digest(placeholder::normalised(&text).as_bytes()).to_vec();
            let expected = vec![
                SqlValue::from("hubspot"),
                "deal".into(),
                "pain".into(),
                record.as_str().into(),
                SqlValue::Blob(digest),
            ];
            prop_assert_eq!(&rows, &vec![expected]);
        }
    }
}

#[test]
fn a_thousand_texts_in_one_batch_are_kept_counted_and_forgotten() {
    // More texts than one statement may name (SQLite's expression depth): several statements.
    let many = super::sql::MAX_TERMS * 4;
    let texts: Vec<DimensionText> = (0..many)
        .map(|i| deal(&format!("D-{i}"), &format!("{PASTED} {}", i % 2)))
        .collect();
    each(|hashes| {
        let counts = hashes.keep(Crm::Hubspot, &texts);
        assert_eq!(counts.len(), many);
        assert!(counts.iter().all(|&n| n as usize == many / 2), "{counts:?}");
        let emptied: Vec<DimensionText> = texts
            .iter()
            .map(|t| DimensionText {
                hash: None,
                ..t.clone()
            })
            .collect();
        assert!(hashes.keep(Crm::Hubspot, &emptied).iter().all(|&n| n == 0));
        assert_eq!(hashes.keep(Crm::Hubspot, &[deal("D-0", PASTED)]), [1]);
    });
}

#[test]
fn a_field_the_crm_did_not_send_keeps_its_text_and_one_sent_empty_forgets_it() {
    let playbook = Playbook::default_playbook();
    let mut full = Record::new_deal("D-1");
    full.fields.insert("pain".into(), PASTED.into());
    full.fields
        .insert("impact".into(), "Five days saved each close".into());
    let kept = DimensionText::of(&full, &playbook);
    assert_eq!(
        kept.iter()
            .map(|t| t.dimension.as_str())
            .collect::<Vec<_>>(),
        ["pain", "impact"]
    );
    // A Flow callout sending Pain alone says nothing of Impact.
    let mut partial = Record::new_deal("D-1");
    partial.fields.insert("pain".into(), PASTED.into());
    let sent = DimensionText::of(&partial, &playbook);
    assert_eq!(
        sent.iter()
            .map(|t| t.dimension.as_str())
            .collect::<Vec<_>>(),
        ["pain"]
    );
    // Sent empty, it is forgotten; a deleted record forgets every dimension.
    partial
        .fields
        .insert("impact".into(), serde_json::Value::Null);
    let emptied = DimensionText::of(&partial, &playbook);
    assert!(
        emptied
            .iter()
            .any(|t| t.dimension == "impact" && t.hash.is_none())
    );
    let deleted = DimensionText::forgotten(&Record::new_deal("D-1"), &playbook);
    assert_eq!(deleted.len(), 4);
    assert!(deleted.iter().all(|t| t.hash.is_none()));
}
