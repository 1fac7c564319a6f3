//! Routes a scheduler calls (a cron job, `spin aka cron`, a CronJob with curl), safe to call by
//! hand and as often as wanted: `POST /gate-handoff/<crm>/summaries` sends each BDR the summary
//! of their handoffs in the last whole week, once (`?week=2026-11-16` for another week).
//!
//! They want `Authorization: Bearer <sweep_token>` (or the admin token), compared in constant
//! time, and are off while both are empty.

use std::sync::Arc;

use pipeline_guard_core::{
    Error,
    crm::{Adapter, Crm},
    function::Settings,
    handoffs::summary::week_containing,
    pipeline::Api,
    scheduled,
    signature::credentials::verify_bearer,
};
use spin_sdk::http::{Request, Response};
use time::{Date, OffsetDateTime, macros::format_description};

use crate::{clock::SpinClock, config, crm_client::HttpCrm, kv::KvStore, respond, sqlite};

/// What a scheduled call works with: its clock, its time, the settings and the store that
/// keeps the CRM's access token.
pub struct Call {
    /// Started when the request arrived.
    pub clock: SpinClock,
    /// The call's time.
    pub now: OffsetDateTime,
    /// The mode and playbook in force.
    pub settings: Arc<Settings>,
    /// The key-value store (OAuth tokens).
    pub store: KvStore,
}

impl Call {
    /// An authorized scheduled call ([`authorize`]).
    pub async fn start(request: &Request) -> Result<Call, Error> {
        authorize(request).await?;
        Ok(Call {
            clock: SpinClock::start(),
            now: OffsetDateTime::now_utc(),
            settings: config::settings().await?,
            store: KvStore::default_store(),
        })
    }

    /// `crm`'s API over `client`, within that CRM's limits.
    pub async fn api<'a>(
        &'a self,
        crm: Crm,
        client: &'a HttpCrm<'a>,
    ) -> Result<Api<'a, HttpCrm<'a>, SpinClock>, Error> {
        Ok(Api::new(client, &self.clock, config::limits(crm).await?))
    }
}

/// The variable holding the token scheduled calls carry.
pub const SWEEP_TOKEN_VARIABLE: &str = "sweep_token";

/// Refuse a request that carries neither the sweep token nor the admin token.
pub async fn authorize(request: &Request) -> Result<(), Error> {
    let presented = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let sweep = config::variable(SWEEP_TOKEN_VARIABLE).await?;
    let admin = config::admin_token().await?;
    let tokens: Vec<&str> = [sweep.trim()]
        .into_iter()
        .chain(admin.as_ref().map(|t| t.expose()))
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.is_empty() {
        return Err(Error::Config(format!(
            "variables `{SWEEP_TOKEN_VARIABLE}` and `admin_token` are empty: set one to call scheduled routes"
        )));
    }
    // Each token is compared in full (constant time), whichever matches.
    let results: Vec<Result<(), Error>> = tokens
        .iter()
        .map(|token| verify_bearer(presented, token))
        .collect();
    if results.iter().any(Result::is_ok) {
        return Ok(());
    }
    results.into_iter().find_map(Result::err).map_or_else(
        || {
            Err(Error::MissingSignature {
                header: "Authorization",
            })
        },
        Err,
    )
}

/// Send the weekly summaries of `adapter`'s CRM.
pub async fn summaries<A: Adapter>(
    adapter: &A,
    request: &Request,
) -> Result<Response<String>, Error> {
    let call = Call::start(request).await?;
    let week = week(request.uri().query())?;
    let client = HttpCrm::new(adapter.crm(), &call.store);
    let api = call.api(adapter.crm(), &client).await?;
    let log = sqlite::handoffs().await?;
    let playbook = &call.settings.playbook;
    let run = scheduled::send_summaries(adapter, &log, playbook, week, call.now, &api).await?;
    let status = if run.failed.is_empty() { 200 } else { 502 };
    Ok(respond::json(
        status,
        &serde_json::to_value(&run).map_err(|e| Error::Store(e.to_string()))?,
    ))
}

/// The `week` parameter: any day of the week wanted (`2026-11-16`); none: the last whole week.
fn week(query: Option<&str>) -> Result<Option<i64>, Error> {
    let mut week = None;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "week" => {
                let day = Date::parse(&value, format_description!("[year]-[month]-[day]"))
                    .map_err(|_| {
                        Error::invalid_query(format!(
                            "week: {value:?} is not a date like 2026-11-16"
                        ))
                    })?;
                week = Some(week_containing(day));
            }
            other => {
                return Err(Error::invalid_query(format!(
                    "{other:?} is not a parameter here; use week"
                )));
            }
        }
    }
    Ok(week)
}
