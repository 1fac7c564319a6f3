//! The gate's promises: every rule holds with no exceptions, every way into a handoff stage is
//! gated, and each notice reaches the right person.

use time::macros::{date, datetime};

use super::*;
use crate::{
    model::{Contact, Record},
    writeback::{NoticeKind, Priority},
};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

const SITUATION: &str = "Finance team of 12 closes books in spreadsheets";
const PAIN: &str = "Month-end close takes nine days and delays board reporting";
const IMPACT: &str = "Cutting close to three days frees two FTE by Q2";
const NEXT: &str = "Demo with the CFO on 3 December";

/// A deal with every dimension evidenced, complete, owned by the AE after the BDR's move.
fn qualified() -> Record {
    let mut deal = Record::new_deal("D-7");
    deal.name = Some("Acme renewal".into());
    deal.owner_id = Some("ae-1".into());
    deal.stage = Some("sales_accepted".into());
    deal.amount = Some(25000.0);
    deal.close_date = Some(date!(2026 - 12 - 20));
    for (field, text) in [
        ("situation", SITUATION),
        ("pain", PAIN),
        ("impact", IMPACT),
        ("next_step", NEXT),
        ("next_activity_date", "2026-12-03"),
    ] {
        deal.fields.insert(field.into(), text.into());
    }
    deal.contacts.push(Contact {
        id: "C-1".into(),
        name: Some("Dana Ruiz".into()),
        email: Some("dana@acme.example".into()),
        title: Some("CFO".into()),
        role: Some("economic_buyer".into()),
        authority: None,
    });
    deal
}

fn moved(record: Record) -> WebhookEvent {
    WebhookEvent {
        dedupe_key: "generic:e1".into(),
        event_id: "e1".into(),
        occurred_at: NOW,
        change: Change::StageChanged {
            from: Some("discovery".into()),
            to: "sales_accepted".into(),
        },
        record,
        changed_fields: Vec::new(),
        changed_by: Some("bdr-1".into()),
        owner_changed: Some(true),
        complete: true,
    }
}

fn gate(event: &WebhookEvent, mode: Mode) -> HandoffDecision {
    gate_with(event, mode, &Playbook::default_playbook())
}

fn gate_with(event: &WebhookEvent, mode: Mode, playbook: &Playbook) -> HandoffDecision {
    let Route::Enters(entry) = route(event, playbook).unwrap() else {
        panic!("not gated: {:?}", event.change)
    };
    decide(event, &entry, playbook, mode, &Templates::default(), NOW)
}

#[test]
fn a_qualified_deal_is_validated_and_the_ae_gets_the_brief() {
    let event = moved(qualified());
    let d = gate(&event, Mode::Enforce);
    assert_eq!(d.verdict, Verdict::Validated, "{:?}", d.rules.failed);
    let wb = d.write_back(&event, &Playbook::default_playbook());
    assert_eq!(wb.move_to_stage, None);
    let [task, note] = &wb.notices[..] else {
        panic!("{:?}", wb.notices)
    };
    assert_eq!((task.kind, note.kind), (NoticeKind::Task, NoticeKind::Note));
    assert_eq!(task.to.as_deref(), Some("ae-1"));
    assert_eq!(task.priority, Priority::Normal);
    for expected in [
        PAIN,
        SITUATION,
        "Dana Ruiz, CFO, buying role: economic buyer, dana@acme.example",
        "Next step: \"Demo with the CFO on 3 December\", next activity on 2026-12-03.",
        "qualification 100/100 against the threshold of 60 (only qualification counts toward it)",
        "What this score does not measure: relationship strength",
        "by user bdr-1 (the user who made the move)",
    ] {
        assert!(
            task.body.contains(expected),
            "{expected:?} in\n{}",
            task.body
        );
    }
    assert!(!task.body.contains("words of evidence"), "{}", task.body);
}

#[test]
fn pain_red_blocks_whatever_else_is_green() {
    // The case: fit and engagement are no substitute for pain.
    let mut deal = qualified();
    deal.fields.remove("pain");
    let event = moved(deal);
    let d = gate(&event, Mode::Enforce);
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(d.rules.failed, ["Pain is red (required green)"]);
    assert_eq!(d.moved_back_to.as_deref(), Some("discovery"));
    assert!(
        d.message.contains("Pain is red (required green)"),
        "{}",
        d.message
    );
}

#[test]
fn the_repos_engagement_heavy_deal_without_pain_is_blocked() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../fixtures/scoring/default-engagement-heavy-without-pain.json"
    ))
    .unwrap();
    let record: Record = serde_json::from_value(fixture["record"].clone()).unwrap();
    let mut event = moved(record);
    event.record.kind = crate::model::RecordKind::Deal;
    event.record.stage = Some("sales_accepted".into());
    let d = gate(&event, Mode::Enforce);
    assert!(d.scorecard.total >= 60, "{}", d.scorecard.total);
    assert_eq!(d.verdict, Verdict::Blocked);
    assert!(
        d.rules
            .failed
            .contains(&"Pain is red (required green)".to_owned()),
        "{:?}",
        d.rules.failed
    );
}

#[test]
fn placeholders_and_copies_are_no_evidence() {
    for (field, value) in [
        ("pain", "TBD"),
        ("pain", "n/a"),
        ("pain", "pain pain pain pain pain pain"),
    ] {
        let mut deal = qualified();
        deal.fields.insert(field.into(), value.into());
        let d = gate(&moved(deal), Mode::Enforce);
        assert_eq!(d.verdict, Verdict::Blocked, "{value}");
        assert_eq!(d.rules.failed[0], "Pain is red (required green)", "{value}");
        let pain = &d.scorecard.dimensions[1];
        assert!(pain.reason.contains("holds no evidence"), "{}", pain.reason);
    }
    // A text pasted into two dimensions counts once: for the heavier one.
    let mut deal = qualified();
    deal.fields.insert("situation".into(), PAIN.into());
    let d = gate(&moved(deal), Mode::Enforce);
    let situation = &d.scorecard.dimensions[0];
    assert_eq!(situation.status, Status::Red);
    assert!(
        situation.reason.ends_with("it copies Pain's text"),
        "{}",
        situation.reason
    );
    assert_eq!(d.scorecard.dimensions[1].status, Status::Green);
}

#[test]
fn an_incomplete_record_cannot_validate() {
    let mut deal = qualified();
    deal.amount = None;
    deal.close_date = None;
    let d = gate(&moved(deal), Mode::Enforce);
    assert_eq!(d.rules.failed, ["completeness 50% < 70%"]);
}

#[test]
fn the_threshold_counts_only_qualification_by_default() {
    let mut deal = qualified();
    deal.contacts.clear();
    deal.fields.insert("impact".into(), "$180k".into());
    let mut playbook = Playbook::default_playbook();
    playbook.handoff.threshold = 75;
    let d = gate_with(&moved(deal), Mode::Enforce, &playbook);
    // 15 + 25 + 10 (impact yellow) + 20 of 100.
    assert_eq!(d.rules.failed, ["qualification 70/100 < 75"]);
}

#[test]
fn no_ae_blocks_and_the_bdr_is_told_to_assign_one() {
    let mut event = moved(qualified());
    event.record.owner_id = Some("bdr-1".into());
    event.owner_changed = Some(false);
    let mut playbook = Playbook::default_playbook();
    playbook.handoff.ae_field = Some("ae_owner".into());
    let d = gate_with(&event, Mode::Enforce, &playbook);
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(
        d.rules.failed,
        ["no AE assigned (set the \"ae_owner\" field or make the AE the deal's owner)"]
    );
    let wb = d.write_back(&event, &playbook);
    assert_eq!(wb.notices[0].to.as_deref(), Some("bdr-1"));
    assert!(wb.notices[0].is_task());
    // With the field set, the AE is found.
    event.record.fields.insert("ae_owner".into(), "ae-9".into());
    let d = gate_with(&event, Mode::Enforce, &playbook);
    assert_eq!(d.verdict, Verdict::Validated);
    assert_eq!(d.people.ae.unwrap().id, "ae-9");
}

#[test]
fn blocked_the_bdr_gets_a_task_with_every_gap_and_its_question() {
    let mut deal = qualified();
    deal.fields.remove("pain");
    deal.contacts.clear();
    let event = moved(deal);
    let d = gate(&event, Mode::Enforce);
    let wb = d.write_back(&event, &Playbook::default_playbook());
    assert_eq!(wb.move_to_stage.as_deref(), Some("discovery"));
    assert_eq!(wb.move_only_from.as_deref(), Some("sales_accepted"));
    let [task, note] = &wb.notices[..] else {
        panic!("{:?}", wb.notices)
    };
    assert!(task.is_task() && !note.is_task());
    assert_eq!(task.to.as_deref(), Some("bdr-1"));
    assert_eq!(task.priority, Priority::High);
    assert_eq!(task.body, note.body);
    for expected in [
        "- Pain is red (required green)",
        "- Pain (red): What is broken today",
        "- Economic buyer (red): Who signs off on the budget",
        "The deal was moved back to discovery.",
    ] {
        assert!(
            task.body.contains(expected),
            "{expected:?} in\n{}",
            task.body
        );
    }
}

#[test]
fn shadow_mode_leaves_an_fyi_note_and_no_task() {
    let mut deal = qualified();
    deal.fields.remove("pain");
    let event = moved(deal);
    let d = gate(&event, Mode::Shadow);
    assert_eq!(d.status(), "would_block");
    let wb = d.write_back(&event, &Playbook::default_playbook());
    assert_eq!(wb.move_to_stage, None);
    let [note] = &wb.notices[..] else {
        panic!("{:?}", wb.notices)
    };
    assert_eq!(note.kind, NoticeKind::Note);
    assert_eq!(note.priority, Priority::Normal);
    assert!(note.title.starts_with("FYI"), "{}", note.title);
    assert!(note.body.contains("will be blocked"), "{}", note.body);
    assert!(!note.title.contains("blocked:"), "{}", note.title);
}

#[test]
fn an_enforce_install_on_poor_data_decides_as_shadow_and_tells_the_bdr_why() {
    use crate::{
        crm_id::Crm,
        function::{Decision, FunctionKind, Settings},
        portfolio::enforcement,
    };
    let playbook = Playbook::default_playbook();
    let mut deal = qualified();
    deal.fields.remove("pain");
    let event = moved(deal);
    let poor = enforcement::decide(
        Crm::Generic,
        Mode::Enforce,
        &playbook.staleness.portfolio,
        Some(&crate::portfolio::Portfolio {
            crm: "generic".into(),
            measured_at: NOW,
            sweep_started_at: NOW,
            open_deals: 50,
            measured: 50,
            sample: None,
            hygiene_pct: 55,
            trustworthy: 10,
            checks: Vec::new(),
            owners: Vec::new(),
        }),
    );
    let settings = Settings::new(playbook.clone(), Mode::Enforce).under(&poor);
    let Decision::Handoff(d) = FunctionKind::GateHandoff
        .decide(&event, &settings, &Templates::default(), NOW)
        .unwrap()
    else {
        panic!("a handoff")
    };
    assert_eq!((d.mode, d.status()), (Mode::Shadow, "would_block"));
    assert!(d.message.starts_with("Blocking is paused"), "{}", d.message);
    let wb = d.write_back(&event, &playbook);
    assert_eq!(wb.move_to_stage, None, "nothing moved");
    let [note] = &wb.notices[..] else {
        panic!("{:?}", wb.notices)
    };
    assert!(
        note.body.contains(enforcement::NOT_GOOD_ENOUGH),
        "{}",
        note.body
    );
    assert!(note.body.contains("55 %"), "{}", note.body);

    let enforced = Settings::new(playbook, Mode::Enforce);
    let Decision::Handoff(d) = FunctionKind::GateHandoff
        .decide(&event, &enforced, &Templates::default(), NOW)
        .unwrap()
    else {
        panic!("a handoff")
    };
    assert_eq!((d.status(), d.paused_because), ("blocked", None));
}

#[test]
fn every_way_into_a_handoff_stage_is_gated() {
    let playbook = Playbook::default_playbook();
    for change in [Change::Created, Change::Restored] {
        let mut event = moved(qualified());
        event.change = change.clone();
        let Route::Enters(entry) = route(&event, &playbook).unwrap() else {
            panic!("{change:?} not gated")
        };
        assert_eq!(entry.to, "sales_accepted");
        assert_eq!(entry.from, None);
        // Created or restored without its stage: a fault, retried, never taken as outside.
        event.record.stage = None;
        let error = route(&event, &playbook).unwrap_err();
        assert!(error.is_transient(), "{error}");
    }
    let mut event = moved(qualified());
    event.change = Change::Updated;
    assert!(matches!(route(&event, &playbook), Ok(Route::Passes(_))));
    event.change = Change::StageChanged {
        from: None,
        to: "negotiation".into(),
    };
    assert!(matches!(route(&event, &playbook), Ok(Route::Passes(_))));
}

#[test]
fn a_deal_created_in_the_stage_goes_back_to_the_return_stage() {
    let mut event = moved(Record::new_deal("D-8"));
    event.record.stage = Some("sales_accepted".into());
    event.change = Change::Created;
    let mut playbook = Playbook::default_playbook();
    playbook.handoff.return_stage = Some("qualification".into());
    let d = gate_with(&event, Mode::Enforce, &playbook);
    assert_eq!(d.moved_back_to.as_deref(), Some("qualification"));
    assert!(
        d.write_back(&event, &playbook).notices[0]
            .body
            .contains("the deal was created in sales_accepted")
    );
}

#[test]
fn a_cancelled_move_is_said_in_the_decision_and_every_notice() {
    let mut deal = qualified();
    deal.fields.remove("pain");
    let event = moved(deal);
    let playbook = Playbook::default_playbook();
    let mut d = gate(&event, Mode::Enforce);
    d.cancel_move(
        "The deal was not moved back: it has moved on to negotiation since.",
        &playbook,
    );
    assert_eq!(d.moved_back_to, None);
    assert!(
        d.message.ends_with("it has moved on to negotiation since."),
        "{}",
        d.message
    );
    let wb = d.write_back(&event, &playbook);
    assert_eq!((wb.move_to_stage, wb.move_only_from), (None, None));
    for notice in &wb.notices {
        assert!(
            notice.body.contains("moved on to negotiation since"),
            "{}",
            notice.body
        );
        assert!(
            !notice.body.contains("moved back to discovery"),
            "{}",
            notice.body
        );
    }
}

#[test]
fn a_deal_from_another_handoff_stage_goes_to_the_return_stage_not_back_there() {
    let mut playbook = Playbook::default_playbook();
    playbook.handoff.stages.push("ae_review".into());
    playbook.handoff.return_stage = Some("qualification".into());
    let mut event = moved(Record::new_deal("D-9"));
    event.change = Change::StageChanged {
        from: Some("sales_accepted".into()),
        to: "ae_review".into(),
    };
    let d = gate_with(&event, Mode::Enforce, &playbook);
    assert_eq!(d.moved_back_to.as_deref(), Some("qualification"));
}

#[test]
fn without_a_known_bdr_the_blocked_task_goes_to_nobody_rather_than_the_ae() {
    let mut deal = qualified();
    deal.fields.remove("pain");
    let mut event = moved(deal);
    event.changed_by = None;
    event.owner_changed = Some(true);
    let d = gate(&event, Mode::Enforce);
    let wb = d.write_back(&event, &Playbook::default_playbook());
    assert!(
        wb.notices.iter().all(|n| n.to.is_none()),
        "{:?}",
        wb.notices
    );
}
