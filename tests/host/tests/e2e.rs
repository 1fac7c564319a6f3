//! End to end: real CRM payloads through the real `.wasm` of each function, in a host that
//! provides what Spin provides, against a fake CRM on 127.0.0.1.

mod util;

use bytes::Bytes;
use pipeline_guard_test_host::{DEFAULT_SQLITE_DB_FILENAME, FakeCrm, InstanceReuse, KvBackend};
use serde_json::Value;
use util::*;

/// The three functions, with a fixture each must decide and write back.
const CASES: &[(&str, &str)] = &[
    ("score-lead", "generic/lead-created-fully-evidenced"),
    ("gate-handoff", "generic/deal-handoff-blocked-shadow"),
    ("flag-stale-deals", "generic/deal-deleted"),
];

#[tokio::test(flavor = "multi_thread")]
async fn each_function_decides_writes_back_once_and_records() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).build()?;
    for (function, case) in CASES {
        crm.clear();
        let body = fixture(&format!("{case}.json"));
        let response = host
            .request(signed_post(&format!("/{function}/generic"), &body))
            .await?;
        assert_eq!(response.status(), 200, "{function}: {}", json(&response));
        let answer = json(&response);
        assert_eq!(answer["function"], *function);
        assert_eq!(answer["complete"], true);
        let result = &answer["results"][0];
        assert_eq!(result["status"], "processed");
        assert!(result["decision"]["decision"].is_string());
        // The brief and calls the fixture walk expects from the core.
        let walked = &expected(case)["outcome"]["results"][0];
        assert_eq!(result["brief"], walked["brief"], "{function}");
        assert_eq!(result["crm_calls"], walked["crm_calls"], "{function}");

        // The same write-back the fixture walk expects from the core, byte for byte in JSON.
        assert_eq!(received(&crm), expected_calls(case), "{function}");
        for request in crm.requests() {
            assert_eq!(request.header("authorization"), Some("Bearer e2e-token"));
            assert_eq!(request.header("content-type"), Some("application/json"));
        }

        // Recorded in the ledger, with the brief a redelivery answers.
        let event_id = result["event_id"].as_str().unwrap_or_default();
        let entry = ledger_entry(&host, function, event_id);
        assert_eq!(entry["crm"], "generic");
        assert_eq!(entry["record_id"], result["record_id"]);
        assert_eq!(entry["state"], "processed");
        assert_eq!(
            entry["outcome"],
            serde_json::json!({ "status": "processed", "brief": result["brief"] })
        );

        // Redelivered: acknowledged with the first decision's brief, not applied twice.
        let again = host
            .request(signed_post(&format!("/{function}/generic"), &body))
            .await?;
        assert_eq!(again.status(), 200);
        let again = json(&again);
        assert_eq!(again["complete"], true);
        assert_duplicate_of(&again["results"][0], result);
        assert_eq!(
            received(&crm),
            expected_calls(case),
            "{function} wrote twice"
        );
        assert_eq!(ledger_entry(&host, function, event_id), entry);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mode_variable_turns_shadow_into_enforce() -> anyhow::Result<()> {
    let case = "generic/deal-handoff-blocked";
    let body = fixture(&format!("{case}.json"));
    for (mode, status, stage, notices) in [
        (None, "would_block", None, vec!["note"]),
        (
            Some("enforce"),
            "blocked",
            Some("discovery"),
            vec!["task", "note"],
        ),
    ] {
        let crm = FakeCrm::start().await?;
        answer_as_in_fixture(&crm, case);
        let mut builder = host_builder(&crm);
        if let Some(mode) = mode {
            builder = builder.variable("mode", mode);
        }
        let host = builder.build()?;
        let response = host
            .request(signed_post("/gate-handoff/generic", &body))
            .await?;
        assert_eq!(response.status(), 200, "{}", json(&response));
        assert_eq!(json(&response)["mode"], mode.unwrap_or("shadow"));
        let calls = received(&crm);
        let patch = calls
            .iter()
            .find(|c| c["method"] == "PATCH")
            .expect("a write-back");
        assert_eq!(patch["path"], "/records/deals/D-88");
        assert_eq!(patch["body"]["fields"]["pg_handoff_status"], status);
        assert_eq!(patch["body"]["stage"].as_str(), stage);
        let kinds: Vec<&str> = patch["body"]["notices"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n["kind"].as_str())
            .collect();
        assert_eq!(kinds, notices);
        assert!(
            patch["body"]["notices"][0]["body"]
                .as_str()
                .unwrap_or_default()
                .contains("Economic buyer (red): Who signs off on the budget")
        );
    }
    Ok(())
}

/// The generic gate fixtures: each rule, each way into the handoff stage, the re-read before a
/// move back, the BDR and the AE, and the three notices.
const GATE_CASES: &[&str] = &[
    "generic/deal-handoff-validated",
    "generic/deal-handoff-blocked",
    "generic/deal-handoff-blocked-shadow",
    "generic/deal-handoff-pain-red-with-high-total",
    "generic/deal-handoff-incomplete-record",
    "generic/deal-handoff-qualification-below-threshold",
    "generic/deal-handoff-placeholder-evidence",
    "generic/deal-handoff-no-ae",
    "generic/deal-handoff-moved-on-before-move-back",
    "generic/deal-created-in-handoff-stage",
    "generic/deal-restored-in-handoff-stage",
    "generic/deal-created-without-stage",
];

#[tokio::test(flavor = "multi_thread")]
async fn the_gate_decides_every_generic_case_as_the_core_does() -> anyhow::Result<()> {
    for case in GATE_CASES {
        let walked = expected(case);
        let crm = FakeCrm::start().await?;
        answer_as_in_fixture(&crm, case);
        let mut builder =
            host_builder(&crm).variable("mode", walked["mode"].as_str().expect("the case's mode"));
        if let Some(playbook) = walked["playbook"].as_str() {
            builder = builder.variable("playbook", String::from_utf8(fixture(playbook))?);
        }
        let host = builder.build()?;
        let response = host
            .request(signed_post(
                "/gate-handoff/generic",
                &fixture(&format!("{case}.json")),
            ))
            .await?;
        let answer = json(&response);
        let result = &answer["results"][0];
        let walked_result = &walked["outcome"]["results"][0];
        assert_eq!(
            result["status"], walked_result["status"],
            "{case}: {answer}"
        );
        assert_eq!(result["brief"], walked_result["brief"], "{case}");
        assert_eq!(received(&crm), expected_calls(case), "{case}");
        let status = if walked_result["status"] == "pending" {
            503
        } else {
            200
        };
        assert_eq!(response.status(), status, "{case}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stage_change_delivered_after_a_newer_update_is_still_gated() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let case = "generic/deal-handoff-pain-red-with-high-total";
    answer_as_in_fixture(&crm, case);
    let host = host_builder(&crm).variable("mode", "enforce").build()?;
    let stage_change: Value = serde_json::from_slice(&fixture(&format!("{case}.json")))?;
    // The CRM delivers an unrelated update made a minute after the move first.
    let mut update = stage_change.clone();
    update["event_id"] = "evt-2011-update".into();
    update["type"] = "updated".into();
    update["occurred_at"] = "2026-11-21T09:01:00Z".into();
    update.as_object_mut().map(|o| o.remove("previous_stage"));
    let response = host
        .request(signed_post(
            "/gate-handoff/generic",
            &serde_json::to_vec(&update)?,
        ))
        .await?;
    assert_eq!(json(&response)["results"][0]["status"], "processed");
    assert!(
        received(&crm).is_empty(),
        "an update is no way into a stage"
    );
    let response = host
        .request(signed_post(
            "/gate-handoff/generic",
            &serde_json::to_vec(&stage_change)?,
        ))
        .await?;
    let result = &json(&response)["results"][0];
    assert_eq!(result["status"], "processed", "{result}");
    assert_eq!(result["brief"]["decision"], "blocked");
    assert_eq!(received(&crm), expected_calls(case));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn health_reports_version_mode_and_playbook() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).variable("mode", "enforce").build()?;
    for (function, _) in CASES {
        let response = host.request(get(&format!("/{function}"))).await?;
        assert_eq!(response.status(), 200);
        let health = json(&response);
        assert_eq!(health["function"], *function);
        assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(health["mode"], "enforce");
        assert_eq!(health["playbook"]["name"], "default");
        assert_eq!(
            health["playbook"]["content_hash"].as_str().map(str::len),
            Some(64)
        );
    }
    assert!(crm.requests().is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undeclared_outbound_host_is_refused_and_nothing_is_recorded() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    // The same app, but its components may only call a host the CRM is not on.
    let manifest = std::fs::read_to_string(root().join("spin.toml"))?.replace(
        "\"{{ generic_api_origin }}\",\n",
        "\"http://127.0.0.1:9\",\n",
    );
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("spin.toml");
    std::fs::write(&path, manifest)?;
    let host = host_builder_for(&path, &crm).build()?;

    let body = fixture("generic/lead-created-fully-evidenced.json");
    let response = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    // Left pending (503), so the CRM delivers again once the manifest is fixed.
    assert_eq!(response.status(), 503, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["complete"], false);
    let result = &answer["results"][0];
    assert_eq!(result["status"], "pending");
    assert!(
        result["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("allowed_outbound_hosts"),
        "{answer}"
    );
    assert!(crm.requests().is_empty());
    let denied = host.denied_outbound();
    assert_eq!(denied.len(), 1, "{denied:?}");
    // Not recorded as done: the claim is released for the retry.
    assert_nothing_settled(&host);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_crm_gets_a_503_and_the_retry_applies_the_event_once() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).build()?;
    let case = "generic/lead-created-fully-evidenced";
    let body = fixture(&format!("{case}.json"));
    crm.fail_next(1, 503);
    let response = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(response.status(), 503, "{}", json(&response));
    let answer = json(&response);
    assert_eq!(answer["complete"], false);
    assert_eq!(answer["results"][0]["status"], "pending");
    assert!(
        answer["results"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("503")),
        "{answer}"
    );
    assert_nothing_settled(&host);

    let retry = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(retry.status(), 200, "{}", json(&retry));
    assert_eq!(json(&retry)["results"][0]["status"], "processed");
    // One refused attempt, one applied write.
    assert_eq!(
        received(&crm),
        [expected_calls(case), expected_calls(case)].concat()
    );
    assert_eq!(
        ledger_entry(&host, "score-lead", "evt-1001")["state"],
        "processed"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_a_4xx_naming_the_problem_and_writes_nothing() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).build()?;
    let valid = fixture("generic/lead-created-fully-evidenced.json");
    let ts = now();

    let with = |body: &[u8], content_type: &str, ts: i64, signature: Option<String>| {
        let mut request = http::Request::post("http://pipeline-guard.test/score-lead/generic")
            .header("content-type", content_type)
            .header("x-pipeline-guard-timestamp", ts.to_string());
        if let Some(signature) = signature {
            request = request.header("x-pipeline-guard-signature", signature);
        }
        request.body(Bytes::copy_from_slice(body)).expect("request")
    };
    let mut oversized = b"{\"pad\":\"".to_vec();
    oversized.resize(1024 * 1024 + 16, b'x');
    oversized.extend_from_slice(b"\"}");
    // Another record id, same length: only the signature can tell.
    let tampered = String::from_utf8(valid.clone())?
        .replace("L-501", "L-666")
        .into_bytes();
    assert_ne!(tampered, valid);

    let cases: Vec<(&str, http::Request<Bytes>, u16, &str, &str)> = vec![
        (
            "malformed JSON",
            signed_post("/score-lead/generic", b"{\"event_id\": "),
            400,
            "invalid_body",
            "not valid JSON",
        ),
        (
            "schema error",
            signed_post(
                "/score-lead/generic",
                &fixture("generic/invalid-record-without-id.json"),
            ),
            400,
            "invalid_body",
            "events[1].record",
        ),
        (
            "wrong content type",
            with(&valid, "text/plain", ts, Some(sign(SECRET, ts, &valid))),
            415,
            "unsupported_content_type",
            "text/plain",
        ),
        (
            "oversized body",
            signed_post("/score-lead/generic", &oversized),
            413,
            "body_too_large",
            "1048576",
        ),
        (
            "missing signature",
            with(&valid, "application/json", ts, None),
            401,
            "missing_signature",
            "x-pipeline-guard-signature",
        ),
        (
            "wrong secret",
            with(
                &valid,
                "application/json",
                ts,
                Some(sign("guess", ts, &valid)),
            ),
            401,
            "bad_signature",
            "signature mismatch",
        ),
        (
            "tampered body",
            with(
                &tampered,
                "application/json",
                ts,
                Some(sign(SECRET, ts, &valid)),
            ),
            401,
            "bad_signature",
            "signature mismatch",
        ),
        (
            "replayed after 10 minutes",
            with(
                &valid,
                "application/json",
                ts - 600,
                Some(sign(SECRET, ts - 600, &valid)),
            ),
            401,
            "stale_timestamp",
            "window is 300 s",
        ),
        (
            "unknown CRM route",
            signed_post("/score-lead/zoho", &valid),
            404,
            "not_found",
            "POST /score-lead/generic",
        ),
        (
            "GET on a webhook route",
            get("/score-lead/generic"),
            405,
            "method_not_allowed",
            "POST",
        ),
    ];
    for (name, request, status, code, mentions) in cases {
        let response = host.request(request).await?;
        assert_eq!(
            response.status(),
            status,
            "{name}: {}",
            String::from_utf8_lossy(response.body())
        );
        let error = json(&response);
        assert_eq!(error["error"]["code"], code, "{name}");
        let text = error.to_string();
        assert!(
            text.contains(mentions),
            "{name}: {text} should mention {mentions:?}"
        );
    }
    assert!(crm.requests().is_empty(), "bad input reached the CRM");
    assert!(host.kv("default").is_empty(), "bad input reached the store");
    assert!(ledger(&host).is_empty(), "bad input reached the ledger");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn records_survive_a_host_restart_with_a_file_backed_store() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let dir = tempfile::tempdir()?;
    let body = fixture("generic/lead-created-fully-evidenced.json");
    let first = {
        let host = host_builder(&crm)
            .key_value(KvBackend::Dir(dir.path().to_path_buf()))
            .build()?;
        let response = host
            .request(signed_post("/score-lead/generic", &body))
            .await?;
        let first = json(&response)["results"][0].clone();
        assert_eq!(first["status"], "processed");
        first
    };
    // The ledger is the SQLite file Spin keeps beside its key-value data.
    assert!(dir.path().join(DEFAULT_SQLITE_DB_FILENAME).is_file());
    let host = host_builder(&crm)
        .key_value(KvBackend::Dir(dir.path().to_path_buf()))
        .build()?;
    let response = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(response.status(), 200);
    assert_duplicate_of(&json(&response)["results"][0], &first);
    assert_eq!(crm.requests().len(), 1);
    Ok(())
}

/// Distinct events for distinct deals, sent concurrently.
fn distinct_events(n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            serde_json::to_vec(&serde_json::json!({
                "event_id": format!("evt-c{i}"),
                "occurred_at": "2026-11-21T09:00:00Z",
                "type": "updated",
                "record": { "kind": "deal", "id": format!("D-c{i}"), "fields": { "pain": "slow close" } }
            }))
            .expect("json")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_on_shared_and_fresh_instances_each_apply_once() -> anyhow::Result<()> {
    for reuse in [InstanceReuse::default(), InstanceReuse::fresh_per_request()] {
        let crm = FakeCrm::start().await?;
        let host = host_builder(&crm).instance_reuse(reuse).build()?;
        let mut bodies = distinct_events(32).into_iter();
        // A burst, as a CRM's concurrent deliveries arrive...
        let burst = bodies
            .by_ref()
            .take(24)
            .map(|body| host.request(signed_post("/score-lead/generic", &body)))
            .collect::<Vec<_>>();
        for response in futures::future::join_all(burst).await {
            let response = response?;
            assert_eq!(response.status(), 200, "{}", json(&response));
        }
        // ...then one at a time, which a warm instance serves.
        for body in bodies {
            let response = host
                .request(signed_post("/score-lead/generic", &body))
                .await?;
            assert_eq!(response.status(), 200, "{}", json(&response));
        }
        let mut paths: Vec<String> = crm.requests().iter().map(|r| r.path().to_owned()).collect();
        paths.sort();
        paths.dedup();
        assert_eq!(
            paths.len(),
            32,
            "{reuse:?}: every deal written exactly once"
        );
        assert_eq!(crm.requests().len(), 32);
        let entries = ledger(&host);
        assert_eq!(entries.len(), 32, "{reuse:?}: every event recorded once");
        assert!(
            entries.iter().all(|e| e["state"] == "processed"),
            "{entries:?}"
        );
        let stats = host.instance_stats("score-lead");
        if reuse == InstanceReuse::default() {
            assert!(
                stats.max_requests_per_instance > 1,
                "instances were not reused: {stats:?}"
            );
        } else {
            assert_eq!(stats.max_requests_per_instance, 1, "{stats:?}");
            assert_eq!(host.instances_created("score-lead"), 32);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn write_backs_go_under_the_configured_api_base_path() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm)
        .variable("generic_api_base_path", "/api/v2")
        .build()?;
    let body = fixture("generic/lead-created-fully-evidenced.json");
    let response = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let paths: Vec<String> = crm.requests().iter().map(|r| r.path().to_owned()).collect();
    assert_eq!(paths, ["/api/v2/records/leads/L-501"]);
    // score-lead keeps the bounded histogram its review flag is computed from.
    assert!(host.kv("default").contains_key("review/histogram/default"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn served_over_tcp_like_spin_up() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).build()?;
    let addr = host.serve("127.0.0.1:0".parse()?).await?;
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let response = sender
        .send_request(
            http::Request::get("/gate-handoff")
                .header("host", addr.to_string())
                .body(http_body_util::Full::new(Bytes::new()))?,
        )
        .await?;
    assert_eq!(response.status(), 200);
    use http_body_util::BodyExt;
    let body = response.into_body().collect().await?.to_bytes();
    let health: Value = serde_json::from_slice(&body)?;
    assert_eq!(health["function"], "gate-handoff");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_playbook_variable_swaps_the_playbook_and_a_broken_one_is_refused() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let meddicc = String::from_utf8(fixture("playbooks/meddicc.toml"))?;
    let host = host_builder(&crm).variable("playbook", meddicc).build()?;
    let health = json(&host.request(get("/score-lead")).await?);
    assert_eq!(health["playbook"]["name"], "meddicc");
    let body = fixture("generic/lead-created-fully-evidenced.json");
    let response = host
        .request(signed_post("/score-lead/generic", &body))
        .await?;
    let card = &json(&response)["results"][0]["decision"];
    assert_eq!(card["playbook"]["name"], "meddicc");
    assert_eq!(card["dimensions"].as_array().map(Vec::len), Some(8));

    let broken = String::from_utf8(fixture("scoring/invalid-unknown-requirement.toml"))?;
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).variable("playbook", broken).build()?;
    for request in [
        get("/gate-handoff"),
        signed_post("/gate-handoff/generic", &body),
    ] {
        let response = host.request(request).await?;
        assert_eq!(response.status(), 500);
        let error = json(&response);
        assert_eq!(error["error"]["code"], "invalid_playbook");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("tiers[0].requires_green[0]: unknown dimension \"pian\""),
            "{error}"
        );
    }
    assert!(crm.requests().is_empty());
    assert!(host.kv("default").is_empty());
    assert!(ledger(&host).is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_playbook_with_broken_gate_rules_is_refused_naming_each_path() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let broken = String::from_utf8(fixture("scoring/invalid-handoff-rules.toml"))?;
    let host = host_builder(&crm).variable("playbook", broken).build()?;
    let body = fixture("generic/deal-handoff-validated.json");
    let response = host
        .request(signed_post("/gate-handoff/generic", &body))
        .await?;
    assert_eq!(response.status(), 500);
    let message = json(&response)["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for path in [
        "handoff.requires_green[0]: unknown dimension \"pian\"",
        "handoff.ae_field: \"pg_score\" is an evidence or write-back field",
        "handoff.crm_fields.hubspot.ae_ownr: not a field the handoff names",
    ] {
        assert!(message.contains(path), "{path} in {message}");
    }
    assert!(crm.requests().is_empty());
    assert!(ledger(&host).is_empty());
    Ok(())
}
