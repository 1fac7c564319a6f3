//! On both hosts: a call posted to `POST /score-lead/generic/calls` becomes a note for the rep on
//! the call's deal (never a task, no field written), once however often it is posted; bad input
//! is refused with the status that names it and nothing kept; a deal the CRM does not know gets
//! the CRM's answer back, and the call is not kept. A call's metrics (never its transcript) are
//! kept, and the rep's next note compares with their own past.

use crate::both;
use crate::util;

use both::*;
use pipeline_guard_test_host::Scripted;
use serde_json::json;
use util::*;

fn upload(call_id: &str, deal: &str, rep_name: &str, format: &str) -> Vec<u8> {
    let transcript = "[00:00] Sam Rivera: What does month-end close look like today?\n\
        [00:20] Dana Ruiz: It takes nine days and blocks our board reporting.\n\
        [01:10] Sam Rivera: Who signs off on a change like this?\n\
        [01:30] Dana Ruiz: Priya Shah, our CFO. Let's meet with her next Tuesday.\n";
    serde_json::to_vec(&json!({
        "call_id": call_id,
        "record": {"kind": "deal", "id": deal},
        "started_at": "2026-12-07T15:00:00Z",
        "rep": {"id": "u-3", "name": rep_name},
        "format": format,
        "transcript": transcript,
    }))
    .expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_posted_call_is_a_note_for_the_rep_once_and_bad_input_is_refused()
-> anyhow::Result<()> {
    on_every_host("calls", |runtime, crm| async move {
        let node = node(runtime, &crm).start().await?;
        let path = "/score-lead/generic/calls";

        let first = node
            .request(signed_post(
                path,
                &upload("c-1", "D-7", "Sam Rivera", "text"),
            ))
            .await?;
        assert_eq!(first.status(), 200, "{}", json(&first));
        let answer = json(&first);
        assert_eq!(answer["status"], "processed");
        assert_eq!(answer["signals"]["rep_questions"]["count"], 2, "{answer}");
        assert!(answer["analysed_ms"].is_number(), "{answer}");
        let written = deal_patches(&crm, "D-7");
        assert_eq!(written.len(), 1, "{written:?}");
        assert_eq!(
            written[0]["fields"],
            json!({}),
            "no field written for the rep"
        );
        let note = &written[0]["notices"][0];
        assert_eq!(
            (&note["kind"], &note["to"]),
            (&json!("note"), &json!("u-3")),
            "{note}"
        );
        assert!(
            note["body"]
                .as_str()
                .unwrap_or_default()
                .contains("nine days"),
            "{note}"
        );

        let again = node
            .request(signed_post(
                path,
                &upload("c-1", "D-7", "Sam Rivera", "text"),
            ))
            .await?;
        assert_eq!(
            (again.status().as_u16(), json(&again)["status"].clone()),
            (200, json!("duplicate"))
        );
        assert_eq!(deal_patches(&crm, "D-7").len(), 1, "noted once");

        // The next call is compared with the rep's own past, kept as metrics only.
        let next = node
            .request(signed_post(
                path,
                &upload("c-5", "D-7", "Sam Rivera", "text"),
            ))
            .await?;
        assert_eq!(json(&next)["status"], "processed");
        let compared = deal_patches(&crm, "D-7")[1]["notices"][0]["body"].clone();
        assert!(
            compared
                .as_str()
                .unwrap_or_default()
                .contains("Against your own last 30 days (1 calls)"),
            "{compared}"
        );
        let kept =
            node.sql("SELECT call_id, rep, questions, quotes FROM pg_calls ORDER BY call_id")?;
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert_eq!((&kept[0][1], &kept[0][2]), (&json!("u-3"), &json!(2)));
        assert!(
            !format!("{kept:?}").contains("Who signs off"),
            "no transcript kept: {kept:?}"
        );

        // Bad input: named, and nothing kept or written.
        crm.clear();
        let unsigned = http::Request::post(format!("http://pipeline-guard.test{path}"))
            .header("content-type", "application/json")
            .body(bytes::Bytes::from(upload(
                "c-2",
                "D-7",
                "Sam Rivera",
                "text",
            )))?;
        assert_eq!(node.request(unsigned).await?.status(), 401);
        let srt = node
            .request(signed_post(
                path,
                &upload("c-2", "D-7", "Sam Rivera", "srt"),
            ))
            .await?;
        assert_eq!(srt.status(), 400);
        assert!(
            json(&srt).to_string().contains("webvtt, gong, text"),
            "{}",
            json(&srt)
        );
        let stranger = node
            .request(signed_post(
                path,
                &upload("c-2", "D-7", "Alex Stone", "text"),
            ))
            .await?;
        assert_eq!(stranger.status(), 422);
        assert!(
            json(&stranger).to_string().contains("Dana Ruiz"),
            "the speakers found: {}",
            json(&stranger)
        );
        let huge = vec![b' '; 1024 * 1024 + 1];
        assert_eq!(node.request(signed_post(path, &huge)).await?.status(), 413);
        assert!(received(&crm).is_empty(), "nothing written for bad input");

        // A deal the CRM does not know: its answer, and the call not kept.
        crm.script(
            "PATCH",
            "/records/deals/D-404",
            Scripted::json(404, &json!({"error": "no such deal"})).times(1),
        );
        let unknown = node
            .request(signed_post(
                path,
                &upload("c-3", "D-404", "Sam Rivera", "text"),
            ))
            .await?;
        assert!(
            unknown.status().is_client_error() || unknown.status().is_server_error(),
            "{}",
            unknown.status()
        );
        let later = node
            .request(signed_post(
                path,
                &upload("c-3", "D-404", "Sam Rivera", "text"),
            ))
            .await?;
        assert_eq!(
            json(&later)["status"],
            "processed",
            "not kept the first time: {}",
            json(&later)
        );
        Ok(())
    })
    .await
}
