//! Routes a scheduler calls (a cron job, `spin aka cron`, a CronJob with curl), safe to call by
//! hand and as often as wanted: `POST /gate-handoff/<crm>/summaries` sends each BDR the summary
//! of their handoffs in the last whole week, once (`?week=2026-11-16` for another week).
//!
//! They want `Authorization: Bearer <sweep_token>` (or the admin token), compared in constant
//! time, and are off while both are empty. A scheduler that can send no header (`spin aka cron`
//! calls a path and query with `GET`) passes the sweep token as `?token=`; the admin token is
//! never taken from a URL, which logs may keep.

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

use crate::{clock::SpinClock, config, crm_client::HttpCrm, database, kv::KvStore, respond};

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
            settings: crate::rep_page::with_links(config::settings().await?, request).await?,
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

/// The query parameter a scheduler without headers passes the sweep token in.
pub const TOKEN_PARAMETER: &str = "token";

/// Refuse a request that carries neither the sweep token nor the admin token: in its
/// `Authorization` header, or (the sweep token only) as `?token=`.
pub async fn authorize(request: &Request) -> Result<(), Error> {
    let header = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let sweep = config::variable(SWEEP_TOKEN_VARIABLE).await?;
    // Read leniently: a malformed query is refused only once the caller is known.
    let in_url = form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
        .find(|(key, _)| key == TOKEN_PARAMETER)
        .map(|(_, token)| token.into_owned());
    if header.is_none()
        && let Some(token) = in_url
    {
        if sweep.trim().is_empty() {
            // The caller may be anyone: the configuration is logged, not told.
            respond::log(&Error::Config(format!(
                "a scheduled call passed ?{TOKEN_PARAMETER}= but variable `{SWEEP_TOKEN_VARIABLE}` is empty"
            )));
            return Err(Error::MissingSignature {
                header: "Authorization",
            });
        }
        return verify_bearer(Some(&format!("Bearer {token}")), sweep.trim());
    }
    let presented = header;
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

/// A scheduled route's query parameters, by name; a name given twice is refused.
pub fn parameters(request: &Request) -> Result<std::collections::BTreeMap<String, String>, Error> {
    let mut parameters = std::collections::BTreeMap::new();
    let query = request.uri().query().unwrap_or_default();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if parameters
            .insert(key.clone().into_owned(), value.into_owned())
            .is_some()
        {
            return Err(Error::invalid_query(format!("{key:?} is given twice")));
        }
    }
    Ok(parameters)
}

/// The one `parameter` a scheduled route takes besides the token, if given; any other is refused,
/// naming the one taken.
pub fn only(request: &Request, parameter: &str) -> Result<Option<String>, Error> {
    let mut parameters = parameters(request)?;
    parameters.remove(TOKEN_PARAMETER);
    let value = parameters.remove(parameter);
    match parameters.keys().next() {
        Some(other) => Err(Error::invalid_query(format!(
            "{other:?} is not a parameter here; use {parameter}"
        ))),
        None => Ok(value),
    }
}

/// Send the weekly summaries of `adapter`'s CRM.
pub async fn summaries<A: Adapter>(
    adapter: &A,
    request: &Request,
) -> Result<Response<String>, Error> {
    let call = Call::start(request).await?;
    let week = week(only(request, "week")?)?;
    let client = HttpCrm::new(adapter.crm(), &call.store);
    let api = call.api(adapter.crm(), &client).await?;
    let log = database::handoffs().await?;
    let run =
        scheduled::send_summaries(adapter, &log, &call.settings, week, call.now, &api).await?;
    let status = if run.failed.is_empty() { 200 } else { 502 };
    Ok(respond::json(
        status,
        &serde_json::to_value(&run).map_err(|e| Error::Store(e.to_string()))?,
    ))
}

/// The `week` parameter: any day of the week wanted (`2026-11-16`); none: the last whole week.
fn week(value: Option<String>) -> Result<Option<i64>, Error> {
    value
        .map(|value| {
            Date::parse(&value, format_description!("[year]-[month]-[day]"))
                .map(week_containing)
                .map_err(|_| {
                    Error::invalid_query(format!("week: {value:?} is not a date like 2026-11-16"))
                })
        })
        .transpose()
}
