//! `POST /score-lead/<crm>/calls`: a recorder or a workflow posts a call's transcript
//! ([`pipeline_guard_core::conversation::upload`]); the rep gets a note on the call's record
//! ([`pipeline_guard_core::conversation::note`]) and the answer carries the call's signals.
//!
//! Authenticated like the generic webhook (its HMAC) on `generic`, with the sweep token (or the
//! admin token) on the CRMs whose webhooks the CRM itself signs. A call is handled once: its
//! `call_id` is claimed in the ledger, and a call posted again is answered from there. Bad input
//! is refused before anything is kept; a CRM that refuses the note (a record it does not know)
//! gets its answer back, and the call is let go, not kept. A noted call's metrics are kept
//! ([`pipeline_guard_core::conversation::history`]) for the rep's next notes.

use pipeline_guard_core::{
    Error,
    conversation::{history, note, upload::CallUpload},
    crm::{Adapter, Crm, FieldNames, generic},
    function::{Brief, FunctionKind},
    inbound::InboundRequest,
    ledger::{Claim, Claiming, Ledger, Retention, Settled, Settlement, event_key},
    outcome::EventStatus,
    pipeline,
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{
    body, clock::SpinClock, config, crm_client::HttpCrm, database, kv::KvStore, respond,
    routes::claimant, scheduled, signed_url,
};

/// Note a posted call on `adapter`'s CRM.
pub async fn call<A: Adapter>(adapter: &A, request: Request) -> Result<Response<String>, Error> {
    let (clock, now, crm) = (SpinClock::start(), OffsetDateTime::now_utc(), adapter.crm());
    // Read before the request is consumed; what is wrong with it is said once the caller is known.
    let links = crate::rep_page::links(&request).await;
    let body = authenticated(crm, request, now).await?;
    let upload = CallUpload::from_json(&body)?;
    let mut settings = (*config::settings().await?).clone();
    settings.rep_links = links?;
    let analysing = std::time::Instant::now();
    let signals = upload.analyse(&settings.playbook)?;
    // The analysis alone, timed inside the component: what the bench holds to its target.
    let analysed_ms = analysing.elapsed().as_secs_f64() * 1000.0;
    let claim = Claiming {
        key: event_key(
            FunctionKind::ScoreLead,
            &format!("call:{}:{}", crm.name(), upload.call_id),
        ),
        function: FunctionKind::ScoreLead,
        crm,
        event_id: upload.call_id.clone(),
        record_id: upload.record.id.clone(),
    };
    let ledger = database::ledger().await?;
    let claimant = claimant(now);
    let retention = Retention::default();
    let answer = |status: &str| {
        serde_json::json!({
            "call_id": upload.call_id,
            "status": status,
            "analysed_ms": (analysed_ms * 10.0).round() / 10.0,
            "signals": signals,
        })
    };
    match ledger
        .claim(std::slice::from_ref(&claim), &claimant, now, retention)
        .await?
        .pop()
    {
        Some(Claim::Mine | Claim::Resume) => {}
        Some(Claim::Settled(_)) => return Ok(respond::json(200, &answer("duplicate"))),
        _ => return Ok(respond::json(503, &answer("in_progress"))),
    }
    // Until the note is written and the metrics kept, a failure lets the call go: posted again,
    // it is handled, not answered "in progress" until the claim's lease runs out.
    let noted = async {
        let store = KvStore::default_store();
        let client = HttpCrm::new(crm, &store);
        let api = pipeline_guard_core::api::Api::new(&client, &clock, config::limits(crm).await?);
        let names = FieldNames::new(&settings.playbook, adapter.facts());
        let calls = database::calls().await?;
        let rep = history::rep_key(&upload, &signals);
        let past = calls
            .own_past(crm, &rep, upload.started_at, &upload.call_id)
            .await?;
        let write_back = note::note(&upload, &signals, &past, &settings.playbook);
        pipeline::write_backs(
            adapter,
            &names,
            settings.rep_links.as_ref(),
            &[write_back],
            now,
            &api,
        )
        .await
        .pop()
        .unwrap_or_else(|| Err(Error::Store("the note was not written".to_owned())))?;
        calls.record(crm, &upload, &signals).await
    };
    if let Err(e) = noted.await {
        ledger.release(&claimant).await?;
        return Err(e);
    }
    let settled = Settled {
        status: EventStatus::Processed,
        brief: Some(Brief {
            allowed: true,
            decision: "call_noted".to_owned(),
            score: None,
            tier: None,
            message: format!("call {} noted for the rep", upload.call_id),
        }),
        reason: None,
    };
    let settlement = Settlement {
        claim,
        settled,
        event: None,
    };
    ledger
        .settle(&claimant, &[settlement], &[], now, retention)
        .await?;
    Ok(respond::json(200, &answer("processed")))
}

/// The request's body once its caller is known: the generic webhook's HMAC on `generic`, the
/// sweep or admin token elsewhere.
async fn authenticated(crm: Crm, request: Request, now: OffsetDateTime) -> Result<Vec<u8>, Error> {
    if crm != Crm::Generic {
        scheduled::authorize(&request).await?;
        return Ok(body::read_limited(request).await?.1);
    }
    let secrets = config::secrets(crm).await?;
    let secret = generic::Generic.credentials(&secrets).map_err(|e| {
        respond::log(&e);
        Error::Config(
            "this endpoint is not configured to authenticate generic calls; the function's log says why"
                .to_owned(),
        )
    })?;
    let url = signed_url::of(&request).await?;
    let (parts, body) = body::read_limited(request).await?;
    let inbound = InboundRequest {
        method: parts.method.as_str(),
        url: &url,
        headers: &parts.headers,
        body: &body,
    };
    generic::authenticate(&inbound, &secret, now)?;
    Ok(body)
}
