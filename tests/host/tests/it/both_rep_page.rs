//! On both hosts: a rep's own page, opened through the link a notice to the rep carries. A
//! handoff in shadow mode leaves the BDR a note with the link; the link opens their page (JSON
//! and HTML) with their handoff and their scored deal; a missing, altered, expired or other rep's
//! link is refused with a 401 that names nobody. The BDR shares their handoffs: the coaching
//! report shows their row before the team's unlock, and no longer once they withdraw it; the
//! unlock shows every BDR's row. Without `rep_link_secret` the page answers 500 naming it.

use crate::both;
use crate::util;

use both::*;
use pipeline_guard_test_host::node::{Node, Runtime};
use serde_json::{Value, json};
use util::*;

const ADMIN: &str = "admin-token-for-the-report";
const LINK_SECRET: &str = "rep-link-secret-for-the-tests";

fn bearer(path: &str, token: &str) -> http::Request<bytes::Bytes> {
    let mut request = get(path);
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn accepting(path: &str, accept: &str) -> http::Request<bytes::Bytes> {
    let mut request = get(path);
    request
        .headers_mut()
        .insert("accept", accept.parse().unwrap());
    request
}

fn form_post(path: &str, form: &str) -> http::Request<bytes::Bytes> {
    http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(bytes::Bytes::from(form.to_owned()))
        .expect("request")
}

/// The default playbook with the manager view opening on `from`, or after the default 45 days.
fn playbook(from: Option<&str>) -> anyhow::Result<String> {
    let default = String::from_utf8(fixture("playbooks/default.toml"))?;
    Ok(match from {
        Some(from) => format!("{default}\n[rollout]\nmanager_view_from = {from}\n"),
        None => default,
    })
}

/// The path and query of the page link in a notice's `body`.
fn link_in(body: &str) -> anyhow::Result<String> {
    let at = body
        .find("/score-lead/me?")
        .ok_or_else(|| anyhow::anyhow!("no link in the notice: {body}"))?;
    Ok(body[at..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

/// `link` with its `key` set to `value`.
fn with(link: &str, key: &str, value: &str) -> String {
    let (path, query) = link.split_once('?').unwrap_or((link, ""));
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == key => format!("{k}={value}"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn param<'a>(link: &'a str, key: &str) -> &'a str {
    link.split_once('?')
        .map(|(_, q)| q)
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .unwrap_or_default()
}

async fn report(node: &Node) -> anyhow::Result<Value> {
    let answer = node.request(bearer("/gate-handoff/report", ADMIN)).await?;
    anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
    Ok(json(&answer))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_rep_opens_their_page_from_a_notice_and_shares_what_they_choose()
-> anyhow::Result<()> {
    on_every_host("rep page", |runtime, crm| async move {
        let state = tempfile::tempdir()?;
        let start = |runtime: Runtime, from: Option<&str>, secret: &str| {
            node(runtime, &crm)
                .variable("admin_token", ADMIN)
                .variable("rep_link_secret", secret)
                .variable("playbook", playbook(from).expect("the default playbook"))
                .state_dir(state.path())
                .start()
        };
        let node = start(runtime.clone(), None, LINK_SECRET).await?;

        // A handoff the gate would block (shadow mode): an FYI note to the BDR, with the link.
        let handoff = deal_event(
            "h-1",
            "stage_changed",
            "D-1",
            "bdr-1",
            json!({"pain": "TBD"}),
            json!([]),
            30,
        );
        let answer = node
            .request(signed_post("/gate-handoff/generic", &batch(&[handoff])))
            .await?;
        assert_eq!(answer.status(), 200, "{}", json(&answer));
        let note = deal_patches(&crm, "D-1")[0]["notices"][0].clone();
        assert_eq!(note["to"], "bdr-1", "{note}");
        let link = link_in(note["body"].as_str().unwrap_or_default())?;
        assert_eq!(param(&link, "rep"), "bdr-1");
        assert_eq!(param(&link, "crm"), "generic");

        // A deal the BDR owns, scored by score-lead: its scorecard is kept for their page.
        let mut scored = deal_event(
            "s-1",
            "updated",
            "D-5",
            "bdr-1",
            json!({"pain": "Month-end close takes nine days and blocks board reporting"}),
            json!([]),
            20,
        );
        scored["record"]["owner_id"] = "bdr-1".into();
        scored["record"]["stage"] = "discovery".into();
        let answer = node
            .request(signed_post("/score-lead/generic", &batch(&[scored])))
            .await?;
        assert_eq!(answer.status(), 200, "{}", json(&answer));

        // The page, as JSON and as HTML.
        let page = node.request(accepting(&link, "application/json")).await?;
        assert_eq!(page.status(), 200, "{}", json(&page));
        assert_eq!(page.headers()["cache-control"], "no-store");
        let page = json(&page);
        assert_eq!(
            (&page["crm"], &page["rep"]),
            (&json!("generic"), &json!("bdr-1"))
        );
        assert_eq!(page["handoffs"][0]["deal_id"], "D-1", "{page}");
        assert_eq!(page["handoffs"][0]["status"], "would_block");
        assert_eq!(page["deals"][0]["record_id"], "D-5", "{page}");
        assert!(page["deals"][0]["next_question"].is_string(), "{page}");
        assert!(!page["not_measured"].as_array().unwrap().is_empty());
        let html = node.request(accepting(&link, "text/html")).await?;
        assert_eq!(html.status(), 200);
        assert!(
            html.headers()["content-type"]
                .to_str()?
                .starts_with("text/html")
        );
        let html = String::from_utf8_lossy(html.body()).to_string();
        assert!(html.contains("Your coaching page") && html.contains("<form method=\"post\">"));

        // Refused: missing, altered, other rep's, expired or forged links; nothing told.
        let sig = param(&link, "sig").to_owned();
        let expired_at = (time::OffsetDateTime::now_utc() - time::Duration::days(1))
            .unix_timestamp()
            .to_string();
        for refused in [
            "/score-lead/me".to_owned(),
            with(&link, "rep", "bdr-2"),
            with(&link, "crm", "hubspot"),
            with(&link, "expires", &expired_at),
            with(&link, "sig", &"0".repeat(sig.len())),
            link.replace("&sig=", "&nosig="),
        ] {
            let answer = node.request(accepting(&refused, "text/html")).await?;
            assert_eq!(answer.status(), 401, "{refused}");
            let body = String::from_utf8_lossy(answer.body()).to_string();
            assert!(
                !body.contains("bdr-") && !body.contains("D-1") && !body.contains("D-5"),
                "{body}"
            );
        }

        // Before the unlock, no BDR row; once bdr-1 shares their handoffs, theirs.
        let before = report(&node).await?;
        assert_eq!(before["per_bdr"]["view"], "hidden");
        assert!(!before.to_string().contains("bdr-1"), "{before}");
        let forged = node
            .request(form_post(&link, "token=not-the-link&share=handoffs"))
            .await?;
        assert_eq!(forged.status(), 401, "a form without the link's token");
        let no_token = node.request(form_post(&link, "share=handoffs")).await?;
        assert_eq!(no_token.status(), 401);
        assert!(!report(&node).await?.to_string().contains("bdr-1"));
        let unknown = node
            .request(form_post(&link, &format!("token={sig}&share=calls")))
            .await?;
        assert_eq!(unknown.status(), 400, "{}", json(&unknown));
        let shared = node
            .request(form_post(&link, &format!("token={sig}&share=handoffs")))
            .await?;
        assert_eq!(shared.status(), 303);
        let back = shared.headers()["location"].to_str()?.to_owned();
        assert_eq!(back, format!("?{}", link.split_once('?').unwrap().1));
        let after = report(&node).await?;
        assert_eq!(
            after["per_bdr"]["view"], "hidden",
            "still locked for the others"
        );
        let rows = after["per_bdr"]["shared"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let bdrs: Vec<&Value> = rows.iter().map(|r| &r["bdr"]).collect();
        assert_eq!(bdrs, [&json!("bdr-1")], "{after}");
        assert_eq!(rows[0]["attempted"], 1);
        let page = json(&node.request(accepting(&link, "application/json")).await?);
        assert_eq!(page["sharing"][0]["shared"], true, "{page}");

        // Withdrawn: gone from the report at once.
        let withdrawn = node
            .request(form_post(&link, &format!("token={sig}")))
            .await?;
        assert_eq!(withdrawn.status(), 303);
        assert!(!report(&node).await?.to_string().contains("bdr-1"));

        // The team's unlock shows every BDR's row; without the link secret, the page says which
        // variable to set.
        drop(node);
        let node = start(runtime.clone(), Some("2020-01-06"), "").await?;
        let unlocked = report(&node).await?;
        assert_eq!(unlocked["per_bdr"]["view"], "shown");
        assert_eq!(unlocked["per_bdr"]["rows"][0]["bdr"], "bdr-1");
        let unset = node.request(accepting(&link, "application/json")).await?;
        assert_eq!(unset.status(), 500);
        assert!(
            json(&unset).to_string().contains("rep_link_secret"),
            "{}",
            json(&unset)
        );
        Ok(())
    })
    .await
}
