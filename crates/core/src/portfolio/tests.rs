//! Portfolios in an in-memory SQLite: measuring all deals or a sample, by check and by owner,
//! the fallback to shadow, the report's rollout rule and its page.

use futures::executor::block_on;
use time::macros::{date, datetime};

use super::{report::Inputs, *};
use crate::{
    crm_id::Crm,
    mode::Mode,
    playbook::{Measure, Playbook, rollout::PerRep},
    ports::Database,
    sweep::{SweepState, Tally},
    test_sqlite::Sqlite,
};

const SWEEP: OffsetDateTime = datetime!(2026-11-23 02:00 UTC);
const NOW: OffsetDateTime = datetime!(2026-11-23 02:30 UTC);

fn portfolios() -> SqlPortfolios<Sqlite> {
    let portfolios = SqlPortfolios::new(Sqlite::in_memory());
    block_on(portfolios.create_tables()).unwrap();
    portfolios
}

/// A deal of `owner` scoring `score`, passing the checks marked `true`, failing those marked
/// `false` ([`Check::ALL`] order; lost reason not applicable to open deals).
fn deal(id: &str, owner: Option<&str>, score: u8, passes: [bool; 5]) -> DealHygiene {
    let [required, stage, contacts, calls, dates] = passes;
    DealHygiene {
        deal_id: id.to_owned(),
        owner: owner.map(str::to_owned),
        score_pct: score,
        outcomes: [
            Some(required),
            Some(stage),
            Some(contacts),
            Some(calls),
            None,
            Some(dates),
        ],
    }
}

fn conclude(portfolios: &SqlPortfolios<Sqlite>, playbook: &Playbook) -> Portfolio {
    block_on(portfolios.conclude(Crm::Hubspot, SWEEP, playbook, NOW)).unwrap()
}

#[test]
fn a_portfolio_is_measured_by_check_and_by_owner_counting_each_deal_once() {
    let portfolios = portfolios();
    let page_1 = [
        deal("D-1", Some("u-2"), 100, [true; 5]),
        deal("D-2", Some("u-1"), 40, [false, false, true, true, true]),
    ];
    let page_2 = [
        deal("D-3", Some("u-1"), 70, [true, false, true, false, true]),
        deal("D-4", None, 50, [false, true, false, true, true]),
    ];
    block_on(portfolios.record(Crm::Hubspot, SWEEP, &page_1)).unwrap();
    block_on(portfolios.record(Crm::Hubspot, SWEEP, &page_2)).unwrap();
    // The first page listed again (a retried call) replaces, never adds.
    block_on(portfolios.record(Crm::Hubspot, SWEEP, &page_1)).unwrap();
    let p = conclude(&portfolios, &Playbook::default_playbook());

    assert_eq!((p.open_deals, p.measured, p.sample), (4, 4, None));
    assert_eq!(p.hygiene_pct, 65, "(100 + 40 + 70 + 50) / 4");
    assert_eq!(
        p.trustworthy, 2,
        "100 and 70 reach the 70 % per-deal threshold"
    );
    let figure = |check: Check| p.checks.iter().find(|c| c.check == check).unwrap();
    let stage = figure(Check::StageAndCloseDate);
    assert_eq!(
        (stage.passed, stage.failed, stage.not_applicable),
        (2, 2, 0)
    );
    assert_eq!(stage.passed_pct(), Some(50));
    assert_eq!(stage.label, Check::StageAndCloseDate.label());
    let lost = figure(Check::LostReason);
    assert_eq!((lost.passed, lost.failed, lost.not_applicable), (0, 0, 4));
    assert_eq!(lost.passed_pct(), None);

    let owners: Vec<&str> = p.owners.iter().map(|o| o.owner.as_str()).collect();
    assert_eq!(
        owners,
        ["u-1", "u-2", UNKNOWN_OWNER],
        "sorted by owner, never by a figure"
    );
    let u1 = &p.owners[0];
    assert_eq!((u1.deals, u1.hygiene_pct), (2, 55));
    assert_eq!(
        u1.failed,
        [
            (Check::RequiredFields, 1),
            (Check::StageAndCloseDate, 2),
            (Check::CallNotes, 1)
        ]
    );
    assert_eq!(u1.fix_first, Some(Check::StageAndCloseDate));
    assert_eq!(p.owners[1].fix_first, None, "nothing failing");

    assert_eq!(
        block_on(portfolios.latest(Crm::Hubspot)).unwrap(),
        Some(p.clone())
    );
    assert_eq!(block_on(portfolios.latest(Crm::Pipedrive)).unwrap(), None);
    assert_eq!(block_on(portfolios.all()).unwrap(), vec![p]);
}

#[test]
fn the_next_sweep_measures_only_the_deals_it_saw_and_forgets_the_rest() {
    let portfolios = portfolios();
    let playbook = Playbook::default_playbook();
    let old = [
        deal("D-1", Some("u-1"), 20, [false; 5]),
        deal("D-2", Some("u-1"), 20, [false; 5]),
    ];
    let earlier = SWEEP - time::Duration::days(1);
    block_on(portfolios.record(Crm::Hubspot, earlier, &old)).unwrap();
    block_on(portfolios.conclude(Crm::Hubspot, earlier, &playbook, earlier)).unwrap();
    // D-2 closed since: the next sweep sees D-1 only, clean now.
    block_on(portfolios.record(
        Crm::Hubspot,
        SWEEP,
        &[deal("D-1", Some("u-1"), 90, [true; 5])],
    ))
    .unwrap();
    let p = conclude(&portfolios, &playbook);
    assert_eq!((p.open_deals, p.hygiene_pct), (1, 90));
    assert_eq!(p.sweep_started_at, SWEEP);
    let left = block_on(
        portfolios
            .db
            .execute("SELECT COUNT(*) FROM pg_hygiene_deals", Vec::new()),
    )
    .unwrap();
    assert_eq!(left[0][0], crate::ports::SqlValue::Integer(1));
}

#[test]
fn a_sample_is_a_random_draw_of_its_size_new_for_each_sweep() {
    let portfolios = portfolios();
    let mut playbook = Playbook::default_playbook();
    playbook.staleness.portfolio.measure = Measure::Sample;
    let deals: Vec<DealHygiene> = (0..400)
        .map(|i| {
            deal(
                &format!("D-{i}"),
                Some("u-1"),
                if i % 2 == 0 { 100 } else { 0 },
                [true; 5],
            )
        })
        .collect();
    block_on(portfolios.record(Crm::Hubspot, SWEEP, &deals)).unwrap();
    let p = conclude(&portfolios, &playbook);
    assert_eq!((p.open_deals, p.measured, p.sample), (400, 50, Some(50)));
    // Half the deals score 100, half 0: a random 50 lands near 50 %, not at an end.
    assert!((20..=80).contains(&p.hygiene_pct), "{}", p.hygiene_pct);

    let sampled = |sweep: i64| {
        let mut draws: Vec<(i64, &str)> = deals
            .iter()
            .map(|d| (d.draw(sweep), d.deal_id.as_str()))
            .collect();
        draws.sort();
        draws
            .into_iter()
            .take(50)
            .map(|(_, id)| id)
            .collect::<Vec<_>>()
    };
    let this = sampled(SWEEP.unix_timestamp());
    assert_eq!(
        this,
        sampled(SWEEP.unix_timestamp()),
        "the same on every call of a sweep"
    );
    assert_ne!(
        this,
        sampled(SWEEP.unix_timestamp() + 86_400),
        "new for the next"
    );
    assert!(
        !this.iter().all(|id| id.len() <= 4),
        "not the lowest ids: {this:?}"
    );
}

fn measured(hygiene_pct: u8) -> Portfolio {
    Portfolio {
        crm: "hubspot".into(),
        measured_at: NOW,
        sweep_started_at: SWEEP,
        open_deals: 120,
        measured: 120,
        sample: None,
        hygiene_pct,
        trustworthy: 60,
        checks: Vec::new(),
        owners: vec![OwnerRow {
            name: None,
            owner: "<u-9>".into(),
            deals: 120,
            hygiene_pct,
            failed: vec![(Check::Contacts, 40)],
            fix_first: Some(Check::Contacts),
        }],
    }
}

#[test]
fn enforcement_falls_back_to_shadow_below_the_threshold_and_says_why() {
    let rules = Playbook::default_playbook().staleness.portfolio;
    let poor = measured(62);
    let e = enforcement::decide(Crm::Hubspot, Mode::Enforce, &rules, Some(&poor));
    assert_eq!((e.configured, e.mode), (Mode::Enforce, Mode::Shadow));
    assert!(e.fell_back());
    let why = e.why.unwrap();
    assert!(why.contains(enforcement::NOT_GOOD_ENOUGH), "{why}");
    assert!(
        why.contains("62 %") && why.contains("70 %") && why.contains("HubSpot"),
        "{why}"
    );

    let good = measured(70);
    let e = enforcement::decide(Crm::Hubspot, Mode::Enforce, &rules, Some(&good));
    assert_eq!((e.mode, e.why), (Mode::Enforce, None));

    let e = enforcement::decide(Crm::Hubspot, Mode::Shadow, &rules, Some(&poor));
    assert_eq!((e.mode, e.fell_back(), e.why), (Mode::Shadow, false, None));

    let e = enforcement::decide(Crm::Pipedrive, Mode::Enforce, &rules, None);
    assert_eq!(
        e.mode,
        Mode::Enforce,
        "never measured: nothing says the data is poor"
    );
    assert!(e.why.unwrap().contains("not been measured yet"));

    let mut off = rules;
    off.fallback_to_shadow = false;
    let e = enforcement::decide(Crm::Hubspot, Mode::Enforce, &off, Some(&poor));
    assert_eq!(e.mode, Mode::Enforce);
    assert!(e.why.unwrap().contains("fallback_to_shadow is off"));

    for crm in Crm::ALL {
        let e = enforcement::decide(*crm, Mode::Enforce, &rules, Some(&poor));
        assert!(e.fell_back(), "{crm:?}");
        assert_eq!(e.crm, crm.name());
        assert!(e.why.unwrap().contains(crm.label()), "{crm:?}");
    }

    let mut strict = rules;
    strict.threshold = 80;
    let e = enforcement::decide(Crm::Hubspot, Mode::Enforce, &strict, Some(&good));
    assert!(e.fell_back(), "the threshold in force now decides");
}

#[test]
fn the_report_shows_owners_only_from_the_rollout_date_and_every_crm_asked_for() {
    let mut playbook = Playbook::default_playbook();
    let inputs = Inputs {
        portfolios: vec![measured(62)],
        sweeps: vec![(
            Crm::Hubspot,
            SweepState {
                cursor: Some("c".into()),
                started_at: NOW,
                totals: Tally {
                    seen: 300,
                    ..Tally::default()
                },
                pages: 3,
                done: false,
            },
        )],
        started: Some(NOW - time::Duration::days(44)),
        sharers: Default::default(),
        names: Default::default(),
    };
    let r = report::report(&inputs, &playbook, Mode::Enforce, None, NOW);
    assert_eq!(r.portfolios.len(), 1, "only CRMs swept");
    let view = &r.portfolios[0];
    assert!(view.enforcement.fell_back());
    let m = view.measurement.as_ref().unwrap();
    assert!(!m.trustworthy);
    assert!(
        matches!(&m.per_owner, PerRep::Hidden { why, .. } if why.contains("each owner sees the flags on their own deals first") && why.contains("45 days after"))
    );
    // 45 days after the first decision, owners show without any date in the playbook.
    let unlocked = Inputs {
        started: Some(NOW - time::Duration::days(45)),
        ..inputs.clone()
    };
    let r = report::report(&unlocked, &playbook, Mode::Enforce, None, NOW);
    assert!(matches!(
        &r.portfolios[0].measurement.as_ref().unwrap().per_owner,
        PerRep::Shown { .. }
    ));
    assert_eq!(
        view.sweep.as_ref().map(|s| (s.seen, s.done)),
        Some((300, false))
    );
    assert!(!r.not_measured.is_empty());

    playbook.rollout.manager_view_from = Some(date!(2026 - 11 - 01));
    let r = report::report(&inputs, &playbook, Mode::Enforce, None, NOW);
    let PerRep::Shown { rows } = &r.portfolios[0].measurement.as_ref().unwrap().per_owner else {
        panic!("shown from the rollout date");
    };
    assert_eq!(rows[0].owner, "<u-9>");

    let one = report::report(
        &inputs,
        &playbook,
        Mode::Enforce,
        Some(Crm::Salesforce),
        NOW,
    );
    assert_eq!(one.portfolios.len(), 1);
    assert!(
        one.portfolios[0].measurement.is_none(),
        "asked for, never swept"
    );
}

#[test]
fn the_page_says_why_blocking_is_paused_escapes_owners_and_runs_no_script() {
    let mut playbook = Playbook::default_playbook();
    playbook.rollout.manager_view_from = Some(date!(2026 - 11 - 01));
    let inputs = Inputs {
        portfolios: vec![measured(62)],
        sweeps: Vec::new(),
        started: None,
        sharers: Default::default(),
        names: Default::default(),
    };
    let page = html::render(&report::report(
        &inputs,
        &playbook,
        Mode::Enforce,
        None,
        NOW,
    ));
    assert!(page.contains("class=\"alert\""), "{page}");
    assert!(page.contains(enforcement::NOT_GOOD_ENOUGH));
    assert!(page.contains("&lt;u-9&gt;") && !page.contains("<u-9>"));
    assert!(page.contains("fix first: <strong>contacts have a title"));
    assert!(page.contains("data-view=\"shown\""));
    assert!(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"));
    for item in report::NOT_MEASURED {
        assert!(page.contains(&crate::html::escape(item)), "{item}");
    }

    let empty = html::render(&report::report(
        &Inputs::default(),
        &playbook,
        Mode::Shadow,
        None,
        NOW,
    ));
    assert!(empty.contains("No CRM has been swept yet"));
}

#[test]
fn a_deals_hygiene_is_read_from_its_checklist() {
    let playbook = Playbook::default_playbook();
    let mut record = crate::model::Record::new_deal("D-7");
    record.owner_id = Some(" ".into());
    let report = crate::staleness::assess(&record, &playbook, NOW);
    let hygiene = DealHygiene::of(&record, &report.hygiene);
    assert_eq!(hygiene.owner, None, "a blank owner is no owner");
    assert_eq!(hygiene.score_pct, report.hygiene.score_pct);
    for (check, outcome) in Check::ALL.iter().zip(hygiene.outcomes) {
        assert_eq!(outcome, report.hygiene.passed(*check), "{check:?}");
        assert_eq!(
            serde_json::to_value(check).unwrap(),
            serde_json::json!(check.key()),
            "a check's key is its JSON name"
        );
    }
}

#[test]
fn before_the_unlock_an_owner_s_row_shows_only_while_they_share_their_hygiene() {
    let playbook = Playbook::default_playbook();
    let inputs = Inputs {
        portfolios: vec![measured(62)],
        sweeps: Vec::new(),
        started: Some(NOW - time::Duration::days(10)),
        sharers: [("hubspot".to_owned(), "<u-9>".to_owned())]
            .into_iter()
            .collect(),
        names: Default::default(),
    };
    let r = report::report(&inputs, &playbook, Mode::Shadow, None, NOW);
    let PerRep::Hidden { shared, why, .. } =
        &r.portfolios[0].measurement.as_ref().unwrap().per_owner
    else {
        panic!("still locked")
    };
    assert!(why.contains("Team totals only"), "{why}");
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].owner, "<u-9>");
    let page = crate::portfolio::html::render(&r);
    assert!(page.contains("Shared by their own choice") && page.contains("&lt;u-9&gt;"));

    let other_crm = Inputs {
        sharers: [("pipedrive".to_owned(), "<u-9>".to_owned())]
            .into_iter()
            .collect(),
        ..inputs.clone()
    };
    let r = report::report(&other_crm, &playbook, Mode::Shadow, None, NOW);
    assert!(matches!(
        &r.portfolios[0].measurement.as_ref().unwrap().per_owner,
        PerRep::Hidden { shared, .. } if shared.is_empty()
    ));
    assert!(!crate::portfolio::html::render(&r).contains("u-9"));
}
