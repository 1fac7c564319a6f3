//! The handoff log on a real SQLite database (and in memory, alike), the report's figures and
//! the weekly summaries' claims.

use futures::executor::block_on;
use time::{
    Duration, OffsetDateTime,
    macros::{date, datetime},
};

use super::{
    DealHistory, DimensionSnapshot, HandoffLog, HandoffRecord, VerdictRecord,
    memory::MemoryHandoffs,
    report::{PerBdr, ReportQuery},
    sql::SqlHandoffs,
    summary::{last_week, week_containing},
};
use crate::{
    crm_id::Crm, mode::Mode, playbook::Playbook, ports::Database, score::Status,
    test_sqlite::Sqlite,
};

/// Sunday 2026-11-22, noon: the week of 2026-11-16 is the last whole one.
const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

fn log() -> SqlHandoffs<Sqlite> {
    let log = SqlHandoffs::new(Sqlite::in_memory());
    block_on(log.create_tables()).unwrap();
    log
}

fn dimension(key: &str, status: Status) -> DimensionSnapshot {
    DimensionSnapshot {
        key: key.into(),
        status,
        points: if status == Status::Green { 20.0 } else { 0.0 },
        max_points: 20.0,
    }
}

/// A handoff of `deal` by `bdr` at `at`, `status`, lacking `gaps`.
fn handoff(
    key: &str,
    deal: &str,
    bdr: &str,
    at: OffsetDateTime,
    status: &str,
    gaps: &[&str],
) -> HandoffRecord {
    HandoffRecord {
        key: key.into(),
        crm: Crm::Hubspot,
        deal_id: deal.into(),
        deal_name: Some(format!("Deal {deal}")),
        bdr: Some(bdr.into()),
        ae: Some("ae-1".into()),
        at,
        status: status.into(),
        rule: if status == "validated" {
            "all rules passed".into()
        } else {
            "Pain is red (required green)".into()
        },
        threshold: 60,
        score: if status == "validated" { 72 } else { 40 },
        from_stage: Some("qualification".into()),
        to_stage: "sales_accepted".into(),
        dimensions: ["pain", "next_step", "economic_buyer"]
            .into_iter()
            .map(|key| {
                let status = if gaps.contains(&key) {
                    Status::Red
                } else {
                    Status::Green
                };
                dimension(key, status)
            })
            .collect(),
    }
}

fn verdict(
    key: &str,
    deal: &str,
    handoff: Option<&str>,
    v: &str,
    reason: Option<&str>,
    at: OffsetDateTime,
) -> VerdictRecord {
    VerdictRecord {
        key: key.into(),
        crm: Crm::Hubspot,
        deal_id: deal.into(),
        handoff_key: handoff.map(str::to_owned),
        verdict: v.into(),
        reason: reason.map(str::to_owned),
        ae: Some("ae-1".into()),
        at,
    }
}

/// Two weeks of a team's handoffs: BDR "zoe" and "adam", verdicts on three.
fn seed(log: &impl HandoffLog) {
    let week1 = datetime!(2026-11-10 10:00 UTC);
    let week2 = datetime!(2026-11-17 10:00 UTC);
    block_on(log.record_handoffs(&[
        handoff("h1", "D1", "zoe", week1, "blocked", &["pain", "next_step"]),
        handoff(
            "h2",
            "D1",
            "zoe",
            week1 + Duration::days(1),
            "validated",
            &[],
        ),
        handoff("h3", "D2", "adam", week2, "validated", &["economic_buyer"]),
        handoff("h4", "D3", "adam", week2, "validated", &[]),
        handoff("h5", "D4", "zoe", week2, "would_block", &["pain"]),
    ]))
    .unwrap();
    block_on(log.record_verdicts(&[
        verdict(
            "v1",
            "D1",
            Some("h2"),
            "accepted",
            None,
            week1 + Duration::days(2),
        ),
        verdict(
            "v2",
            "D2",
            Some("h3"),
            "rejected",
            Some("no timeline"),
            week2 + Duration::hours(10),
        ),
        verdict(
            "v3",
            "D3",
            Some("h4"),
            "rejected",
            Some("no timeline"),
            week2 + Duration::hours(30),
        ),
        verdict("v4", "D9", None, "accepted", None, week2),
    ]))
    .unwrap();
}

#[test]
fn a_handoff_or_verdict_recorded_twice_counts_once() {
    let log = log();
    seed(&log);
    seed(&log);
    let report =
        block_on(log.report(&ReportQuery::default(), &Playbook::default_playbook(), NOW)).unwrap();
    assert_eq!(report.totals.attempted, 5);
    assert_eq!(report.totals.rejected, 2);
    assert_eq!(report.verdicts_without_handoff, 1);
}

#[test]
fn history_is_every_handoff_and_the_latest_verdict_of_each_deal_in_sql_and_in_memory() {
    let sql = log();
    let memory = MemoryHandoffs::default();
    seed(&sql);
    seed(&memory);
    let deals = ["D1", "D9", "D-none"];
    let from_sql: Vec<DealHistory> = block_on(sql.history(Crm::Hubspot, &deals)).unwrap();
    let from_memory = block_on(memory.history(Crm::Hubspot, &deals)).unwrap();
    assert_eq!(from_sql, from_memory);
    let keys: Vec<&str> = from_sql[0]
        .handoffs
        .iter()
        .map(|h| h.key.as_str())
        .collect();
    assert_eq!(keys, ["h1", "h2"], "oldest first");
    assert_eq!(from_sql[0].verdict.as_ref().unwrap().key, "v1");
    assert!(from_sql[1].handoffs.is_empty());
    assert_eq!(from_sql[1].verdict.as_ref().unwrap().handoff_key, None);
    assert_eq!(from_sql[2], DealHistory::default());
    // Another CRM's deal of the same id is another deal.
    let other = block_on(sql.history(Crm::Pipedrive, &["D1"])).unwrap();
    assert_eq!(other[0], DealHistory::default());
}

#[test]
fn the_report_counts_weeks_rates_gaps_reasons_and_thresholds() {
    let log = log();
    seed(&log);
    let playbook = Playbook::default_playbook();
    let query = ReportQuery {
        weeks: 3,
        crm: None,
    };
    let report = block_on(log.report(&query, &playbook, NOW)).unwrap();
    assert_eq!(report.from, date!(2026 - 11 - 02));
    let weeks: Vec<_> = report
        .weeks
        .iter()
        .map(|w| (w.week_start, w.counts.attempted))
        .collect();
    assert_eq!(
        weeks,
        [
            (date!(2026 - 11 - 02), 0),
            (date!(2026 - 11 - 09), 2),
            (date!(2026 - 11 - 16), 3)
        ]
    );
    let t = report.totals;
    assert_eq!(
        (
            t.attempted,
            t.blocked,
            t.would_block,
            t.validated,
            t.accepted,
            t.rejected
        ),
        (5, 1, 1, 3, 1, 2)
    );
    assert_eq!(report.rejection_rate, Some(2.0 / 3.0));
    // 24 h, 10 h and 30 h: the median is 24 h.
    assert_eq!(report.median_hours_to_verdict, Some(24.0));
    // Of the 3 validated handoffs, one verdict came within 24 h (10 h; 24 h is not within).
    assert_eq!(report.verdicts_within_24h, Some(1.0 / 3.0));
    let missing: Vec<_> = report
        .missing_dimensions
        .iter()
        .map(|m| (m.name.as_str(), m.count))
        .collect();
    assert_eq!(
        missing,
        [("Pain", 2), ("Economic buyer", 1), ("Next step", 1)]
    );
    assert_eq!(report.rejection_reasons[0].reason, "no timeline");
    assert_eq!(report.rejection_reasons[0].count, 2);
    assert_eq!(report.thresholds.len(), 1);
    assert_eq!(
        (
            report.thresholds[0].validated,
            report.thresholds[0].rejected_later
        ),
        (3, 2)
    );
    assert_eq!(report.verdicts_without_handoff, 1);
    assert!(report.not_measured.iter().any(|n| n.contains("champion")));
    let only_pipedrive = ReportQuery {
        weeks: 3,
        crm: Some("pipedrive".into()),
    };
    let none = block_on(log.report(&only_pipedrive, &playbook, NOW)).unwrap();
    assert_eq!(none.totals.attempted, 0);
    assert_eq!(none.median_hours_to_verdict, None);
}

#[test]
fn per_bdr_rows_unlock_45_days_after_the_install_first_decided() {
    for (days_ago, shown) in [(44, false), (45, true)] {
        let db = Sqlite::in_memory();
        block_on(db.execute(crate::install::SCHEMA, Vec::new())).unwrap();
        block_on(crate::install::record(
            &db,
            NOW - time::Duration::days(days_ago),
        ))
        .unwrap();
        let log = SqlHandoffs::new(db);
        block_on(log.create_tables()).unwrap();
        seed(&log);
        let report =
            block_on(log.report(&ReportQuery::default(), &Playbook::default_playbook(), NOW))
                .unwrap();
        match &report.per_bdr {
            PerBdr::Shown { rows } => assert!(shown && rows.len() == 2, "{rows:?}"),
            PerBdr::Hidden { from, why, .. } => {
                assert!(!shown, "{why}");
                assert_eq!(*from, Some(NOW.date() + time::Duration::days(1)));
                assert!(why.contains("unlock_after_days"), "{why}");
            }
        }
    }
}

#[test]
fn per_bdr_rows_show_only_from_the_rollout_date_sorted_by_bdr_with_one_thing_to_coach() {
    let log = log();
    seed(&log);
    let mut playbook = Playbook::default_playbook();
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    assert!(matches!(report.per_bdr, PerBdr::Hidden { from: None, .. }));
    playbook.rollout.manager_view_from = Some(date!(2026 - 12 - 01));
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    let PerBdr::Hidden { from, why, .. } = &report.per_bdr else {
        panic!("{:?}", report.per_bdr)
    };
    assert_eq!(*from, Some(date!(2026 - 12 - 01)));
    assert!(why.contains("2026-12-01"), "{why}");
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("zoe") && !json.contains("adam"), "{json}");
    playbook.rollout.manager_view_from = Some(date!(2026 - 11 - 22));
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    let PerBdr::Shown { rows } = &report.per_bdr else {
        panic!("{:?}", report.per_bdr)
    };
    let rows: Vec<_> = rows
        .iter()
        .map(|r| (r.bdr.as_str(), r.counts.attempted, r.coach_next.as_deref()))
        .collect();
    assert_eq!(
        rows,
        [
            ("adam", 2, Some("Economic buyer")),
            ("zoe", 3, Some("Pain"))
        ]
    );
}

#[test]
fn each_bdr_gets_one_summary_a_week_however_often_it_is_asked_for() {
    let log = log();
    seed(&log);
    // On Sunday the week is not over yet; on Monday it is the last whole one.
    assert_eq!(last_week(NOW), week_containing(date!(2026 - 11 - 11)));
    let monday = datetime!(2026-11-23 09:00 UTC);
    let week = last_week(monday);
    assert_eq!(week, week_containing(date!(2026 - 11 - 18)));
    let summaries = block_on(log.summaries(Crm::Hubspot, week)).unwrap();
    let who: Vec<_> = summaries
        .iter()
        .map(|s| (s.bdr.as_str(), s.counts.attempted, s.deal_id.as_str()))
        .collect();
    assert_eq!(who, [("adam", 2, "D3"), ("zoe", 1, "D4")]);
    assert_eq!(summaries[0].rejected.len(), 2);
    let text = &summaries[0]
        .write_back(&Playbook::default_playbook(), Mode::Enforce)
        .notices[0];
    assert!(text.is_task());
    let shadow = summaries[0].write_back(&Playbook::default_playbook(), Mode::Shadow);
    assert!(!shadow.notices[0].is_task(), "shadow mode assigns no task");
    assert_eq!(shadow.notices[0].body, text.body);
    assert_eq!(text.to.as_deref(), Some("adam"));
    assert!(text.body.contains("no timeline"), "{}", text.body);
    assert!(
        text.body.contains("Economic buyer, in 1 of 2"),
        "{}",
        text.body
    );

    let bdrs = ["adam", "zoe"];
    assert_eq!(
        block_on(log.claim_summaries(Crm::Hubspot, week, &bdrs, NOW)).unwrap(),
        bdrs
    );
    // Another call meanwhile finds them taken.
    assert!(
        block_on(log.claim_summaries(Crm::Hubspot, week, &bdrs, NOW))
            .unwrap()
            .is_empty()
    );
    block_on(log.summaries_sent(Crm::Hubspot, week, &["adam"], NOW)).unwrap();
    block_on(log.release_summaries(Crm::Hubspot, week, &["zoe"], NOW)).unwrap();
    let later = NOW + Duration::hours(1);
    assert_eq!(
        block_on(log.claim_summaries(Crm::Hubspot, week, &bdrs, later)).unwrap(),
        ["zoe"]
    );
    // A claim whose writer died is taken over once it is old; a sent one never.
    let much_later = later + Duration::hours(1);
    assert_eq!(
        block_on(log.claim_summaries(Crm::Hubspot, week, &bdrs, much_later)).unwrap(),
        ["zoe"]
    );
    // The first writer, back late, can no longer mark it sent: the claim is another's now.
    block_on(log.summaries_sent(Crm::Hubspot, week, &["zoe"], later)).unwrap();
    let state = block_on(log.db.execute(
        "SELECT state FROM pg_summaries WHERE bdr = 'zoe'",
        Vec::new(),
    ))
    .unwrap();
    assert_eq!(state[0][0], crate::ports::SqlValue::Text("sending".into()));
}

#[test]
fn a_late_verdict_counts_in_its_handoffs_week_once_however_often_it_is_recorded() {
    let log = log();
    seed(&log);
    let playbook = Playbook::default_playbook();
    let query = ReportQuery::default();
    let first = block_on(log.report(&query, &playbook, NOW)).unwrap();
    let late = verdict("v5", "D1", Some("h1"), "rejected", Some("bad fit"), NOW);
    for _ in 0..2 {
        block_on(log.record_verdicts(std::slice::from_ref(&late))).unwrap();
    }
    let after = block_on(log.report(&query, &playbook, NOW)).unwrap();
    assert_eq!(after.totals.rejected, first.totals.rejected + 1);
    assert_eq!(after.weeks.iter().rev().nth(1).unwrap().counts.rejected, 1);
    assert!(
        after
            .rejection_reasons
            .iter()
            .any(|r| r.reason == "bad fit" && r.count == 1)
    );
    // The AE changes their mind: the rejection is taken back out.
    let changed = verdict(
        "v6",
        "D1",
        Some("h1"),
        "accepted",
        None,
        NOW + Duration::hours(1),
    );
    block_on(log.record_verdicts(&[changed])).unwrap();
    let changed = block_on(log.report(&query, &playbook, NOW)).unwrap();
    assert_eq!(changed.totals.rejected, first.totals.rejected);
    assert_eq!(changed.totals.accepted, first.totals.accepted + 1);
    assert!(
        !changed
            .rejection_reasons
            .iter()
            .any(|r| r.reason == "bad fit")
    );
}

#[test]
fn a_verdict_lands_on_the_handoff_made_before_it_and_a_retry_on_the_one_it_was_recorded_on() {
    let log = log();
    seed(&log);
    let history = &block_on(log.history(Crm::Hubspot, &["D1"])).unwrap()[0];
    // h1 at 11-10 10:00, h2 a day later; v1 (on h2) is the latest verdict.
    let before_h2 = datetime!(2026-11-10 12:00 UTC);
    assert_eq!(history.handoff_for("late", before_h2).unwrap().key, "h1");
    assert_eq!(history.handoff_for("late", NOW).unwrap().key, "h2");
    assert!(history.is_latest(history.handoff_for("late", NOW).unwrap()));
    assert_eq!(
        history.handoff_for("v1", before_h2).unwrap().key,
        "h2",
        "a retry stays on its handoff"
    );
    assert!(
        history
            .handoff_for("early", datetime!(2026-11-01 0:00 UTC))
            .is_none()
    );
}

#[test]
fn gaps_come_from_the_scorecard_kept_and_a_retry_with_another_adds_none() {
    let log = log();
    let at = datetime!(2026-11-17 10:00 UTC);
    block_on(log.record_handoffs(&[handoff("h", "D", "zoe", at, "blocked", &["pain"])])).unwrap();
    let again = handoff("h", "D", "zoe", at, "blocked", &["pain", "next_step"]);
    block_on(log.record_handoffs(&[again])).unwrap();
    let report =
        block_on(log.report(&ReportQuery::default(), &Playbook::default_playbook(), NOW)).unwrap();
    let missing: Vec<_> = report
        .missing_dimensions
        .iter()
        .map(|m| (m.dimension.as_str(), m.count))
        .collect();
    assert_eq!(missing, [("pain", 1)]);
}

#[test]
fn the_weekly_summary_is_the_bdr_s_own_task_on_no_deal_in_every_crm() {
    use crate::crm::{
        Adapter, generic::Generic, hubspot::Hubspot, pipedrive::Pipedrive, salesforce::Salesforce,
    };
    let log = log();
    seed(&log);
    let week = week_containing(date!(2026 - 11 - 18));
    let summary = block_on(log.summaries(Crm::Hubspot, week))
        .unwrap()
        .remove(0);
    let personal = summary.write_back(&Playbook::default_playbook(), Mode::Enforce);
    assert!(personal.personal && personal.fields.is_empty());
    fn calls(
        adapter: &impl Adapter,
        write_back: &crate::writeback::WriteBack,
    ) -> Vec<serde_json::Value> {
        adapter
            .render(std::slice::from_ref(write_back), NOW)
            .into_iter()
            .flatten()
            .map(|batch| serde_json::json!({"method": batch.call.method, "path": batch.call.path, "body": batch.call.body}))
            .collect()
    }
    let [hubspot] = calls(&Hubspot, &personal).try_into().unwrap();
    assert_eq!(hubspot["path"], "/crm/v3/objects/tasks/batch/create");
    let input = &hubspot["body"]["inputs"][0];
    assert_eq!(input["associations"], serde_json::json!([]));
    assert_eq!(input["properties"]["hubspot_owner_id"], "adam");
    let [pipedrive] = calls(&Pipedrive, &personal).try_into().unwrap();
    assert_eq!(pipedrive["path"], "/api/v2/activities");
    assert!(pipedrive["body"].get("deal_id").is_none(), "{pipedrive}");
    let [salesforce] = calls(&Salesforce, &personal).try_into().unwrap();
    assert_eq!(salesforce["method"], "POST");
    let task = &salesforce["body"]["records"][0];
    assert!(
        task.get("WhatId").is_none() && task["OwnerId"] == "adam",
        "{task}"
    );
    let [generic] = calls(&Generic, &personal).try_into().unwrap();
    assert_eq!(
        (&generic["method"], &generic["path"]),
        (&"POST".into(), &"/notices".into())
    );
    assert_eq!(generic["body"]["notices"][0]["to"], "adam");
    // In shadow mode a note, on the deal last handed off: no task anywhere.
    let shadow = summary.write_back(&Playbook::default_playbook(), Mode::Shadow);
    assert!(!shadow.personal && shadow.record_id == "D3" && !shadow.notices[0].is_task());
}

#[test]
fn before_the_unlock_a_bdr_s_row_shows_while_they_share_it_and_goes_when_withdrawn() {
    use crate::rep_page::sharing::{Section, choose};
    let log = log();
    seed(&log);
    let playbook = Playbook::default_playbook();
    block_on(choose(
        &log.db,
        Crm::Hubspot,
        "zoe",
        &[Section::Handoffs],
        NOW,
    ))
    .unwrap();
    // Sharing in another CRM, or another section, shows nothing here.
    block_on(choose(
        &log.db,
        Crm::Pipedrive,
        "adam",
        &[Section::Handoffs],
        NOW,
    ))
    .unwrap();
    block_on(choose(
        &log.db,
        Crm::Hubspot,
        "adam",
        &[Section::Hygiene],
        NOW,
    ))
    .unwrap();
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    let PerBdr::Hidden { shared, why, .. } = &report.per_bdr else {
        panic!("still locked: {:?}", report.per_bdr)
    };
    assert!(why.contains("Team totals only"), "{why}");
    let rows: Vec<_> = shared
        .iter()
        .map(|r| (r.bdr.as_str(), r.counts.attempted, r.coach_next.as_deref()))
        .collect();
    assert_eq!(rows, [("zoe", 3, Some("Pain"))]);
    let json = serde_json::to_string(&report).unwrap();
    assert!(!json.contains("adam"), "{json}");
    let page = crate::handoffs::html::render(&report);
    assert!(page.contains(">zoe<") && !page.contains("adam"), "{page}");

    block_on(choose(&log.db, Crm::Hubspot, "zoe", &[], NOW)).unwrap();
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    assert!(
        matches!(&report.per_bdr, PerBdr::Hidden { shared, .. } if shared.is_empty()),
        "withdrawn at once: {:?}",
        report.per_bdr
    );
}
