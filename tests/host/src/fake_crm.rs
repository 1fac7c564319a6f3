//! [`FakeCrm`]: an HTTP server on `127.0.0.1` that stands in for a CRM API.
//!
//! It records every request in arrival order and answers `200` with a JSON
//! body (`{}` unless told otherwise with [`FakeCrm::respond`]). Faults can be
//! injected for the next requests: an error status, a delay, or a dropped
//! connection. Faulted requests are recorded too.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A request the fake CRM received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method, e.g. `POST`.
    pub method: Method,
    /// The path and query, e.g. `/crm/v3/objects/deals/42?archived=false`.
    pub path_and_query: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body.
    pub body: Bytes,
}

impl RecordedRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// A header value, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A fault to inject into the next requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and `{"error": "injected fault"}`.
    Status(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Close the connection without answering.
    Disconnect,
}

#[derive(Debug)]
struct Canned {
    /// Upper-case method name, or `*` for any.
    method: String,
    path_prefix: String,
    status: StatusCode,
    body: serde_json::Value,
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<RecordedRequest>,
    canned: Vec<Canned>,
    faults: VecDeque<Fault>,
}

/// A fake CRM API server; stops when dropped.
#[derive(Debug)]
pub struct FakeCrm {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: JoinHandle<()>,
}

impl Drop for FakeCrm {
    fn drop(&mut self) {
        self.server.abort();
    }
}

enum Answer {
    Respond(StatusCode, serde_json::Value),
    Disconnect,
}

impl FakeCrm {
    /// Starts a fake CRM on `127.0.0.1` with a free port.
    pub async fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = server_state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(state.clone(), req));
                    // Errors here are client disconnects or injected ones.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            state,
            server,
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// Forgets the recorded requests (canned answers and pending faults stay).
    pub fn clear(&self) {
        self.lock().requests.clear();
    }

    /// Answers requests with `method` (`"*"` for any) whose path starts with
    /// `path_prefix` with `status` and the JSON `body`. Later calls take
    /// precedence over earlier ones for the requests they match.
    /// An unknown status code answers 500.
    pub fn respond(&self, method: &str, path_prefix: &str, status: u16, body: serde_json::Value) {
        self.lock().canned.push(Canned {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            body,
        });
    }

    /// Applies `fault` to each of the next `count` requests (after any
    /// faults already queued).
    pub fn inject(&self, count: usize, fault: Fault) {
        let mut state = self.lock();
        for _ in 0..count {
            state.faults.push_back(fault.clone());
        }
    }

    /// The next `count` requests fail with `status`.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.inject(count, Fault::Status(status));
    }

    /// The next `count` requests are answered after `delay`.
    pub fn delay_next(&self, count: usize, delay: Duration) {
        self.inject(count, Fault::Delay(delay));
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn handle(
    state: Arc<Mutex<State>>,
    request: http::Request<Incoming>,
) -> Result<http::Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let recorded = RecordedRequest {
        method: parts.method,
        path_and_query: parts.uri.path_and_query().map_or_else(
            || parts.uri.path().to_string(),
            |pq| pq.as_str().to_string(),
        ),
        headers: parts.headers,
        body,
    };
    let (answer, delay) = {
        let mut state = lock(&state);
        let fault = state.faults.pop_front();
        let answer = match &fault {
            Some(Fault::Status(status)) => Answer::Respond(
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                serde_json::json!({ "error": "injected fault" }),
            ),
            Some(Fault::Disconnect) => Answer::Disconnect,
            Some(Fault::Delay(_)) | None => state
                .canned
                .iter()
                .rev()
                .find(|c| {
                    (c.method == "*" || c.method == recorded.method.as_str())
                        && recorded.path().starts_with(&c.path_prefix)
                })
                .map_or_else(
                    || Answer::Respond(StatusCode::OK, serde_json::json!({})),
                    |c| Answer::Respond(c.status, c.body.clone()),
                ),
        };
        state.requests.push(recorded);
        let delay = match fault {
            Some(Fault::Delay(delay)) => Some(delay),
            _ => None,
        };
        (answer, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Answer::Disconnect => Err(std::io::Error::other("injected disconnect")),
        Answer::Respond(status, body) => {
            let mut response = http::Response::new(Full::new(Bytes::from(body.to_string())));
            *response.status_mut() = status;
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            Ok(response)
        }
    }
}
