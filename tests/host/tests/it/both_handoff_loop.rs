//! On both hosts: the handoff loop on the real `.wasm`. A blocked handoff, then a validated one,
//! then the AE's accept, reject and an unreadable verdict; the record in SQLite, the task back to
//! the BDR and the move back; the report's figures, hidden per-BDR rows before the rollout date
//! and shown after it; the weekly summaries, sent once; and the report refused without the token.
//! Also on Spin against PostgreSQL (the rollups kept by PL/pgSQL triggers) where a server is found.

use crate::both;
use crate::util;

use both::*;
use pipeline_guard_test_host::{FakeCrm, node::Runtime};
use serde_json::{Value, json};
use util::*;

const ADMIN: &str = "admin-token-for-the-report";
const SWEEP: &str = "sweep-token-for-schedules";

/// The default playbook with the manager view opening on `from`.
fn playbook(from: &str) -> anyhow::Result<String> {
    let default = String::from_utf8(fixture("playbooks/default.toml"))?;
    Ok(format!(
        "{default}\n[rollout]\nmanager_view_from = {from}\n"
    ))
}

/// Noon on the Tuesday of the last whole week: the loop happens then, so its weekly summary is
/// of a week that is over.
fn last_weeks_tuesday() -> time::OffsetDateTime {
    let today = time::OffsetDateTime::now_utc().date();
    let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
    (monday - time::Duration::days(6)).midnight().assume_utc() + time::Duration::hours(12)
}

/// A generic event on deal `deal` with the evidence `fields`, `ago` minutes before
/// [`last_weeks_tuesday`].
fn event(id: &str, kind: &str, deal: &str, by: &str, fields: Value, ago: i64) -> Value {
    let buyer =
        json!([{"id": "C-1", "name": "Priya Shah", "title": "CFO", "role": "economic_buyer"}]);
    let before_now = (time::OffsetDateTime::now_utc() - last_weeks_tuesday()).whole_minutes();
    deal_event(id, kind, deal, by, fields, buyer, before_now + ago)
}

/// Evidence enough to pass the gate.
/// A qualified deal's fields, its texts its own (the same texts on three deals would be a pasted
/// template, no evidence).
fn qualified(deal: &str) -> Value {
    json!({
        "situation": format!("{deal}: group finance consolidates 14 entities in Excel every quarter"),
        "pain": format!("At {deal}, quarterly consolidation takes three weeks and produced two restatements last year"),
        "impact": format!("Consolidating {deal} in five days avoids restatements and an audit finding worth 200k"),
        "next_step": format!("Scoping call on {deal} with the controller next Tuesday"),
        "economic_buyer": "Priya Shah, Group CFO",
    })
}

fn verdict(deal: &str, verdict: &str, reason: &str) -> Value {
    let mut fields = qualified(deal);
    fields["pg_handoff_verdict"] = verdict.into();
    fields["pg_handoff_reason"] = reason.into();
    fields
}

fn bearer(path: &str, token: &str) -> http::Request<bytes::Bytes> {
    let mut request = get(path);
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

fn post_bearer(path: &str, token: &str) -> http::Request<bytes::Bytes> {
    let mut request = bearer(path, token);
    *request.method_mut() = http::Method::POST;
    request
}

/// The deals' stages as the CRM answers them when a deal is read again before a move back.
fn answer_stages(crm: &FakeCrm) {
    for deal in ["D-1", "D-2", "D-3"] {
        crm.respond(
            "GET",
            &format!("/records/deals/{deal}"),
            200,
            json!({"kind": "deal", "id": deal, "stage": "sales_accepted"}),
        );
    }
}

async fn deliver(
    node: &pipeline_guard_test_host::node::Node,
    events: &[Value],
) -> anyhow::Result<Value> {
    let answer = node
        .request(signed_post("/gate-handoff/generic", &batch(events)))
        .await?;
    anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
    Ok(json(&answer))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_handoff_loop_records_verdicts_reports_and_summarises()
-> anyhow::Result<()> {
    on_every_host_and_postgres("handoff loop", |runtime, crm| async move {
        answer_stages(&crm);
        let state = tempfile::tempdir()?;
        let start = |runtime: Runtime, from: &str| {
            let builder = node(runtime, &crm)
                .variable("mode", "enforce")
                .variable("admin_token", ADMIN)
                .variable("sweep_token", SWEEP)
                .variable("playbook", playbook(from).expect("the default playbook"))
                .state_dir(state.path());
            builder.start()
        };
        let node = start(runtime.clone(), "2099-01-05").await?;

        // A blocked handoff, then a validated one; two more validated deals.
        let first = deliver(&node, &[event("h-1", "stage_changed", "D-1", "bdr-1", json!({"pain": "TBD"}), 50)]).await?;
        assert_eq!(statuses(&first), ["processed"]);
        assert_eq!(first["results"][0]["brief"]["decision"], "blocked");
        let second = deliver(
            &node,
            &[
                event("h-2", "stage_changed", "D-1", "bdr-1", qualified("D-1"), 40),
                event("h-3", "stage_changed", "D-2", "bdr-2", qualified("D-2"), 40),
                event("h-4", "stage_changed", "D-3", "bdr-2", qualified("D-3"), 40),
            ],
        )
        .await?;
        let decisions: Vec<&Value> = second["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["brief"]["decision"])
            .collect();
        assert_eq!(decisions, ["validated", "validated", "validated"]);

        // The AE accepts D-1, rejects D-2, and sets something unreadable on D-3.
        crm.clear();
        answer_stages(&crm);
        let verdicts = deliver(
            &node,
            &[
                event("v-1", "updated", "D-1", "ae-7", verdict("D-1", "accepted", ""), 20),
                event("v-2", "updated", "D-2", "ae-7", verdict("D-2", "rejected", "No timeline"), 20),
                event("v-3", "updated", "D-3", "ae-7", verdict("D-3", "maybe later", ""), 20),
            ],
        )
        .await?;
        let decisions: Vec<&Value> = verdicts["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["brief"]["decision"])
            .collect();
        assert_eq!(decisions, ["accepted", "rejected", "unreadable"]);
        assert!(deal_patches(&crm, "D-1").is_empty(), "an acceptance tells nobody");
        let rejected = &deal_patches(&crm, "D-2")[0];
        assert_eq!(rejected["stage"], "discovery", "moved back to where it came from");
        let task = &rejected["notices"][0];
        assert_eq!((&task["kind"], &task["to"]), (&json!("task"), &json!("bdr-2")));
        assert!(task["title"].as_str().unwrap().contains("no timeline"), "{task}");
        let unreadable = &deal_patches(&crm, "D-3")[0]["notices"][0];
        assert_eq!(unreadable["to"], "ae-7");
        assert!(unreadable["body"].as_str().unwrap().contains("\"no timeline\""));

        // A save that does not change the verdict records nothing new.
        let again = deliver(&node, &[event("v-4", "updated", "D-2", "ae-7", verdict("D-2", "rejected", "no timeline"), 10)]).await?;
        assert_eq!(again["results"][0]["brief"]["decision"], "skipped");

        // The record, in SQLite.
        let rows = node.sql(
            "SELECT deal_id, bdr, ae, status, verdict, reason FROM pg_handoffs ORDER BY deal_id, at, status",
        )?;
        assert_eq!(rows.len(), 4, "{rows:?}");
        assert!(rows.contains(&vec![json!("D-2"), json!("bdr-2"), json!("ae-7"), json!("validated"), json!("rejected"), json!("no timeline")]), "{rows:?}");
        assert!(rows.contains(&vec![json!("D-3"), json!("bdr-2"), json!("ae-7"), json!("validated"), json!("unreadable"), json!("maybe later")]), "{rows:?}");

        // The report: 401 without or with a wrong token, and nothing about deals or reps.
        for request in [get("/gate-handoff/report"), bearer("/gate-handoff/report", "wrong")] {
            let refused = node.request(request).await?;
            assert_eq!(refused.status(), 401);
            let body = String::from_utf8_lossy(refused.body()).to_string();
            assert!(!body.contains("bdr-") && !body.contains("D-1"), "{body}");
        }
        let report = node.request(bearer("/gate-handoff/report?weeks=4", ADMIN)).await?;
        assert_eq!(report.status(), 200);
        let report = json(&report);
        let totals = &report["totals"];
        assert_eq!(
            [&totals["attempted"], &totals["blocked"], &totals["validated"], &totals["accepted"], &totals["rejected"], &totals["unreadable"]],
            [4, 1, 3, 1, 1, 1].map(Value::from).each_ref()
        );
        assert_eq!(report["rejection_rate"], 0.5);
        assert_eq!(report["rejection_reasons"][0]["reason"], "no timeline");
        assert_eq!(report["thresholds"][0]["rejected_later"], 1);
        assert_eq!(report["per_bdr"]["view"], "hidden");
        assert!(!report.to_string().contains("bdr-"), "no rep before the rollout date");
        let bad = node.request(bearer("/gate-handoff/report?weeks=0", ADMIN)).await?;
        assert_eq!(bad.status(), 400);
        let page = node
            .request({
                let mut r = bearer("/gate-handoff/report", ADMIN);
                r.headers_mut().insert("accept", "text/html".parse().unwrap());
                r
            })
            .await?;
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-type"].to_str()?.starts_with("text/html"));
        assert!(String::from_utf8_lossy(page.body()).contains("<svg"));

        // The weekly summaries: one task to each BDR, once.
        crm.clear();
        // A week not over yet is refused: it would be summarised in part, and then never again.
        let this_week = format!(
            "/gate-handoff/generic/summaries?week={}",
            time::OffsetDateTime::now_utc().date()
        );
        assert_eq!(node.request(post_bearer(&this_week, SWEEP)).await?.status(), 400);
        let week = format!(
            "/gate-handoff/generic/summaries?week={}",
            last_weeks_tuesday().date()
        );
        assert_eq!(node.request(post_bearer(&week, "wrong")).await?.status(), 401);
        let sent = node.request(post_bearer(&week, SWEEP)).await?;
        assert_eq!(sent.status(), 200, "{}", json(&sent));
        assert_eq!((json(&sent)["sent"].clone(), json(&sent)["bdrs"].clone()), (json!(2), json!(2)));
        // Each BDR's own task, on no deal (the deal may be the AE's by now).
        let calls = received(&crm);
        assert!(calls.iter().all(|c| c["method"] == "POST" && c["path"] == "/notices"), "{calls:?}");
        let tasks: Vec<Value> = calls
            .into_iter()
            .flat_map(|c| c["body"]["notices"].as_array().cloned().unwrap_or_default())
            .collect();
        assert!(tasks.iter().all(|t| t["kind"] == "task"), "{tasks:?}");
        let mut to: Vec<&str> = tasks.iter().map(|t| t["to"].as_str().unwrap()).collect();
        to.sort();
        assert_eq!(to, ["bdr-1", "bdr-2"]);
        let bdr2 = tasks.iter().find(|t| t["to"] == "bdr-2").unwrap();
        assert!(bdr2["body"].as_str().unwrap().contains("no timeline"), "{bdr2}");
        let again = node.request(post_bearer(&week, SWEEP)).await?;
        assert_eq!((json(&again)["sent"].clone(), json(&again)["already_sent"].clone()), (json!(0), json!(2)));

        // From the rollout date, rows per BDR: sorted by BDR, each with what to coach next.
        drop(node);
        let node = start(runtime.clone(), "2020-01-06").await?;
        let report = json(&node.request(bearer("/gate-handoff/report", ADMIN)).await?);
        assert_eq!(report["per_bdr"]["view"], "shown");
        let rows = report["per_bdr"]["rows"].as_array().unwrap();
        let bdrs: Vec<&Value> = rows.iter().map(|r| &r["bdr"]).collect();
        assert_eq!(bdrs, ["bdr-1", "bdr-2"]);
        assert_eq!(rows[0]["attempted"], 2);
        assert!(rows[0]["coach_next"].is_string(), "{}", rows[0]);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_an_ae_without_a_verdict_a_day_after_the_handoff_is_reminded_once_by_the_sweep()
-> anyhow::Result<()> {
    on_every_host_and_postgres("verdict reminder", |runtime, crm| async move {
        let no_open_deals = json!({"records": [], "next_cursor": null});
        crm.respond("GET", "/records/deals", 200, no_open_deals);
        let node = node(runtime, &crm)
            .variable("mode", "enforce")
            .variable("sweep_token", SWEEP)
            .start()
            .await?;
        let buyer =
            json!([{"id": "C-1", "name": "Priya Shah", "title": "CFO", "role": "economic_buyer"}]);
        let a_day_ago = deal_event(
            "h-r",
            "stage_changed",
            "D-8",
            "bdr-1",
            qualified("D-8"),
            buyer.clone(),
            25 * 60,
        );
        let an_hour_ago = deal_event(
            "h-s",
            "stage_changed",
            "D-9",
            "bdr-1",
            qualified("D-9"),
            buyer,
            60,
        );
        let handed = deliver(&node, &[a_day_ago, an_hour_ago]).await?;
        assert_eq!(
            handed["results"][0]["brief"]["decision"], "validated",
            "{handed}"
        );
        assert_eq!(
            handed["results"][1]["brief"]["decision"], "validated",
            "{handed}"
        );

        for round in 0..2 {
            crm.clear();
            let swept = node
                .request(bearer("/flag-stale-deals/generic/sweep", SWEEP))
                .await?;
            assert_eq!(swept.status(), 200, "{}", json(&swept));
            let reminders = json(&swept)["verdict_reminders"].as_u64().unwrap_or(0);
            let reminded = deal_patches(&crm, "D-8");
            if round == 0 {
                assert_eq!(reminders, 1, "{}", json(&swept));
                let notice = &reminded[0]["notices"][0];
                assert_eq!(
                    (&notice["kind"], &notice["to"]),
                    (&json!("task"), &json!("ae-7")),
                    "{notice}"
                );
                assert!(
                    notice["body"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("within 24 hours"),
                    "{notice}"
                );
            } else {
                assert_eq!(reminders, 0, "reminded once: {}", json(&swept));
                assert!(reminded.is_empty(), "{reminded:?}");
            }
            assert!(deal_patches(&crm, "D-9").is_empty(), "an hour is not a day");
        }
        Ok(())
    })
    .await
}
