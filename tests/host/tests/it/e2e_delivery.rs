//! End to end on the test host: a delivery's promises under real conditions, on the real
//! `.wasm` — concurrent copies in one and across instances, permanent and transient CRM faults,
//! answers that cannot be used, the deadline, and a claim left behind by a crashed attempt.
//! Rate limits and a CRM that never answers run on both hosts (`both_delivery.rs`). Nothing a CRM
//! sent is lost or applied twice.

use crate::util;

use std::time::Duration;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, InstanceReuse, Scripted};
use serde_json::{Value, json};
use util::*;

const ADMIN: &str = "e2e-admin";

/// The ledger's state for each of `event_ids` of score-lead.
fn ledger_states(host: &Host, event_ids: &[&str]) -> Vec<String> {
    event_ids
        .iter()
        .map(|id| {
            let rows = tokio::task::block_in_place(|| {
                host.sqlite_query(
                    "default",
                    &format!(
                        "SELECT state FROM pg_events WHERE function = 'score-lead' AND event_id = '{id}'"
                    ),
                )
            })
            .expect("ledger query");
            rows.first()
                .and_then(|row| row[0].as_str())
                .unwrap_or("absent")
                .to_owned()
        })
        .collect()
}

fn host(crm: &FakeCrm, reuse: InstanceReuse) -> anyhow::Result<Host> {
    host_builder(crm)
        .variable("admin_token", ADMIN)
        .variable("generic_timeout_ms", "2500")
        .instance_reuse(reuse)
        .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_copies_of_a_delivery_write_once_in_one_instance_and_across_instances()
-> anyhow::Result<()> {
    for (n, reuse) in [InstanceReuse::default(), InstanceReuse::fresh_per_request()]
        .into_iter()
        .enumerate()
    {
        let crm = FakeCrm::start().await?;
        // Slow enough that the copies overlap.
        crm.script(
            "PATCH",
            "/records/",
            Scripted::json(200, &json!({})).after(Duration::from_millis(300)),
        );
        let host = host(&crm, reuse)?;
        let body = batch(&[lead_event(&format!("evt-c{n}"), "L-1")]);
        let copies = (0..5).map(|_| host.request(signed_post("/score-lead/generic", &body)));
        let answers = futures::future::join_all(copies).await;
        let mut seen = Vec::new();
        for answer in answers {
            let answer = answer?;
            seen.extend(statuses(&json(&answer)));
        }
        assert_eq!(
            calls_to(&crm, "PATCH", "/records/leads/L-1"),
            1,
            "five copies, one write ({seen:?})"
        );
        let write = &crm.requests()[0];
        assert_eq!(
            write.header("content-length"),
            Some(write.body.len().to_string().as_str()),
            "request bodies carry their length"
        );
        assert_eq!(
            seen.iter().filter(|s| *s == "processed").count(),
            1,
            "{seen:?}"
        );
        assert!(
            seen.iter()
                .all(|s| ["processed", "in_progress", "duplicate"].contains(&s.as_str())),
            "{seen:?}"
        );
        // A copy that found the event in progress asked for a retry; the retry gets the result.
        let retry = host
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        assert_eq!(retry.status(), 200);
        assert_eq!(statuses(&json(&retry)), ["duplicate"]);
        assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 1);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanent_failure_fails_its_event_only_and_a_transient_one_is_retried()
-> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    crm.respond(
        "PATCH",
        "/records/leads/L-2",
        400,
        json!({"message": "Property pg_score does not exist", "category": "VALIDATION_ERROR"}),
    );
    crm.script(
        "PATCH",
        "/records/leads/L-3",
        Scripted::json(500, &json!({"message": "internal"})).times(1),
    );
    let host = host(&crm, InstanceReuse::default())?;
    let events = [
        lead_event("evt-p1", "L-1"),
        lead_event("evt-p2", "L-2"),
        lead_event("evt-p3", "L-3"),
    ];
    let body = batch(&events);

    let first = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(first.status(), 503, "a pending event asks for a retry");
    let answer = json(&first);
    assert_eq!(statuses(&answer), ["processed", "failed", "pending"]);
    assert!(!answer["complete"].as_bool().unwrap_or(true));
    let reason = answer["results"][1]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("400") && reason.contains("Property pg_score does not exist"),
        "{reason}"
    );
    assert_eq!(
        ledger_states(&host, &["evt-p1", "evt-p2", "evt-p3"]),
        ["processed", "failed", "claimed"]
    );

    // The CRM retries the whole delivery: only the pending event is done again.
    let retry = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(retry.status(), 200, "{}", json(&retry));
    assert_eq!(
        statuses(&json(&retry)),
        ["duplicate", "failed", "processed"]
    );
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 1);
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-2"), 1);
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-3"), 2);

    // The admin sees why, fixes the property, and retries the failed event.
    let status = host
        .request(admin(http::Request::get(
            "http://pipeline-guard.test/score-lead/status",
        )))
        .await?;
    assert_eq!(status.status(), 200);
    let failed = &json(&status)["failed"];
    assert_eq!(failed.as_array().map(Vec::len), Some(1), "{failed}");
    assert_eq!(failed[0]["event_id"], "evt-p2");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("pg_score")
    );
    let anonymous = host.request(get("/score-lead/status")).await?;
    assert_eq!(anonymous.status(), 401);

    crm.respond("PATCH", "/records/leads/L-2", 200, json!({}));
    let retried = host
        .request(admin(http::Request::post(
            "http://pipeline-guard.test/score-lead/generic/retry",
        )))
        .await?;
    assert_eq!(retried.status(), 200, "{}", json(&retried));
    assert_eq!(statuses(&json(&retried)), ["processed"]);
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-2"), 2);
    assert_eq!(
        ledger_states(&host, &["evt-p1", "evt-p2", "evt-p3"]),
        ["processed", "processed", "processed"]
    );
    Ok(())
}

fn admin(builder: http::request::Builder) -> http::Request<Bytes> {
    builder
        .header("authorization", format!("Bearer {ADMIN}"))
        .body(Bytes::new())
        .expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_that_is_not_json_fails_the_event_for_good() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    crm.script(
        "PATCH",
        "/records/leads/L-1",
        Scripted::raw(200, "<html>maintenance</html>"),
    );
    let host = host(&crm, InstanceReuse::default())?;
    let response = host
        .request(signed_post(
            "/score-lead/generic",
            &batch(&[lead_event("evt-j1", "L-1")]),
        ))
        .await?;
    assert_eq!(response.status(), 200);
    let answer = json(&response);
    assert_eq!(statuses(&answer), ["failed"]);
    let reason = answer["results"][0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not JSON"), "{reason}");
    assert!(
        !reason.contains("maintenance"),
        "no raw CRM body in errors: {reason}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_cut_off_by_the_deadline_is_finished_by_the_retry() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    crm.script(
        "PATCH",
        "/records/",
        Scripted::json(200, &json!({})).after(Duration::from_millis(900)),
    );
    let host = host_builder(&crm)
        .variable("generic_timeout_ms", "2500")
        .variable("crm_concurrency", "1")
        .build()?;
    let ids = ["evt-d1", "evt-d2", "evt-d3", "evt-d4"];
    let events: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| lead_event(id, &format!("L-{i}")))
        .collect();
    let body = batch(&events);
    let first = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(first.status(), 503);
    let first_statuses = statuses(&json(&first));
    assert_eq!(first_statuses[0], "processed");
    assert!(
        first_statuses.iter().filter(|s| *s == "pending").count() >= 2,
        "{first_statuses:?}"
    );
    let mut rounds = 0;
    loop {
        rounds += 1;
        let retry = host
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        if retry.status() == 200 {
            break;
        }
        assert!(rounds < 4, "the retries finish the batch");
    }
    assert_eq!(
        ledger_states(&host, &ids),
        ["processed", "processed", "processed", "processed"]
    );
    // Records the first try never reached got exactly one write; the one cut off in flight was
    // sent the same idempotent update again.
    for (i, status) in first_statuses.iter().enumerate() {
        let writes = calls_to(&crm, "PATCH", &format!("/records/leads/L-{i}"));
        match status.as_str() {
            "processed" => assert_eq!(writes, 1, "L-{i}"),
            _ => assert!((1..=2).contains(&writes), "L-{i}: {writes}"),
        }
    }
    Ok(())
}

/// The ledger key of a generic event for score-lead: computed here independently of the code
/// under test (SHA-256 of the function and the de-duplication key, NUL-terminated, 16 bytes).
fn ledger_key(event_id: &str) -> String {
    use sha2::Digest;
    let mut digest = sha2::Sha256::new();
    for part in ["score-lead", &format!("generic:{event_id}")] {
        digest.update(part.as_bytes());
        digest.update([0]);
    }
    hex::encode(&digest.finalize()[..16])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_left_by_a_crashed_attempt_holds_until_its_lease_expires() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host(&crm, InstanceReuse::default())?;
    // Create the ledger's tables with a first delivery.
    host.request(signed_post(
        "/score-lead/generic",
        &batch(&[lead_event("evt-x0", "L-0")]),
    ))
    .await?;
    let now_ms = now() * 1000;
    tokio::task::block_in_place(|| {
        host.sqlite_query(
            "default",
            &format!(
                "INSERT INTO pg_events (key, function, crm, event_id, record_id, state, claimant, lease_until, keep_until, at) \
                 VALUES ('{}', 'score-lead', 'generic', 'evt-x1', 'L-1', 'claimed', 'crashed', {}, {}, {now_ms})",
                ledger_key("evt-x1"),
                now_ms + 60_000,
                now_ms + 86_400_000,
            ),
        )
    })?;
    let body = batch(&[lead_event("evt-x1", "L-1")]);
    let held = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(held.status(), 503);
    assert_eq!(statuses(&json(&held)), ["in_progress"]);
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 0);

    // The lease runs out (the worker died): the next retry takes the event over.
    tokio::task::block_in_place(|| {
        host.sqlite_query(
            "default",
            &format!(
                "UPDATE pg_events SET lease_until = {} WHERE event_id = 'evt-x1'",
                now_ms - 1
            ),
        )
    })?;
    let taken = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(taken.status(), 200);
    assert_eq!(statuses(&json(&taken)), ["processed"]);
    assert_eq!(calls_to(&crm, "PATCH", "/records/leads/L-1"), 1);
    Ok(())
}
