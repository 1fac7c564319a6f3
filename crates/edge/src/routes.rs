//! A function's routes.
//!
//! Spin gives each function the wildcard route `/<function>/...` and passes the part after it in
//! the `spin-path-info` header:
//! - `GET /<function>`: health: `ok` or `not ok` and the version; with the admin token, the mode,
//!   the playbook and what keeps the function from serving.
//! - `POST /<function>/<crm>`: a webhook from that CRM (`generic`, …).
//! - `GET /<function>/status` (admin): the events that failed for good, with their reasons.
//! - `POST /<function>/<crm>/retry` (admin): handle that CRM's failed events again, once their
//!   cause is fixed.
//! - `GET /gate-handoff/report` (admin): the coaching report ([`crate::report`]).
//! - `GET /score-lead/review` (admin): the records in review ([`crate::review`]).
//! - `GET|POST /score-lead/me?…` (the rep's signed link): the rep's own page and their sharing
//!   choices ([`crate::rep_page`]).
//! - `GET /flag-stale-deals/report` (admin): the portfolio hygiene report
//!   ([`crate::hygiene_report`]).
//! - `POST /gate-handoff/<crm>/summaries` (sweep token): the BDRs' weekly summaries
//!   ([`crate::scheduled`]).
//! - `POST /flag-stale-deals/<crm>/sweep` (sweep token): one page of the CRM's open deals
//!   judged for staleness ([`crate::sweep`]).
//! - Both scheduled routes also take `GET` with `?token=<sweep_token>`, for `spin aka cron`.
//!
//! The admin routes want `Authorization: Bearer <admin_token>`, compared in constant time, and
//! are off while `admin_token` is empty.

use std::{
    hash::{BuildHasher, Hasher},
    sync::atomic::{AtomicU64, Ordering},
};

use pipeline_guard_core::{
    Error,
    crm::{Adapter, Crm},
    event::Delivery,
    function::FunctionKind,
    handoffs::{HandoffLog, NoHandoffs},
    inbound::InboundRequest,
    ledger::{Ledger, Retention},
    outcome::DeliveryOutcome,
    people::{NoPeople, PeopleStore},
    pipeline::{self, Job, Ports},
    rep_page::link::RepLinks,
    review::{NoReview, ReviewQueue},
    signature::credentials::verify_bearer,
    templates::{NoTextHashes, TextHashes},
    with_adapter,
};
use spin_sdk::http::{Request, Response};
use time::OffsetDateTime;

use crate::{body, clock::SpinClock, config, crm_client::HttpCrm, database, kv::KvStore, respond};

/// The most failed events one retry call handles; call again for more.
const RETRY_BATCH: usize = 100;

/// Answer one request for `function`.
pub async fn serve(function: FunctionKind, request: Request) -> Response<String> {
    match route(function, request).await {
        Ok(response) => response,
        Err(err) => respond::error(&err),
    }
}

async fn route(function: FunctionKind, request: Request) -> Result<Response<String>, Error> {
    // Spin appends its own `spin-path-info` after any a client sent: the last one is Spin's.
    let path = request
        .headers()
        .get_all("spin-path-info")
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| request.uri().path())
        .trim_end_matches('/')
        .to_owned();
    let method = request.method().clone();
    let allowed = |allowed| Error::MethodNotAllowed {
        method: method.to_string(),
        allowed,
    };
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    match (segments.as_slice(), method.clone()) {
        ([], http::Method::GET) => health(function, &request).await,
        ([], _) => Err(allowed("GET")),
        (["status"], http::Method::GET) => status(function, &request).await,
        (["status"], _) => Err(allowed("GET")),
        (["report"], http::Method::GET) if function == FunctionKind::GateHandoff => {
            crate::report::report(&request).await
        }
        (["report"], http::Method::GET) if function == FunctionKind::FlagStaleDeals => {
            crate::hygiene_report::report(&request).await
        }
        (["review"], http::Method::GET) if function == FunctionKind::ScoreLead => {
            crate::review::queue(&request).await
        }
        (["review"], _) if function == FunctionKind::ScoreLead => Err(allowed("GET")),
        (["me"], http::Method::GET | http::Method::POST) if function == FunctionKind::ScoreLead => {
            crate::rep_page::page(request).await
        }
        (["me"], _) if function == FunctionKind::ScoreLead => Err(allowed("GET, POST")),
        (["report"], _)
            if matches!(
                function,
                FunctionKind::GateHandoff | FunctionKind::FlagStaleDeals
            ) =>
        {
            Err(allowed("GET"))
        }
        ([crm, "summaries"], http::Method::POST | http::Method::GET)
            if function == FunctionKind::GateHandoff && Crm::from_name(crm).is_some() =>
        {
            let crm = Crm::from_name(crm).unwrap_or(Crm::Generic);
            with_adapter!(crm, adapter => crate::scheduled::summaries(adapter, &request).await)
        }
        ([crm, "summaries"], _)
            if function == FunctionKind::GateHandoff && Crm::from_name(crm).is_some() =>
        {
            Err(allowed("POST, GET"))
        }
        ([crm, "calls"], http::Method::POST)
            if function == FunctionKind::ScoreLead && Crm::from_name(crm).is_some() =>
        {
            let crm = Crm::from_name(crm).unwrap_or(Crm::Generic);
            with_adapter!(crm, adapter => crate::calls::call(adapter, request).await)
        }
        ([crm, "calls"], _)
            if function == FunctionKind::ScoreLead && Crm::from_name(crm).is_some() =>
        {
            Err(allowed("POST"))
        }
        ([crm, "sweep"], http::Method::POST | http::Method::GET)
            if function == FunctionKind::FlagStaleDeals && Crm::from_name(crm).is_some() =>
        {
            let crm = Crm::from_name(crm).unwrap_or(Crm::Generic);
            with_adapter!(crm, adapter => crate::sweep::sweep(adapter, &request).await)
        }
        ([crm, "sweep"], _)
            if function == FunctionKind::FlagStaleDeals && Crm::from_name(crm).is_some() =>
        {
            Err(allowed("POST, GET"))
        }
        ([crm], http::Method::POST) if Crm::from_name(crm).is_some() => {
            let crm = Crm::from_name(crm).unwrap_or(Crm::Generic);
            Ok(with_adapter!(crm, adapter => webhook(function, adapter, request).await))
        }
        ([crm, "retry"], http::Method::POST) if Crm::from_name(crm).is_some() => {
            let crm = Crm::from_name(crm).unwrap_or(Crm::Generic);
            authorize(&request).await?;
            let links = crate::rep_page::links(&request).await?;
            Ok(with_adapter!(crm, adapter => retry(function, adapter, links).await))
        }
        ([crm] | [crm, "retry"], _) if Crm::from_name(crm).is_some() => Err(allowed("POST")),
        _ => Err(not_found(function, &path)),
    }
}

fn not_found(function: FunctionKind, path: &str) -> Error {
    let name = function.name();
    let report = match function {
        FunctionKind::GateHandoff | FunctionKind::FlagStaleDeals => format!("GET /{name}/report"),
        FunctionKind::ScoreLead => format!("GET /{name}/review"),
    };
    let endpoints: Vec<String> = [format!("GET /{name}"), format!("GET /{name}/status")]
        .into_iter()
        .chain([report])
        .chain(
            Crm::ALL
                .iter()
                .map(|crm| format!("POST /{name}/{}", crm.name())),
        )
        .collect();
    Error::NotFound {
        path: format!("/{name}{path}"),
        hint: endpoints.join(", "),
    }
}

/// Health: anonymously, only whether the function can serve (`ok` or `not ok`, with `503`) and
/// its version; with the admin token, the mode, the playbook, each CRM's enforcement (the mode
/// in force and why, when poor data paused blocking) and, when it cannot serve, why.
async fn health(function: FunctionKind, request: &Request) -> Result<Response<String>, Error> {
    let admin = request.headers().contains_key(http::header::AUTHORIZATION);
    if admin {
        authorize(request).await?;
    }
    let version = env!("CARGO_PKG_VERSION");
    let settings = match config::settings().await {
        Ok(settings) => settings,
        Err(err) if admin => {
            let mut body = serde_json::json!({ "status": "not ok", "version": version });
            body["error"] = err.to_json()["error"].clone();
            return Ok(respond::json(503, &body));
        }
        Err(_) => {
            return Ok(respond::json(
                503,
                &serde_json::json!({ "status": "not ok", "version": version }),
            ));
        }
    };
    if !admin {
        return Ok(respond::json(
            200,
            &serde_json::json!({ "status": "ok", "version": version }),
        ));
    }
    let playbook = &settings.playbook;
    let enforcement = crate::enforcement::every_crm(&settings).await?;
    Ok(respond::json(
        200,
        &serde_json::json!({
            "status": "ok",
            "function": function.name(),
            "version": version,
            "mode": settings.mode,
            "playbook": {
                "name": playbook.name,
                "version": playbook.version,
                "content_hash": playbook.content_hash,
            },
            "crms": Crm::ALL.iter().map(|crm| crm.name()).collect::<Vec<_>>(),
            "enforcement": enforcement,
        }),
    ))
}

/// Refuse a request without the admin token.
pub(crate) async fn authorize(request: &Request) -> Result<(), Error> {
    let Some(token) = config::admin_token().await? else {
        return Err(Error::Config(
            "variable `admin_token` is empty: set it to use the status view and the retry route"
                .into(),
        ));
    };
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    verify_bearer(presented, token.expose())
}

/// The events that failed for good, newest first, with their reasons.
async fn status(function: FunctionKind, request: &Request) -> Result<Response<String>, Error> {
    authorize(request).await?;
    let ledger = database::ledger().await?;
    let failed = ledger.failed(function, 100).await?;
    Ok(respond::json(
        200,
        &serde_json::json!({
            "function": function.name(),
            "failed": failed,
            "retry": Crm::ALL
                .iter()
                .map(|crm| format!("POST /{}/{}/retry", function.name(), crm.name()))
                .collect::<Vec<_>>(),
        }),
    ))
}

/// A webhook: authenticate, parse and run the pipeline; answer as the CRM expects.
async fn webhook<A: Adapter>(
    function: FunctionKind,
    adapter: &A,
    request: Request,
) -> Response<String> {
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let result = deliver(function, adapter, request).await;
    if let Err(err) = &result {
        respond::log(err);
    }
    respond::reply(adapter.reply(content_type.as_deref(), &result))
}

async fn deliver<A: Adapter>(
    function: FunctionKind,
    adapter: &A,
    request: Request,
) -> Result<DeliveryOutcome, Error> {
    let clock = SpinClock::start();
    let now = OffsetDateTime::now_utc();
    let crm = adapter.crm();
    let facts = adapter.facts();
    // Nothing is read of a request that carries no credentials at all, nor of one the function
    // is not configured to authenticate.
    if !facts.presents_credentials(request.headers(), request.uri().query()) {
        return Err(Error::MissingSignature {
            header: facts.credential_hint,
        });
    }
    // Before the request is authenticated, what is wrong with the configuration is logged, not
    // told: the caller may be anyone.
    let configured = async {
        let credentials = adapter.credentials(&config::secrets(crm).await?)?;
        let url = crate::signed_url::of(&request).await?;
        let links = crate::rep_page::links(&request).await?;
        Ok::<_, Error>((credentials, url, links))
    };
    let (credentials, url, links) = configured.await.map_err(|err| {
        respond::log(&err);
        match err {
            Error::Config(_) => Error::Config(format!(
                "this endpoint is not configured to authenticate {} webhooks; the function's log says why",
                crm.name()
            )),
            other => other,
        }
    })?;
    let (parts, body) = body::read_limited(request).await?;
    let inbound = InboundRequest {
        method: parts.method.as_str(),
        url: &url,
        headers: &parts.headers,
        body: &body,
    };
    let delivery = adapter.accept(&inbound, &credentials, now)?;
    run(function, adapter, delivery, &clock, now, links).await
}

/// Handle the CRM's failed events again.
async fn retry<A: Adapter>(
    function: FunctionKind,
    adapter: &A,
    links: Option<RepLinks>,
) -> Response<String> {
    let result = async {
        let clock = SpinClock::start();
        let now = OffsetDateTime::now_utc();
        let ledger = database::ledger().await?;
        let events = ledger
            .reopen(function, adapter.crm(), RETRY_BATCH, now)
            .await?;
        run(
            function,
            adapter,
            Delivery::webhook(events),
            &clock,
            now,
            links,
        )
        .await
    }
    .await;
    if let Err(err) = &result {
        respond::log(err);
    }
    respond::reply(pipeline_guard_core::crm::Reply::json(&result))
}

async fn run<A: Adapter>(
    function: FunctionKind,
    adapter: &A,
    delivery: Delivery,
    clock: &SpinClock,
    now: OffsetDateTime,
    links: Option<RepLinks>,
) -> Result<DeliveryOutcome, Error> {
    // Only gate-handoff keeps handoffs, only score-lead the review queue, and flag-stale-deals
    // scores nothing: none opens what it does not use.
    match function {
        FunctionKind::GateHandoff => {
            let kept = Kept {
                handoffs: &database::handoffs().await?,
                review: &NoReview,
                text_hashes: &database::text_hashes().await?,
                people: &database::people().await?,
            };
            run_with(function, adapter, delivery, clock, now, links, kept).await
        }
        FunctionKind::ScoreLead => {
            let kept = Kept {
                handoffs: &NoHandoffs,
                review: &database::review().await?,
                text_hashes: &database::text_hashes().await?,
                people: &NoPeople,
            };
            run_with(function, adapter, delivery, clock, now, links, kept).await
        }
        FunctionKind::FlagStaleDeals => {
            let kept = Kept {
                handoffs: &NoHandoffs,
                review: &NoReview,
                text_hashes: &NoTextHashes,
                people: &NoPeople,
            };
            run_with(function, adapter, delivery, clock, now, links, kept).await
        }
    }
}

/// What a function keeps in the database besides the ledger.
struct Kept<'a, H, R, T, P> {
    handoffs: &'a H,
    review: &'a R,
    text_hashes: &'a T,
    /// Only gate-handoff's notices name people.
    people: &'a P,
}

async fn run_with<A: Adapter, H: HandoffLog, R: ReviewQueue, T: TextHashes, P: PeopleStore>(
    function: FunctionKind,
    adapter: &A,
    delivery: Delivery,
    clock: &SpinClock,
    now: OffsetDateTime,
    links: Option<RepLinks>,
    kept: Kept<'_, H, R, T, P>,
) -> Result<DeliveryOutcome, Error> {
    let crm = adapter.crm();
    let settings =
        crate::enforcement::settings_for(function, crm, config::settings().await?).await?;
    let settings = match links {
        Some(links) => {
            let mut settings = (*settings).clone();
            settings.rep_links = Some(links);
            std::sync::Arc::new(settings)
        }
        None => settings,
    };
    let store = KvStore::default_store();
    let ledger = database::ledger().await?;
    let client = HttpCrm::new(crm, &store);
    let claimant = claimant(now);
    let limits = config::limits(crm).await?;
    let mut retention = Retention::default();
    // A claim must outlive its worker's deadline, or a retry could take it over mid-work.
    retention.lease = retention.lease.max(
        time::Duration::try_from(limits.deadline)
            .unwrap_or(retention.lease)
            .saturating_add(time::Duration::seconds(30)),
    );
    let job = Job {
        function,
        settings: &settings,
        now,
        claimant: claimant.clone(),
        limits,
        retention,
    };
    let ports = Ports {
        ledger: &ledger,
        client: &client,
        clock,
        handoffs: kept.handoffs,
        review: kept.review,
        text_hashes: kept.text_hashes,
        people: kept.people,
    };
    let outcome = pipeline::run(adapter, &job, delivery, ports).await;
    forget_expired(&ledger, now, &claimant).await;
    outcome
}

/// Who claims a delivery's events: unique to this attempt, across instances and nodes (its time,
/// 64 random bits, a sequence number).
pub(crate) fn claimant(now: OffsetDateTime) -> String {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    format!(
        "{:x}-{random:016x}-{}",
        now.unix_timestamp_nanos(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}

/// Forget expired ledger entries after about one delivery in 32 (drawn from the claimant's
/// random bits), at most once an hour per instance: an indexed delete, never a scan of the store,
/// kept off most deliveries. A failure is logged and left for the next time.
async fn forget_expired(ledger: &impl Ledger, now: OffsetDateTime, claimant: &str) {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let drawn = claimant
        .split('-')
        .nth(1)
        .and_then(|random| u64::from_str_radix(random, 16).ok())
        .is_some_and(|random| random % 32 == 0);
    let hour = u64::try_from(now.unix_timestamp() / 3600).unwrap_or(0);
    if !drawn || LAST.swap(hour, Ordering::Relaxed) == hour {
        return;
    }
    if let Err(e) = ledger.forget_expired(now).await {
        respond::log(&e);
    }
}
