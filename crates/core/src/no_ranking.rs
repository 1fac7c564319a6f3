//! No ranking, tested: every report and page that shows reps (the coaching report and the hygiene
//! report, as JSON and as HTML) lists them by name, never by a figure, and shows no rank,
//! percentile or leaderboard; so do their rows a rep shared before the unlock; and the rep's own
//! page names no other rep and ranks nothing, in JSON or HTML. The reps here are named so that their order by name is neither
//! their order by score nor its reverse: a list sorted by any figure fails. Where the CRM's ids
//! are numbers and the names come from the users API ([`crate::people`]), reps are listed by
//! those names, case-insensitively, neither by id nor by a figure.

use futures::executor::block_on;
use serde_json::Value;
use time::{Duration, OffsetDateTime, macros::datetime};

use crate::{
    crm_id::Crm,
    handoffs::{
        DimensionSnapshot, HandoffLog, HandoffRecord,
        report::{PerBdr, Report, ReportQuery},
        sql::SqlHandoffs,
    },
    hygiene::Check,
    mode::Mode,
    people::{KnownName, PeopleStore, sql::SqlPeople},
    playbook::{Playbook, rollout::PerRep},
    portfolio::{DealHygiene, SqlPortfolios, report},
    ports::Database,
    score::Status,
    test_sqlite::Sqlite,
};

const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

/// The reps by name; their figures below put them in another order.
const BY_NAME: [&str; 3] = ["adam", "maya", "zoe"];

/// A playbook whose managers' views are open.
fn unlocked() -> Playbook {
    let mut playbook = Playbook::default_playbook();
    playbook.rollout.manager_view_from = Some(datetime!(2026-01-05 0:00 UTC).date());
    playbook
}

/// The coaching report, its view open, after three handoffs by each BDR of `plan`, the given
/// number of them validated.
fn coaching_report<D: Database>(log: &SqlHandoffs<D>, plan: [(&str, usize); 3]) -> Report {
    let mut records = Vec::new();
    for (bdr, validated) in plan {
        for n in 0..3 {
            records.push(handoff(records.len(), bdr, n < validated));
        }
    }
    block_on(log.record_handoffs(&records)).unwrap();
    block_on(log.report(&ReportQuery::default(), &unlocked(), NOW)).unwrap()
}

fn handoff(i: usize, bdr: &str, validated: bool) -> HandoffRecord {
    HandoffRecord {
        key: format!("h{i}"),
        crm: Crm::Hubspot,
        deal_id: format!("D{i}"),
        deal_name: None,
        bdr: Some(bdr.into()),
        ae: Some("ae-1".into()),
        at: NOW - Duration::days(3),
        status: if validated { "validated" } else { "blocked" }.into(),
        rule: "all rules passed".into(),
        threshold: 60,
        score: if validated { 80 } else { 30 },
        from_stage: None,
        to_stage: "sales_accepted".into(),
        dimensions: vec![DimensionSnapshot {
            key: "pain".into(),
            status: if validated {
                Status::Green
            } else {
                Status::Red
            },
            points: 0.0,
            max_points: 20.0,
        }],
    }
}

/// Where each name first appears in `text`, in [`BY_NAME`] order; every name must appear.
fn positions(text: &str) -> Vec<usize> {
    BY_NAME
        .iter()
        .map(|name| {
            text.find(&format!(">{name}<"))
                .or_else(|| text.find(&format!("\"{name}\"")))
                .unwrap_or_else(|| panic!("{name} is missing: {text}"))
        })
        .collect()
}

/// No key of `json`, however deep, speaks of a rank, a percentile or a leaderboard.
fn no_rank_keys(json: &Value) {
    match json {
        Value::Object(map) => {
            for (key, value) in map {
                let key = key.to_ascii_lowercase();
                assert!(
                    !["rank", "percentile", "leaderboard", "position", "top_"]
                        .iter()
                        .any(|word| key.contains(word)),
                    "a ranking key: {key}"
                );
                no_rank_keys(value);
            }
        }
        Value::Array(items) => items.iter().for_each(no_rank_keys),
        _ => {}
    }
}

/// A page shows no rank, percentile or leaderboard.
fn no_rank_words(page: &str) {
    let page = page.to_ascii_lowercase();
    for word in [
        "percentile",
        "leaderboard",
        "rank #",
        "ranked #",
        "top performer",
        "ranking",
    ] {
        assert!(!page.contains(word), "{word:?} on a page");
    }
}

fn sorted(positions: &[usize]) -> bool {
    positions.windows(2).all(|w| w[0] < w[1])
}

/// The hygiene report of a sweep of `db` whose owners' deals score as `owners` say, four deals
/// each, with the names `db` keeps.
fn hygiene_report(db: &Sqlite, owners: &[(&str, u8)]) -> report::HygieneReport {
    let portfolios = SqlPortfolios::new(db);
    block_on(portfolios.create_tables()).unwrap();
    let deals: Vec<DealHygiene> = owners
        .iter()
        .flat_map(|&(owner, score)| {
            (0..4).map(move |i| DealHygiene {
                deal_id: format!("{owner}-{i}"),
                owner: Some(owner.into()),
                score_pct: score,
                outcomes: [Some(score > 40); Check::ALL.len()],
            })
        })
        .collect();
    let playbook = unlocked();
    let sweep = NOW - Duration::hours(1);
    block_on(portfolios.record(Crm::Hubspot, sweep, &deals)).unwrap();
    block_on(portfolios.conclude(Crm::Hubspot, sweep, &playbook, NOW)).unwrap();
    let people = SqlPeople::new(db);
    block_on(people.create_tables()).unwrap();
    let inputs = report::Inputs {
        portfolios: block_on(portfolios.all()).unwrap(),
        sweeps: Vec::new(),
        started: block_on(portfolios.first_decision()).unwrap(),
        sharers: Default::default(),
        names: block_on(crate::people::sql::kept_names(db)).unwrap(),
    };
    report::report(&inputs, &playbook, Mode::Shadow, None, NOW)
}

#[test]
fn the_coaching_report_lists_bdrs_by_name_and_ranks_nobody() {
    let log = SqlHandoffs::new(Sqlite::in_memory());
    block_on(log.create_tables()).unwrap();
    // By validated share: adam 3 of 3, zoe 2, maya 1: neither name order nor its reverse.
    let report = coaching_report(&log, [("zoe", 2), ("adam", 3), ("maya", 1)]);
    let PerBdr::Shown { rows } = &report.per_bdr else {
        panic!("the view is open: {:?}", report.per_bdr)
    };
    let names: Vec<&str> = rows.iter().map(|r| r.bdr.as_str()).collect();
    assert_eq!(names, BY_NAME);
    let json = serde_json::to_value(&report).unwrap();
    no_rank_keys(&json);
    assert!(sorted(&positions(&json["per_bdr"].to_string())));
    let page = crate::handoffs::html::render(&report);
    no_rank_words(&page);
    assert!(sorted(&positions(&page)), "BDRs in name order on the page");
}

#[test]
fn the_hygiene_report_lists_owners_by_name_and_ranks_nobody() {
    // Hygiene: maya best, zoe worst, adam between.
    let report = hygiene_report(
        &Sqlite::in_memory(),
        &[("zoe", 20), ("adam", 50), ("maya", 90)],
    );
    let measurement = report.portfolios[0].measurement.as_ref().unwrap();
    let PerRep::Shown { rows } = &measurement.per_owner else {
        panic!("the view is open: {:?}", measurement.per_owner)
    };
    let names: Vec<&str> = rows.iter().map(|r| r.owner.as_str()).collect();
    assert_eq!(names, BY_NAME);
    let json = serde_json::to_value(&report).unwrap();
    no_rank_keys(&json);
    let page = crate::portfolio::html::render(&report);
    no_rank_words(&page);
    assert!(
        sorted(&positions(&page)),
        "owners in name order on the page"
    );
}

#[test]
fn shared_rows_before_the_unlock_are_listed_by_name_and_rank_nobody() {
    let db = Sqlite::in_memory();
    let log = SqlHandoffs::new(&db);
    block_on(log.create_tables()).unwrap();
    let plan = [("zoe", 2), ("adam", 3), ("maya", 1)];
    let mut records = Vec::new();
    for (bdr, validated) in plan {
        for n in 0..3 {
            records.push(handoff(records.len(), bdr, n < validated));
        }
    }
    block_on(log.record_handoffs(&records)).unwrap();
    let playbook = Playbook::default_playbook();
    for bdr in BY_NAME {
        block_on(crate::rep_page::sharing::choose(
            &db,
            Crm::Hubspot,
            bdr,
            &[crate::rep_page::sharing::Section::Handoffs],
            NOW,
        ))
        .unwrap();
    }
    let report = block_on(log.report(&ReportQuery::default(), &playbook, NOW)).unwrap();
    let PerBdr::Hidden { shared, .. } = &report.per_bdr else {
        panic!("still locked: {:?}", report.per_bdr)
    };
    let names: Vec<&str> = shared.iter().map(|r| r.bdr.as_str()).collect();
    assert_eq!(names, BY_NAME);
    no_rank_keys(&serde_json::to_value(&report).unwrap());
    let page = crate::handoffs::html::render(&report);
    no_rank_words(&page);
    assert!(sorted(&positions(&page)), "shared rows in name order");
}

#[test]
fn the_rep_s_own_page_names_no_other_rep_and_ranks_nothing() {
    use crate::{
        rep_page::{html, link::RepLinks, page::gather},
        secret::Secret,
    };
    let db = Sqlite::in_memory();
    let log = SqlHandoffs::new(&db);
    block_on(log.create_tables()).unwrap();
    block_on(crate::conversation::history::SqlCalls::new(&db).create_tables()).unwrap();
    block_on(crate::review::sql::SqlReview::new(&db).create_tables()).unwrap();
    block_on(SqlPortfolios::new(&db).create_tables()).unwrap();
    let records: Vec<HandoffRecord> = BY_NAME
        .iter()
        .enumerate()
        .map(|(i, bdr)| handoff(i, bdr, i % 2 == 0))
        .collect();
    block_on(log.record_handoffs(&records)).unwrap();
    let links = RepLinks::new(Secret::new("k"), "https://hooks.example.com");
    let link = links
        .verify(Some(&links.query(Crm::Hubspot, "maya", NOW)), NOW)
        .unwrap();
    let page = block_on(gather(&db, &link, &unlocked(), NOW)).unwrap();
    assert_eq!(page.handoffs.len(), 1);
    let json = serde_json::to_value(&page).unwrap();
    no_rank_keys(&json);
    let text = json.to_string();
    assert!(!text.contains("adam") && !text.contains("zoe"), "{text}");
    let html = html::render(&page, &link.token);
    no_rank_words(&html);
    for other in ["adam", "zoe", "peer", "team average"] {
        assert!(!html.contains(other), "{other} on the rep's page");
    }
}

/// CRM user ids whose order is neither their names' order nor their figures': `(id, name)`,
/// in the order by name (case-insensitive).
const KEPT: [(&str, &str); 3] = [("2", "Adam Ortiz"), ("3", "maya Chen"), ("1", "Zoe Brandt")];

fn keep_names(db: &Sqlite) {
    let people = SqlPeople::new(db);
    block_on(people.create_tables()).unwrap();
    let known: Vec<KnownName> = KEPT
        .iter()
        .map(|(id, name)| KnownName {
            id: (*id).into(),
            name: Some((*name).into()),
            fetched_at: NOW - Duration::hours(2),
        })
        .collect();
    block_on(people.keep(Crm::Hubspot, &known)).unwrap();
}

/// Where each kept name first appears in `text`, in name order.
fn name_positions(text: &str) -> Vec<usize> {
    KEPT.iter()
        .map(|(_, name)| {
            text.find(name)
                .unwrap_or_else(|| panic!("{name} is missing: {text}"))
        })
        .collect()
}

#[test]
fn the_coaching_report_lists_bdrs_by_their_crm_names_not_by_id_or_figure() {
    let db = Sqlite::in_memory();
    let log = SqlHandoffs::new(&db);
    block_on(log.create_tables()).unwrap();
    keep_names(&db);
    // Validated: maya (3) all three, Zoe (1) two, Adam (2) one.
    let report = coaching_report(&log, [("1", 2), ("2", 1), ("3", 3)]);
    let PerBdr::Shown { rows } = &report.per_bdr else {
        panic!("the view is open: {:?}", report.per_bdr)
    };
    let shown: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r.bdr.as_str(), r.name.as_deref()))
        .collect();
    let expected: Vec<(&str, Option<&str>)> =
        KEPT.iter().map(|(id, name)| (*id, Some(*name))).collect();
    assert_eq!(shown, expected);
    let json = serde_json::to_value(&report).unwrap();
    no_rank_keys(&json);
    assert_eq!(json["per_bdr"]["rows"][0]["name"], "Adam Ortiz");
    assert_eq!(
        json["per_bdr"]["rows"][0]["bdr"], "2",
        "the id stays beside the name"
    );
    let page = crate::handoffs::html::render(&report);
    no_rank_words(&page);
    assert!(
        sorted(&name_positions(&page)),
        "BDRs in name order on the page"
    );
    assert!(page.contains("user 2"), "the id beside the name");
}

#[test]
fn the_hygiene_report_lists_owners_by_their_crm_names_not_by_id_or_figure() {
    let db = Sqlite::in_memory();
    keep_names(&db);
    // Hygiene: Zoe (1) best, maya (3) worst, Adam (2) between.
    let report = hygiene_report(&db, &[("1", 90), ("2", 50), ("3", 20)]);
    let measurement = report.portfolios[0].measurement.as_ref().unwrap();
    let PerRep::Shown { rows } = &measurement.per_owner else {
        panic!("the view is open: {:?}", measurement.per_owner)
    };
    let shown: Vec<&str> = rows.iter().map(|r| r.owner.as_str()).collect();
    assert_eq!(shown, ["2", "3", "1"]);
    let json = serde_json::to_value(&report).unwrap();
    no_rank_keys(&json);
    let page = crate::portfolio::html::render(&report);
    no_rank_words(&page);
    assert!(
        sorted(&name_positions(&page)),
        "owners in name order on the page"
    );
}
