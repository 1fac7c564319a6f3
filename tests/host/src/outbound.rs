//! Outbound HTTP (`wasi:http/client@0.3.0`) with Spin's sandboxing: a
//! request goes out only if its URL matches the component's resolved
//! `allowed_outbound_hosts`; anything else fails in the guest with
//! `error-code::HTTP-request-denied`, as Spin does, and is recorded so that
//! tests can assert on it.
//!
//! Relative ("self") requests are checked against `http://self`-style entries
//! like Spin, but are not served by the test host: allowed ones fail with
//! `HTTP-request-URI-invalid`. Service chaining (`*.spin.internal`) is not
//! supported either.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::UnsyncBoxBody;
use wasmtime_wasi::TrappableError;
use wasmtime_wasi_http::p3::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::p3::{RequestOptions, WasiHttpHooks, default_send_request};

use crate::allowed_hosts::AllowedHosts;

/// An outbound request that was refused because no `allowed_outbound_hosts`
/// entry of the component allows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedRequest {
    /// The component that tried to send it.
    pub component: String,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// The full URL (or the path, for relative requests).
    pub url: String,
}

/// The application-wide record of refused requests.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeniedLog(Arc<Mutex<Vec<DeniedRequest>>>);

impl DeniedLog {
    fn lock(&self) -> MutexGuard<'_, Vec<DeniedRequest>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn push(&self, denied: DeniedRequest) {
        self.lock().push(denied);
    }

    pub(crate) fn snapshot(&self) -> Vec<DeniedRequest> {
        self.lock().clone()
    }
}

/// The outbound policy of one component.
#[derive(Debug, Clone)]
pub(crate) struct OutboundPolicy {
    pub(crate) component: Arc<str>,
    pub(crate) allowed: Arc<AllowedHosts>,
    pub(crate) denied: DeniedLog,
}

/// Whether a request URI is relative to the application itself.
fn is_self_request(uri: &http::Uri) -> bool {
    match uri.authority() {
        Some(authority) => authority.host().is_empty() || authority.host() == "self.alt",
        None => true,
    }
}

impl OutboundPolicy {
    /// Checks `uri`; on refusal records it and returns the error Spin returns.
    fn check(&self, method: &http::Method, uri: &http::Uri) -> Result<(), ErrorCode> {
        let relative = is_self_request(uri);
        let allowed = if relative {
            self.allowed.allows_relative(&["http", "https"])
        } else {
            self.allowed.allows_url(&uri.to_string(), "https")
        };
        if !allowed {
            eprintln!(
                "[test-host] component {:?}: outbound {method} {uri} denied by allowed_outbound_hosts",
                &*self.component
            );
            self.denied.push(DeniedRequest {
                component: self.component.to_string(),
                method: method.to_string(),
                url: uri.to_string(),
            });
            return Err(ErrorCode::HttpRequestDenied);
        }
        if relative {
            return Err(ErrorCode::HttpRequestUriInvalid);
        }
        Ok(())
    }
}

type HookBody = UnsyncBoxBody<Bytes, ErrorCode>;
type IoFuture = Box<dyn Future<Output = Result<(), ErrorCode>> + Send>;
type SendFuture = Box<
    dyn Future<Output = Result<(http::Response<HookBody>, IoFuture), TrappableError<ErrorCode>>>
        + Send,
>;

impl WasiHttpHooks for OutboundPolicy {
    fn send_request(
        &mut self,
        request: http::Request<HookBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> SendFuture {
        // Like Spin, nothing useful can be done with response-processing errors.
        drop(fut);
        if let Err(code) = self.check(request.method(), request.uri()) {
            return Box::new(async move { Err(code.into()) });
        }
        Box::new(async move {
            let (response, io) = default_send_request(request, options).await?;
            Ok((
                response.map(|body| body.boxed_unsync()),
                Box::new(io) as IoFuture,
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn policy(entries: &[&str]) -> OutboundPolicy {
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        OutboundPolicy {
            component: "c".into(),
            allowed: Arc::new(AllowedHosts::resolve(&entries, &BTreeMap::new()).expect("valid")),
            denied: DeniedLog::default(),
        }
    }

    #[test]
    fn refusals_are_recorded_with_spins_error() {
        let p = policy(&["http://127.0.0.1:8080"]);
        let ok: http::Uri = "http://127.0.0.1:8080/crm/v3".parse().expect("uri");
        assert!(p.check(&http::Method::GET, &ok).is_ok());
        let bad: http::Uri = "https://api.hubapi.com/crm/v3".parse().expect("uri");
        assert!(matches!(
            p.check(&http::Method::POST, &bad),
            Err(ErrorCode::HttpRequestDenied)
        ));
        let relative: http::Uri = "/self/path".parse().expect("uri");
        assert!(matches!(
            p.check(&http::Method::GET, &relative),
            Err(ErrorCode::HttpRequestDenied)
        ));
        assert_eq!(
            p.denied.snapshot(),
            vec![
                DeniedRequest {
                    component: "c".into(),
                    method: "POST".into(),
                    url: "https://api.hubapi.com/crm/v3".into(),
                },
                DeniedRequest {
                    component: "c".into(),
                    method: "GET".into(),
                    url: "/self/path".into(),
                },
            ]
        );
    }
}
