//! [`FakeCrm`]: an HTTP server on `127.0.0.1` that stands in for a CRM API.
//!
//! It records every request in arrival order and answers `200` with a JSON
//! body (`{}` unless told otherwise with [`FakeCrm::respond`]). Faults can be
//! injected for the next requests: an error status, a delay, or a dropped
//! connection. Faulted requests are recorded too.
//!
//! Every request to a known CRM's API, with a successful answer it gets, is checked against
//! the vendor's API description (`pipeline-guard-contract`); a fake that saw a call outside it
//! fails the test when dropped, naming the operation and the field.

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
    answer: Scripted,
}

/// An answer to script for some requests ([`FakeCrm::script`]): any status, headers and raw
/// body, after a delay, for a number of requests.
#[derive(Debug, Clone)]
pub struct Scripted {
    /// The status.
    pub status: u16,
    /// Extra headers (`Retry-After`, …); `Content-Type` is `application/json` unless given.
    pub headers: Vec<(String, String)>,
    /// The body as sent.
    pub body: Bytes,
    /// How long to wait before answering.
    pub delay: Duration,
    /// For how many matching requests (then the earlier answers apply again); `None` for all.
    pub times: Option<usize>,
}

impl Scripted {
    /// `status` with a JSON `body`, at once, for every matching request.
    pub fn json(status: u16, body: &serde_json::Value) -> Scripted {
        Scripted {
            status,
            headers: Vec::new(),
            body: Bytes::from(body.to_string()),
            delay: Duration::ZERO,
            times: None,
        }
    }

    /// `status` with `body` as it is (not JSON, say).
    pub fn raw(status: u16, body: &str) -> Scripted {
        Scripted {
            body: Bytes::from(body.to_owned()),
            ..Scripted::json(status, &serde_json::Value::Null)
        }
    }

    /// With the header `name: value`.
    pub fn header(mut self, name: &str, value: &str) -> Scripted {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answered after `delay`.
    pub fn after(mut self, delay: Duration) -> Scripted {
        self.delay = delay;
        self
    }

    /// Only for the next `times` matching requests.
    pub fn times(mut self, times: usize) -> Scripted {
        self.times = Some(times);
        self
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<RecordedRequest>,
    canned: Vec<Canned>,
    faults: VecDeque<Fault>,
    /// Requests not yet checked against the vendor's API description, each with its successful
    /// answer's body: checked when the test asks or the fake is dropped, never while a call waits
    /// for its answer (a check of a large answer would slow every call a benchmark times).
    unchecked: Vec<(RecordedRequest, Option<Bytes>)>,
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
        if std::thread::panicking() {
            return;
        }
        let outside = self.take_contract_violations();
        if !outside.is_empty() {
            panic!(
                "the fake CRM saw {} call(s) outside the vendor's API description:\n{}",
                outside.len(),
                outside.join("\n")
            );
        }
    }
}

enum Answer {
    Respond(Scripted),
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

    /// The calls so far outside the vendor's API description (`METHOD path: violation`), taken:
    /// the fake no longer fails the test for them when dropped.
    pub fn take_contract_violations(&self) -> Vec<String> {
        let unchecked = std::mem::take(&mut self.lock().unchecked);
        unchecked
            .iter()
            .filter_map(|(request, answer)| outside_contract(request, answer.as_deref()))
            .collect()
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
        self.script(method, path_prefix, Scripted::json(status, &body));
    }

    /// Answers requests with `method` (`"*"` for any) whose path (with its query, when
    /// `path_prefix` has one) starts with `path_prefix` as
    /// `answer` says; later calls take precedence over earlier ones while they last.
    pub fn script(&self, method: &str, path_prefix: &str, answer: Scripted) {
        lock(&self.state).canned.push(Canned {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_string(),
            answer,
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

/// The body of `answer` when it is a success, the only answers checked against the vendor's
/// description: error answers are the faults tests inject.
fn successful(answer: &Answer) -> Option<Bytes> {
    match answer {
        Answer::Respond(scripted) if (200..300).contains(&scripted.status) => {
            Some(scripted.body.clone())
        }
        _ => None,
    }
}

/// Why `request`, answered with the successful `answer` body (`None`: no success), is outside
/// its vendor's API description, if it is.
fn outside_contract(request: &RecordedRequest, answer: Option<&[u8]>) -> Option<String> {
    let contracts = match pipeline_guard_contract::contracts() {
        Ok(contracts) => contracts,
        Err(error) => return Some(error.to_string()),
    };
    let body = request.json();
    let answer = answer.and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok());
    let call = pipeline_guard_contract::Call {
        method: request.method.as_str(),
        path_and_query: &request.path_and_query,
        body: body.as_ref(),
        answer: answer.as_ref(),
    };
    contracts
        .check(&call)
        .err()
        .map(|violation| format!("{} {}: {violation}", request.method, request.path_and_query))
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
            Some(Fault::Status(status)) => Answer::Respond(Scripted::json(
                *status,
                &serde_json::json!({ "error": "injected fault" }),
            )),
            Some(Fault::Disconnect) => Answer::Disconnect,
            Some(Fault::Delay(_)) | None => {
                let canned = state.canned.iter_mut().rev().find(|c| {
                    (c.method == "*" || c.method == recorded.method.as_str())
                        && (if c.path_prefix.contains('?') {
                            recorded.path_and_query.as_str()
                        } else {
                            recorded.path()
                        })
                        .starts_with(&c.path_prefix)
                        && c.answer.times != Some(0)
                });
                match canned {
                    Some(c) => {
                        if let Some(times) = &mut c.answer.times {
                            *times -= 1;
                        }
                        Answer::Respond(c.answer.clone())
                    }
                    None => Answer::Respond(Scripted::json(200, &serde_json::json!({}))),
                }
            }
        };
        let answered = successful(&answer);
        state.unchecked.push((recorded.clone(), answered));
        state.requests.push(recorded);
        let delay = match (&fault, &answer) {
            (Some(Fault::Delay(delay)), _) => Some(*delay),
            (_, Answer::Respond(scripted)) if !scripted.delay.is_zero() => Some(scripted.delay),
            _ => None,
        };
        (answer, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Answer::Disconnect => Err(std::io::Error::other("injected disconnect")),
        Answer::Respond(scripted) => {
            let mut response = http::Response::new(Full::new(scripted.body));
            *response.status_mut() =
                StatusCode::from_u16(scripted.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            );
            for (name, value) in scripted.headers {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(name, value);
                }
            }
            Ok(response)
        }
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;

    async fn send(crm: &FakeCrm, request: &str) {
        let mut stream = tokio::net::TcpStream::connect(crm.addr()).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
    }

    #[tokio::test]
    async fn a_call_outside_the_vendors_description_is_recorded_by_operation_and_field() {
        let crm = FakeCrm::start().await.unwrap();
        let soql = "SELECT+Id%2C+Employees+FROM+Opportunity";
        send(
            &crm,
            &format!(
                "GET /services/data/v65.0/query?q={soql} HTTP/1.1\r\nhost: crm\r\nconnection: close\r\n\r\n"
            ),
        )
        .await;
        send(
            &crm,
            "GET /records/deals/D-1 HTTP/1.1\r\nhost: crm\r\nconnection: close\r\n\r\n",
        )
        .await;
        assert_eq!(
            crm.take_contract_violations(),
            [format!(
                "GET /services/data/v65.0/query?q={soql}: Salesforce Query: `Opportunity.Employees` is not a standard field of Opportunity (custom fields end in `__c`)"
            )]
        );
    }
}
