//! A rep's own page in a real headless browser, on the real `.wasm`.
//!
//! A shadow-mode install on the generic CRM where the BDR `maya.ortiz` has a handoff the gate
//! would block, one the AE rejected with a reason, two deals scored, two recorded calls and a
//! deal the sweep finds stale; another rep, `sam.lee`, has a stale deal too. The link is taken
//! from the note left on Maya's last call; then `tests/browser/rep.mjs` opens it in Debian's
//! Chromium on phones and checks it (see that script), shares her handoffs through the page's
//! form, and leaves the screenshot.
//!
//! Needs what `e2e_report_browser.rs` needs (see [`browser`]): without it the test says what is
//! missing and passes, unless `PIPELINE_GUARD_BROWSER=required`. The screenshot goes under the
//! target directory; `BLESS=1` writes `docs/rep-page.png` instead.

use crate::both;
use crate::browser;
use crate::util;

use both::node;
use pipeline_guard_test_host::{
    FakeCrm,
    node::{Node, Runtime},
};
use serde_json::{Value, json};
use util::*;

const SWEEP: &str = "sweep-token-for-the-browser";
const ADMIN: &str = "admin-token-for-the-browser";
const LISTING: &str = "/records/deals?status=open";
const REP: &str = "maya.ortiz";

fn day(days: i64) -> String {
    (time::OffsetDateTime::now_utc() + time::Duration::days(days))
        .date()
        .to_string()
}

fn qualified(deal: &str) -> Value {
    json!({
        "situation": format!("{deal}: group finance consolidates 14 entities in Excel every quarter"),
        "pain": format!("At {deal}, quarterly consolidation takes three weeks and produced two restatements last year"),
        "impact": format!("Consolidating {deal} in five days avoids restatements and an audit finding worth 200k"),
        "next_step": format!("Scoping call on {deal} with the controller next Tuesday"),
        "economic_buyer": "Priya Shah, Group CFO",
    })
}

fn buyer() -> Value {
    json!([{"id": "C-1", "name": "Priya Shah", "title": "CFO", "role": "economic_buyer"}])
}

fn call(id: &str, deal: &str, days_ago: i64, transcript: &str) -> Vec<u8> {
    let at = time::OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    serde_json::to_vec(&json!({
        "call_id": id,
        "record": {"kind": "deal", "id": deal},
        "started_at": at.format(&time::format_description::well_known::Rfc3339).expect("a time"),
        "rep": {"id": REP, "name": "Maya Ortiz"},
        "format": "text",
        "transcript": transcript,
    }))
    .expect("JSON")
}

/// A stale open deal of `owner`: idle for weeks, its close date passed, no next step.
fn stale(id: &str, owner: &str) -> Value {
    json!({
        "kind": "deal", "id": id, "name": format!("Deal {id}"), "owner_id": owner,
        "stage": "proposal", "amount": 12000, "close_date": day(-12),
        "last_activity_at": format!("{}T09:00:00Z", day(-40)),
        "contacts": [{"id": "C-1", "name": "Lee Park", "title": "VP Finance", "role": "champion"}],
    })
}

async fn post(node: &Node, path: &str, body: &[u8]) -> anyhow::Result<Value> {
    let answer = node.request(signed_post(path, body)).await?;
    anyhow::ensure!(answer.status() == 200, "{path}: {}", json(&answer));
    Ok(json(&answer))
}

/// Maya's week: handoffs, a verdict, scored deals, calls and a sweep.
async fn seed(node: &Node, crm: &FakeCrm) -> anyhow::Result<()> {
    let handoffs = [
        deal_event(
            "h-1",
            "stage_changed",
            "D-1",
            REP,
            json!({"pain": "TBD"}),
            json!([]),
            300,
        ),
        deal_event(
            "h-2",
            "stage_changed",
            "D-2",
            REP,
            qualified("D-2"),
            buyer(),
            200,
        ),
    ];
    post(node, "/gate-handoff/generic", &batch(&handoffs)).await?;
    let mut rejected = qualified("D-2");
    rejected["pg_handoff_verdict"] = "rejected".into();
    rejected["pg_handoff_reason"] = "No timeline".into();
    let verdict = deal_event("v-1", "updated", "D-2", "ae-7", rejected, buyer(), 100);
    post(node, "/gate-handoff/generic", &batch(&[verdict])).await?;

    let mut scored = Vec::new();
    for (i, (deal, name, fields)) in [
        (
            "D-10",
            "Contoso AP automation",
            json!({"pain": "Invoice approval takes 12 days and late fees cost 40k a year"}),
        ),
        (
            "D-11",
            "Fabrikam consolidation",
            json!({
                "situation": "Fabrikam closes 9 entities in spreadsheets",
                "pain": "Month-end close takes nine days and blocks board reporting",
                "next_step": "Demo for the controller on Thursday",
            }),
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let mut event = deal_event(
            &format!("s-{i}"),
            "updated",
            deal,
            REP,
            fields,
            json!([]),
            50,
        );
        event["record"]["owner_id"] = REP.into();
        event["record"]["name"] = name.into();
        event["record"]["stage"] = "discovery".into();
        scored.push(event);
    }
    post(node, "/score-lead/generic", &batch(&scored)).await?;

    let older = "[00:00] Maya Ortiz: Let me walk you through the platform, dashboards and alerts.\n\
        [03:00] Dana Ruiz: We close the month in nine days.\n\
        [03:30] Maya Ortiz: What does that delay cost you?\n";
    let recent = "[00:00] Maya Ortiz: What does month-end close look like today?\n\
        [00:20] Dana Ruiz: It takes nine days and blocks our board reporting.\n\
        [01:10] Maya Ortiz: Who signs off on a change like this? What happens if it slips?\n\
        [01:30] Dana Ruiz: Priya Shah, our CFO. Let's meet with her next Tuesday.\n";
    post(
        node,
        "/score-lead/generic/calls",
        &call("c-1", "D-10", 20, older),
    )
    .await?;
    post(
        node,
        "/score-lead/generic/calls",
        &call("c-2", "D-10", 2, recent),
    )
    .await?;

    crm.respond(
        "GET",
        LISTING,
        200,
        json!({"records": [stale("D-12", REP), stale("D-20", "sam.lee")], "next_cursor": null}),
    );
    let mut sweep = get("/flag-stale-deals/generic/sweep");
    *sweep.method_mut() = http::Method::POST;
    sweep
        .headers_mut()
        .insert("authorization", format!("Bearer {SWEEP}").parse()?);
    let swept = node.request(sweep).await?;
    anyhow::ensure!(swept.status() == 200, "{}", json(&swept));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rep_page_passes_the_browser_check_on_a_phone() -> anyhow::Result<()> {
    let Some(chromium) = browser::chromium_for("the rep's page")? else {
        return Ok(());
    };
    let crm = FakeCrm::start().await?;
    let node = node(Runtime::TestHost, &crm)
        .variable("sweep_token", SWEEP)
        .variable("admin_token", ADMIN)
        .variable("rep_link_secret", "rep-link-secret-for-the-browser")
        .start()
        .await?;
    seed(&node, &crm).await?;

    // The link on the note left on Maya's last call.
    let notes = deal_patches(&crm, "D-10");
    let body = notes
        .last()
        .and_then(|n| n["notices"][0]["body"].as_str())
        .unwrap_or_default()
        .to_owned();
    let at = body
        .find("/score-lead/me?")
        .ok_or_else(|| anyhow::anyhow!("no link on the call's note: {body}"))?;
    let link = body[at..].split_whitespace().next().unwrap_or_default();
    let url = format!("http://{}{link}", node.tcp_addr().await?);

    let (_, screenshot) = browser::screenshots("rep-browser", "rep-page.png", "rep-page.png")?;
    let args = ["--url", url.as_str(), "--forbid", "sam.lee,D-20"];
    browser::run_script("rep.mjs", &args, &chromium, &screenshot, "Maya's page").await?;

    // The form shared Maya's handoffs: the coaching report shows her row before the unlock.
    let mut report = get("/gate-handoff/report");
    report
        .headers_mut()
        .insert("authorization", format!("Bearer {ADMIN}").parse()?);
    let report = json(&node.request(report).await?);
    assert_eq!(report["per_bdr"]["view"], "hidden");
    assert_eq!(report["per_bdr"]["shared"][0]["bdr"], REP, "{report}");
    println!(
        "the rep's page passed the browser check; screenshot: {}",
        screenshot.display()
    );
    Ok(())
}
