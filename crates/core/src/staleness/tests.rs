use time::macros::{date, datetime};

use super::*;
use crate::{hygiene::Check, model::Contact, playbook::Holiday};

/// Monday 23 November 2026, noon.
const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);

fn playbook() -> Playbook {
    Playbook::default_playbook()
}

/// An open deal in `negotiation` (15 business days allowed) with everything filled in.
fn complete_deal() -> Record {
    let mut deal = Record::new_deal("D-9");
    deal.owner_id = Some("u-1".into());
    deal.amount = Some(12_000.0);
    deal.close_date = Some(date!(2026 - 12 - 15));
    deal.stage = Some("negotiation".into());
    deal.fields
        .insert("next_step".into(), "Send the order form".into());
    deal.contacts.push(Contact {
        id: "C-1".into(),
        name: Some("Dana Ruiz".into()),
        email: None,
        title: Some("CFO".into()),
        role: Some("economic_buyer".into()),
        authority: None,
    });
    deal
}

/// `deal` after its write-back: the CRM holds the stale and hygiene fields it wrote.
fn written(mut deal: Record, report: &StaleReport) -> Record {
    let wb = report.write_back(&deal, &playbook(), Mode::Enforce);
    deal.fields.extend(wb.fields);
    deal
}

fn rotting_since(report: &StaleReport) -> Option<Date> {
    report.reasons.iter().find_map(|r| match r {
        StaleReason::RottingInStage { since, .. } => Some(*since),
        _ => None,
    })
}

#[test]
fn a_fresh_complete_deal_is_not_stale() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-11-15 10:00 UTC));
    let r = assess(&deal, &playbook(), NOW);
    assert!(!r.stale, "{:?}", r.reasons);
    assert_eq!(r.notify, Notify::Nothing);
    assert_eq!(r.flag, "");
    assert!(
        r.write_back(&deal, &playbook(), Mode::Enforce)
            .notices
            .is_empty()
    );
}

#[test]
fn idle_time_is_counted_in_business_days_so_weekends_never_rot_a_deal() {
    let mut deal = complete_deal();
    // Last call on Friday 30 October; negotiation allows 15 business days: the 15th is Friday
    // 20 November, so the deal rots from Monday 23 November, after a weekend that did not count.
    deal.last_activity_at = Some(datetime!(2026-10-30 16:00 UTC));
    let on_friday = assess(&deal, &playbook(), datetime!(2026-11-20 18:00 UTC));
    let over_the_weekend = assess(&deal, &playbook(), datetime!(2026-11-22 18:00 UTC));
    assert!(!on_friday.stale && !over_the_weekend.stale);
    let monday = assess(&deal, &playbook(), NOW);
    assert_eq!(
        monday.reasons,
        [StaleReason::RottingInStage {
            stage: "negotiation".into(),
            stage_name: None,
            idle_since: date!(2026 - 10 - 30),
            since: date!(2026 - 11 - 23),
            idle_days: 16,
            limit_days: 15,
        }]
    );
    assert_eq!(
        monday.flag,
        "rotting in negotiation since 2026-11-23 · owner told 2026-11-23"
    );
    let task = &monday.write_back(&deal, &playbook(), Mode::Enforce).notices[0];
    assert!(task.is_task());
    assert!(
        task.body.contains(
            "No call, meeting, email or note since 2026-10-30: 16 business days in negotiation (it allows 15)"
        ),
        "{}",
        task.body
    );
}

#[test]
fn shadow_mode_tells_the_owner_in_a_note_and_assigns_no_task() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-10-30 16:00 UTC));
    let report = assess(&deal, &playbook(), NOW);
    let enforced = report.write_back(&deal, &playbook(), Mode::Enforce);
    let shadow = report.write_back(&deal, &playbook(), Mode::Shadow);
    assert_eq!(shadow.fields, enforced.fields, "the same flag either way");
    let [note] = shadow.notices.as_slice() else {
        panic!("one notice: {:?}", shadow.notices)
    };
    assert!(!note.is_task());
    assert_eq!(note.to, deal.owner_id);
    assert!(note.body.contains("shadow mode"), "{}", note.body);
    assert!(
        note.body.ends_with(&enforced.notices[0].body),
        "the same advice: {}",
        note.body
    );
}

#[test]
fn holidays_in_the_playbook_hold_rotting_back() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-10-30 16:00 UTC));
    let mut playbook = playbook();
    playbook.staleness.holidays = vec![Holiday::from(date!(2026 - 11 - 11))];
    let r = assess(&deal, &playbook, NOW);
    assert!(
        !r.stale,
        "Armistice Day is not an idle day: {:?}",
        r.reasons
    );
    let r = assess(&deal, &playbook, datetime!(2026-11-24 09:00 UTC));
    assert_eq!(rotting_since(&r), Some(date!(2026 - 11 - 24)));
}

#[test]
fn a_field_update_is_not_activity_and_a_later_stage_entry_restarts_the_count() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.stage_entered_at = Some(datetime!(2026-11-16 10:00 UTC));
    assert!(!assess(&deal, &playbook(), NOW).stale, "new in its stage");
    deal.stage_entered_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.last_activity_at = None;
    assert!(
        assess(&deal, &playbook(), NOW).stale,
        "in the stage since September, nothing done"
    );
}

#[test]
fn a_next_activity_after_today_suspends_rotting_and_one_due_today_does_not() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.next_activity_at = Some(datetime!(2026-11-26 09:00 UTC));
    let r = assess(&deal, &playbook(), NOW);
    assert!(!r.stale, "{:?}", r.reasons);
    assert_eq!(r.next_activity, Some(date!(2026 - 11 - 26)));
    assert_eq!(
        r.hygiene.passed(Check::StageAndCloseDate),
        Some(true),
        "held back is not rotting"
    );
    // The task pipeline-guard itself leaves is due the day it is made: it never holds a deal back.
    deal.next_activity_at = Some(datetime!(2026-11-23 09:00 UTC));
    assert!(rotting_since(&assess(&deal, &playbook(), NOW)).is_some());
    deal.next_activity_at = Some(datetime!(2026-11-02 09:00 UTC));
    assert!(rotting_since(&assess(&deal, &playbook(), NOW)).is_some());
}

#[test]
fn a_snooze_holds_rotting_back_until_its_date_and_is_recorded_with_its_reason() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.fields
        .insert("pg_snooze_until".into(), "2026-12-01".into());
    deal.fields.insert(
        "pg_snooze_reason".into(),
        "CFO on leave until December".into(),
    );
    let r = assess(&deal, &playbook(), NOW);
    assert!(!r.stale, "{:?}", r.reasons);
    assert_eq!(
        r.snooze,
        Some(Snooze {
            until: date!(2026 - 12 - 01),
            reason: Some("CFO on leave until December".into())
        })
    );
    assert_eq!(
        r.flag,
        "snoozed until 2026-12-01: CFO on leave until December"
    );
    assert!(
        r.write_back(&deal, &playbook(), Mode::Enforce)
            .notices
            .is_empty()
    );

    // Other checks still apply while snoozed.
    deal.close_date = Some(date!(2026 - 11 - 20));
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.flag,
        "close date 2026-11-20 passed · owner told 2026-11-23 · snoozed until 2026-12-01: CFO on leave until December"
    );
    deal.close_date = Some(date!(2026 - 12 - 15));

    // On the snooze date, the deal rots again.
    let r = assess(&deal, &playbook(), datetime!(2026-12-01 09:00 UTC));
    assert!(rotting_since(&r).is_some());
    assert_eq!(r.snooze, None);

    deal.fields.remove("pg_snooze_reason");
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(r.flag, "snoozed until 2026-12-01 (no reason given)");
}

/// Regression: HubSpot, Pipedrive and Salesforce read an emptied field back as absent or null,
/// so every clean deal was written again on every sweep.
#[test]
fn a_clean_deal_whose_crm_reads_the_emptied_flag_back_as_absent_is_written_nothing() {
    let deal = complete_deal();
    let clean = assess(&deal, &playbook(), NOW);
    assert!(!clean.stale, "{:?}", clean.reasons);
    let mut read_back = written(deal, &clean);
    let flag = &playbook().write_back.stale;
    assert_eq!(read_back.fields[flag.as_str()], serde_json::json!(""));
    for emptied in [None, Some(serde_json::Value::Null)] {
        match &emptied {
            None => read_back.fields.remove(flag.as_str()),
            Some(null) => read_back.fields.insert(flag.clone(), null.clone()),
        };
        let again = assess(&read_back, &playbook(), NOW + time::Duration::days(1));
        let write_back = again.write_back(&read_back, &playbook(), Mode::Enforce);
        assert!(write_back.already_in_read(&read_back), "{emptied:?}");
        // A webhook may simply not carry the field: what it holds is not known.
        assert_eq!(
            write_back.already_in(&read_back),
            emptied.is_some(),
            "{emptied:?}"
        );
    }
    // A flag the CRM still holds is not an empty one.
    read_back
        .fields
        .insert(flag.clone(), "rotting in Proposal since 2026-11-02".into());
    let again = assess(&read_back, &playbook(), NOW);
    assert!(
        !again
            .write_back(&read_back, &playbook(), Mode::Enforce)
            .already_in_read(&read_back)
    );
}

#[test]
fn the_same_state_judged_again_writes_nothing_and_tells_nobody() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let first = assess(&deal, &playbook(), NOW);
    assert_eq!(first.notify, Notify::New);
    let deal = written(deal, &first);
    // A second sweep the same day, a save the next: the same text, so the write-back is already
    // in the record (the pipeline skips it), and no task.
    for now in [
        NOW + time::Duration::hours(2),
        NOW + time::Duration::days(1),
    ] {
        let again = assess(&deal, &playbook(), now);
        assert_eq!(
            again.notify,
            Notify::AlreadyTold {
                on: date!(2026 - 11 - 23)
            }
        );
        assert_eq!(again.flag, first.flag);
        let wb = again.write_back(&deal, &playbook(), Mode::Enforce);
        assert!(wb.notices.is_empty());
        assert!(wb.already_in(&deal));
    }
}

#[test]
fn a_new_reason_tells_the_owner_and_one_that_goes_away_does_not() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let first = assess(&deal, &playbook(), NOW);
    let mut deal = written(deal, &first);
    deal.close_date = Some(date!(2026 - 11 - 20));
    let later = datetime!(2026-11-24 09:00 UTC);
    let changed = assess(&deal, &playbook(), later);
    assert_eq!(changed.notify, Notify::New);
    assert_eq!(
        changed.flag,
        "rotting in negotiation since 2026-09-23; close date 2026-11-20 passed · owner told 2026-11-24"
    );
    let wb = changed.write_back(&deal, &playbook(), Mode::Enforce);
    assert_eq!(wb.notices.len(), 1);
    let mut deal = written(deal, &changed);
    // The close date moved: the flag says less, nobody is told again.
    deal.close_date = Some(date!(2026 - 12 - 15));
    let better = assess(&deal, &playbook(), datetime!(2026-11-25 09:00 UTC));
    assert_eq!(
        better.notify,
        Notify::AlreadyTold {
            on: date!(2026 - 11 - 24)
        }
    );
    assert_eq!(
        better.flag,
        "rotting in negotiation since 2026-09-23 · owner told 2026-11-24"
    );
    assert!(
        better
            .write_back(&deal, &playbook(), Mode::Enforce)
            .notices
            .is_empty()
    );
}

#[test]
fn an_owner_still_facing_the_same_reasons_is_told_again_after_the_interval() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let first = assess(&deal, &playbook(), NOW);
    let deal = written(deal, &first);
    // 5 business days after Monday 23 November is Monday 30 November.
    let friday = assess(&deal, &playbook(), datetime!(2026-11-27 09:00 UTC));
    assert_eq!(
        friday.notify,
        Notify::AlreadyTold {
            on: date!(2026 - 11 - 23)
        }
    );
    let monday = assess(&deal, &playbook(), datetime!(2026-11-30 09:00 UTC));
    assert_eq!(
        monday.notify,
        Notify::Reminder {
            last: date!(2026 - 11 - 23)
        }
    );
    assert!(
        monday.flag.ends_with("owner told 2026-11-30"),
        "{}",
        monday.flag
    );
    let wb = monday.write_back(&deal, &playbook(), Mode::Enforce);
    assert!(
        wb.notices[0]
            .body
            .starts_with("Reminder: you were told on 2026-11-23"),
        "{}",
        wb.notices[0].body
    );
    let mut once = playbook();
    once.staleness.renotify_days = 0;
    let r = assess(&deal, &once, datetime!(2026-12-14 09:00 UTC));
    assert_eq!(
        r.notify,
        Notify::AlreadyTold {
            on: date!(2026 - 11 - 23)
        }
    );
}

#[test]
fn a_hygiene_change_alone_is_written_without_a_task() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let first = assess(&deal, &playbook(), NOW);
    let mut deal = written(deal, &first);
    deal.contacts[0].title = None;
    let r = assess(&deal, &playbook(), NOW);
    let wb = r.write_back(&deal, &playbook(), Mode::Enforce);
    assert!(!wb.already_in(&deal), "the hygiene score changed");
    assert!(wb.notices.is_empty());
    assert_eq!(wb.fields["pg_stale"], first.flag.as_str());
}

#[test]
fn a_flag_written_in_another_format_is_a_change_once() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.fields.insert(
        "pg_stale".into(),
        "no activity for 51 days in stage negotiation (limit 21)".into(),
    );
    assert_eq!(assess(&deal, &playbook(), NOW).notify, Notify::New);
}

#[test]
fn missing_fields_filled_one_by_one_tell_nobody() {
    let mut deal = complete_deal();
    deal.owner_id = None;
    deal.amount = None;
    let first = assess(&deal, &playbook(), NOW);
    assert_eq!(first.flag, "missing owner, amount · owner told 2026-11-23");
    let mut deal = written(deal, &first);
    deal.amount = Some(5_000.0);
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.notify,
        Notify::AlreadyTold {
            on: date!(2026 - 11 - 23)
        }
    );
    assert_eq!(r.flag, "missing owner · owner told 2026-11-23");
}

#[test]
fn an_open_deal_without_a_next_step_is_flagged_unless_something_is_scheduled() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-11-20 10:00 UTC));
    deal.fields.remove("next_step");
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.reasons,
        [StaleReason::NoNextStep {
            field: "next_step".into()
        }],
        "reported once, not again as a missing field"
    );
    deal.next_activity_at = Some(datetime!(2026-11-25 10:00 UTC));
    assert!(!assess(&deal, &playbook(), NOW).stale);
}

#[test]
fn a_placeholder_next_step_or_lost_reason_is_none() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-11-20 10:00 UTC));
    for placeholder in ["TBD", "T.B.D.", "n/a n/a n/a", "N/A - TBD", "???"] {
        deal.fields.insert("next_step".into(), placeholder.into());
        let r = assess(&deal, &playbook(), NOW);
        assert_eq!(
            r.reasons,
            [StaleReason::NoNextStep {
                field: "next_step".into()
            }],
            "{placeholder}"
        );
    }
    deal.status = DealStatus::Lost;
    deal.fields.insert("lost_reason".into(), "n.a.".into());
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.reasons,
        [StaleReason::LostWithoutReason {
            field: "lost_reason".into()
        }]
    );
}

#[test]
fn a_lost_deal_without_a_reason_is_flagged_and_with_one_is_not() {
    let mut deal = complete_deal();
    deal.status = DealStatus::Lost;
    deal.last_activity_at = Some(datetime!(2026-01-01 10:00 UTC));
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.reasons,
        [StaleReason::LostWithoutReason {
            field: "lost_reason".into()
        }]
    );
    assert_eq!(r.flag, "lost without a reason · owner told 2026-11-23");
    deal.fields
        .insert("lost_reason".into(), "Went with a competitor".into());
    assert!(!assess(&deal, &playbook(), NOW).stale);
}

#[test]
fn won_deals_are_never_stale() {
    let mut deal = Record::new_deal("D-10");
    deal.status = DealStatus::Won;
    deal.close_date = Some(date!(2020 - 01 - 01));
    deal.last_activity_at = Some(datetime!(2020-01-01 10:00 UTC));
    let r = assess(&deal, &playbook(), NOW);
    assert!(!r.stale);
    assert_eq!(r.flag, "");
}

#[test]
fn an_unreadable_close_date_is_reported_and_never_judged_passed_or_ahead() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-11-20 10:00 UTC));
    deal.close_date = None;
    deal.unreadable
        .insert("close_date".into(), "31/11/2026".into());
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.reasons,
        [StaleReason::UnreadableDate {
            field: "close_date".into(),
            value: "31/11/2026".into()
        }],
        "neither passed nor missing"
    );
    assert_eq!(r.hygiene.passed(Check::ReadableDates), Some(false));
    assert_eq!(r.hygiene.passed(Check::StageAndCloseDate), Some(false));
}

#[test]
fn an_unreadable_activity_date_leaves_rotting_unjudged_either_way() {
    let mut deal = complete_deal();
    deal.stage_entered_at = Some(datetime!(2026-01-05 10:00 UTC));
    deal.unreadable
        .insert("last_activity_at".into(), "yesterday".into());
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(rotting_since(&r), None, "not stale by accident");
    assert!(r.stale, "but reported");
    let gaps = &r.hygiene.result(Check::StageAndCloseDate).unwrap().gaps;
    assert_eq!(
        gaps,
        &["whether it is rotting cannot be told: a date cannot be read"],
        "nor fresh by accident"
    );
}

#[test]
fn an_unreadable_snooze_date_on_an_idle_deal_is_reported_not_taken_for_none() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    deal.fields
        .insert("pg_snooze_until".into(), "after the board".into());
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(
        r.reasons,
        [StaleReason::UnreadableDate {
            field: "snooze_until".into(),
            value: "after the board".into()
        }]
    );
    // A deal still within its limit is fresh whatever the snooze says.
    deal.last_activity_at = Some(datetime!(2026-11-20 10:00 UTC));
    let r = assess(&deal, &playbook(), NOW);
    assert_eq!(r.hygiene.passed(Check::StageAndCloseDate), Some(true));
}

#[test]
fn stage_names_read_in_the_flag_and_the_id_stays_in_the_data() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let mut named = playbook();
    named
        .stage_names
        .insert("negotiation".into(), "Negotiation started".into());
    let r = assess(&deal, &named, NOW);
    let StaleReason::RottingInStage {
        stage, stage_name, ..
    } = &r.reasons[0]
    else {
        panic!("{:?}", r.reasons)
    };
    assert_eq!(stage, "negotiation");
    assert_eq!(stage_name.as_deref(), Some("Negotiation started"));
    assert!(
        r.flag.starts_with("rotting in Negotiation started since"),
        "{}",
        r.flag
    );
}

#[test]
fn one_set_of_rules_judges_many_deals_alike() {
    let playbook = playbook();
    let rules = Rules::of(&playbook);
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    assert_eq!(rules.assess(&deal, NOW), assess(&deal, &playbook, NOW));
    assert!(rules.calendar().is_business_day(date!(2026 - 11 - 23)));
}

#[test]
fn a_task_cut_off_after_its_flag_was_written_is_created_when_resumed() {
    let mut deal = complete_deal();
    deal.last_activity_at = Some(datetime!(2026-09-01 10:00 UTC));
    let first = assess(&deal, &playbook(), NOW);
    let deal = written(deal, &first);
    let mut retry = assess(&deal, &playbook(), NOW + time::Duration::minutes(5));
    assert!(!retry.notify.tells());
    retry.resume();
    assert_eq!(
        retry.notify,
        Notify::Unfinished {
            on: date!(2026 - 11 - 23)
        }
    );
    assert_eq!(retry.flag, first.flag, "the same fields");
    assert_eq!(
        retry
            .write_back(&deal, &playbook(), Mode::Enforce)
            .notices
            .len(),
        1
    );
}
