//! The core's [`CrmClient`] over Spin's outbound HTTP.
//!
//! With client credentials, the access token is requested from the CRM's token endpoint, kept in
//! the key-value store (so the next requests, in other instances, reuse it) and requested again
//! when the API answers `401`: the call is then retried once with the new token.

use std::cell::RefCell;

use pipeline_guard_core::{
    Error,
    crm::{Crm, oauth},
    pipeline::{CrmClient, Store},
    writeback::CrmCall,
};
use spin_sdk::http::body::IncomingBodyExt;

use crate::{
    config::{ClientCredentials, Credentials, CrmApi},
    kv::KvStore,
};

/// Calls one CRM's API with its credentials.
pub struct HttpCrm<'a> {
    crm: Crm,
    api: CrmApi,
    store: &'a KvStore,
    /// The access token obtained with client credentials, once known in this request.
    token: RefCell<Option<String>>,
}

impl<'a> HttpCrm<'a> {
    /// A client for `crm`'s API; `store` keeps an access token obtained with client credentials.
    pub fn new(crm: Crm, api: CrmApi, store: &'a KvStore) -> HttpCrm<'a> {
        HttpCrm {
            crm,
            api,
            store,
            token: RefCell::new(None),
        }
    }

    /// The token to call with: the fixed one, or the access token obtained with client
    /// credentials (kept from an earlier request when there is one).
    async fn token(&self) -> Result<String, Error> {
        let client = match &self.api.credentials {
            Credentials::Token(token) => return Ok(token.clone()),
            Credentials::Client(client) => client,
        };
        if let Some(token) = self.token.borrow().clone() {
            return Ok(token);
        }
        if let Some(bytes) = self.store.get(&token_key(self.crm, &client.id)).await?
            && let Ok(token) = String::from_utf8(bytes)
            && !token.is_empty()
        {
            *self.token.borrow_mut() = Some(token.clone());
            return Ok(token);
        }
        self.new_token(client).await
    }

    /// A new access token from the token endpoint, kept for the next calls.
    async fn new_token(&self, client: &ClientCredentials) -> Result<String, Error> {
        let ClientCredentials {
            id,
            secret,
            variables,
        } = client;
        let call = format!("POST {}", variables.token_path);
        let request = http::Request::post(format!("{}{}", self.api.base_url, variables.token_path))
            .header(http::header::ACCEPT, "application/json")
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(oauth::token_request_body(id, secret))
            .map_err(|e| unavailable(&call, format!("invalid request: {e}")))?;
        let (status, body) = exchange(request).await.map_err(|e| unavailable(&call, e))?;
        if status.is_server_error() {
            return Err(unavailable(&call, format!("the CRM answered {status}")));
        }
        let token = oauth::access_token(status.as_u16(), &body, *variables)?;
        self.store
            .set(&token_key(self.crm, id), token.as_bytes())
            .await?;
        *self.token.borrow_mut() = Some(token.clone());
        Ok(token)
    }

    async fn call(
        &self,
        call: &CrmCall,
        token: &str,
    ) -> Result<(http::StatusCode, Vec<u8>), Error> {
        let (auth_header, auth_value) = self.api.auth.header(token);
        let mut request = http::Request::builder()
            .method(call.method.as_str())
            .uri(format!("{}{}", self.api.base_url, call.path))
            .header(http::header::ACCEPT, "application/json")
            .header(auth_header, auth_value);
        let body = if call.body.is_null() {
            String::new()
        } else {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            call.body.to_string()
        };
        let request = request
            .body(body)
            .map_err(|e| unavailable(&call.to_string(), format!("invalid request: {e}")))?;
        exchange(request)
            .await
            .map_err(|e| unavailable(&call.to_string(), e))
    }
}

impl CrmClient for HttpCrm<'_> {
    async fn send(&self, call: &CrmCall) -> Result<serde_json::Value, Error> {
        let failed = |reason: String| unavailable(&call.to_string(), reason);
        let (mut status, mut body) = self.call(call, &self.token().await?).await?;
        let renewable = match &self.api.credentials {
            Credentials::Client(client) => Some(client),
            Credentials::Token(_) => None,
        };
        if status == http::StatusCode::UNAUTHORIZED
            && let Some(client) = renewable
        {
            // The kept token expired or was revoked: one new token, one retry.
            let token = self.new_token(client).await?;
            (status, body) = self.call(call, &token).await?;
        }
        if status == http::StatusCode::NOT_FOUND {
            return Err(Error::CrmRecordGone {
                call: call.to_string(),
            });
        }
        if !status.is_success() {
            let excerpt: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            let hint = match (status, renewable, self.crm.api_variables().oauth) {
                (http::StatusCode::UNAUTHORIZED, None, Some(o)) => format!(
                    " (the access token was refused; it may have expired: set `{}` and `{}` to have it renewed)",
                    o.client_id, o.client_secret
                ),
                _ => String::new(),
            };
            return Err(failed(format!(
                "the CRM answered {status}: {excerpt}{hint}"
            )));
        }
        if body.is_empty() {
            return Ok(serde_json::Value::Null);
        }
        serde_json::from_slice(&body).map_err(|e| {
            failed(format!(
                "the CRM answered {status} with a body that is not JSON: {e}"
            ))
        })
    }
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

/// Send a request and read the whole answer.
async fn exchange(request: http::Request<String>) -> Result<(http::StatusCode, Vec<u8>), String> {
    let response = spin_sdk::http::send(request)
        .await
        .map_err(|e| format!("{e:?} (is the host in allowed_outbound_hosts?)"))?;
    let status = response.status();
    let body = response
        .into_body()
        .bytes()
        .await
        .map_err(|e| format!("the response could not be read: {e:?}"))?;
    Ok((status, body.to_vec()))
}
