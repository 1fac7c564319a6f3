//! The rep's page gathered from a real SQLite database as the functions leave it, and rendered.

use futures::executor::block_on;
use time::{Duration, OffsetDateTime, macros::datetime};

use super::{
    card::DealCard,
    html::render,
    kept::{self, StaleDeal},
    link::{RepLinks, VALIDITY},
    page::gather,
    sharing::{self, Section},
};
use crate::{
    conversation::{history::SqlCalls, upload::CallUpload},
    crm_id::Crm,
    handoffs::{DimensionSnapshot, HandoffLog, HandoffRecord, VerdictRecord, sql::SqlHandoffs},
    model::{DealStatus, Record},
    playbook::Playbook,
    portfolio::SqlPortfolios,
    review::sql::SqlReview,
    score::Status,
    scorecard::score,
    secret::Secret,
    test_sqlite::Sqlite,
};

const NOW: OffsetDateTime = datetime!(2026-12-07 12:00 UTC);

fn db() -> Sqlite {
    let db = Sqlite::in_memory();
    block_on(SqlHandoffs::new(&db).create_tables()).unwrap();
    block_on(SqlCalls::new(&db).create_tables()).unwrap();
    block_on(SqlReview::new(&db).create_tables()).unwrap();
    block_on(SqlPortfolios::new(&db).create_tables()).unwrap();
    db
}

fn card(id: &str, owner: &str, status: DealStatus, playbook: &Playbook) -> DealCard {
    let mut deal = Record::new_deal(id);
    deal.name = Some(format!("Acme {id}"));
    deal.owner_id = Some(owner.into());
    deal.status = status;
    deal.fields.insert(
        "pain".into(),
        "Month-end close takes nine days and blocks reporting".into(),
    );
    DealCard::of(&deal, &score(&deal, playbook, NOW), NOW).unwrap()
}

fn handoff(key: &str, bdr: &str, status: &str, at: OffsetDateTime) -> HandoffRecord {
    HandoffRecord {
        key: key.into(),
        crm: Crm::Hubspot,
        deal_id: format!("D-{key}"),
        deal_name: Some(format!("Deal of {bdr}")),
        bdr: Some(bdr.into()),
        ae: Some("ae-1".into()),
        at,
        status: status.into(),
        rule: "all rules passed".into(),
        threshold: 60,
        score: 72,
        from_stage: None,
        to_stage: "sales_accepted".into(),
        dimensions: vec![DimensionSnapshot {
            key: "economic_buyer".into(),
            status: Status::Yellow,
            points: 5.0,
            max_points: 20.0,
        }],
    }
}

fn call(id: &str, rep: &str, at: &str, questions: usize) -> CallUpload {
    let asked = "What is broken? ".repeat(questions);
    let body = serde_json::json!({
        "call_id": id, "record": {"kind": "deal", "id": "D-1"}, "started_at": at,
        "rep": {"id": rep, "name": "Sam Rivera"}, "format": "text",
        "transcript": format!("Sam Rivera: {asked}\nDana: Close takes nine days."),
    });
    CallUpload::from_json(body.to_string().as_bytes()).unwrap()
}

fn seed(db: &Sqlite, playbook: &Playbook) {
    block_on(kept::keep_cards(
        db,
        Crm::Hubspot,
        &[
            card("D-1", "u-1", DealStatus::Open, playbook),
            card("D-2", "u-1", DealStatus::Won, playbook),
            card("D-3", "u-2", DealStatus::Open, playbook),
        ],
    ))
    .unwrap();
    let log = SqlHandoffs::new(db);
    block_on(log.record_handoffs(&[
        handoff("h1", "u-1", "validated", NOW - Duration::days(3)),
        handoff("h2", "u-2", "validated", NOW - Duration::days(2)),
        handoff("h3", "u-1", "blocked", NOW - Duration::days(200)),
    ]))
    .unwrap();
    block_on(log.record_verdicts(&[VerdictRecord {
        key: "v1".into(),
        crm: Crm::Hubspot,
        deal_id: "D-h1".into(),
        handoff_key: Some("h1".into()),
        verdict: "rejected".into(),
        reason: Some("no budget holder named".into()),
        ae: Some("ae-1".into()),
        at: NOW - Duration::days(2),
    }]))
    .unwrap();
    let stale = |deal: &str, owner: &str, reasons: &[&str]| StaleDeal {
        deal_id: deal.into(),
        name: None,
        owner: owner.into(),
        reasons: reasons.iter().map(|r| (*r).to_owned()).collect(),
        swept_at: NOW - Duration::hours(5),
    };
    block_on(kept::keep_stale(
        db,
        Crm::Hubspot,
        &[
            stale(
                "D-9",
                "u-1",
                &["no activity for 12 business days in Discovery"],
            ),
            stale("D-8", "u-1", &["close date passed"]),
            stale("D-7", "u-2", &["no next step"]),
        ],
    ))
    .unwrap();
    // D-8 was fixed since: the next sweep forgets it.
    block_on(kept::keep_stale(
        db,
        Crm::Hubspot,
        &[stale("D-8", "u-1", &[])],
    ))
    .unwrap();
    let calls = SqlCalls::new(db);
    for (id, rep, at, questions) in [
        ("c-0", "u-1", "2026-10-20T10:00:00Z", 1),
        ("c-1", "u-1", "2026-11-15T10:00:00Z", 4),
        ("c-2", "u-1", "2026-11-30T10:00:00Z", 6),
        ("c-3", "u-1", "2026-12-05T10:00:00Z", 8),
        ("c-4", "u-2", "2026-12-05T10:00:00Z", 20),
    ] {
        let upload = call(id, rep, at, questions);
        let signals = upload.analyse(playbook).unwrap();
        block_on(calls.record(Crm::Hubspot, &upload, &signals)).unwrap();
    }
}

#[test]
fn the_page_gathers_the_rep_s_own_deals_handoffs_stale_deals_and_calls_only() {
    let playbook = Playbook::default_playbook();
    let db = db();
    seed(&db, &playbook);
    block_on(sharing::choose(
        &db,
        Crm::Hubspot,
        "u-1",
        &[Section::Hygiene],
        NOW,
    ))
    .unwrap();
    let links = RepLinks::new(Secret::new("k"), "https://hooks.example.com");
    let link = links
        .verify(Some(&links.query(Crm::Hubspot, "u-1", NOW)), NOW)
        .unwrap();
    let page = block_on(gather(&db, &link, &playbook, NOW)).unwrap();

    assert_eq!(page.link_expires, NOW + VALIDITY);
    let deals: Vec<&str> = page.deals.iter().map(|d| d.record_id.as_str()).collect();
    assert_eq!(deals, ["D-1"], "open, and the rep's own");
    let card = &page.deals[0];
    assert!(card.next_question.is_some() && !card.not_measured.is_empty());
    assert!(card.dimensions.iter().any(|d| d.missing.is_some()));

    assert_eq!(
        page.handoffs.len(),
        1,
        "the last 90 days: {:?}",
        page.handoffs
    );
    let handoff = &page.handoffs[0];
    assert_eq!(
        (handoff.verdict.as_deref(), handoff.reason.as_deref()),
        (Some("rejected"), Some("no budget holder named"))
    );
    assert_eq!(handoff.missing, ["Economic buyer"]);

    let stale: Vec<&str> = page.stale.iter().map(|d| d.deal_id.as_str()).collect();
    assert_eq!(stale, ["D-9"]);

    let calls: Vec<&str> = page
        .calls
        .calls
        .iter()
        .map(|c| c.call_id.as_str())
        .collect();
    assert_eq!(
        calls,
        ["c-1", "c-2", "c-3"],
        "the last 30 days, the rep's own"
    );
    let trend = &page.calls.trend;
    assert_eq!(trend.behaviour, "questions per call");
    assert_eq!((trend.earlier, trend.recent), (Some(4.0), Some(7.0)));
    assert!(trend.said.contains("your own calls only"), "{}", trend.said);

    let shared: Vec<(Section, bool)> = page.sharing.iter().map(|c| (c.section, c.shared)).collect();
    assert_eq!(
        shared,
        [(Section::Handoffs, false), (Section::Hygiene, true)]
    );

    let json = serde_json::to_string(&page).unwrap();
    assert!(!json.contains("u-2") && !json.contains("D-3"), "{json}");
}

#[test]
fn the_page_is_for_a_phone_with_a_form_that_carries_the_link_s_token() {
    let playbook = Playbook::default_playbook();
    let db = db();
    seed(&db, &playbook);
    let links = RepLinks::new(Secret::new("k"), "https://hooks.example.com");
    let link = links
        .verify(Some(&links.query(Crm::Hubspot, "u-1", NOW)), NOW)
        .unwrap();
    let page = block_on(gather(&db, &link, &playbook, NOW)).unwrap();
    let html = render(&page, &link.token);
    assert!(html.contains("name=\"viewport\""));
    assert!(!html.contains("<script"));
    for id in [
        "deals",
        "handoffs",
        "stale",
        "calls",
        "sharing",
        "not-measured",
    ] {
        assert!(html.contains(&format!("<section id=\"{id}\"")), "{id}");
    }
    assert!(html.contains("Ask next:"));
    assert!(html.contains("no budget holder named"));
    assert!(html.contains("no activity for 12 business days in Discovery"));
    assert!(html.contains(&format!(
        "<input type=\"hidden\" name=\"token\" value=\"{}\">",
        link.token
    )));
    assert!(html.contains("<form method=\"post\">"));
    assert!(html.contains("value=\"handoffs\">") && html.contains("value=\"hygiene\">"));
    assert!(!html.contains("u-2"));
}

#[test]
fn an_empty_page_says_what_will_show_there() {
    let playbook = Playbook::default_playbook();
    let db = db();
    let links = RepLinks::new(Secret::new("k"), "https://hooks.example.com");
    let link = links
        .verify(Some(&links.query(Crm::Generic, "<u>", NOW)), NOW)
        .unwrap();
    let page = block_on(gather(&db, &link, &playbook, NOW)).unwrap();
    let html = render(&page, &link.token);
    assert!(html.contains("No open deal or lead of yours has been scored yet."));
    assert!(html.contains("once a recorder posts your calls"));
    assert!(html.contains("&lt;u&gt;") && !html.contains("<u>"));
}
