use time::macros::datetime;

use super::*;
use crate::{evidence::EvidenceRule, model::Record};

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

fn rule(toml_inline: &str) -> TextRule {
    #[derive(Deserialize)]
    struct Wrapper {
        evidence: EvidenceRule,
    }
    let parsed: Wrapper = toml::from_str(&format!("evidence = {toml_inline}")).expect("rule");
    match parsed.evidence {
        EvidenceRule::Text(rule) => rule,
        other => panic!("not a text rule: {other:?}"),
    }
}

fn judge(rule: &TextRule, text: &str) -> Judgement {
    let mut record = Record::new_deal("D-1");
    record.fields.insert("need".into(), text.into());
    let placeholders = ["tbd".to_owned(), "n/a".to_owned()];
    let subject = Subject {
        record: &record,
        field: "need",
        name: "Need",
        question: "What would it change?",
        placeholders: &placeholders,
    };
    rule.judge(&subject, NOW)
}

#[test]
fn an_old_rule_counts_words_but_no_longer_counts_placeholders() {
    let old = rule(r#"{ kind = "text", min_words = 4 }"#);
    assert_eq!(
        judge(&old, "They close books in spreadsheets").status,
        Status::Green
    );
    assert_eq!(judge(&old, "spreadsheets").status, Status::Yellow);
    for not_evidence in ["T.B.D.", "n/a n/a n/a n/a n/a n/a", "tbd n/a tbd n/a"] {
        let j = judge(&old, not_evidence);
        assert_eq!(j.status, Status::Red, "{not_evidence}");
        assert!(j.reason.contains("holds no evidence"), "{}", j.reason);
    }
}

#[test]
fn every_requirement_makes_green_some_yellow_none_red() {
    let step = rule(r#"{ kind = "text", min_words = 3, requires = ["date", "person"] }"#);
    assert_eq!(
        judge(&step, "Demo with the CFO on Friday").status,
        Status::Green
    );
    let dated = judge(&step, "Send the proposal by Friday");
    assert_eq!(dated.status, Status::Yellow);
    assert!(
        dated.reason.starts_with(
            "Need names no person, role or meeting: ask 'with whom, and in which meeting?'"
        ),
        "{}",
        dated.reason
    );
    let neither = judge(&step, "Send the proposal");
    assert_eq!(neither.status, Status::Red);
    assert!(
        neither.reason.contains("no date and no person"),
        "{}",
        neither.reason
    );
}

#[test]
fn alternatives_read_as_written_and_the_floor_caps_at_yellow() {
    let pain = rule(r#"{ kind = "text", min_words = 4, requires = ["quantity or consequence"] }"#);
    assert_eq!(pain.requires[0].any_of, ["quantity", "consequence"]);
    assert_eq!(judge(&pain, "Close takes nine days").status, Status::Green);
    assert_eq!(
        judge(&pain, "Late close blocks reporting").status,
        Status::Green
    );
    assert_eq!(judge(&pain, "delays reporting").status, Status::Yellow);
    let none = judge(&pain, "The close process is painful and everyone hates it");
    assert_eq!(none.status, Status::Red);
    assert_eq!(
        none.reason,
        "Need names no figure, cost or consequence: ask 'what does it cost them when it happens?'"
    );
}

#[test]
fn the_playbooks_own_lists_and_extensions_count() {
    let signed = rule(
        r#"{ kind = "text", min_words = 2, requires = ["signature", "consequence"], any_of = { signature = ["sign-off", "signed"] }, extend = { consequence = ["regulator fines"] } }"#,
    );
    let j = judge(&signed, "Sign-off by the board, or regulator fines follow");
    assert_eq!(j.status, Status::Green, "{}", j.reason);
    assert!(j.reason.contains("signature (Sign off)"), "{}", j.reason);
    let j = judge(&signed, "The board has not signed, regulator wants it");
    assert_eq!(j.status, Status::Red, "{}", j.reason);
    assert!(
        j.reason.contains("no signature (sign-off, signed)"),
        "{}",
        j.reason
    );
}

#[test]
fn unknown_checks_and_misused_lists_are_refused_naming_the_dimension() {
    let broken = rule(
        r#"{ kind = "text", min_words = 0, requires = ["quantty", ""], any_of = { person = ["x"], spare = ["y"] }, extend = { date = ["someday"] } }"#,
    );
    assert_eq!(
        broken.problems("Pain"),
        [
            "min_words: must be at least 1",
            "requires[0]: Pain requires \"quantty\", which is no check; use one of quantity, consequence, date, person, spare",
            "requires[1]: name a check for Pain",
            "any_of.person: person is a built-in check; name the list otherwise, or add words with extend.person",
            "any_of.spare: Pain never requires it; add \"spare\" to requires or remove the list",
            "extend.date: only consequence and person take more words",
        ]
    );
}
