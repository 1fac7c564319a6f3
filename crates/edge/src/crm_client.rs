//! The core's [`CrmClient`] over Spin's outbound HTTP.

use pipeline_guard_core::{Error, pipeline::CrmClient, writeback::CrmCall};
use spin_sdk::http::body::IncomingBodyExt;

use crate::config::CrmApi;

/// Calls one CRM's API with a bearer token.
pub struct HttpCrm(pub CrmApi);

impl CrmClient for HttpCrm {
    async fn send(&self, call: &CrmCall) -> Result<(), Error> {
        let failed = |reason: String| Error::CrmUnavailable {
            call: call.to_string(),
            reason,
        };
        let request = http::Request::builder()
            .method(call.method.as_str())
            .uri(format!("{}{}", self.0.base_url, call.path))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::AUTHORIZATION,
                format!("Bearer {}", self.0.token),
            )
            .body(call.body.to_string())
            .map_err(|e| failed(format!("invalid request: {e}")))?;
        let response = spin_sdk::http::send(request)
            .await
            .map_err(|e| failed(format!("{e:?} (is the host in allowed_outbound_hosts?)")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.into_body().bytes().await.unwrap_or_default();
        let excerpt: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        Err(failed(format!("the CRM answered {status}: {excerpt}")))
    }
}
