//! On both hosts: flag-stale-deals' sweep on the real `.wasm`, over the generic API. Two pages of
//! open deals with one stale deal, refused without the sweep token, and a `500` from the CRM
//! partway through: the cursor stays, the answer says when to call again, and the next call
//! resumes on the page that failed. Also on Spin against PostgreSQL where a server is found.

use crate::both;
use crate::util;

use both::*;
use pipeline_guard_test_host::{FakeCrm, Scripted};
use serde_json::{Value, json};
use util::*;

const SWEEP: &str = "sweep-token-for-schedules";
const FIRST: &str = "/records/deals?status=open&limit=100";
const SECOND: &str = "/records/deals?status=open&limit=100&cursor=p2";

/// An open deal with everything filled in, its last activity `idle_days` ago.
fn deal(id: &str, idle_days: i64) -> Value {
    let now = time::OffsetDateTime::now_utc();
    let last = (now - time::Duration::days(idle_days))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("a time");
    json!({
        "kind": "deal", "id": id, "name": format!("Deal {id}"), "owner_id": "ae-7",
        "stage": "negotiation", "amount": 50000,
        "close_date": (now + time::Duration::days(60)).date().to_string(),
        "last_activity_at": last,
        "fields": {"next_step": "Send the order form"},
        "contacts": [{"id": "C-1", "name": "Priya Shah", "title": "CFO", "role": "economic_buyer"}]
    })
}

/// The fake CRM matches paths without their query: the first list call gets page 1, every later
/// one page 2 (the test checks each call's cursor).
fn answer_pages(crm: &FakeCrm) {
    let second = json!({"records": [deal("D-3", 2)], "next_cursor": null});
    crm.respond("GET", "/records/deals", 200, second);
    let first = json!({"records": [deal("D-1", 1), deal("D-2", 120)], "next_cursor": "p2"});
    crm.script(
        "GET",
        "/records/deals",
        Scripted::json(200, &first).times(1),
    );
}

fn sweep(token: Option<&str>) -> http::Request<bytes::Bytes> {
    let mut request = get("/flag-stale-deals/generic/sweep");
    *request.method_mut() = http::Method::POST;
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_the_sweep_pages_flags_once_refuses_strangers_and_resumes_after_a_500()
-> anyhow::Result<()> {
    on_every_host_and_postgres("sweep", |runtime, crm| async move {
        answer_pages(&crm);
        let state = tempfile::tempdir()?;
        let node = node(runtime, &crm)
            .variable("sweep_token", SWEEP)
            .state_dir(state.path())
            .start()
            .await?;

        for token in [None, Some("wrong")] {
            let refused = node.request(sweep(token)).await?;
            assert_eq!(refused.status(), 401, "{token:?}");
        }
        assert!(received(&crm).is_empty(), "nothing listed for a stranger");

        let first = node.request(sweep(Some(SWEEP))).await?;
        assert_eq!(first.status(), 200, "{}", json(&first));
        let first = json(&first);
        assert_eq!(
            (&first["status"], &first["done"], &first["cursor"]),
            (&json!("swept"), &json!(false), &json!("p2"))
        );
        assert_eq!(
            (&first["this_call"]["seen"], &first["this_call"]["flagged"]),
            (&json!(2), &json!(1))
        );
        let stale: Vec<Value> = received(&crm)
            .into_iter()
            .filter(|c| c["method"] == "PATCH" && c["path"] == "/records/deals/D-2")
            .collect();
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0]["body"]["notices"][0]["to"], "ae-7", "{}", stale[0]);

        crm.fail_next(1, 500);
        let failed = node.request(sweep(Some(SWEEP))).await?;
        assert_eq!(failed.status(), 503, "{}", json(&failed));
        assert!(failed.headers().contains_key("retry-after"));
        let failed = json(&failed);
        assert_eq!(
            (&failed["status"], &failed["cursor"]),
            (&json!("retry_later"), &json!("p2"))
        );

        let resumed = node.request(sweep(Some(SWEEP))).await?;
        assert_eq!(resumed.status(), 200, "{}", json(&resumed));
        let resumed = json(&resumed);
        assert_eq!(
            (
                &resumed["done"],
                &resumed["sweep"]["seen"],
                &resumed["pages"]
            ),
            (&json!(true), &json!(3), &json!(2))
        );
        let listed: Vec<Value> = received(&crm)
            .into_iter()
            .filter(|c| c["method"] == "GET")
            .map(|c| c["path"].clone())
            .collect();
        assert_eq!(listed[0], FIRST, "{listed:?}");
        assert!(
            listed.len() >= 2 && listed[1..].iter().all(|p| p == SECOND),
            "page 1 listed once, then page 2 until it was read: {listed:?}"
        );
        Ok(())
    })
    .await
}

/// `spin aka cron` calls a path and query with `GET` and no header: the sweep token in the URL.
fn cron_call(query: &str) -> http::Request<bytes::Bytes> {
    get(&format!("/flag-stale-deals/generic/sweep?{query}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn on_both_hosts_a_cron_get_with_the_token_in_the_url_sweeps_several_pages_in_one_call()
-> anyhow::Result<()> {
    on_every_host_and_postgres("sweep by cron", |runtime, crm| async move {
        answer_pages(&crm);
        let node = node(runtime, &crm)
            .variable("sweep_token", SWEEP)
            .variable("admin_token", "admin-token-never-in-urls")
            .start()
            .await?;
        for query in ["token=wrong", "token=admin-token-never-in-urls", "pages=2"] {
            let refused = node.request(cron_call(query)).await?;
            assert_eq!(refused.status(), 401, "{query}: {}", json(&refused));
        }
        assert!(received(&crm).is_empty(), "nothing listed for a stranger");
        for query in [
            format!("token={SWEEP}&pages=21"),
            format!("token={SWEEP}&cursor=p2"),
        ] {
            let bad = node.request(cron_call(&query)).await?;
            assert_eq!(bad.status(), 400, "{query}: {}", json(&bad));
        }

        let swept = node
            .request(cron_call(&format!("token={SWEEP}&pages=5")))
            .await?;
        assert_eq!(swept.status(), 200, "{}", json(&swept));
        let swept = json(&swept);
        assert_eq!(
            (&swept["done"], &swept["pages"], &swept["this_call"]["seen"]),
            (&json!(true), &json!(2), &json!(3)),
            "both pages in one call, and no further: {swept}"
        );
        assert!(swept["hygiene_pct"].is_u64(), "{swept}");
        Ok(())
    })
    .await
}
