//! The pipeline's promises, natively with the in-memory ports: nothing applied twice, nothing
//! lost, a permanent failure isolated, the deadline kept.

use std::time::Duration;

use futures::executor::block_on;
use serde_json::json;
use time::macros::datetime;

use super::*;
use crate::{
    crm::{Crm, generic::Generic, hubspot::Hubspot},
    event::Change,
    memory::{MemoryLedger, MemoryReview, RecordingCrm, StoppedClock},
    mode::Mode,
    model::Record,
    playbook::Playbook,
    templates::memory::MemoryTextHashes,
    writeback::CrmCall,
};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

fn event(id: &str, record: &str, at: OffsetDateTime) -> WebhookEvent {
    WebhookEvent {
        dedupe_key: format!("generic:{id}"),
        event_id: id.into(),
        occurred_at: at,
        change: Change::Updated,
        record: Record::new_deal(record),
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete: true,
    }
}

fn shadow_settings() -> Settings {
    Settings::new(Playbook::default_playbook(), Mode::Shadow)
}

/// A job for `function` by `claimant`, within a CRM timeout of `crm_timeout_secs`.
fn job<'a>(
    function: FunctionKind,
    settings: &'a Settings,
    claimant: &str,
    crm_timeout_secs: u64,
) -> Job<'a> {
    Job {
        function,
        settings,
        now: NOW,
        claimant: claimant.into(),
        limits: Limits::within(Duration::from_secs(crm_timeout_secs)),
        retention: Retention::default(),
    }
}

/// Deal `record` entering the handoff stage.
fn handoff(id: &str, record: &str) -> WebhookEvent {
    let mut handoff = event(id, record, datetime!(2026-11-21 11:00 UTC));
    handoff.change = Change::StageChanged {
        from: Some("discovery".into()),
        to: "sales_accepted".into(),
    };
    handoff
}

/// Deal `record`, open in a stage with nothing done on it for 60 days: stale, a task for its owner.
fn stale_deal(id: &str, record: &str) -> WebhookEvent {
    let mut stale = event(id, record, datetime!(2026-11-21 11:00 UTC));
    stale.record.stage = Some("3".into());
    stale.record.owner_id = Some("9".into());
    stale.record.last_activity_at = Some(datetime!(2026-09-22 09:00 UTC));
    stale
}

/// The in-memory world one test runs against.
#[derive(Default)]
struct World {
    review: MemoryReview,
    ledger: MemoryLedger,
    crm: RecordingCrm,
    clock: StoppedClock,
    text_hashes: MemoryTextHashes,
}

impl World {
    fn run_as(
        &self,
        claimant: &str,
        adapter: &impl Adapter,
        delivery: Delivery,
    ) -> DeliveryOutcome {
        let settings = shadow_settings();
        let job = job(FunctionKind::ScoreLead, &settings, claimant, 5);
        let ports = Ports {
            ledger: &self.ledger,
            client: &self.crm,
            clock: &self.clock,
            handoffs: &crate::handoffs::NoHandoffs,
            review: &self.review,
            text_hashes: &self.text_hashes,
            people: &crate::people::NoPeople,
        };
        block_on(run(adapter, &job, delivery, ports)).expect("the delivery runs")
    }

    fn deliver(&self, events: Vec<WebhookEvent>) -> Vec<EventStatus> {
        let outcome = self.run_as("worker", &Generic, Delivery::webhook(events));
        outcome.results.iter().map(|r| r.status).collect()
    }
}

#[test]
fn a_redelivered_event_is_written_once_and_gets_its_first_decision_back() {
    let world = World::default();
    let e = event("e1", "D-1", datetime!(2026-11-21 11:00 UTC));
    let first = world.run_as("a", &Generic, Delivery::workflow_action(e.clone()));
    let again = world.run_as("b", &Generic, Delivery::workflow_action(e));
    assert_eq!(first.results[0].status, EventStatus::Processed);
    assert_eq!(again.results[0].status, EventStatus::Duplicate);
    assert_eq!(again.results[0].brief, first.results[0].brief);
    assert!(again.results[0].brief.is_some());
    assert_eq!(world.crm.calls().len(), 1);
}

#[test]
fn an_event_another_worker_holds_is_in_progress_and_not_applied() {
    let world = World::default();
    let e = event("e1", "D-1", datetime!(2026-11-21 11:00 UTC));
    let claim = Claiming {
        key: crate::ledger::event_key(FunctionKind::ScoreLead, &e.dedupe_key),
        function: FunctionKind::ScoreLead,
        crm: Crm::Generic,
        event_id: "e1".into(),
        record_id: "D-1".into(),
    };
    block_on(
        world
            .ledger
            .claim(&[claim], "other", NOW, Retention::default()),
    )
    .unwrap();
    let outcome = world.run_as("me", &Generic, Delivery::webhook(vec![e]));
    assert_eq!(outcome.results[0].status, EventStatus::InProgress);
    assert!(!outcome.complete, "the CRM must deliver again");
    assert!(world.crm.calls().is_empty());
}

#[test]
fn a_transient_failure_is_pending_unrecorded_and_redone_by_the_retry() {
    let world = World::default();
    let e = event("e1", "D-1", datetime!(2026-11-21 11:00 UTC));
    world.crm.fail(Some("503"));
    assert_eq!(world.deliver(vec![e.clone()]), [EventStatus::Pending]);
    assert!(world.ledger.failed_events().is_empty());
    world.crm.fail(None);
    assert_eq!(world.deliver(vec![e]), [EventStatus::Processed]);
}

#[test]
fn a_permanent_failure_fails_only_its_event_and_is_kept_for_a_retry() {
    let world = World::default();
    world.crm.refuse(
        "PATCH",
        "/records/deals/D-2",
        Error::CrmRejected {
            call: "PATCH /records/deals/D-2".into(),
            reason: "the CRM answered 400 Bad Request: PROPERTY_DOESNT_EXIST".into(),
        },
    );
    let at = datetime!(2026-11-21 11:00 UTC);
    let events = vec![
        event("e1", "D-1", at),
        event("e2", "D-2", at),
        event("e3", "D-3", at),
    ];
    let outcome = world.run_as("a", &Generic, Delivery::webhook(events.clone()));
    let statuses: Vec<_> = outcome.results.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            EventStatus::Processed,
            EventStatus::Failed,
            EventStatus::Processed
        ]
    );
    assert!(outcome.complete, "nothing for the CRM to retry");
    assert!(
        outcome.results[1]
            .reason
            .as_deref()
            .unwrap()
            .contains("PROPERTY_DOESNT_EXIST")
    );
    // The CRM's retry of the same delivery changes nothing.
    assert_eq!(
        world.deliver(events),
        [
            EventStatus::Duplicate,
            EventStatus::Failed,
            EventStatus::Duplicate
        ]
    );
    // Once the admin fixed it, the failed event is reopened and done.
    world.crm.refuse(
        "PATCH",
        "/records/deals/D-2",
        Error::CrmRecordGone {
            call: String::new(),
        },
    );
    let reopened = block_on(
        world
            .ledger
            .reopen(FunctionKind::ScoreLead, Crm::Generic, 10, NOW),
    )
    .unwrap();
    assert_eq!(reopened.len(), 1);
    assert_eq!(reopened[0].event_id, "e2");
}

#[test]
fn an_older_event_arriving_late_is_superseded_and_each_record_decided_once() {
    let world = World::default();
    let newer = event("e2", "D-1", datetime!(2026-11-21 11:00 UTC));
    let older = event("e1", "D-1", datetime!(2026-11-21 10:00 UTC));
    assert_eq!(world.deliver(vec![newer]), [EventStatus::Processed]);
    assert_eq!(world.deliver(vec![older]), [EventStatus::Superseded]);
    let (a, b) = (
        event("e3", "D-2", datetime!(2026-11-21 11:00 UTC)),
        event("e4", "D-2", datetime!(2026-11-21 11:00 UTC)),
    );
    assert_eq!(
        world.deliver(vec![a, b]),
        [EventStatus::Superseded, EventStatus::Processed]
    );
    assert_eq!(world.crm.calls().len(), 2);
}

#[test]
fn a_stage_change_is_never_superseded_by_an_update() {
    let world = World::default();
    let update = event("e1", "D-1", datetime!(2026-11-21 11:00 UTC));
    let mut stage = event("e2", "D-1", datetime!(2026-11-21 10:00 UTC));
    stage.change = Change::StageChanged {
        from: None,
        to: "sales_accepted".into(),
    };
    assert_eq!(world.deliver(vec![update]), [EventStatus::Processed]);
    assert_eq!(world.deliver(vec![stage]), [EventStatus::Processed]);
}

#[test]
fn a_repeated_event_in_one_delivery_is_applied_once() {
    let world = World::default();
    let e = event("e1", "D-1", datetime!(2026-11-21 11:00 UTC));
    assert_eq!(
        world.deliver(vec![e.clone(), e]),
        [EventStatus::Processed, EventStatus::Duplicate]
    );
    assert_eq!(world.crm.calls().len(), 1);
}

/// A CRM whose every call takes `latency` of the delivery's clock.
struct Slow<'a> {
    crm: &'a RecordingCrm,
    clock: &'a StoppedClock,
    latency: Duration,
}

impl CrmClient for Slow<'_> {
    async fn send(&self, call: &CrmCall, timeout: Duration) -> Result<serde_json::Value, Error> {
        self.clock.sleep(self.latency.min(timeout)).await;
        if self.latency > timeout {
            return Err(Error::CrmUnavailable {
                call: call.to_string(),
                reason: format!("no answer within {} ms", timeout.as_millis()),
            });
        }
        self.crm.send(call, timeout).await
    }
}

#[test]
fn work_past_the_deadline_is_left_pending_for_the_retry() {
    let world = World::default();
    let first_try = StoppedClock::default();
    let slow = Slow {
        crm: &world.crm,
        clock: &first_try,
        latency: Duration::from_secs(3),
    };
    let settings = shadow_settings();
    let mut job = job(FunctionKind::ScoreLead, &settings, "a", 5);
    job.limits.concurrency = 1;
    let at = datetime!(2026-11-21 11:00 UTC);
    let events = vec![event("e1", "D-1", at), event("e2", "D-2", at)];
    let ports = Ports {
        ledger: &world.ledger,
        client: &slow,
        clock: &first_try,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    let outcome = block_on(run(
        &Generic,
        &job,
        Delivery::webhook(events.clone()),
        ports,
    ))
    .unwrap();
    let statuses: Vec<_> = outcome.results.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [EventStatus::Processed, EventStatus::Pending]);
    assert!(outcome.unfinished().unwrap().contains("e2"));
    // The pending claim was released: the retry takes it at once.
    assert_eq!(
        world.deliver(events),
        [EventStatus::Duplicate, EventStatus::Processed]
    );
}

#[test]
fn a_crm_answer_without_the_record_fails_the_event_and_writes_nothing() {
    let world = World::default();
    world
        .crm
        .answer("POST", "/crm/v3/objects/deals/batch/read", json!({}));
    world.crm.answer(
        "POST",
        "/crm/v4/associations/deals/contacts/batch/read",
        json!({"results": []}),
    );
    let body = br#"[{"eventId":1,"subscriptionId":1,"portalId":1,"occurredAt":1763722800000,"subscriptionType":"deal.propertyChange","propertyName":"dealstage","propertyValue":"sales_accepted","objectId":9001}]"#;
    let events = crate::crm::hubspot::parse(body).unwrap();
    let outcome = world.run_as("a", &Hubspot, Delivery::webhook(events));
    assert_eq!(outcome.results[0].status, EventStatus::Failed);
    assert!(
        outcome.results[0]
            .reason
            .as_deref()
            .unwrap()
            .contains("does not hold record 9001"),
        "{:?}",
        outcome.results[0].reason
    );
    assert!(
        world
            .crm
            .calls()
            .iter()
            .all(|c| c.path.contains("/batch/read"))
    );
}

#[test]
fn an_event_not_acted_on_never_supersedes_a_real_change() {
    let world = World::default();
    let update = event("e1", "D-1", datetime!(2026-11-21 10:00 UTC));
    let mut unsupported = event("e2", "D-1", datetime!(2026-11-21 11:00 UTC));
    unsupported.change = Change::Unsupported {
        event_type: "deal.propertyChange".into(),
    };
    // In one delivery the update is decided, the other acknowledged.
    assert_eq!(
        world.deliver(vec![update, unsupported.clone()]),
        [EventStatus::Processed, EventStatus::Superseded]
    );
    // Alone and newer, it is acknowledged, and moves nothing forward: an older update still
    // arriving is decided.
    let world = World::default();
    assert_eq!(world.deliver(vec![unsupported]), [EventStatus::Processed]);
    let late = event("e3", "D-1", datetime!(2026-11-21 09:00 UTC));
    assert_eq!(world.deliver(vec![late]), [EventStatus::Processed]);
    assert_eq!(world.crm.calls().len(), 1);
}

#[test]
fn a_write_back_cut_off_after_its_fields_is_resumed_whole_by_the_retry() {
    // The owner's task in enforce mode, the FYI note in shadow mode: either is created on retry.
    resumed_whole(Mode::Enforce, "/api/v2/activities");
    resumed_whole(Mode::Shadow, "/api/v1/notes");
}

/// A stale deal's write-back whose notice (posted to `notice_path`) failed is completed whole
/// by the CRM's redelivery.
fn resumed_whole(mode: Mode, notice_path: &str) {
    use crate::crm::pipedrive::Pipedrive;
    let world = World::default();
    let settings = Settings::new(Playbook::default_playbook(), mode);
    let job = job(FunctionKind::FlagStaleDeals, &settings, "first", 10);
    let mut handoff = stale_deal("e1", "7");
    let ports = || Ports {
        ledger: &world.ledger,
        client: &world.crm,
        clock: &world.clock,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    // The fields are written, the owner's notice is not: the CRM failed for now.
    world.crm.refuse(
        "POST",
        notice_path,
        Error::CrmUnavailable {
            call: format!("POST {notice_path}"),
            reason: "503".into(),
        },
    );
    let first = block_on(run(
        &Pipedrive,
        &job,
        Delivery::webhook(vec![handoff.clone()]),
        ports(),
    ))
    .unwrap();
    assert_eq!(first.results[0].status, EventStatus::Pending);
    let written = world.crm.calls()[0].body["custom_fields"].clone();
    // Pipedrive redelivers; the deal now holds the fields written the first time.
    for (field, value) in written.as_object().unwrap() {
        handoff.record.fields.insert(field.clone(), value.clone());
    }
    let retry_job = Job {
        claimant: "retry".into(),
        ..job.clone()
    };
    // The CRM answers normally again.
    let crm = RecordingCrm::default();
    let ports = Ports {
        ledger: &world.ledger,
        client: &crm,
        clock: &world.clock,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    let retry = block_on(run(
        &Pipedrive,
        &retry_job,
        Delivery::webhook(vec![handoff]),
        ports,
    ))
    .unwrap();
    assert_eq!(retry.results[0].status, EventStatus::Processed);
    assert!(
        crm.calls().iter().any(|c| c.path == notice_path),
        "the notice is created on the retry: {:?}",
        crm.calls()
    );
}

#[test]
fn a_notice_is_not_started_without_time_to_finish_and_the_retry_creates_it_once() {
    use crate::crm::pipedrive::Pipedrive;
    let world = World::default();
    let settings = shadow_settings();
    let job = job(FunctionKind::GateHandoff, &settings, "first", 10);
    let handoff = handoff("e1", "7");
    // The field update takes all but half a second of the 8 s deadline.
    let first_try = StoppedClock::default();
    let slow = Slow {
        crm: &world.crm,
        clock: &first_try,
        latency: Duration::from_millis(7500),
    };
    let ports = Ports {
        ledger: &world.ledger,
        client: &slow,
        clock: &first_try,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    let first = block_on(run(
        &Pipedrive,
        &job,
        Delivery::webhook(vec![handoff.clone()]),
        ports,
    ))
    .unwrap();
    assert_eq!(first.results[0].status, EventStatus::Pending);
    let calls = world.crm.calls();
    assert_eq!(calls.len(), 1, "the note was not started: {calls:?}");
    assert!(calls[0].method == "PATCH");
    let retry = Job {
        claimant: "retry".into(),
        ..job.clone()
    };
    let ports = Ports {
        ledger: &world.ledger,
        client: &world.crm,
        clock: &world.clock,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    let again = block_on(run(
        &Pipedrive,
        &retry,
        Delivery::webhook(vec![handoff]),
        ports,
    ))
    .unwrap();
    assert_eq!(again.results[0].status, EventStatus::Processed);
    let tasks = world
        .crm
        .calls()
        .iter()
        .filter(|c| c.path == "/api/v1/notes")
        .count();
    assert_eq!(tasks, 1);
}

#[test]
fn a_deal_handed_off_again_is_told_again_though_its_fields_are_unchanged() {
    let world = World::default();
    let settings = shadow_settings();
    let job = job(FunctionKind::GateHandoff, &settings, "first", 10);
    let ports = || Ports {
        ledger: &world.ledger,
        client: &world.crm,
        clock: &world.clock,
        handoffs: &crate::handoffs::NoHandoffs,
        review: &world.review,
        text_hashes: &crate::templates::NoTextHashes,
        people: &crate::people::NoPeople,
    };
    let first = handoff("e1", "D-5");
    block_on(run(
        &Generic,
        &job,
        Delivery::webhook(vec![first.clone()]),
        ports(),
    ))
    .unwrap();
    let written = world.crm.calls()[0].body["fields"].clone();
    // Moved out and into the stage again later: the record already holds the first result.
    let mut again = handoff("e2", "D-5");
    again.occurred_at = datetime!(2026-11-21 11:30 UTC);
    for (field, value) in written.as_object().unwrap() {
        again.record.fields.insert(field.clone(), value.clone());
    }
    let outcome = block_on(run(&Generic, &job, Delivery::webhook(vec![again]), ports())).unwrap();
    assert_eq!(outcome.results[0].status, EventStatus::Processed);
    let calls = world.crm.calls();
    assert_eq!(calls.len(), 2, "the second handoff is told too: {calls:?}");
    assert!(
        calls[1].body["notices"]
            .as_array()
            .is_some_and(|n| !n.is_empty())
    );
}

/// Deal `record` whose Pain is `pain`, updated by event `id`.
fn with_pain(id: &str, record: &str, pain: &str) -> WebhookEvent {
    let mut e = event(id, record, datetime!(2026-11-21 11:00 UTC));
    e.record.fields.insert("pain".into(), pain.into());
    e
}

const PASTED: &str = "Manual processes cost the team time and money every single month";

#[test]
fn the_third_deal_with_the_same_pain_is_scored_red_for_it_and_a_redelivery_counts_nothing() {
    let world = World::default();
    let pain = |outcome: &DeliveryOutcome, i: usize| match &outcome.results[i].decision {
        Some(crate::function::Decision::Scored(card)) => card.dimensions[1].status,
        other => panic!("{other:?}"),
    };
    let two = world.run_as(
        "a",
        &Generic,
        Delivery::webhook(vec![
            with_pain("e1", "D-1", PASTED),
            with_pain("e2", "D-2", PASTED),
        ]),
    );
    assert_eq!(pain(&two, 1), crate::score::Status::Green);
    // D-2 again, with its text unchanged: it is still one deal of two.
    let again = world.run_as(
        "b",
        &Generic,
        Delivery::webhook(vec![with_pain("e3", "D-2", PASTED)]),
    );
    assert_eq!(pain(&again, 0), crate::score::Status::Green);
    let third = world.run_as(
        "c",
        &Generic,
        Delivery::webhook(vec![with_pain("e4", "D-3", PASTED)]),
    );
    let Some(crate::function::Decision::Scored(card)) = &third.results[0].decision else {
        panic!("{:?}", third.results[0])
    };
    assert_eq!(card.dimensions[1].status, crate::score::Status::Red);
    assert!(
        card.dimensions[1]
            .reason
            .contains("the same text is on 3 deals")
    );
}

/// Text hashes that cannot be written.
struct Unwritable;

impl TextHashes for Unwritable {
    async fn keep(&self, _: Crm, _: &[crate::templates::DimensionText]) -> Result<Vec<u32>, Error> {
        Err(Error::Store("the database is locked".into()))
    }
}

#[test]
fn text_hashes_that_cannot_be_kept_stop_the_delivery_before_the_crm_is_written() {
    let world = World::default();
    let settings = shadow_settings();
    let job = job(FunctionKind::ScoreLead, &settings, "first", 5);
    let e = with_pain("e1", "D-1", PASTED);
    let ports = Ports {
        review: &world.review,
        ledger: &world.ledger,
        client: &world.crm,
        clock: &world.clock,
        handoffs: &crate::handoffs::NoHandoffs,
        text_hashes: &Unwritable,
        people: &crate::people::NoPeople,
    };
    let failed = block_on(run(
        &Generic,
        &job,
        Delivery::webhook(vec![e.clone()]),
        ports,
    ));
    assert!(matches!(failed, Err(Error::Store(_))), "{failed:?}");
    assert!(world.crm.calls().is_empty());
    // The claim was let go: the CRM's retry handles the event at once.
    assert_eq!(world.deliver(vec![e]), [EventStatus::Processed]);
    assert_eq!(world.crm.calls().len(), 1);
}
