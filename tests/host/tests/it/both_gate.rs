//! On both hosts: the handoff gate decides every generic and HubSpot case as the core does, and a
//! stage change delivered after a newer update is still gated.

use crate::both;
use crate::util;

use both::*;
use serde_json::Value;
use util::*;

/// The generic gate cases: each rule, each way into the handoff stage, the re-read before a
/// move back, the BDR and the AE, and the notices.
const GATE_CASES: &[&str] = &[
    "generic/deal-handoff-validated",
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
async fn on_both_hosts_the_gate_decides_every_case_as_the_core_does() -> anyhow::Result<()> {
    on_every_host("gate cases", |runtime, crm| async move {
        for case in GATE_CASES {
            crm.clear();
            let walked = expected(case);
            let node = case_node(runtime.clone(), &crm, case, "shadow").await?;
            let answer = node
                .request(signed_post(
                    "/gate-handoff/generic",
                    &fixture(&format!("{case}.json")),
                ))
                .await?;
            let result = &json(&answer)["results"][0];
            let walked = &walked["outcome"]["results"][0];
            assert_eq!(result["status"], walked["status"], "{case}");
            assert_eq!(result["brief"], walked["brief"], "{case}");
            assert_eq!(received(&crm), expected_calls(case), "{case}");
            let status = if walked["status"] == "pending" {
                503
            } else {
                200
            };
            assert_eq!(answer.status(), status, "{case}");
        }
        Ok(())
    })
    .await
}

/// HubSpot gate cases: a v3 signature over the URL each host reports, the batch reads, the owner
/// lookup, the re-read before a move back, and the batch write-back.
const HUBSPOT_CASES: &[&str] = &[
    "hubspot/deal-stage-changed-to-handoff",
    "hubspot/deal-stage-changed-to-handoff-blocked",
    "hubspot/deal-handoff-blocked-shadow",
    "hubspot/deal-handoff-moved-on-before-move-back",
    "hubspot/deal-created-in-handoff-stage",
    "hubspot/deal-handoff-no-ae",
    "hubspot/deal-handoff-read-with-timeline-and-company",
];

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_hubspot_handoffs_are_gated_as_the_core_gates_them() -> anyhow::Result<()> {
    on_every_host("HubSpot gate cases", |runtime, crm| async move {
        for case in HUBSPOT_CASES {
            crm.clear();
            let walked = expected(case);
            let node = case_node(runtime.clone(), &crm, case, "enforce").await?;
            let body = fixture(&format!("{case}.json"));
            let answer = node
                .request(hubspot_post("/gate-handoff/hubspot", &body, true, 0))
                .await?;
            assert_eq!(answer.status(), 200, "{case}: {}", json(&answer));
            let results = json(&answer)["results"].clone();
            let walked = &walked["outcome"]["results"];
            let briefs = |results: &Value| -> Vec<Value> {
                results
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| serde_json::json!([r["status"], r["brief"]]))
                    .collect()
            };
            assert_eq!(briefs(&results), briefs(walked), "{case}");
            let timestamps = "/inputs/*/properties/hs_timestamp";
            assert_eq!(
                sorted(without(received(&crm), timestamps)),
                sorted(without(expected_calls(case), timestamps)),
                "{case}"
            );
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_stage_change_delivered_after_a_newer_update_is_still_gated()
-> anyhow::Result<()> {
    on_every_host("out of order", |runtime, crm| async move {
        let case = "generic/deal-handoff-pain-red-with-high-total";
        answer_as_in_fixture(&crm, case);
        let node = node(runtime, &crm)
            .variable("mode", "enforce")
            .start()
            .await?;
        let stage_change: Value = serde_json::from_slice(&fixture(&format!("{case}.json")))?;
        // The CRM delivers an unrelated update made a minute after the move first.
        let mut update = stage_change.clone();
        update["event_id"] = "evt-2011-update".into();
        update["type"] = "updated".into();
        update["occurred_at"] = "2026-11-21T09:01:00Z".into();
        update.as_object_mut().map(|o| o.remove("previous_stage"));
        let answer = node
            .request(signed_post(
                "/gate-handoff/generic",
                &serde_json::to_vec(&update)?,
            ))
            .await?;
        assert_eq!(json(&answer)["results"][0]["status"], "processed");
        assert!(
            received(&crm).is_empty(),
            "an update is no way into a stage"
        );
        let answer = node
            .request(signed_post(
                "/gate-handoff/generic",
                &serde_json::to_vec(&stage_change)?,
            ))
            .await?;
        let result = &json(&answer)["results"][0];
        assert_eq!(result["status"], "processed", "{result}");
        assert_eq!(result["brief"]["decision"], "blocked");
        assert_eq!(received(&crm), expected_calls(case));
        Ok(())
    })
    .await
}
