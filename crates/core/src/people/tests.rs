use std::{collections::BTreeSet, time::Duration};

use futures::executor::block_on;
use serde_json::json;
use time::macros::datetime;

use super::{
    KnownName, LIFETIME, Names, NoPeople, PeopleStore, by_name, labelled, lookup,
    memory::MemoryPeople,
    sql::{SqlPeople, kept_names, name_of},
};
use crate::{
    Error,
    api::{Api, Limits},
    crm::{hubspot::Hubspot, pipedrive::Pipedrive},
    crm_id::Crm,
    memory::{RecordingCrm, StoppedClock},
    test_sqlite::Sqlite,
};

fn ids(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

fn owner(id: &str, first: &str, last: &str) -> serde_json::Value {
    json!({"id": id, "firstName": first, "lastName": last, "email": "rep@northwind.example",
        "type": "PERSON", "archived": false,
        "createdAt": "2025-03-04T10:00:00.000Z", "updatedAt": "2026-09-01T08:00:00.000Z"})
}

#[test]
fn a_person_is_shown_by_name_with_the_id_beside_it_or_by_id() {
    assert_eq!(
        labelled("123", Some("Alice Smith")),
        "Alice Smith (user 123)"
    );
    assert_eq!(labelled("123", None), "user 123");
}

#[test]
fn reps_sort_by_name_case_insensitively_then_by_id() {
    let mut reps = vec![
        (Some("bob Young"), "9"),
        (None, "2"),
        (Some("Alice Smith"), "8"),
        (Some("alice smith"), "1"),
    ];
    reps.sort_by(|a, b| by_name(*a, *b));
    assert_eq!(
        reps,
        [
            (None, "2"),
            (Some("alice smith"), "1"),
            (Some("Alice Smith"), "8"),
            (Some("bob Young"), "9"),
        ]
    );
}

#[test]
fn names_are_read_once_per_id_kept_and_reused_within_their_lifetime() {
    let (crm, clock, store) = (
        RecordingCrm::default(),
        StoppedClock::default(),
        MemoryPeople::default(),
    );
    crm.answer("GET", "/crm/v3/owners/52001", owner("52001", "Jo", "Park"));
    crm.answer("GET", "/crm/v3/owners/52002", json!({"id": "52002"}));
    let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
    let now = datetime!(2026-12-01 09:00 UTC);
    let wanted = ids(&["52001", "52002"]);
    let names = block_on(lookup::names(&Hubspot, &wanted, &store, &api, now));
    assert_eq!(names.of("52001"), Some("Jo Park"));
    assert_eq!(
        names.of("52002"),
        None,
        "answered without a name: the id stays"
    );
    assert_eq!(crm.calls().len(), 2);
    assert_eq!(store.kept().len(), 2, "a nameless answer is kept too");
    // A warm batch an hour later costs no call.
    let later = now + time::Duration::hours(1);
    let names = block_on(lookup::names(&Hubspot, &wanted, &store, &api, later));
    assert_eq!(names.of("52001"), Some("Jo Park"));
    assert_eq!(crm.calls().len(), 2, "cached names add no call");
}

#[test]
fn a_name_older_than_its_lifetime_is_read_again() {
    let (crm, clock, store) = (
        RecordingCrm::default(),
        StoppedClock::default(),
        MemoryPeople::default(),
    );
    let then = datetime!(2026-12-01 09:00 UTC);
    block_on(store.keep(
        Crm::Pipedrive,
        &[KnownName {
            id: "9001".into(),
            name: Some("Sam Rivera".into()),
            fetched_at: then,
        }],
    ))
    .unwrap();
    crm.answer(
        "GET",
        "/api/v1/users/9001",
        json!({"success": true, "data": {"id": 9001, "name": "Sam Rivera-Cole"}}),
    );
    let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
    let wanted = ids(&["9001"]);
    let fresh = then + time::Duration::try_from(LIFETIME).unwrap() - time::Duration::minutes(1);
    let names = block_on(lookup::names(&Pipedrive, &wanted, &store, &api, fresh));
    assert_eq!(names.of("9001"), Some("Sam Rivera"));
    assert!(crm.calls().is_empty());
    let expired = then + time::Duration::try_from(LIFETIME).unwrap();
    let names = block_on(lookup::names(&Pipedrive, &wanted, &store, &api, expired));
    assert_eq!(names.of("9001"), Some("Sam Rivera-Cole"));
    assert_eq!(crm.calls().len(), 1);
    assert_eq!(store.kept()[0].1.fetched_at, expired);
}

#[test]
fn a_failed_lookup_falls_back_to_the_id_or_the_name_read_before_and_is_not_kept() {
    let (crm, clock, store) = (
        RecordingCrm::default(),
        StoppedClock::default(),
        MemoryPeople::default(),
    );
    let then = datetime!(2026-11-01 09:00 UTC);
    block_on(store.keep(
        Crm::Hubspot,
        &[KnownName {
            id: "52001".into(),
            name: Some("Jo Park".into()),
            fetched_at: then,
        }],
    ))
    .unwrap();
    crm.fail(Some("owners API down"));
    let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
    let now = datetime!(2026-12-01 09:00 UTC);
    let names = block_on(lookup::names(
        &Hubspot,
        &ids(&["52001", "52003"]),
        &store,
        &api,
        now,
    ));
    assert_eq!(
        names.of("52001"),
        Some("Jo Park"),
        "the old name stays in use"
    );
    assert_eq!(names.of("52003"), None, "no name: the id is shown");
    assert_eq!(store.kept().len(), 1, "nothing kept from a failed lookup");
    assert_eq!(store.kept()[0].1.fetched_at, then, "asked again next time");
}

#[test]
fn where_no_names_are_kept_the_crm_is_never_asked() {
    let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
    let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
    let now = datetime!(2026-12-01 09:00 UTC);
    let names = block_on(lookup::names(&Hubspot, &ids(&["1"]), &NoPeople, &api, now));
    assert_eq!(names, Names::default());
    assert!(crm.calls().is_empty());
}

#[test]
fn the_sql_store_keeps_replaces_and_lists_names() {
    let people = SqlPeople::new(Sqlite::in_memory());
    block_on(people.create_tables()).unwrap();
    let at = datetime!(2026-12-01 09:00 UTC);
    let known = |id: &str, name: Option<&str>| KnownName {
        id: id.into(),
        name: name.map(Into::into),
        fetched_at: at,
    };
    block_on(people.keep(
        Crm::Hubspot,
        &[known("1", Some("Jo Park")), known("2", None)],
    ))
    .unwrap();
    block_on(people.keep(Crm::Pipedrive, &[known("1", Some("Sam Rivera"))])).unwrap();
    block_on(people.keep(Crm::Hubspot, &[known("1", Some("Jo Park-Lee"))])).unwrap();
    let mut found = block_on(people.known(Crm::Hubspot, &["1", "2", "3"])).unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(found, [known("1", Some("Jo Park-Lee")), known("2", None)]);
    let all = block_on(kept_names(people.database())).unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[&("pipedrive".to_owned(), "1".to_owned())], "Sam Rivera");
    let db = people.database();
    assert_eq!(
        block_on(name_of(db, Crm::Hubspot, "1")).unwrap().as_deref(),
        Some("Jo Park-Lee")
    );
    assert_eq!(block_on(name_of(db, Crm::Hubspot, "2")).unwrap(), None);
}

#[test]
fn a_store_that_fails_names_nobody_and_fails_nothing() {
    struct Broken;
    impl PeopleStore for Broken {
        async fn known(&self, _: Crm, _: &[&str]) -> Result<Vec<KnownName>, Error> {
            Err(Error::Store("down".into()))
        }
        async fn keep(&self, _: Crm, _: &[KnownName]) -> Result<(), Error> {
            Err(Error::Store("down".into()))
        }
    }
    let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
    crm.answer("GET", "/crm/v3/owners/7", owner("7", "Ana", "Lopez"));
    let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
    let now = datetime!(2026-12-01 09:00 UTC);
    let names = block_on(lookup::names(&Hubspot, &ids(&["7"]), &Broken, &api, now));
    assert_eq!(names.of("7"), Some("Ana Lopez"));
}
