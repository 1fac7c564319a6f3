//! The ledger's semantics, checked on both implementations: [`SqlLedger`] on a real SQLite
//! database and [`MemoryLedger`].

use futures::executor::block_on;
use time::macros::datetime;

use super::{sql::SqlLedger, *};
use crate::{function::Brief, memory::MemoryLedger, test_sqlite::Sqlite};

fn sql_ledger() -> SqlLedger<Sqlite> {
    let ledger = SqlLedger::new(Sqlite::in_memory());
    block_on(ledger.create_tables()).unwrap();
    ledger
}

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

fn claiming(id: &str) -> Claiming {
    Claiming {
        key: event_key(FunctionKind::ScoreLead, id),
        function: FunctionKind::ScoreLead,
        crm: Crm::Generic,
        event_id: id.into(),
        record_id: "D-1".into(),
    }
}

fn settlement(id: &str, status: EventStatus) -> Settlement {
    Settlement {
        claim: claiming(id),
        settled: Settled {
            status,
            brief: Some(Brief {
                allowed: true,
                decision: "scored".into(),
                score: Some(40),
                tier: Some("cold".into()),
                message: "40/100".into(),
            }),
            reason: (status == EventStatus::Failed).then(|| "refused".to_owned()),
        },
        event: None,
    }
}

fn each(check: impl Fn(&dyn Fn() -> Box<dyn LedgerUnderTest>)) {
    check(&|| Box::new(sql_ledger()));
    check(&|| Box::new(MemoryLedger::default()));
}

/// The ledger's operations, object-safe for the checks above.
trait LedgerUnderTest {
    fn claim(&self, ids: &[&str], claimant: &str, now: OffsetDateTime) -> Vec<Claim>;
    fn settle(&self, claimant: &str, settled: &[Settlement], newest: &[(String, OffsetDateTime)]);
    fn newest(&self, streams: &[String]) -> BTreeMap<String, OffsetDateTime>;
    fn release(&self, claimant: &str);
    fn failed(&self) -> Vec<FailedEvent>;
    fn forget(&self, now: OffsetDateTime);
}

impl<L: Ledger> LedgerUnderTest for L {
    fn claim(&self, ids: &[&str], claimant: &str, now: OffsetDateTime) -> Vec<Claim> {
        let claims: Vec<Claiming> = ids.iter().map(|id| claiming(id)).collect();
        block_on(Ledger::claim(
            self,
            &claims,
            claimant,
            now,
            Retention::default(),
        ))
        .unwrap()
    }
    fn settle(&self, claimant: &str, settled: &[Settlement], newest: &[(String, OffsetDateTime)]) {
        block_on(Ledger::settle(
            self,
            claimant,
            settled,
            newest,
            NOW,
            Retention::default(),
        ))
        .unwrap()
    }
    fn newest(&self, streams: &[String]) -> BTreeMap<String, OffsetDateTime> {
        block_on(Ledger::newest(self, streams)).unwrap()
    }
    fn release(&self, claimant: &str) {
        block_on(Ledger::release(self, claimant)).unwrap()
    }
    fn failed(&self) -> Vec<FailedEvent> {
        block_on(Ledger::failed(self, FunctionKind::ScoreLead, 10)).unwrap()
    }
    fn forget(&self, now: OffsetDateTime) {
        block_on(Ledger::forget_expired(self, now)).unwrap()
    }
}

#[test]
fn of_two_concurrent_claims_only_the_first_gets_the_event() {
    each(|ledger| {
        let ledger = ledger();
        assert_eq!(
            ledger.claim(&["e1", "e2"], "a", NOW),
            [Claim::Mine, Claim::Mine]
        );
        assert_eq!(
            ledger.claim(&["e2", "e3"], "b", NOW),
            [Claim::Busy, Claim::Mine]
        );
    });
}

#[test]
fn a_settled_event_answers_its_brief_and_is_never_claimed_again() {
    each(|ledger| {
        let ledger = ledger();
        ledger.claim(&["e1"], "a", NOW);
        ledger.settle("a", &[settlement("e1", EventStatus::Processed)], &[]);
        let later = NOW + time::Duration::hours(1);
        let Some(Claim::Settled(settled)) = ledger.claim(&["e1"], "b", later).pop() else {
            panic!("not settled")
        };
        assert_eq!(settled.status, EventStatus::Processed);
        assert_eq!(settled.brief.unwrap().score, Some(40));
    });
}

#[test]
fn an_expired_or_released_claim_is_taken_over() {
    each(|ledger| {
        let ledger = ledger();
        ledger.claim(&["e1", "e2"], "crashed", NOW);
        let after_lease = NOW + Retention::default().lease + time::Duration::seconds(1);
        assert_eq!(ledger.claim(&["e1"], "b", NOW), [Claim::Busy]);
        assert_eq!(ledger.claim(&["e1"], "b", after_lease), [Claim::Mine]);
        ledger.release("crashed");
        assert_eq!(ledger.claim(&["e2"], "c", NOW), [Claim::Mine]);
    });
}

#[test]
fn a_worker_whose_claim_was_taken_over_does_not_settle_it() {
    each(|ledger| {
        let ledger = ledger();
        ledger.claim(&["e1"], "slow", NOW);
        let after_lease = NOW + Retention::default().lease + time::Duration::seconds(1);
        ledger.claim(&["e1"], "b", after_lease);
        ledger.settle("slow", &[settlement("e1", EventStatus::Failed)], &[]);
        assert!(ledger.failed().is_empty());
        assert_eq!(ledger.claim(&["e1"], "c", NOW), [Claim::Busy]);
    });
}

#[test]
fn the_newest_change_only_moves_forward() {
    each(|ledger| {
        let ledger = ledger();
        let stream = "s".to_owned();
        ledger.settle("a", &[], &[(stream.clone(), NOW)]);
        ledger.settle(
            "a",
            &[],
            &[(stream.clone(), NOW - time::Duration::hours(1))],
        );
        assert_eq!(ledger.newest(std::slice::from_ref(&stream))[&stream], NOW);
        assert!(ledger.newest(&["other".into()]).is_empty());
    });
}

#[test]
fn failures_are_listed_with_their_reason_and_everything_is_forgotten_after_retention() {
    each(|ledger| {
        let ledger = ledger();
        ledger.claim(&["e1", "e2"], "a", NOW);
        ledger.settle(
            "a",
            &[
                settlement("e1", EventStatus::Failed),
                settlement("e2", EventStatus::Processed),
            ],
            &[("s".into(), NOW)],
        );
        let failed = ledger.failed();
        assert_eq!(failed.len(), 1);
        assert_eq!(
            (failed[0].event_id.as_str(), failed[0].reason.as_str()),
            ("e1", "refused")
        );
        ledger.forget(NOW + time::Duration::days(6));
        assert_eq!(ledger.failed().len(), 1);
        ledger.forget(NOW + time::Duration::days(8));
        assert!(ledger.failed().is_empty());
        assert!(ledger.newest(&["s".into()]).is_empty());
        assert_eq!(ledger.claim(&["e2"], "b", NOW), [Claim::Mine]);
    });
}

#[test]
fn a_reopened_failure_is_claimed_again_with_its_event() {
    let event = WebhookEvent {
        dedupe_key: "generic:e1".into(),
        event_id: "e1".into(),
        occurred_at: NOW,
        change: crate::event::Change::Updated,
        record: crate::model::Record::new_deal("D-1"),
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete: true,
    };
    for ledger in [
        Box::new(sql_ledger()) as Box<dyn ReopenUnderTest>,
        Box::new(MemoryLedger::default()),
    ] {
        let mut failed = settlement("e1", EventStatus::Failed);
        failed.event = Some(event.clone());
        ledger.run(failed, &event);
    }
}

trait ReopenUnderTest {
    fn run(&self, failed: Settlement, event: &WebhookEvent);
}

impl<L: Ledger> ReopenUnderTest for L {
    fn run(&self, failed: Settlement, event: &WebhookEvent) {
        let retention = Retention::default();
        let claim = [claiming("e1")];
        block_on(self.claim(&claim, "a", NOW, retention)).unwrap();
        block_on(self.settle("a", &[failed], &[], NOW, retention)).unwrap();
        let reopen =
            || block_on(self.reopen(FunctionKind::ScoreLead, Crm::Generic, 10, NOW)).unwrap();
        assert_eq!(reopen(), std::slice::from_ref(event));
        // A retry that stopped before claiming it loses nothing: it is reopened again.
        assert_eq!(reopen(), std::slice::from_ref(event));
        assert_eq!(
            block_on(self.claim(&claim, "b", NOW, retention)).unwrap(),
            [Claim::Mine]
        );
        // Left pending by that retry, its claim released: still there for the next one.
        block_on(self.release("b")).unwrap();
        assert_eq!(reopen(), std::slice::from_ref(event));
        block_on(self.claim(&claim, "c", NOW, retention)).unwrap();
        let mut done = settlement("e1", EventStatus::Processed);
        done.event = None;
        block_on(self.settle("c", &[done], &[], NOW, retention)).unwrap();
        assert!(reopen().is_empty());
    }
}
