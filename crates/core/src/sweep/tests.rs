//! The sweep against a recording CRM answering list pages from `fixtures/<crm>/api/`, with the
//! sweeps' table in an in-memory SQLite.

use std::time::Duration;

use futures::executor::block_on;
use serde_json::Value;
use time::macros::datetime;

use super::*;
use crate::{
    api::Limits,
    crm::{Crm, generic::Generic, hubspot::Hubspot, pipedrive::Pipedrive, salesforce::Salesforce},
    memory::{RecordingCrm, StoppedClock},
    mode::Mode,
    test_sqlite::Sqlite,
};

/// Monday 23 November 2026, noon.
const NOW: OffsetDateTime = datetime!(2026-11-23 12:00 UTC);
const FIRST: &str = "/records/deals?status=open&limit=100";
const SECOND: &str = "/records/deals?status=open&limit=100&cursor=c-page-2";

fn fixture(path: &str) -> Value {
    let path = format!("{}/../../fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_slice(&std::fs::read(&path).expect(&path)).expect("JSON")
}

fn sweeps() -> Stores<Sqlite, Sqlite> {
    let stores = Stores {
        sweeps: SqlSweeps::new(Sqlite::in_memory()),
        portfolios: SqlPortfolios::new(Sqlite::in_memory()),
    };
    block_on(stores.sweeps.create_tables()).unwrap();
    block_on(stores.portfolios.create_tables()).unwrap();
    stores
}

/// The CRM's last portfolio measurement.
fn measured(stores: &Stores<Sqlite, Sqlite>, crm: Crm) -> crate::portfolio::Portfolio {
    block_on(stores.portfolios.latest(crm))
        .unwrap()
        .expect("a measurement")
}

fn generic_crm() -> RecordingCrm {
    let crm = RecordingCrm::default();
    crm.answer("GET", FIRST, fixture("generic/api/open-deals-page-1.json"));
    crm.answer("GET", SECOND, fixture("generic/api/open-deals-page-2.json"));
    crm
}

fn run<A: Adapter>(
    adapter: &A,
    crm: &impl CrmClient,
    sweeps: &Stores<Sqlite, Sqlite>,
    claimant: &str,
    now: OffsetDateTime,
) -> Result<SweepProgress, Error> {
    let clock = StoppedClock::default();
    let api = Api::new(crm, &clock, Limits::within(Duration::from_secs(10)));
    block_on(sweep_page(
        adapter,
        sweeps,
        &Settings::new(Playbook::default_playbook(), Mode::Enforce),
        claimant,
        now,
        &api,
    ))
}

fn listed(crm: &RecordingCrm) -> Vec<String> {
    crm.calls()
        .into_iter()
        .filter(|c| c.method == "GET")
        .map(|c| c.path)
        .collect()
}

fn patched(crm: &RecordingCrm) -> Vec<String> {
    crm.calls()
        .into_iter()
        .filter(|c| c.method == "PATCH")
        .map(|c| c.path)
        .collect()
}

#[test]
fn a_sweep_pages_through_the_open_deals_keeps_its_cursor_and_starts_over_when_done() {
    let (crm, sweeps) = (generic_crm(), sweeps());
    let first = run(&Generic, &crm, &sweeps, "a", NOW).unwrap();
    assert_eq!(first.status, SweepStatus::Swept);
    assert_eq!(
        (first.done, first.cursor.as_deref()),
        (false, Some("c-page-2"))
    );
    assert_eq!(
        first.this_call,
        Tally {
            seen: 2,
            flagged: 1,
            cleared: 0,
            written: 2,
            failed: 0
        }
    );
    assert_eq!(
        patched(&crm),
        ["/records/deals/D-201", "/records/deals/D-202"]
    );
    let stale = crm
        .calls()
        .into_iter()
        .find(|c| c.path == "/records/deals/D-202")
        .unwrap();
    assert_eq!(stale.body["notices"][0]["to"], "u-1", "{}", stale.body);

    let second = run(&Generic, &crm, &sweeps, "b", NOW).unwrap();
    assert_eq!((second.done, second.cursor.as_deref()), (true, None));
    assert_eq!(
        (second.this_call.seen, second.sweep.seen, second.pages),
        (1, 3, 2)
    );
    assert_eq!(listed(&crm), [FIRST, SECOND]);
    assert_eq!(first.hygiene_pct, None, "measured when the sweep ends");
    let portfolio = measured(&sweeps, Crm::Generic);
    assert_eq!(second.hygiene_pct, Some(portfolio.hygiene_pct));
    assert_eq!((portfolio.open_deals, portfolio.measured), (3, 3));
    assert_eq!(portfolio.sweep_started_at, NOW);
    assert!(!portfolio.owners.is_empty());

    let again = run(&Generic, &crm, &sweeps, "c", NOW).unwrap();
    assert_eq!(
        (again.sweep.seen, again.pages, again.done),
        (2, 1, false),
        "a new sweep"
    );
    assert_eq!(listed(&crm).last().map(String::as_str), Some(FIRST));
}

#[test]
fn a_crm_failure_mid_sweep_keeps_the_cursor_and_the_next_call_resumes_there() {
    let (crm, sweeps) = (generic_crm(), sweeps());
    run(&Generic, &crm, &sweeps, "a", NOW).unwrap();
    crm.fail(Some("500 Internal Server Error"));
    let failed = run(&Generic, &crm, &sweeps, "b", NOW).unwrap();
    assert_eq!(failed.status, SweepStatus::RetryLater);
    assert_eq!(
        (failed.cursor.as_deref(), failed.pages),
        (Some("c-page-2"), 1)
    );
    assert_eq!(failed.retry_after_s, Some(RETRY_AFTER_S));
    assert!(failed.error.unwrap().contains("500"));
    crm.fail(None);
    let resumed = run(&Generic, &crm, &sweeps, "c", NOW).unwrap();
    assert_eq!(
        (resumed.status, resumed.done, resumed.sweep.seen),
        (SweepStatus::Swept, true, 3)
    );
    assert_eq!(listed(&crm), [FIRST, SECOND], "page 1 listed once");
}

#[test]
fn a_rate_limit_past_the_deadline_keeps_the_cursor_and_says_when_to_call_again() {
    let (crm, sweeps) = (generic_crm(), sweeps());
    run(&Generic, &crm, &sweeps, "a", NOW).unwrap();
    crm.refuse(
        "GET",
        SECOND,
        Error::CrmRateLimited {
            call: format!("GET {SECOND}"),
            retry_after_ms: 20_500,
        },
    );
    let limited = run(&Generic, &crm, &sweeps, "b", NOW).unwrap();
    assert_eq!(limited.status, SweepStatus::RetryLater);
    assert_eq!(
        (limited.retry_after_s, limited.cursor.as_deref()),
        (Some(21), Some("c-page-2"))
    );
    assert_eq!(limited.this_call, Tally::default());
}

#[test]
fn a_second_sweep_while_the_lease_holds_does_nothing_and_one_after_it_expires_works() {
    let (crm, sweeps) = (generic_crm(), sweeps());
    assert!(
        block_on(sweeps.sweeps.claim(Crm::Generic, "first", NOW))
            .unwrap()
            .is_some()
    );
    let busy = run(&Generic, &crm, &sweeps, "second", NOW).unwrap();
    assert_eq!((busy.status, busy.done), (SweepStatus::Busy, false));
    assert!(crm.calls().is_empty(), "nothing listed, nothing written");
    let later = run(&Generic, &crm, &sweeps, "third", NOW + lease::LEASE).unwrap();
    assert_eq!(
        later.status,
        SweepStatus::Swept,
        "a crashed call's lease expires"
    );
}

#[test]
fn an_unchanged_stale_deal_is_written_nothing_when_swept_again() {
    let (crm, sweeps) = (generic_crm(), sweeps());
    run(&Generic, &crm, &sweeps, "a", NOW).unwrap();
    // The CRM now holds what the first sweep wrote.
    let mut page = fixture("generic/api/open-deals-page-1.json");
    for call in crm.calls().iter().filter(|c| c.method == "PATCH") {
        let i = usize::from(call.path.ends_with("D-202"));
        for (name, value) in call.body["fields"].as_object().unwrap() {
            page["records"][i]["fields"][name] = value.clone();
        }
    }
    page["next_cursor"] = Value::Null;
    let crm = RecordingCrm::default();
    crm.answer("GET", FIRST, page);
    let again = run(&Generic, &crm, &sweeps, "b", NOW + time::Duration::days(1)).unwrap();
    assert_eq!((again.this_call.flagged, again.this_call.written), (1, 0));
    assert!(patched(&crm).is_empty(), "{:?}", crm.calls());
}

fn hubspot_crm() -> RecordingCrm {
    let crm = RecordingCrm::default();
    crm.answer(
        "POST",
        "/crm/v3/objects/deals/search",
        fixture("hubspot/api/search-open-deals.json"),
    );
    crm.answer(
        "POST",
        "/crm/v3/objects/deals/batch/read",
        fixture("hubspot/api/deals-batch-stale.json"),
    );
    crm.answer(
        "POST",
        "/crm/v4/associations/deals/contacts/batch/read",
        fixture("hubspot/api/associations-stale.json"),
    );
    crm.answer(
        "POST",
        "/crm/v3/objects/contacts/batch/read",
        fixture("hubspot/api/contacts-batch-stale.json"),
    );
    crm
}

fn searches(crm: &RecordingCrm) -> Vec<Value> {
    crm.calls()
        .into_iter()
        .filter(|c| c.path == "/crm/v3/objects/deals/search")
        .map(|c| c.body)
        .collect()
}

#[test]
fn hubspot_searches_open_deals_by_id_and_restarts_above_the_last_id_before_the_cap() {
    let (crm, sweeps) = (hubspot_crm(), sweeps());
    let first = run(&Hubspot, &crm, &sweeps, "a", NOW).unwrap();
    assert_eq!(
        (first.this_call.seen, first.this_call.failed),
        (3, 0),
        "{first:?}"
    );
    assert!(first.this_call.flagged >= 1);
    let search = &searches(&crm)[0];
    assert_eq!(
        search["filterGroups"][0]["filters"][0]["propertyName"],
        "hs_is_closed"
    );
    assert_eq!(search["sorts"][0]["propertyName"], "hs_object_id");
    assert!(search.get("after").is_none());
    assert!(
        crm.calls()
            .iter()
            .any(|c| c.path.starts_with("/crm/v3/objects/deals/batch/read"))
    );
    assert!(
        crm.calls()
            .iter()
            .any(|c| c.path.starts_with("/crm/v3/objects/contacts/batch/read"))
    );

    // Deep into a query: the next page would pass 10,000 results, so the query restarts.
    let state = SweepState {
        cursor: Some(r#"{"after":"9900","read":9900}"#.into()),
        ..SweepState::new(NOW)
    };
    block_on(
        sweeps
            .sweeps
            .claim(Crm::Hubspot, "z", NOW + time::Duration::hours(1)),
    )
    .unwrap();
    block_on(sweeps.sweeps.save(Crm::Hubspot, "z", &state)).unwrap();
    assert_eq!(
        block_on(sweeps.portfolios.latest(Crm::Hubspot)).unwrap(),
        None
    );
    let deep = run(&Hubspot, &crm, &sweeps, "b", NOW + time::Duration::hours(1)).unwrap();
    assert_eq!(searches(&crm)[1]["after"], "9900");
    assert_eq!(deep.cursor.as_deref(), Some(r#"{"gt":"9103","read":0}"#));
    run(&Hubspot, &crm, &sweeps, "c", NOW + time::Duration::hours(1)).unwrap();
    let restarted = &searches(&crm)[2];
    assert_eq!(restarted["filterGroups"][0]["filters"][1]["operator"], "GT");
    assert_eq!(restarted["filterGroups"][0]["filters"][1]["value"], "9103");
    assert!(restarted.get("after").is_none());

    // The last page: no next page, fewer deals than asked for. The sweep ends and measures.
    let mut last = fixture("hubspot/api/search-open-deals.json");
    last.as_object_mut().map(|o| o.remove("paging"));
    crm.answer("POST", "/crm/v3/objects/deals/search", last);
    let end = run(&Hubspot, &crm, &sweeps, "d", NOW + time::Duration::hours(1)).unwrap();
    assert!(end.done, "{end:?}");
    let portfolio = measured(&sweeps, Crm::Hubspot);
    assert_eq!(end.hygiene_pct, Some(portfolio.hygiene_pct));
    assert_eq!(
        portfolio.open_deals, 3,
        "the three deals, each counted once"
    );
    assert!(portfolio.owners.iter().all(|o| o.deals > 0));
}

#[test]
fn pipedrive_lists_open_deals_with_the_v2_cursor_and_reads_their_activities_and_persons_by_id() {
    let (crm, sweeps) = (RecordingCrm::default(), sweeps());
    crm.answer(
        "GET",
        "/api/v2/deals?",
        fixture("pipedrive/api/deals-open-page.json"),
    );
    crm.answer(
        "GET",
        "/api/v2/activities?",
        fixture("pipedrive/api/activities-by-ids.json"),
    );
    crm.answer(
        "GET",
        "/api/v2/persons?",
        fixture("pipedrive/api/persons-by-ids.json"),
    );
    let first = run(&Pipedrive, &crm, &sweeps, "a", NOW).unwrap();
    assert_eq!(
        (first.this_call.seen, first.this_call.flagged),
        (1, 1),
        "{first:?}"
    );
    assert_eq!(
        first.cursor.as_deref(),
        Some("eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6MTAyfQ")
    );
    let paths = listed(&crm);
    assert!(
        paths[0].starts_with("/api/v2/deals?status=open&sort_by=id"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/api/v2/persons?ids=201&limit=100".to_owned()),
        "the page's persons read in one call: {paths:?}"
    );
    let contacts_read = crm
        .calls()
        .into_iter()
        .filter(|c| c.path.starts_with("/api/v2/persons"))
        .count();
    assert_eq!(contacts_read, 1);
    assert!(
        paths[0].contains("last_activity_id%2Cnext_activity_id"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"/api/v2/activities?ids=9001&limit=100".to_owned()),
        "the last activity read by its id: {paths:?}"
    );
    assert!(
        paths.contains(
            &"/api/v2/activities?deal_id=102&done=true&sort_by=due_date&sort_direction=desc&limit=100"
                .to_owned()
        ),
        "the deal's done activities, as it has some: {paths:?}"
    );
    assert!(
        paths.contains(
            &"/api/v2/organizations?ids=41&limit=100&include_option_labels=true".to_owned()
        ),
        "the page's organizations read in one call: {paths:?}"
    );
    // Rotting from the last call (10 September), not from the stage change or the last email.
    let flag = crm
        .calls()
        .into_iter()
        .find(|c| c.method == "PATCH")
        .map(|c| c.body.to_string())
        .unwrap();
    assert!(flag.contains("since 2026-09-"), "{flag}");
    assert_eq!(
        block_on(sweeps.portfolios.latest(Crm::Pipedrive)).unwrap(),
        None
    );
    // The next page is the last: the same deal again (listed twice, counted once), now with a
    // meeting booked for 30 November, which holds rotting back.
    let mut last = fixture("pipedrive/api/deals-open-page.json");
    last["additional_data"]["next_cursor"] = Value::Null;
    last["data"][0]["next_activity_id"] = 9002.into();
    crm.answer("GET", "/api/v2/deals?status=open&sort_by=id", last);
    let second = run(&Pipedrive, &crm, &sweeps, "b", NOW).unwrap();
    assert!(second.done, "{second:?}");
    assert_eq!(
        (second.this_call.flagged, second.this_call.cleared),
        (0, 0),
        "held back by the next activity; the CRM's flag is unchanged in this recording"
    );
    assert!(listed(&crm).contains(&"/api/v2/activities?ids=9001,9002&limit=100".to_owned()));
    let portfolio = measured(&sweeps, Crm::Pipedrive);
    assert_eq!(second.hygiene_pct, Some(portfolio.hygiene_pct));
    assert_eq!((second.sweep.seen, portfolio.open_deals), (2, 1));
    assert!(
        listed(&crm)
            .iter()
            .any(|p| p.ends_with("&cursor=eyJmaWVsZCI6ImlkIiwiZmllbGRWYWx1ZSI6MTAyfQ"))
    );
}

#[test]
fn salesforce_queries_open_opportunities_after_the_last_id_with_their_next_activities() {
    let (crm, sweeps) = (RecordingCrm::default(), sweeps());
    crm.answer(
        "GET",
        "/services/data/v65.0/query",
        fixture("salesforce/api/query-open-opportunities.json"),
    );
    let query_starting = |soql: &str| {
        format!(
            "/services/data/v65.0/query?q={}",
            crate::crm::path_segment(soql)
        )
    };
    crm.answer(
        "GET",
        &query_starting("SELECT Id, (SELECT Subject"),
        fixture("salesforce/api/activities-open-opportunities.json"),
    );
    crm.answer(
        "GET",
        &query_starting("SELECT Id, Account."),
        fixture("salesforce/api/accounts-open-opportunities.json"),
    );
    let first = run(&Salesforce, &crm, &sweeps, "a", NOW).unwrap();
    assert_eq!((first.this_call.seen, first.done), (2, true), "{first:?}");
    assert!(first.this_call.flagged >= 1);
    let portfolio = measured(&sweeps, Crm::Salesforce);
    assert_eq!(
        (portfolio.open_deals, first.hygiene_pct),
        (2, Some(portfolio.hygiene_pct))
    );
    let calls = portfolio
        .checks
        .iter()
        .find(|c| c.check == crate::hygiene::Check::CallNotes)
        .unwrap();
    assert_eq!(
        (calls.passed, calls.failed, calls.not_applicable),
        (1, 1, 0),
        "the page's calls read with one query: one with notes on pain, timeline and next steps, \
         one without"
    );
    let queries = crm
        .calls()
        .into_iter()
        .filter(|c| c.path.starts_with("/services/data/v65.0/query"))
        .count();
    assert_eq!(queries, 4, "the list, contact roles, activities, Accounts");
    let query = crm.calls()[0].path.clone();
    for part in [
        "IsClosed%20%3D%20false",
        "ORDER%20BY%20Id",
        "FROM%20Tasks",
        "LIMIT%20100",
    ] {
        assert!(query.contains(part), "{part} in {query}");
    }
    assert!(
        !query.contains("Id%20%3E"),
        "the first page starts at the beginning"
    );
    assert!(crm.calls().iter().any(|c| {
        c.path
            .starts_with("/services/data/v65.0/composite/sobjects")
    }));
}

/// A CRM that took the stale flag ("owner told …") but not the task (HubSpot updates the deal,
/// then creates the task): the next sweep must tell the owner again, not take them as told.
#[test]
fn an_owner_whose_task_failed_is_told_by_the_next_sweep() {
    // What a sweep writes to the stale deal D-202 when the CRM takes everything.
    let reference = generic_crm();
    run(&Generic, &reference, &sweeps(), "ref", NOW).unwrap();
    let written = reference
        .calls()
        .into_iter()
        .find(|c| c.path == "/records/deals/D-202")
        .unwrap()
        .body;
    assert!(!written["notices"].as_array().unwrap().is_empty());
    // The listing as the CRM shows it after taking the flag and losing the task.
    let mut told = fixture("generic/api/open-deals-page-1.json");
    for (field, value) in written["fields"].as_object().unwrap() {
        told["records"][1]["fields"][field] = value.clone();
    }
    let listing_after = || {
        let crm = RecordingCrm::default();
        crm.answer("GET", FIRST, told.clone());
        crm
    };

    let stores = sweeps();
    let failing = generic_crm();
    failing.refuse(
        "PATCH",
        "/records/deals/D-202",
        Error::CrmRejected {
            call: "PATCH /records/deals/D-202".into(),
            reason: "task: owner inactive".into(),
        },
    );
    let first = run(&Generic, &failing, &stores, "a", NOW).unwrap();
    assert_eq!(first.this_call.failed, 1, "{first:?}");
    assert_eq!(
        block_on(stores.sweeps.untold(Crm::Generic, &["D-201", "D-202"])).unwrap(),
        BTreeSet::from(["D-202".to_owned()])
    );

    // The next sweep: the CRM shows the flag, yet the owner is told (a task again).
    let crm = listing_after();
    let again = run(&Generic, &crm, &stores, "b", NOW + time::Duration::hours(1)).unwrap();
    let patch = crm
        .calls()
        .into_iter()
        .find(|c| c.path == "/records/deals/D-202")
        .expect("D-202 written again");
    assert!(
        !patch.body["notices"].as_array().unwrap().is_empty(),
        "{}",
        patch.body
    );
    assert_eq!(again.this_call.failed, 0);
    assert!(
        block_on(stores.sweeps.untold(Crm::Generic, &["D-202"]))
            .unwrap()
            .is_empty(),
        "told now"
    );

    // Without the failure, the same listing is already told: nothing is written.
    let crm = listing_after();
    run(
        &Generic,
        &crm,
        &sweeps(),
        "c",
        NOW + time::Duration::hours(1),
    )
    .unwrap();
    assert!(
        crm.calls().iter().all(|c| c.path != "/records/deals/D-202"),
        "{:?}",
        crm.calls()
    );
}
