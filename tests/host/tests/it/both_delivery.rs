//! On both hosts: a delivery applied once and its redelivery answered, the mode variable, a CRM
//! fault and its retry, a restart on the same state, a rate limit, a CRM that never answers, and
//! score-lead's review queue (the top share flagged, the owner tasked once, `GET
//! /score-lead/review`). All but the pasted template (which reads SQLite's `typeof`) also run on
//! Spin against PostgreSQL where a server is found.

use crate::both;
use crate::util;

use anyhow::Context as _;
use both::*;
use pipeline_guard_test_host::{
    DEFAULT_SQLITE_DB_FILENAME, FakeCrm,
    node::{Node, Runtime},
};
use util::*;

/// The three functions, with a fixture each must decide and write back.
const CASES: &[(&str, &str)] = &[
    ("score-lead", "generic/lead-created-fully-evidenced"),
    ("gate-handoff", "generic/deal-handoff-blocked-shadow"),
    ("flag-stale-deals", "generic/deal-deleted"),
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_delivery_is_applied_once_and_its_redelivery_answered() -> anyhow::Result<()>
{
    on_every_host_and_postgres("delivery and redelivery", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        for (function, case) in CASES {
            crm.clear();
            let body = fixture(&format!("{case}.json"));
            let path = format!("/{function}/generic");
            let first = node.request(signed_post(&path, &body)).await?;
            assert_eq!(first.status(), 200, "{function}: {}", json(&first));
            let first = json(&first);
            assert_eq!(first["function"], *function);
            assert_eq!(first["complete"], true);
            let result = &first["results"][0];
            let walked = &expected(case)["outcome"]["results"][0];
            assert_eq!(result["status"], "processed", "{function}");
            assert_eq!(result["brief"], walked["brief"], "{function}");
            assert_eq!(result["crm_calls"], walked["crm_calls"], "{function}");
            // The write-back the fixture walk expects from the core, byte for byte in JSON.
            assert_eq!(received(&crm), expected_calls(case), "{function}");
            for request in crm.requests() {
                assert_eq!(request.header("authorization"), Some("Bearer e2e-token"));
                assert_eq!(request.header("content-type"), Some("application/json"));
            }
            // Recorded in the ledger with the brief a redelivery answers.
            let event_id = result["event_id"].as_str().unwrap_or_default();
            let row = ledger_row(&node, function, event_id)?;
            assert_eq!(row["crm"], "generic");
            assert_eq!(row["record_id"], result["record_id"]);
            assert_eq!(row["state"], "processed", "{function}");
            assert_eq!(
                row["outcome"],
                serde_json::json!({ "status": "processed", "brief": result["brief"] }),
                "{function}"
            );

            let again = node.request(signed_post(&path, &body)).await?;
            assert_eq!(again.status(), 200);
            assert_duplicate_of(&json(&again)["results"][0], result);
            assert_eq!(
                received(&crm),
                expected_calls(case),
                "{function} wrote twice"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_top_share_is_flagged_its_owner_tasked_once_and_the_queue_listed()
-> anyhow::Result<()> {
    const ADMIN: &str = "admin-token-for-the-review-queue";
    let with_token = |path: &str| {
        let mut request = get(path);
        let bearer = format!("Bearer {ADMIN}").parse().expect("a header");
        request.headers_mut().insert("authorization", bearer);
        request
    };
    on_every_host_and_postgres("review queue", |runtime, crm| async move {
        let node = node(runtime, &crm)
            .variable("mode", "enforce")
            .variable("admin_token", ADMIN)
            .start()
            .await?;
        // Four leads with nothing recorded, then one fully evidenced: one of five is the top 20 %.
        let bare: Vec<serde_json::Value> = (0..4)
            .map(|i| {
                serde_json::json!({
                    "event_id": format!("evt-bare-{i}"), "occurred_at": "2026-11-20T09:00:00Z",
                    "type": "created",
                    "record": {"kind": "lead", "id": format!("L-bare-{i}"), "owner_id": "bdr-17"}
                })
            })
            .collect();
        let answer = node
            .request(signed_post("/score-lead/generic", &batch(&bare)))
            .await?;
        assert_eq!(statuses(&json(&answer)), ["processed"; 4]);
        let top = serde_json::to_vec(&lead_event("evt-top-1", "L-501"))?;
        let answer = node
            .request(signed_post("/score-lead/generic", &top))
            .await?;
        assert_eq!(answer.status(), 200, "{}", json(&answer));
        let calls = received(&crm);
        let flags: Vec<&serde_json::Value> = calls
            .iter()
            .map(|c| &c["body"]["fields"]["pg_review"])
            .collect();
        assert_eq!(flags, [false, false, false, false, true], "{calls:?}");
        let notices = calls[4]["body"]["notices"].as_array().context("a task")?;
        assert_eq!(notices.len(), 1);
        assert_eq!(
            (
                &notices[0]["kind"],
                &notices[0]["priority"],
                &notices[0]["to"]
            ),
            (&"task".into(), &"normal".into(), &"bdr-17".into())
        );
        assert!(
            notices[0]["body"]
                .as_str()
                .unwrap_or_default()
                .contains("top 20 %")
        );
        // Scored again while still in the top share: flagged, not tasked again.
        crm.clear();
        let again = serde_json::to_vec(&lead_event("evt-top-2", "L-501"))?;
        node.request(signed_post("/score-lead/generic", &again))
            .await?;
        let calls = received(&crm);
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0]["body"]["fields"]["pg_review"], true);
        assert!(calls[0]["body"]["notices"].is_null(), "{calls:?}");

        for refused in [get("/score-lead/review"), {
            let mut wrong = with_token("/score-lead/review");
            wrong
                .headers_mut()
                .insert("authorization", "Bearer guess".parse()?);
            wrong
        }] {
            assert_eq!(node.request(refused).await?.status(), 401);
        }
        let queue = json(
            &node
                .request(with_token("/score-lead/review?crm=generic"))
                .await?,
        );
        assert_eq!(
            (&queue["crm"], &queue["share"], &queue["window_days"]),
            (&"generic".into(), &0.2.into(), &30.into())
        );
        let records = queue["records"].as_array().context("records")?;
        assert_eq!(records.len(), 1, "{queue}");
        let record = &records[0];
        assert_eq!(
            (&record["crm"], &record["kind"], &record["record_id"]),
            (&"generic".into(), &"lead".into(), &"L-501".into())
        );
        assert_eq!(record["tier"], "hot");
        assert!(record["score"].as_u64().is_some_and(|s| s > 50), "{record}");
        assert!(record["scored_at"].is_string() && record["owner_told"] == true);
        assert!(
            record["why"]
                .as_str()
                .unwrap_or_default()
                .contains("top 20 % of the 5 leads"),
            "{record}"
        );
        assert!(
            !queue.to_string().contains("bdr-17"),
            "records, never reps: {queue}"
        );
        let elsewhere = json(
            &node
                .request(with_token("/score-lead/review?crm=hubspot"))
                .await?,
        );
        assert_eq!(elsewhere["records"], serde_json::json!([]));
        let bad = node
            .request(with_token("/score-lead/review?crm=zoho"))
            .await?;
        assert_eq!(bad.status(), 400);

        let mut page = with_token("/score-lead/review");
        page.headers_mut().insert("accept", "text/html".parse()?);
        let page = node.request(page).await?;
        assert_eq!(page.status(), 200);
        assert!(
            page.headers()["content-type"]
                .to_str()?
                .starts_with("text/html")
        );
        let page = String::from_utf8(page.body().to_vec())?;
        assert!(
            page.contains("<h1>Review queue</h1>") && page.contains("data-record=\"L-501\""),
            "{page}"
        );
        assert!(page.contains("name=\"viewport\"") && !page.contains("bdr-17"));
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_mode_variable_turns_shadow_into_enforce() -> anyhow::Result<()> {
    on_every_host_and_postgres("mode override", |runtime, crm| async move {
        let case = "generic/deal-handoff-blocked";
        answer_as_in_fixture(&crm, case);
        for (mode, status, stage, notices) in [
            ("shadow", "would_block", None, vec!["note"]),
            (
                "enforce",
                "blocked",
                Some("discovery"),
                vec!["task", "note"],
            ),
        ] {
            crm.clear();
            let node = node(runtime.clone(), &crm)
                .variable("mode", mode)
                .start()
                .await?;
            let answer = node
                .request(signed_post(
                    "/gate-handoff/generic",
                    &fixture(&format!("{case}.json")),
                ))
                .await?;
            assert_eq!(json(&answer)["mode"], mode);
            let calls = received(&crm);
            let patch = calls
                .iter()
                .find(|c| c["method"] == "PATCH")
                .context("a write-back")?;
            assert_eq!(patch["body"]["fields"]["pg_handoff_status"], status);
            assert_eq!(patch["body"]["stage"].as_str(), stage);
            let kinds: Vec<&str> = patch["body"]["notices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n["kind"].as_str())
                .collect();
            assert_eq!(kinds, notices, "{mode}");
            assert!(
                patch["body"]["notices"][0]["body"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Economic buyer (red): Who signs off on the budget")
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_crm_fault_is_retried_and_applied_once() -> anyhow::Result<()> {
    on_every_host_and_postgres("CRM fault and retry", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let case = "generic/lead-created-fully-evidenced";
        let body = fixture(&format!("{case}.json"));
        crm.fail_next(1, 503);
        let failed = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(failed.status(), 503, "{}", json(&failed));
        let answer = json(&failed);
        assert_eq!(answer["complete"], false);
        assert_eq!(answer["results"][0]["status"], "pending");
        assert!(
            answer["results"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("503")),
            "{answer}"
        );
        assert_nothing_settled_on(&node)?;
        let retried = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(retried.status(), 200, "{}", json(&retried));
        assert_eq!(json(&retried)["results"][0]["status"], "processed");
        // One refused attempt, one applied write.
        assert_eq!(
            received(&crm),
            [expected_calls(case), expected_calls(case)].concat()
        );
        assert_eq!(
            ledger_row(&node, "score-lead", "evt-1001")?["state"],
            "processed"
        );
        Ok(())
    })
    .await
}

/// Three deals of one rep, each with its own situation, impact and next step, and one pain.
const THREE_DEALS: [(&str, &str, &str, &str); 3] = [
    (
        "D-701",
        "Finance team of 12 closes the books in spreadsheets",
        "Cutting close to three days frees two FTE",
        "Demo with Dana Ruiz on 3 December",
    ),
    (
        "D-702",
        "Twenty planners rebuild the forecast by hand each quarter",
        "Automating the forecast saves 40 hours a quarter",
        "Call with the controller on 4 December",
    ),
    (
        "D-703",
        "Three warehouses reconcile stock counts on paper",
        "Live stock counts cut write-offs by 15 percent",
        "Workshop with the COO on 5 December",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_third_deal_with_the_same_pain_gets_it_red() -> anyhow::Result<()> {
    on_every_host("pasted template", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let pasted = "Manual processes cost the team 20 hours a month and delay reporting";
        let mut pains = Vec::new();
        for (n, (deal, situation, impact, next_step)) in THREE_DEALS.into_iter().enumerate() {
            let mut event = lead_event(&format!("evt-70{n}"), deal);
            event["record"]["kind"] = "deal".into();
            let fields = &mut event["record"]["fields"];
            fields["situation"] = situation.into();
            fields["impact"] = impact.into();
            fields["next_step"] = next_step.into();
            // The same template, however each rep's paste cased and punctuated it.
            fields["pain"] = match n {
                1 => pasted.to_uppercase(),
                _ => format!("{pasted}."),
            }
            .into();
            let answer = node
                .request(signed_post("/score-lead/generic", &batch(&[event])))
                .await?;
            assert_eq!(answer.status(), 200, "{}", json(&answer));
            let dimensions = json(&answer)["results"][0]["decision"]["dimensions"].clone();
            pains.push((
                dimensions[1]["status"].clone(),
                dimensions[1]["reason"].clone(),
            ));
            for other in [0, 2, 3] {
                let reason = dimensions[other]["reason"].as_str().unwrap_or_default();
                assert!(!reason.contains("the same text"), "{deal}: {reason}");
            }
        }
        assert_eq!(pains[0].0, "green", "{pains:?}");
        assert_eq!(pains[1].0, "green", "{pains:?}");
        assert_eq!(
            pains[2],
            (
                "red".into(),
                "`pain` holds no evidence: the same text is on 3 deals: write what this buyer said"
                    .into()
            )
        );
        let written = received(&crm);
        let gaps = written[2]["body"]["fields"]["pg_gaps"].as_str();
        assert!(
            gaps.is_some_and(|s| s.starts_with("Pain: the same text is on 3 deals")),
            "{gaps:?}"
        );
        // The database keeps one hash per deal, never the text.
        let kept = node.sql(
            "SELECT record_id, typeof(hash), length(hash) FROM pg_text_hashes \
             WHERE crm = 'generic' AND dimension = 'pain' ORDER BY record_id",
        )?;
        let deals: Vec<serde_json::Value> = THREE_DEALS
            .iter()
            .map(|(deal, ..)| serde_json::json!([deal, "blob", 32]))
            .collect();
        assert_eq!(serde_json::json!(kept), serde_json::json!(deals));
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_what_was_applied_survives_a_restart() -> anyhow::Result<()> {
    on_every_host_and_postgres("restart", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let body = fixture("generic/lead-created-fully-evidenced.json");
        let first = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        let first = json(&first)["results"][0].clone();
        assert_eq!(first["status"], "processed");
        // The ledger is the SQLite file Spin keeps in its state directory, or in PostgreSQL,
        // where nothing is written to SQLite.
        let sqlite_file = node.state_dir().join(DEFAULT_SQLITE_DB_FILENAME);
        assert_eq!(sqlite_file.is_file(), !node.on_postgres());
        let node = node.restart().await?;
        let again = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(again.status(), 200);
        assert_duplicate_of(&json(&again)["results"][0], &first);
        assert_eq!(crm.requests().len(), 1, "applied once across the restart");
        Ok(())
    })
    .await
}

/// A node as the delivery tests run it: a 2.5 s generic CRM timeout.
async fn delivery_node(runtime: Runtime, crm: &FakeCrm) -> anyhow::Result<Node> {
    node(runtime, crm)
        .variable("generic_timeout_ms", "2500")
        .start()
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_rate_limit_is_waited_out_when_it_fits_the_deadline_and_left_to_the_retry_otherwise()
-> anyhow::Result<()> {
    use pipeline_guard_test_host::Scripted;
    use std::time::{Duration, Instant};
    on_every_host_and_postgres("rate limit", |runtime, crm| async move {
        crm.script(
            "PATCH",
            "/records/leads/L-1",
            Scripted::json(429, &serde_json::json!({"message": "slow down"}))
                .header("retry-after", "1")
                .times(1),
        );
        let node = delivery_node(runtime, &crm).await?;
        let started = Instant::now();
        let response = node
            .request(signed_post(
                "/score-lead/generic",
                &batch(&[lead_event("evt-r1", "L-1")]),
            ))
            .await?;
        assert_eq!(response.status(), 200, "{}", json(&response));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited for Retry-After"
        );
        assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 2);
        // A Retry-After past the deadline is not waited for: the CRM's retry comes later.
        crm.script(
            "PATCH",
            "/records/leads/L-2",
            Scripted::json(429, &serde_json::json!({}))
                .header("retry-after", "30")
                .times(1),
        );
        let started = Instant::now();
        let body = batch(&[lead_event("evt-r2", "L-2")]);
        let response = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(response.status(), 503);
        assert_eq!(statuses(&json(&response)), ["pending"]);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "no tight loop, no long wait"
        );
        assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-2"), 1);
        let retry = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(statuses(&json(&retry)), ["processed"]);
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_crm_that_never_answers_is_cut_off_within_the_deadline()
-> anyhow::Result<()> {
    use pipeline_guard_test_host::Scripted;
    use std::time::{Duration, Instant};
    on_every_host_and_postgres("CRM never answers", |runtime, crm| async move {
        crm.script(
            "PATCH",
            "/records/leads/L-1",
            Scripted::json(200, &serde_json::json!({}))
                .after(Duration::from_secs(60))
                .times(1),
        );
        let node = delivery_node(runtime, &crm).await?;
        let body = batch(&[lead_event("evt-h1", "L-1")]);
        let started = Instant::now();
        let response = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        let took = started.elapsed();
        assert_eq!(response.status(), 503);
        // The guest stops at its 2 s deadline; the CRM's 2.5 s leave half a second for the
        // host, which a loaded two-core CI can eat. What must hold is that the function gives up
        // on its own, long before the scripted answer: it does not wait the CRM out.
        assert!(
            took < Duration::from_secs(5),
            "answered in {took:?}: the function waited for the CRM instead of its deadline"
        );
        let answer = json(&response);
        assert_eq!(statuses(&answer), ["pending"]);
        assert!(
            answer["results"][0]["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("no answer within"),
            "{answer}"
        );
        let retry = node
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(statuses(&json(&retry)), ["processed"]);
        assert_eq!(
            ledger_row(&node, "score-lead", "evt-h1")?["state"],
            "processed"
        );
        Ok(())
    })
    .await
}
