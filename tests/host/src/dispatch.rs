//! The request path, as Spin's HTTP trigger does it: route, complete the
//! URI and `Host`, add the `spin-*` headers, hand the request to the
//! component's instance pool, and turn failures into Spin's empty 404 / 500.

use std::convert::Infallible;
use std::net::SocketAddr;

use anyhow::Context as _;
use bytes::Bytes;
use http::header::{CONNECTION, HOST};
use http::{HeaderName, HeaderValue, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use wasmtime_wasi_http::handler;

use crate::app::App;

/// Paths Spin answers itself, before routing.
const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

fn empty_response(status: StatusCode) -> http::Response<Bytes> {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

impl App {
    /// Serves one request that came from the network. Its body streams into the component as
    /// it arrives, as Spin passes it: a component reading it with a deadline sees a sender that
    /// trickles.
    pub(crate) async fn serve_one(
        &self,
        request: http::Request<Incoming>,
        client_addr: SocketAddr,
    ) -> http::Response<Full<Bytes>> {
        let request = request.map(|body| {
            body.map_err(|_| {
                handler::ErrorCode::from(
                    wasmtime_wasi_http::p3::bindings::http::types::ErrorCode::HttpProtocolError,
                )
            })
            .boxed_unsync()
        });
        let response = match self.handle_streaming(request, client_addr).await {
            Ok(response) => response,
            Err(err) => {
                eprintln!("[test-host] error handling request: {err:#}");
                empty_response(StatusCode::INTERNAL_SERVER_ERROR)
            }
        };
        response.map(Full::new)
    }

    /// Handles one request; see [`crate::Host::request`].
    pub(crate) async fn handle(
        &self,
        request: http::Request<Bytes>,
        client_addr: SocketAddr,
    ) -> anyhow::Result<http::Response<Bytes>> {
        let request = request.map(|body| {
            Full::new(body)
                .map_err(|never: Infallible| match never {})
                .boxed_unsync()
        });
        self.handle_streaming(request, client_addr).await
    }

    /// Handles one request whose body may still be arriving.
    async fn handle_streaming(
        &self,
        request: http::Request<
            http_body_util::combinators::UnsyncBoxBody<Bytes, handler::ErrorCode>,
        >,
        client_addr: SocketAddr,
    ) -> anyhow::Result<http::Response<Bytes>> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path().to_string();
        if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return Ok(self.well_known(well_known));
        }
        let Some(route) = self.router.route(&path) else {
            return Ok(empty_response(StatusCode::NOT_FOUND));
        };
        let Some(component) = self.components.get(&route.component) else {
            return Ok(empty_response(StatusCode::NOT_FOUND));
        };

        parts.headers.remove(CONNECTION);
        let authority = match (&parts.uri.authority(), parts.headers.get(HOST)) {
            (Some(authority), _) => authority.to_string(),
            (None, Some(host)) => host
                .to_str()
                .context("'Host' header is not valid UTF-8")?
                .to_string(),
            (None, None) => "localhost".to_string(),
        };
        if !parts.headers.contains_key(HOST) {
            parts.headers.insert(
                HOST,
                HeaderValue::try_from(authority.as_str()).context("invalid authority")?,
            );
        }
        let scheme = parts.uri.scheme_str().unwrap_or("http").to_string();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        let full_url = format!("{scheme}://{authority}{path_and_query}");
        parts.uri = full_url
            .parse()
            .with_context(|| format!("invalid request URL {full_url:?}"))?;

        // Spin appends its own `spin-*` headers after any the client sent: a component reading
        // the first value of one gets the client's.
        let mut spins = http::HeaderMap::new();
        for (name, value) in route.spin_headers(&full_url, client_addr) {
            match (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                (Ok(name), Ok(value)) => {
                    spins.append(name, value);
                }
                _ => return Ok(empty_response(StatusCode::INTERNAL_SERVER_ERROR)),
            }
        }
        if self.spins_headers_first {
            let client = std::mem::replace(&mut parts.headers, spins);
            for (name, value) in &client {
                parts.headers.append(name, value.clone());
            }
        } else {
            for (name, value) in &spins {
                parts.headers.append(name, value.clone());
            }
        }

        let request: handler::Request = http::Request::from_parts(parts, body);
        let response = match component.handler.handle((), request).await {
            Ok(response) => response,
            Err(err) => {
                eprintln!(
                    "[test-host] component {:?} failed to handle {path}: {err:?}",
                    route.component
                );
                return Ok(empty_response(StatusCode::INTERNAL_SERVER_ERROR));
            }
        };
        let (parts, body) = response.into_parts();
        match body.collect().await {
            Ok(body) => Ok(http::Response::from_parts(parts, body.to_bytes())),
            Err(err) => {
                eprintln!(
                    "[test-host] component {:?}: response body failed for {path}: {err:?}",
                    route.component
                );
                Ok(empty_response(StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    /// `health` answers `OK`; `info` the application name and version (Spin
    /// adds deployment details the test host does not have); anything else 404.
    fn well_known(&self, name: &str) -> http::Response<Bytes> {
        match name {
            "health" => http::Response::new(Bytes::from_static(b"OK")),
            "info" => {
                let info = serde_json::json!({
                    "name": self.manifest.name,
                    "version": self.manifest.version,
                });
                let mut response = http::Response::new(Bytes::from(info.to_string()));
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                response
            }
            _ => empty_response(StatusCode::NOT_FOUND),
        }
    }
}
