//! The core's [`CrmClient`] over Spin's outbound HTTP.
//!
//! With client credentials, the access token is requested from the CRM's token endpoint, kept in
//! the key-value store (so the next requests, in other instances, reuse it) and requested again
//! when the API answers `401`: the call is then retried once with the new token.

use std::{
    cell::{OnceCell, RefCell},
    hash::{Hash, Hasher},
    time::{Duration, Instant},
};

use pipeline_guard_core::{
    Error,
    crm::{self, Crm, oauth},
    ports::{CrmClient, Store},
    writeback::CrmCall,
};
use spin_sdk::http::body::IncomingBodyExt;

use crate::{
    config::{self, ClientCredentials, Credentials, CrmApi},
    kv::KvStore,
};

/// Calls one CRM's API with its credentials, read from the variables on the first call (a
/// redelivery makes none).
pub struct HttpCrm<'a> {
    crm: Crm,
    api: OnceCell<CrmApi>,
    store: &'a KvStore,
    /// The access token obtained with client credentials, once known in this request.
    token: RefCell<Option<String>>,
    /// Taken while a token is looked up or requested: calls made side by side share one token
    /// request instead of each making its own.
    token_turn: futures::lock::Mutex<()>,
    /// Why getting a token failed, once it has in this request: the calls waiting their turn get
    /// the same answer rather than asking again (the CRM's retry asks anew).
    token_refused: RefCell<Option<Error>>,
}

impl<'a> HttpCrm<'a> {
    /// A client for `crm`'s API; `store` keeps an access token obtained with client credentials.
    pub fn new(crm: Crm, store: &'a KvStore) -> HttpCrm<'a> {
        HttpCrm {
            crm,
            api: OnceCell::new(),
            store,
            token: RefCell::new(None),
            token_turn: futures::lock::Mutex::new(()),
            token_refused: RefCell::new(None),
        }
    }

    /// Where and how to call the API ([`config::crm_api`]), read once.
    async fn api(&self) -> Result<&CrmApi, Error> {
        if self.api.get().is_none() {
            let api = config::crm_api(self.crm).await?;
            // Single-threaded: nobody set it since the check above.
            let _ = self.api.set(api);
        }
        self.api
            .get()
            .ok_or_else(|| Error::Config("the CRM API settings could not be kept".into()))
    }

    /// The token to call with: the fixed one, or the access token obtained with client
    /// credentials (kept from an earlier request when there is one).
    async fn token(&self, timeout: Duration) -> Result<String, Error> {
        let client = match &self.api().await?.credentials {
            Credentials::Token(token) => return Ok(token.expose().to_owned()),
            Credentials::Client(client) => client,
        };
        if let Some(token) = self.token.borrow().clone() {
            return Ok(token);
        }
        let _turn = self.token_turn.lock().await;
        // Another call may have got one, or been refused one, while this one waited its turn.
        if let Some(token) = self.token.borrow().clone() {
            return Ok(token);
        }
        if let Some(refused) = self.token_refused.borrow().clone() {
            return Err(refused);
        }
        if let Some(bytes) = self.store.get(&token_key(self.crm, &client.id)).await?
            && let Ok(token) = String::from_utf8(bytes)
            && !token.is_empty()
        {
            *self.token.borrow_mut() = Some(token.clone());
            return Ok(token);
        }
        let token = self.new_token(client, timeout).await;
        if let Err(e) = &token {
            *self.token_refused.borrow_mut() = Some(e.clone());
        }
        token
    }

    /// A new access token from the token endpoint, kept for the next calls.
    async fn new_token(
        &self,
        client: &ClientCredentials,
        timeout: Duration,
    ) -> Result<String, Error> {
        let ClientCredentials {
            id,
            secret,
            variables,
        } = client;
        let call = format!("POST {}", variables.token_path);
        let base_url = &self.api().await?.base_url;
        let request = http::Request::post(format!("{base_url}{}", variables.token_path))
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(oauth::token_request_body(id, secret.expose()))
            .map_err(|e| unavailable(&call, format!("invalid request: {e}")))?;
        let answer = exchange(request, timeout)
            .await
            .map_err(|e| unavailable(&call, e))?;
        if answer.status.is_server_error() {
            return Err(unavailable(
                &call,
                format!("the CRM answered {}", answer.status),
            ));
        }
        let token = oauth::access_token(answer.status.as_u16(), &answer.body, *variables)?;
        self.store
            .set(&token_key(self.crm, id), token.as_bytes())
            .await?;
        *self.token.borrow_mut() = Some(token.clone());
        Ok(token)
    }

    async fn call(&self, call: &CrmCall, token: &str, timeout: Duration) -> Result<Answer, Error> {
        let api = self.api().await?;
        let (auth_header, auth_value) = api.auth.header(token);
        let mut request = http::Request::builder()
            .method(call.method.as_str())
            .uri(format!("{}{}", api.base_url, call.path))
            .header(http::header::ACCEPT, "application/json")
            .header(auth_header, auth_value);
        let body = if call.body.is_null() {
            String::new()
        } else {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            call.body.to_string()
        };
        let request = request
            .header(http::header::CONTENT_LENGTH, body.len())
            .body(body)
            .map_err(|e| unavailable(&call.to_string(), format!("invalid request: {e}")))?;
        exchange(request, timeout)
            .await
            .map_err(|e| unavailable(&call.to_string(), e))
    }
}

impl CrmClient for HttpCrm<'_> {
    async fn send(&self, call: &CrmCall, timeout: Duration) -> Result<serde_json::Value, Error> {
        let Some(lifetime) = call.reusable_for.filter(|_| call.method == "GET") else {
            return self.exchange(call, timeout).await;
        };
        let key = self.reuse_key(self.api().await?, call);
        if let Some(answer) = reused::get(key, lifetime) {
            return Ok(answer);
        }
        let answer = self.exchange(call, timeout).await?;
        reused::keep(key, answer.clone());
        Ok(answer)
    }
}

impl HttpCrm<'_> {
    /// What identifies a reusable answer: the API, its credentials and the call.
    fn reuse_key(&self, api: &CrmApi, call: &CrmCall) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&api.base_url, &call.path).hash(&mut hasher);
        match &api.credentials {
            Credentials::Token(token) => token.expose().hash(&mut hasher),
            Credentials::Client(client) => client.id.hash(&mut hasher),
        }
        hasher.finish()
    }

    async fn exchange(
        &self,
        call: &CrmCall,
        timeout: Duration,
    ) -> Result<serde_json::Value, Error> {
        let started = Instant::now();
        // One budget for the whole send: the token request and the call share it.
        let token = self.token(timeout).await?;
        let mut answer = self
            .call(call, &token, timeout.saturating_sub(started.elapsed()))
            .await?;
        let renewable = match &self.api().await?.credentials {
            Credentials::Client(client) => Some(client),
            Credentials::Token(_) => None,
        };
        if answer.status == http::StatusCode::UNAUTHORIZED
            && let Some(client) = renewable
        {
            // The kept token expired or was revoked: one new token (unless a call side by side
            // already got one), one retry.
            let left = timeout.saturating_sub(started.elapsed());
            let token = {
                let _turn = self.token_turn.lock().await;
                let renewed = self.token.borrow().clone().filter(|t| *t != token);
                match renewed {
                    Some(renewed) => renewed,
                    None => self.new_token(client, left).await?,
                }
            };
            answer = self.call(call, &token, left).await?;
        }
        let hint = match (
            answer.status,
            renewable,
            crm::facts(self.crm).api_variables.oauth,
        ) {
            (http::StatusCode::UNAUTHORIZED, None, Some(o)) => format!(
                " (the access token was refused; it may have expired: set `{}` and `{}` to have it renewed)",
                o.client_id, o.client_secret
            ),
            (http::StatusCode::UNAUTHORIZED | http::StatusCode::FORBIDDEN, None, None) => format!(
                " (check `{}`: the CRM refused it)",
                crm::facts(self.crm).api_variables.token
            ),
            _ => String::new(),
        };
        classify(call, answer, &hint)
    }
}

/// Answers an instance may reuse ([`CrmCall::reusable_for`]), kept in the instance only.
mod reused {
    use std::{
        collections::BTreeMap,
        sync::{Mutex, PoisonError},
        time::{Duration, Instant},
    };

    /// At most this many answers are kept; the oldest goes first.
    const KEPT: usize = 32;

    static ANSWERS: Mutex<BTreeMap<u64, (Instant, serde_json::Value)>> =
        Mutex::new(BTreeMap::new());

    /// The answer kept under `key`, if it is younger than `lifetime`.
    pub(super) fn get(key: u64, lifetime: Duration) -> Option<serde_json::Value> {
        let answers = ANSWERS.lock().unwrap_or_else(PoisonError::into_inner);
        answers
            .get(&key)
            .filter(|(at, _)| at.elapsed() < lifetime)
            .map(|(_, answer)| answer.clone())
    }

    /// Keep `answer` under `key`.
    pub(super) fn keep(key: u64, answer: serde_json::Value) {
        let mut answers = ANSWERS.lock().unwrap_or_else(PoisonError::into_inner);
        if answers.len() >= KEPT
            && let Some(oldest) = answers
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| *k)
        {
            answers.remove(&oldest);
        }
        answers.insert(key, (Instant::now(), answer));
    }
}

/// An answer from a CRM's API.
struct Answer {
    status: http::StatusCode,
    retry_after: Option<String>,
    body: Vec<u8>,
}

/// Read an answer as the core's result: its JSON, or an error that says whether a retry may
/// succeed. Nothing of the body is quoted but the CRM's documented message field.
fn classify(call: &CrmCall, answer: Answer, hint: &str) -> Result<serde_json::Value, Error> {
    let status = answer.status;
    let said = || {
        crm_message(&answer.body)
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    };
    if status == http::StatusCode::NOT_FOUND {
        return Err(Error::CrmRecordGone {
            call: call.to_string(),
        });
    }
    if status == http::StatusCode::TOO_MANY_REQUESTS {
        return Err(Error::CrmRateLimited {
            call: call.to_string(),
            retry_after_ms: retry_after_ms(answer.retry_after.as_deref()),
        });
    }
    if status == http::StatusCode::FORBIDDEN {
        // A scope or permission not granted: retried until an admin grants it, or left out of
        // a score that can go without it (a deal's activities, its company).
        return Err(Error::CrmForbidden {
            call: call.to_string(),
            reason: format!("the CRM answered {status}{}{hint}", said()),
        });
    }
    let transient = status.is_server_error()
        || status == http::StatusCode::REQUEST_TIMEOUT
        // A refused credential is the configuration's fault: retried until an admin fixes it.
        || status == http::StatusCode::UNAUTHORIZED;
    if transient {
        return Err(unavailable(
            &call.to_string(),
            format!("the CRM answered {status}{}{hint}", said()),
        ));
    }
    if !status.is_success() {
        return Err(Error::CrmRejected {
            call: call.to_string(),
            reason: format!("the CRM answered {status}{}", said()),
        });
    }
    if answer.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(&answer.body).map_err(|_| Error::CrmRejected {
        call: call.to_string(),
        reason: format!("the CRM answered {status} with a body that is not JSON"),
    })
}

/// The message a CRM's error answer documents: `message` (HubSpot, Salesforce's first error),
/// `error` (Pipedrive), with its code when it has one; at most 300 characters.
fn crm_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.as_array().and_then(|a| a.first()).unwrap_or(&value);
    let message = error["message"]
        .as_str()
        .or_else(|| error["error"].as_str())
        .or_else(|| error["error_description"].as_str())?;
    let code = error["category"]
        .as_str()
        .or_else(|| error["errorCode"].as_str())
        .or_else(|| error["error_info"].as_str());
    let text = match code {
        Some(code) => format!("{code}: {message}"),
        None => message.to_owned(),
    };
    Some(text.chars().take(300).collect())
}

/// `Retry-After` in milliseconds: delta-seconds as HTTP defines it; one second when it is absent
/// or unreadable.
fn retry_after_ms(header: Option<&str>) -> u64 {
    header
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(1000, |seconds| (seconds * 1000.0) as u64)
}

/// Where the access token obtained with `client_id` is kept.
fn token_key(crm: Crm, client_id: &str) -> String {
    format!("oauth/{}/{client_id}", crm.name())
}

fn unavailable(call: &str, reason: String) -> Error {
    Error::CrmUnavailable {
        call: call.to_owned(),
        reason,
    }
}

/// Send a request and read the whole answer, giving up after `timeout`.
async fn exchange(request: http::Request<String>, timeout: Duration) -> Result<Answer, String> {
    let exchange = async {
        let response = spin_sdk::http::send(request)
            .await
            .map_err(|e| format!("{e:?} (is the host in allowed_outbound_hosts?)"))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .into_body()
            .bytes()
            .await
            .map_err(|e| format!("the response could not be read: {e:?}"))?;
        Ok(Answer {
            status,
            retry_after,
            body: body.to_vec(),
        })
    };
    let timer = spin_sdk::time::sleep(timeout);
    match futures::future::select(std::pin::pin!(exchange), std::pin::pin!(timer)).await {
        futures::future::Either::Left((answer, _)) => answer,
        futures::future::Either::Right(((), _)) => {
            Err(format!("no answer within {} ms", timeout.as_millis()))
        }
    }
}
