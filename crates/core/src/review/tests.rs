//! The review queue's semantics, checked on both implementations ([`SqlReview`] on a real SQLite
//! database, and [`MemoryReview`]), then through the pipeline on SQLite.

use std::time::Duration;

use futures::executor::block_on;
use serde_json::Value;
use time::{OffsetDateTime, macros::datetime};

use super::{sql::SqlReview, *};
use crate::{
    crm::generic::Generic,
    event::{Change, Delivery, WebhookEvent},
    function::{FunctionKind, Settings},
    handoffs::NoHandoffs,
    ledger::Retention,
    memory::{MemoryLedger, MemoryReview, RecordingCrm, StoppedClock},
    mode::Mode,
    model::Record,
    pipeline::{self, Job, Limits, Ports},
    playbook::Playbook,
    test_sqlite::Sqlite,
};

const NOW: OffsetDateTime = datetime!(2026-11-21 12:00 UTC);

fn sql_review() -> SqlReview<Sqlite> {
    let review = SqlReview::new(Sqlite::in_memory());
    block_on(review.create_tables()).unwrap();
    review
}

/// Runs `check` on a fresh queue of each implementation.
fn each(check: impl Fn(&dyn Queue)) {
    check(&sql_review());
    check(&MemoryReview::default());
}

/// The queue's operations, object-safe and blocking for the checks below.
trait Queue {
    fn rank(&self, scores: &[LatestScore], claimant: &str, now: OffsetDateTime) -> Vec<Standing>;
    fn settle(&self, claimant: &str, outcomes: &[ReviewOutcome]);
    fn queue(&self, crm: Option<Crm>) -> Vec<queue::QueuedRecord>;
}

impl<Q: ReviewQueue> Queue for Q {
    fn rank(&self, scores: &[LatestScore], claimant: &str, now: OffsetDateTime) -> Vec<Standing> {
        let ranking = Ranking {
            share: 0.2,
            window_days: 30,
            now,
            claimant,
            lease_until: now + time::Duration::minutes(5),
        };
        block_on(ReviewQueue::rank(self, scores, &ranking)).unwrap()
    }

    fn settle(&self, claimant: &str, outcomes: &[ReviewOutcome]) {
        block_on(ReviewQueue::settle(self, Crm::Generic, claimant, outcomes)).unwrap();
    }

    fn queue(&self, crm: Option<Crm>) -> Vec<queue::QueuedRecord> {
        block_on(ReviewQueue::queue(self, crm, window_start(NOW, 30), 100)).unwrap()
    }
}

fn deal(id: &str, score: u8, at: OffsetDateTime) -> LatestScore {
    LatestScore {
        crm: Crm::Generic,
        kind: RecordKind::Deal,
        record_id: id.into(),
        score,
        tier: "warm".into(),
        scored_at: at,
    }
}

/// Deals `prefix-0`… scored 10, 11, 12….
fn deals(prefix: &str, n: u8, at: OffsetDateTime) -> Vec<LatestScore> {
    (0..n)
        .map(|i| deal(&format!("{prefix}-{i}"), 10 + i, at))
        .collect()
}

/// Each score settled with its standing, as a delivery whose write-backs all succeeded does.
fn settled(scores: &[LatestScore], standings: &[Standing]) -> Vec<ReviewOutcome> {
    scores
        .iter()
        .zip(standings)
        .map(|(s, standing)| ReviewOutcome {
            kind: s.kind,
            record_id: s.record_id.clone(),
            standing: *standing,
        })
        .collect()
}

#[test]
fn only_the_top_share_is_flagged_and_ties_never_flood_the_queue() {
    each(|q| {
        let batch = deals("D", 10, NOW);
        let standings = q.rank(&batch, "a", NOW);
        let flagged: Vec<u8> = batch
            .iter()
            .zip(&standings)
            .filter(|(_, s)| s.flagged)
            .map(|(d, _)| d.score)
            .collect();
        assert_eq!(flagged, [18, 19], "the top 20 % of ten scores");
        assert_eq!((standings[9].at_or_above, standings[9].scored), (1, 10));
        let tied: Vec<LatestScore> = (0..10)
            .map(|i| LatestScore {
                kind: RecordKind::Lead,
                ..deal(&format!("L-{i}"), 50, NOW)
            })
            .collect();
        assert!(q.rank(&tied, "a", NOW).iter().all(|s| !s.flagged));
    });
}

#[test]
fn the_first_scores_are_not_flagged_until_there_are_enough_to_compare() {
    each(|q| {
        for (i, score) in [50, 60, 70, 80].into_iter().enumerate() {
            let standing = q.rank(&[deal(&format!("D-{i}"), score, NOW)], "a", NOW)[0];
            assert!(!standing.flagged, "{i}: {standing:?}");
        }
        // The fifth: one of five is the top 20 %.
        assert!(q.rank(&[deal("D-5", 100, NOW)], "a", NOW)[0].flagged);
    });
}

#[test]
fn a_re_score_replaces_the_record_s_score_and_never_counts_twice() {
    each(|q| {
        q.rank(&deals("D", 10, NOW), "a", NOW);
        let later = NOW + time::Duration::hours(1);
        for _ in 0..3 {
            let again = q.rank(&[deal("D-0", 95, later)], "b", later)[0];
            assert_eq!((again.at_or_above, again.scored), (1, 10), "{again:?}");
            assert!(again.flagged);
        }
        // The old score is gone: D-0's 10 no longer counts below D-1's 11.
        let d1 = q.rank(&[deal("D-1", 11, later)], "b", later)[0];
        assert_eq!(d1.at_or_above, 10);
    });
}

#[test]
fn interleaved_batches_count_each_other_s_scores() {
    each(|q| {
        // Two deliveries: both rank before either settles, as concurrent ones do.
        let a = deals("A", 5, NOW);
        let b: Vec<LatestScore> = (0..5)
            .map(|i| deal(&format!("B-{i}"), 20 + i, NOW))
            .collect();
        let ranked_a = q.rank(&a, "a", NOW);
        let ranked_b = q.rank(&b, "b", NOW);
        assert!(ranked_a.iter().all(|s| s.scored == 5));
        assert!(ranked_b.iter().all(|s| s.scored == 10), "{ranked_b:?}");
        assert_eq!(ranked_b[4].at_or_above, 1);
        q.settle("b", &settled(&b, &ranked_b));
        q.settle("a", &settled(&a, &ranked_a));
        // A third sees all ten, and the queue holds the top of both.
        let third = q.rank(&[deal("C-0", 0, NOW)], "c", NOW)[0];
        assert_eq!((third.at_or_above, third.scored), (11, 11));
        let queued: Vec<String> = q
            .queue(None)
            .into_iter()
            .map(|r| format!("{}:{}", r.latest.record_id, r.latest.score))
            .collect();
        assert_eq!(queued, ["B-4:24", "B-3:23", "A-4:14"]);
    });
}

#[test]
fn scores_older_than_the_window_are_forgotten() {
    each(|q| {
        let old = NOW - time::Duration::days(31);
        let standings = q.rank(&deals("OLD", 10, old), "a", old);
        q.settle("a", &settled(&deals("OLD", 10, old), &standings));
        let fresh = q.rank(&[deal("D-1", 15, NOW)], "b", NOW)[0];
        assert_eq!((fresh.at_or_above, fresh.scored), (1, 1));
        assert!(
            q.queue(None)
                .iter()
                .all(|r| !r.latest.record_id.starts_with("OLD"))
        );
        let within = NOW - time::Duration::days(29);
        q.rank(&deals("RECENT", 4, within), "c", NOW);
        assert_eq!(q.rank(&[deal("D-1", 15, NOW)], "d", NOW)[0].scored, 5);
    });
}

#[test]
fn the_owner_is_told_once_while_the_record_stays_in_the_top_share_and_again_after_it_left() {
    each(|q| {
        q.rank(&deals("D", 9, NOW), "seed", NOW);
        let top = [deal("TOP", 90, NOW)];
        let first = q.rank(&top, "a", NOW);
        assert!(first[0].flagged && first[0].tell);
        // Another delivery re-scores it before the first settles: the first is telling.
        let meanwhile = q.rank(&top, "b", NOW);
        assert!(meanwhile[0].flagged && !meanwhile[0].tell);
        q.settle("b", &settled(&top, &meanwhile));
        q.settle("a", &settled(&top, &first));
        let queued = q.queue(Some(Crm::Generic));
        assert!(queued[0].owner_told, "{queued:?}");
        assert_eq!(queued[0].latest.record_id, "TOP");
        for claimant in ["c", "d"] {
            let again = q.rank(&top, claimant, NOW);
            assert!(again[0].flagged && !again[0].tell, "told once");
            q.settle(claimant, &settled(&top, &again));
        }
        // It leaves the top share, then enters it again: told again.
        let low = [deal("TOP", 0, NOW)];
        let left = q.rank(&low, "e", NOW);
        assert!(!left[0].flagged);
        q.settle("e", &settled(&low, &left));
        assert!(q.queue(None).is_empty());
        let back = q.rank(&top, "f", NOW);
        assert!(back[0].tell);
    });
}

#[test]
fn a_telling_not_written_back_is_let_go_and_one_whose_worker_died_expires() {
    each(|q| {
        q.rank(&deals("D", 9, NOW), "seed", NOW);
        let top = [deal("TOP", 90, NOW)];
        assert!(q.rank(&top, "a", NOW)[0].tell);
        // Its write-back failed: nothing settled for it, and the claim is let go.
        q.settle("a", &[]);
        assert!(q.rank(&top, "b", NOW)[0].tell, "the retry tells");
        // "b" dies holding it: nobody else tells until its lease ends.
        assert!(!q.rank(&top, "c", NOW)[0].tell);
        let later = NOW + time::Duration::minutes(6);
        assert!(q.rank(&[deal("TOP", 90, later)], "c", later)[0].tell);
    });
}

#[test]
fn the_queue_is_of_one_crm_when_asked_highest_score_first() {
    each(|q| {
        let batch = deals("D", 10, NOW);
        let standings = q.rank(&batch, "a", NOW);
        q.settle("a", &settled(&batch, &standings));
        let queued = q.queue(Some(Crm::Generic));
        let scores: Vec<u8> = queued.iter().map(|r| r.latest.score).collect();
        assert_eq!(scores, [19, 18]);
        assert_eq!(
            queued[0].why(),
            "Scored 19/100, in the top 20 % of the 10 deals scored in the last 30 days: 1 of \
             them, its own included, scores 19 or more."
        );
        assert!(q.queue(Some(Crm::Hubspot)).is_empty());
    });
}

/// A score-lead job at `now` in `mode`, by `claimant`.
fn job<'a>(settings: &'a Settings, claimant: &str, now: OffsetDateTime) -> Job<'a> {
    Job {
        function: FunctionKind::ScoreLead,
        settings,
        now,
        claimant: claimant.into(),
        limits: Limits::within(Duration::from_secs(5)),
        retention: Retention::default(),
    }
}

/// Deal `record` updated, with a pain statement (it scores 20) and an owner.
fn update(id: &str, record: &str) -> WebhookEvent {
    let mut deal = Record::new_deal(record);
    deal.owner_id = Some("owner-7".into());
    deal.fields.insert(
        "pain".into(),
        "Month-end close takes nine days and blocks reporting".into(),
    );
    WebhookEvent {
        dedupe_key: format!("generic:{id}"),
        event_id: id.into(),
        occurred_at: NOW,
        change: Change::Updated,
        record: deal,
        changed_fields: Vec::new(),
        changed_by: None,
        owner_changed: None,
        complete: true,
    }
}

/// What the delivery wrote to the deal: its review field and the kinds of its notices.
fn written(crm: &RecordingCrm) -> Vec<(Value, Vec<String>)> {
    crm.calls()
        .iter()
        .map(|call| {
            let notices = call.body["notices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
                .collect();
            (call.body["fields"]["pg_review"].clone(), notices)
        })
        .collect()
}

#[test]
fn through_the_pipeline_a_deal_entering_the_top_share_is_flagged_and_its_owner_tasked_once() {
    let review = sql_review();
    // Nine deals scored earlier, all below the one delivered.
    block_on(ReviewQueue::rank(
        &review,
        &(0..9)
            .map(|i| deal(&format!("D-{i}"), 5, NOW))
            .collect::<Vec<_>>(),
        &Ranking {
            share: 0.2,
            window_days: 30,
            now: NOW,
            claimant: "seed",
            lease_until: NOW,
        },
    ))
    .unwrap();
    for (mode, notices) in [(Mode::Enforce, vec!["task"]), (Mode::Shadow, vec!["note"])] {
        let settings = Settings::new(Playbook::default_playbook(), mode);
        let record = format!("TOP-{}", mode.as_str());
        let (ledger, crm, clock) = (
            MemoryLedger::default(),
            RecordingCrm::default(),
            StoppedClock::default(),
        );
        let ports = || Ports {
            ledger: &ledger,
            client: &crm,
            clock: &clock,
            handoffs: &NoHandoffs,
            review: &review,
            text_hashes: &crate::templates::NoTextHashes,
            people: &crate::people::NoPeople,
        };
        let deliver = |id: &str, claimant: &str| {
            let delivery = Delivery::webhook(vec![update(id, &record)]);
            block_on(pipeline::run(
                &Generic,
                &job(&settings, claimant, NOW),
                delivery,
                ports(),
            ))
            .unwrap()
        };
        // The CRM is down at first: nobody is told, and the retry tells.
        crm.fail(Some("503"));
        deliver(&format!("{record}-e1"), "first");
        crm.fail(None);
        let outcome = deliver(&format!("{record}-e1"), "retry");
        let Some(crate::function::Decision::Scored(card)) = &outcome.results[0].decision else {
            panic!("{outcome:?}");
        };
        assert_eq!(card.flagged_for_review, Some(true), "{mode}");
        assert_eq!(
            written(&crm),
            [(
                Value::Bool(true),
                notices.iter().map(|n| n.to_string()).collect()
            )],
            "{mode}"
        );
        let body = crm.calls()[0].body["notices"][0]["body"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(body.contains("Pain [green]: \"Month-end close"), "{body}");
        assert!(body.contains("top 20 %"), "{body}");
        // Re-scored while it stays in the top share: still flagged, nobody told again.
        deliver(&format!("{record}-e2"), "later");
        assert_eq!(written(&crm)[1], (Value::Bool(true), Vec::new()), "{mode}");
    }
    let queued = block_on(ReviewQueue::queue(&review, None, window_start(NOW, 30), 10)).unwrap();
    let ids: Vec<&str> = queued.iter().map(|r| r.latest.record_id.as_str()).collect();
    assert_eq!(ids.len(), 2, "{queued:?}");
    assert!(queued.iter().all(|r| r.owner_told && r.latest.score == 20));
}
