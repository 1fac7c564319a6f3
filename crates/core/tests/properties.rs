//! Properties every playbook's scoring keeps, on generated records.

use pipeline_guard_core::{
    model::{Activity, ActivityKind, Contact, Record},
    playbook::Playbook,
    scorecard::score,
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime, macros::datetime};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

fn playbooks() -> Vec<Playbook> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/playbooks");
    ["default.toml", "meddicc.toml", "bant.toml"]
        .iter()
        .map(|name| {
            Playbook::from_toml(&std::fs::read_to_string(dir.join(name)).expect("playbook"))
                .expect("valid")
        })
        .collect()
}

/// Every field any shipped playbook reads.
const FIELDS: &[&str] = &[
    "situation",
    "pain",
    "impact",
    "next_step",
    "metrics",
    "decision_criteria_status",
    "decision_date",
    "paper_process_known",
    "competitive_position",
    "budget",
    "need",
    "target_date",
    "employees",
    "industry",
    "region",
];

/// The fields every shipped playbook judges as narrative text, where more words are more evidence.
const NARRATIVE_FIELDS: &[&str] = &[
    "situation",
    "pain",
    "impact",
    "next_step",
    "metrics",
    "need",
];

fn value() -> impl Strategy<Value = serde_json::Value> {
    prop_oneof![
        "[a-z]{1,8}( [a-z]{1,8}){0,12}".prop_map(serde_json::Value::from),
        (0u32..100_000).prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::from),
        (-120i64..200)
            .prop_map(|d| serde_json::Value::from((NOW.date() + Duration::days(d)).to_string())),
        prop::sample::select(vec![
            "documented",
            "draft",
            "unknown",
            "preferred",
            "behind",
            "EMEA",
            "Software"
        ])
        .prop_map(serde_json::Value::from),
    ]
}

fn contact() -> impl Strategy<Value = Contact> {
    (
        prop::option::of(prop::sample::select(vec![
            "economic_buyer",
            "champion",
            "decision_maker",
            "user",
        ])),
        prop::option::of(prop::sample::select(vec![
            "CFO",
            "VP Sales",
            "Analyst",
            "Head of IT",
        ])),
    )
        .prop_map(|(role, title)| Contact {
            id: "C".into(),
            name: Some("Someone".into()),
            email: None,
            title: title.map(str::to_owned),
            role: role.map(str::to_owned),
            authority: None,
        })
}

fn activity() -> impl Strategy<Value = Activity> {
    (
        prop::sample::select(vec![
            ActivityKind::Meeting,
            ActivityKind::PageView,
            ActivityKind::Download,
            ActivityKind::EmailReply,
            ActivityKind::Call,
        ]),
        0i64..400,
        prop::option::of(prop::sample::select(vec!["/pricing", "/blog"])),
    )
        .prop_map(|(kind, days_ago, subject)| Activity {
            kind,
            at: NOW - Duration::days(days_ago),
            subject: subject.map(str::to_owned),
            notes: None,
        })
}

fn record() -> impl Strategy<Value = Record> {
    (
        prop::collection::btree_map(
            prop::sample::select(FIELDS.to_vec()),
            value(),
            0..FIELDS.len(),
        ),
        prop::collection::vec(contact(), 0..3),
        prop::collection::vec(activity(), 0..6),
    )
        .prop_map(|(fields, contacts, activities)| {
            let mut record = Record::new_deal("D-prop");
            record.fields = fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            record.contacts = contacts;
            record.activities = activities;
            record
        })
}

/// Evidence that only adds: more words to a narrative, a contact, an activity, a field that was
/// empty.
#[derive(Debug, Clone)]
enum MoreEvidence {
    Words(&'static str),
    Contact(Contact),
    Activity(Activity),
    Field(&'static str, serde_json::Value),
}

fn more_evidence() -> impl Strategy<Value = MoreEvidence> {
    prop_oneof![
        prop::sample::select(NARRATIVE_FIELDS.to_vec()).prop_map(MoreEvidence::Words),
        contact().prop_map(MoreEvidence::Contact),
        activity().prop_map(MoreEvidence::Activity),
        (prop::sample::select(FIELDS.to_vec()), value())
            .prop_map(|(f, v)| MoreEvidence::Field(f, v)),
    ]
}

fn add(record: &Record, more: &MoreEvidence) -> Record {
    let mut richer = record.clone();
    match more {
        MoreEvidence::Words(field) => {
            if let Some(serde_json::Value::String(text)) = richer.fields.get_mut(*field) {
                text.push_str(" and several more words of detail");
            }
        }
        MoreEvidence::Contact(c) => richer.contacts.push(c.clone()),
        MoreEvidence::Activity(a) => richer.activities.push(a.clone()),
        MoreEvidence::Field(field, value) => {
            richer
                .fields
                .entry((*field).to_owned())
                .or_insert_with(|| value.clone());
        }
    }
    richer
}

proptest! {
    #[test]
    fn the_score_stays_within_0_to_100(record in record()) {
        for playbook in playbooks() {
            let card = score(&record, &playbook, NOW);
            prop_assert!(card.total <= 100);
            let parts: f64 = card.dimensions.iter().map(|d| d.points).sum::<f64>()
                + card.fit.as_ref().map_or(0.0, |p| p.points)
                + card.engagement.as_ref().map_or(0.0, |p| p.points);
            prop_assert!((0.0..=100.0 + 1e-9).contains(&parts));
        }
    }

    #[test]
    fn adding_evidence_never_lowers_the_score(record in record(), more in more_evidence()) {
        let richer = add(&record, &more);
        for playbook in playbooks() {
            let before = score(&record, &playbook, NOW).total;
            let after = score(&richer, &playbook, NOW).total;
            prop_assert!(after >= before, "{} went from {} to {} after {:?}", playbook.name, before, after, more);
        }
    }

    #[test]
    fn the_same_input_always_gives_the_same_scorecard(record in record()) {
        for playbook in playbooks() {
            prop_assert_eq!(score(&record, &playbook, NOW), score(&record.clone(), &playbook, NOW));
        }
    }
}
