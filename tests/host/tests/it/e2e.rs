//! End to end on the test host: what only it can tell (instances, denied outbound calls, its own
//! serving over TCP) and bad input. The scenarios that run on real Spin too are in
//! `both_*.rs`.

use crate::util;

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, InstanceReuse};
use serde_json::Value;
use util::*;

/// `GET /<function>` with the admin token.
fn admin_get(path: &str, token: &str) -> http::Request<Bytes> {
    http::Request::get(format!("http://pipeline-guard.test{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Bytes::new())
        .expect("request")
}

#[tokio::test(flavor = "multi_thread")]
async fn health_says_ok_and_the_version_and_details_only_to_the_admin() -> anyhow::Result<()> {
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm)
        .variable("mode", "enforce")
        .variable("admin_token", "admin-secret")
        .build()?;
    for function in ["score-lead", "gate-handoff", "flag-stale-deals"] {
        let response = host.request(get(&format!("/{function}"))).await?;
        assert_eq!(response.status(), 200);
        assert_eq!(
            json(&response),
            serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
            "anonymous health shows nothing more"
        );
        let response = host
            .request(admin_get(&format!("/{function}"), "admin-secret"))
            .await?;
        let health = json(&response);
        assert_eq!(health["function"], function);
        assert_eq!(health["mode"], "enforce");
        assert_eq!(health["playbook"]["name"], "default");
        assert_eq!(
            health["playbook"]["content_hash"].as_str().map(str::len),
            Some(64)
        );
        let wrong = host
            .request(admin_get(&format!("/{function}"), "guess"))
            .await?;
        assert_eq!(wrong.status(), 401);
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
            with(
                &valid,
                "text/plain",
                ts,
                Some(sign(SECRET, ts, "POST", "/score-lead/generic", &valid)),
            ),
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
                Some(sign("guess", ts, "POST", "/score-lead/generic", &valid)),
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
                Some(sign(SECRET, ts, "POST", "/score-lead/generic", &valid)),
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
                Some(sign(
                    SECRET,
                    ts - 600,
                    "POST",
                    "/score-lead/generic",
                    &valid,
                )),
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
    // score-lead keeps the lead's latest score in the review queue its flag is ranked in.
    assert_eq!(
        sql(&host, "SELECT crm, kind, record_id, flagged FROM pg_review"),
        [[
            serde_json::json!("generic"),
            "lead".into(),
            "L-501".into(),
            0.into()
        ]]
    );
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
    assert_eq!(health["status"], "ok");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_playbook_variable_swaps_the_playbook_and_a_broken_one_is_refused() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let meddicc = String::from_utf8(fixture("playbooks/meddicc.toml"))?;
    let host = host_builder(&crm)
        .variable("playbook", meddicc)
        .variable("admin_token", "admin-secret")
        .build()?;
    let health = json(
        &host
            .request(admin_get("/score-lead", "admin-secret"))
            .await?,
    );
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
    let host = host_builder(&crm)
        .variable("playbook", broken)
        .variable("admin_token", "admin-secret")
        .build()?;
    // Anonymously: not ok, nothing about why.
    let anonymous = host.request(get("/gate-handoff")).await?;
    assert_eq!(anonymous.status(), 503);
    assert_eq!(
        json(&anonymous),
        serde_json::json!({ "status": "not ok", "version": env!("CARGO_PKG_VERSION") })
    );
    let problem = "tiers[0].requires_green[0]: unknown dimension \"pian\"";
    let admin = json(
        &host
            .request(admin_get("/gate-handoff", "admin-secret"))
            .await?,
    );
    assert_eq!(admin["status"], "not ok");
    assert_eq!(admin["error"]["code"], "invalid_playbook");
    let said = |answer: &Value| {
        answer["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert!(said(&admin).contains(problem), "{admin}");
    // An authenticated webhook is refused with the problems, so the CRM's log shows them.
    let response = host
        .request(signed_post("/gate-handoff/generic", &body))
        .await?;
    assert_eq!(response.status(), 500);
    let error = json(&response);
    assert_eq!(error["error"]["code"], "invalid_playbook");
    assert!(said(&error).contains(problem), "{error}");
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

/// A lead with a situation and an impact, and nothing else the playbook asks for.
fn thin_lead(event_id: &str, occurred_at: &str) -> Value {
    let mut event = lead_event(event_id, "L-77");
    event["occurred_at"] = occurred_at.into();
    event["record"]["fields"] = serde_json::json!({
        "situation": "Finance team of 12 closes the books in spreadsheets and email",
        "impact": "Cutting close to three days frees two FTE by Q2",
    });
    event["record"]["contacts"] = serde_json::json!([]);
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn score_lead_writes_what_to_ask_next_and_what_it_does_not_measure_once() -> anyhow::Result<()>
{
    let crm = FakeCrm::start().await?;
    let host = host_builder(&crm).build()?;
    let first = thin_lead("evt-thin-1", "2026-11-20T09:30:00Z");
    let response = host
        .request(signed_post("/score-lead/generic", &batch(&[first])))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let calls = received(&crm);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["path"], "/records/leads/L-77");
    let fields = calls[0]["body"]["fields"].clone();
    // Qualification, fit and engagement apart; the total stays in pg_score for the gate.
    assert_eq!(
        fields["pg_summary"],
        "Qualification 35/100 · Fit D · Engagement 0/10 · Tier cold"
    );
    assert_eq!(fields["pg_score"], 28);
    assert_eq!(
        fields["pg_next_question"],
        "What is broken today, and what does it cost them when it happens?"
    );
    assert_eq!(
        fields["pg_gaps"],
        "Pain: nothing recorded · Next step: nothing recorded · Economic buyer: no contact with the role"
    );
    assert_eq!(
        fields["pg_not_measured"],
        "Not measured: relationship strength and trust built with the buyer; champion activity \
         between calls; email threads and conversations outside the CRM"
    );

    // The CRM now holds what was written: a later change to the lead that leaves the score as it
    // is writes nothing.
    let mut held = thin_lead("evt-thin-2", "2026-11-20T09:45:00Z");
    for (field, value) in fields.as_object().expect("fields") {
        held["record"]["fields"][field] = value.clone();
    }
    let response = host
        .request(signed_post("/score-lead/generic", &batch(&[held.clone()])))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    assert_eq!(
        received(&crm).len(),
        1,
        "an unchanged score is not written again"
    );

    // An old question in the CRM is replaced, even when everything else still holds.
    let mut stale = held;
    stale["event_id"] = "evt-thin-3".into();
    stale["occurred_at"] = "2026-11-20T10:00:00Z".into();
    stale["record"]["fields"]["pg_next_question"] = "Who signs off on the budget?".into();
    let response = host
        .request(signed_post("/score-lead/generic", &batch(&[stale])))
        .await?;
    assert_eq!(response.status(), 200, "{}", json(&response));
    let calls = received(&crm);
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[1]["body"]["fields"], fields);
    Ok(())
}
