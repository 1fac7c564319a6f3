//! The hygiene report's page in a real headless browser, on the real `.wasm`.
//!
//! An `enforce` install whose generic CRM lists 24 open deals of four owners, most poorly kept
//! (no contacts, no or a past close date, no next step, calls without notes): flag-stale-deals'
//! sweep measures the portfolio below 70 %, so blocking is paused. Then
//! `tests/browser/hygiene.mjs` opens `GET /flag-stale-deals/report` in Debian's Chromium on
//! phones and checks it (see that script): once with a playbook that sets no rollout date (figures
//! per owner hidden) and once with `[rollout] manager_view_from` past (shown), which leaves the
//! screenshot.
//!
//! Needs what `e2e_report_browser.rs` needs (see [`browser`]): without it the test says what is
//! missing and passes, unless `PIPELINE_GUARD_BROWSER=required`. The screenshot goes under the
//! target directory; `BLESS=1` writes `docs/hygiene.png` instead.

use crate::both;
use crate::browser;
use crate::util;

use std::path::Path;

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
const OWNERS: [&str; 4] = ["ana.lima", "ben.okafor", "chen.wu", "dara.singh"];

/// How an owner kept one of their open deals.
#[derive(Debug, Clone, Copy)]
enum Kept {
    /// Everything the checklist asks: contacts with a title and a role, a close date ahead, a
    /// next step, recent activity, a call with notes on pain, timeline and next steps.
    Well,
    /// No contact on it.
    NoContacts,
    /// No contact and no next step.
    NoContactsNoNextStep,
    /// No close date.
    NoCloseDate,
    /// A close date that has passed.
    PastCloseDate,
    /// An owner and a stage, nothing else.
    Bare,
    /// A close date nobody can read, and a call logged without notes.
    UnreadableDate,
}

impl Kept {
    /// Each owner's six deals: one mostly lacks contacts, one close dates, one nearly
    /// everything, and one keeps every deal well.
    const BY_OWNER: [[Kept; 6]; 4] = {
        use Kept::*;
        [
            [
                NoContacts,
                Well,
                NoContactsNoNextStep,
                NoContacts,
                Well,
                NoContactsNoNextStep,
            ],
            [
                NoCloseDate,
                PastCloseDate,
                NoCloseDate,
                Well,
                PastCloseDate,
                NoCloseDate,
            ],
            [Bare, Bare, UnreadableDate, Bare, Bare, Bare],
            [Well; 6],
        ]
    };
}

/// Open deal `id` of `owner`, kept as `kept` says.
fn deal(id: &str, owner: &str, kept: Kept) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let day = |days: i64| (now + time::Duration::days(days)).date().to_string();
    let mut deal = json!({
        "kind": "deal", "id": id, "name": format!("Deal {id}"), "owner_id": owner,
        "stage": "proposal", "amount": 12000, "close_date": day(45),
        "last_activity_at": format!("{}T09:00:00Z", day(-1)),
        "fields": {"next_step": "Security review with IT on Thursday"},
        "contacts": [{"id": "C-1", "name": "Lee Park", "title": "VP Finance", "role": "champion"}],
        "activities": [{
            "type": "call", "at": format!("{}T09:00:00Z", day(-1)),
            "notes": "Pain: month-end close takes ten days. Timeline: live by March. Next step: security review."
        }]
    });
    let record = deal.as_object_mut().expect("an object");
    match kept {
        Kept::Well => {}
        Kept::NoContacts => record["contacts"] = json!([]),
        Kept::NoContactsNoNextStep => {
            record["contacts"] = json!([]);
            record["fields"] = json!({});
        }
        Kept::NoCloseDate => drop(record.remove("close_date")),
        Kept::PastCloseDate => record["close_date"] = day(-20).into(),
        Kept::Bare => {
            return json!({"kind": "deal", "id": id, "owner_id": owner, "stage": "proposal"});
        }
        Kept::UnreadableDate => {
            record["close_date"] = "end of Q3".into();
            record["activities"] =
                json!([{"type": "call", "at": format!("{}T09:00:00Z", day(-2))}]);
        }
    }
    deal
}

/// Every owner's deals, `D-1` to `D-24`.
fn deals() -> Vec<Value> {
    OWNERS
        .iter()
        .zip(Kept::BY_OWNER)
        .flat_map(|(owner, kept)| kept.map(|k| (*owner, k)))
        .enumerate()
        .map(|(i, (owner, kept))| deal(&format!("D-{}", i + 1), owner, kept))
        .collect()
}

/// The default playbook, with the manager view opening on `from` (none: never).
fn playbook(from: Option<&str>) -> anyhow::Result<String> {
    let default = String::from_utf8(fixture("playbooks/default.toml"))?;
    anyhow::ensure!(!default.contains("[rollout]"), "the default sets a rollout");
    Ok(match from {
        Some(from) => format!("{default}\n[rollout]\nmanager_view_from = {from}\n"),
        None => default,
    })
}

async fn start(crm: &FakeCrm, state: &Path, from: Option<&str>) -> anyhow::Result<Node> {
    node(Runtime::TestHost, crm)
        .variable("mode", "enforce")
        .variable("sweep_token", SWEEP)
        .variable("admin_token", ADMIN)
        .variable("playbook", playbook(from)?)
        .state_dir(state)
        .start()
        .await
}

/// Sweeps the generic CRM until the sweep reaches its last page: its last answer.
async fn sweep_until_done(node: &Node) -> anyhow::Result<Value> {
    for _ in 0..20 {
        let mut request = get("/flag-stale-deals/generic/sweep");
        *request.method_mut() = http::Method::POST;
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {SWEEP}").parse()?);
        let answer = json(&node.request(request).await?);
        if answer["done"] == true {
            return Ok(answer);
        }
    }
    anyhow::bail!("the sweep did not end")
}

/// Runs the browser check on `node`'s hygiene report; fails with its output unless every check
/// passed.
async fn check_in_browser(
    node: &Node,
    per_owner: &str,
    screenshot: &Path,
    chromium: &Path,
) -> anyhow::Result<()> {
    let addr = node.tcp_addr().await?;
    let url = format!("http://{addr}/flag-stale-deals/report");
    // What a refused request must not show: the owners, and a deal.
    let forbid = [OWNERS.join(","), "D-1".to_owned()].join(",");
    let args = [
        "--url",
        &url,
        "--token",
        ADMIN,
        "--per-owner",
        per_owner,
        "--paused",
        "yes",
        "--forbid",
        &forbid,
    ];
    let title = format!("per owner {per_owner}");
    browser::run_script("hygiene.mjs", &args, chromium, screenshot, &title).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_hygiene_page_passes_the_browser_check_on_a_phone() -> anyhow::Result<()> {
    let Some(chromium) = browser::chromium_for("the hygiene report")? else {
        return Ok(());
    };
    let crm = FakeCrm::start().await?;
    crm.respond(
        "GET",
        LISTING,
        200,
        json!({"records": deals(), "next_cursor": null}),
    );
    let state = tempfile::tempdir()?;

    // No rollout date: figures per owner stay hidden for 45 days after the first decision (the sweep).
    let hidden = start(&crm, state.path(), None).await?;
    let swept = sweep_until_done(&hidden).await?;
    let pct = swept["hygiene_pct"].as_u64();
    anyhow::ensure!(pct.is_some_and(|p| p < 70), "not poor enough: {swept}");
    let (screenshots, screenshot) =
        browser::screenshots("hygiene-browser", "hygiene.png", "hygiene.png")?;
    check_in_browser(
        &hidden,
        "hidden",
        &screenshots.join("hygiene-hidden.png"),
        &chromium,
    )
    .await?;
    drop(hidden);

    // The same measurement, the manager view open since 2020.
    let open = start(&crm, state.path(), Some("2020-01-06")).await?;
    check_in_browser(&open, "shown", &screenshot, &chromium).await?;
    println!(
        "the hygiene report ({} %) passed the browser check; screenshot: {}",
        pct.unwrap_or_default(),
        screenshot.display()
    );
    Ok(())
}
