//! The core's [`CrmClient`] over Spin's outbound HTTP.

use pipeline_guard_core::{Error, pipeline::CrmClient, writeback::CrmCall};
use spin_sdk::http::body::IncomingBodyExt;

use crate::config::CrmApi;

/// Calls one CRM's API with its token.
pub struct HttpCrm(pub CrmApi);

impl CrmClient for HttpCrm {
    async fn send(&self, call: &CrmCall) -> Result<serde_json::Value, Error> {
        let failed = |reason: String| Error::CrmUnavailable {
            call: call.to_string(),
            reason,
        };
        let (auth_header, auth_value) = self.0.auth.header(&self.0.token);
        let mut request = http::Request::builder()
            .method(call.method.as_str())
            .uri(format!("{}{}", self.0.base_url, call.path))
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
            .map_err(|e| failed(format!("invalid request: {e}")))?;
        let response = spin_sdk::http::send(request)
            .await
            .map_err(|e| failed(format!("{e:?} (is the host in allowed_outbound_hosts?)")))?;
        let status = response.status();
        let body = response
            .into_body()
            .bytes()
            .await
            .map_err(|e| failed(format!("the response could not be read: {e:?}")))?;
        if status == http::StatusCode::NOT_FOUND {
            return Err(Error::CrmRecordGone {
                call: call.to_string(),
            });
        }
        if !status.is_success() {
            let excerpt: String = String::from_utf8_lossy(&body).chars().take(200).collect();
            return Err(failed(format!("the CRM answered {status}: {excerpt}")));
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
