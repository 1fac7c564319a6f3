//! On both hosts: portfolio hygiene and the automatic fallback to shadow, on the real `.wasm`
//! components sharing the app's `default` database. An `enforce` install whose generic CRM's
//! open deals are poorly kept: flag-stale-deals' sweep measures the portfolio below 70 %, the
//! hygiene report (JSON and page) and gate-handoff's health say blocking is paused and why, and
//! a handoff that fails the rules is told, not blocked. Once the deals are fixed, the next sweep
//! measures them above the threshold and the same handoff is blocked again.

use crate::both;
use crate::util;

use both::*;
use pipeline_guard_test_host::{FakeCrm, node::Node};
use serde_json::{Value, json};
use util::*;

const SWEEP: &str = "sweep-token-for-schedules";
const ADMIN: &str = "admin-token-for-reports";
const LISTING: &str = "/records/deals?status=open";
const CASE: &str = "generic/deal-handoff-pain-red-with-high-total";
const NOT_GOOD_ENOUGH: &str = "the data is not good enough to block anyone yet";

/// An open deal of `owner`: kept well (a contact with a title and a role, a close date ahead, a
/// next step, recent activity) or poorly (none of these).
fn deal(id: &str, owner: &str, kept: bool) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let day = |days: i64| (now + time::Duration::days(days)).date().to_string();
    if !kept {
        return json!({"kind": "deal", "id": id, "owner_id": owner, "stage": "proposal"});
    }
    json!({
        "kind": "deal", "id": id, "name": format!("Deal {id}"), "owner_id": owner,
        "stage": "proposal", "amount": 12000, "close_date": day(45),
        "last_activity_at": format!("{}T09:00:00Z", day(-1)),
        "fields": {"next_step": "Security review with IT on Thursday"},
        "contacts": [{"id": "C-1", "name": "Lee Park", "title": "VP Finance", "role": "champion"}]
    })
}

/// The CRM lists `deals` as its only page of open deals.
fn list(crm: &FakeCrm, deals: Vec<Value>) {
    crm.respond(
        "GET",
        LISTING,
        200,
        json!({"records": deals, "next_cursor": null}),
    );
}

fn with_token(
    mut request: http::Request<bytes::Bytes>,
    token: &str,
) -> http::Request<bytes::Bytes> {
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn sweep_until_done(node: &Node) -> anyhow::Result<Value> {
    for _ in 0..5 {
        let mut request = with_token(get("/flag-stale-deals/generic/sweep"), SWEEP);
        *request.method_mut() = http::Method::POST;
        let answer = json(&node.request(request).await?);
        if answer["done"] == true {
            return Ok(answer);
        }
    }
    anyhow::bail!("the sweep did not end")
}

/// gate-handoff's enforcement of the generic CRM, as its admin health says.
async fn enforcement(node: &Node) -> anyhow::Result<Value> {
    let health = json(
        &node
            .request(with_token(get("/gate-handoff"), ADMIN))
            .await?,
    );
    health["enforcement"]
        .as_array()
        .and_then(|all| all.iter().find(|e| e["crm"] == "generic").cloned())
        .ok_or_else(|| anyhow::anyhow!("no enforcement in {health}"))
}

/// The handoff of the case's deal, as event `event_id`: its result.
async fn hand_off(node: &Node, event_id: &str) -> anyhow::Result<Value> {
    let mut event: Value = serde_json::from_slice(&fixture(&format!("{CASE}.json")))?;
    event["event_id"] = event_id.into();
    let answer = node
        .request(signed_post(
            "/gate-handoff/generic",
            &serde_json::to_vec(&event)?,
        ))
        .await?;
    Ok(json(&answer)["results"][0].clone())
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_poorly_kept_portfolio_pauses_blocking_until_a_sweep_finds_it_fixed()
-> anyhow::Result<()> {
    on_every_host("portfolio fallback", |runtime, crm| async move {
        answer_as_in_fixture(&crm, CASE);
        let poor = vec![
            deal("D-1", "ae-1", false),
            deal("D-2", "ae-1", false),
            deal("D-3", "ae-2", true),
        ];
        list(&crm, poor);
        let node = node(runtime, &crm)
            .variable("mode", "enforce")
            .variable("sweep_token", SWEEP)
            .variable("admin_token", ADMIN)
            .start()
            .await?;

        let before = enforcement(&node).await?;
        assert_eq!(before["mode"], "enforce", "{before}");
        assert!(
            before["why"]
                .as_str()
                .unwrap_or("")
                .contains("not been measured yet"),
            "{before}"
        );

        let swept = sweep_until_done(&node).await?;
        let pct = swept["hygiene_pct"].as_u64().expect("measured at the end");
        assert!(pct < 70, "{swept}");

        let refused = node.request(get("/flag-stale-deals/report")).await?;
        assert_eq!(refused.status(), 401);
        let report = node
            .request(with_token(get("/flag-stale-deals/report"), ADMIN))
            .await?;
        assert_eq!(report.status(), 200);
        let report = json(&report);
        let generic = &report["portfolios"][0];
        assert_eq!(generic["crm"], "generic", "{report}");
        assert_eq!(generic["measurement"]["hygiene_pct"].as_u64(), Some(pct));
        assert_eq!(generic["measurement"]["measured"], 3);
        assert_eq!(generic["measurement"]["per_owner"]["view"], "hidden");
        let contacts = generic["measurement"]["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["check"] == "contacts"))
            .expect("the contacts check");
        assert_eq!(
            (&contacts["passed"], &contacts["failed"]),
            (&json!(1), &json!(2))
        );
        assert_eq!(generic["enforcement"]["mode"], "shadow");
        assert!(!report["not_measured"].as_array().unwrap().is_empty());

        let mut page = with_token(get("/flag-stale-deals/report?crm=generic"), ADMIN);
        page.headers_mut()
            .insert("accept", "text/html".parse().unwrap());
        let page = node.request(page).await?;
        assert!(
            page.headers()["content-type"]
                .to_str()?
                .starts_with("text/html")
        );
        let page = String::from_utf8(page.body().to_vec())?;
        assert!(page.contains("class=\"alert\"") && page.contains(NOT_GOOD_ENOUGH));
        let bad = node
            .request(with_token(get("/flag-stale-deals/report?crm=zoho"), ADMIN))
            .await?;
        assert_eq!(bad.status(), 400);

        let paused = enforcement(&node).await?;
        assert_eq!(
            (&paused["configured"], &paused["mode"]),
            (&json!("enforce"), &json!("shadow"))
        );
        assert!(
            paused["why"]
                .as_str()
                .unwrap_or("")
                .contains(NOT_GOOD_ENOUGH),
            "{paused}"
        );

        crm.clear();
        let told = hand_off(&node, "evt-paused").await?;
        assert_eq!(told["status"], "processed", "{told}");
        assert_eq!(told["decision"]["mode"], "shadow", "{told}");
        assert_eq!(told["decision"]["moved_back_to"], Value::Null);
        assert!(
            told["decision"]["paused_because"]
                .as_str()
                .unwrap_or("")
                .contains(NOT_GOOD_ENOUGH),
            "{told}"
        );
        let patches: Vec<Value> = received(&crm)
            .into_iter()
            .filter(|c| c["method"] == "PATCH")
            .collect();
        assert_eq!(patches.len(), 1, "{patches:?}");
        assert_eq!(
            patches[0]["body"]["fields"]["pg_handoff_status"],
            "would_block"
        );
        assert!(
            patches[0]["body"]["stage"].is_null(),
            "nothing moved: {}",
            patches[0]
        );

        // The owners fix their deals; the next sweep measures the portfolio clean.
        list(
            &crm,
            vec![
                deal("D-1", "ae-1", true),
                deal("D-2", "ae-1", true),
                deal("D-3", "ae-2", true),
            ],
        );
        let swept = sweep_until_done(&node).await?;
        assert!(
            swept["hygiene_pct"].as_u64().is_some_and(|p| p >= 70),
            "{swept}"
        );
        let enforced = enforcement(&node).await?;
        assert_eq!(enforced["mode"], "enforce", "{enforced}");

        let blocked = hand_off(&node, "evt-enforced").await?;
        assert_eq!(blocked["brief"]["decision"], "blocked", "{blocked}");
        assert_eq!(blocked["decision"]["moved_back_to"], "discovery");
        Ok(())
    })
    .await
}
