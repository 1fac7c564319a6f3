//! Answers: JSON, HTML, or a CRM's own [`Reply`].

use pipeline_guard_core::{Error, crm::Reply};
use spin_sdk::http::Response;

/// A response with `status`, `content_type` and `body`.
fn response(status: u16, content_type: &str, body: String) -> Response<String> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(body.clone())
        .unwrap_or_else(|_| http::Response::new(body))
}

/// A JSON response with `status`.
pub fn json(status: u16, value: &serde_json::Value) -> Response<String> {
    response(status, "application/json", value.to_string())
}

/// An HTML page with `status`.
pub fn html(status: u16, page: String) -> Response<String> {
    response(status, "text/html; charset=utf-8", page)
}

/// A CRM's answer to a delivery.
pub fn reply(reply: Reply) -> Response<String> {
    response(reply.status, reply.content_type, reply.body)
}

/// Log a server-side error for the operator (client mistakes are the caller's to read).
pub fn log(err: &Error) {
    if err.status() >= 500 {
        eprintln!("pipeline-guard: {err}");
    }
}

/// An error as JSON with its status.
pub fn error(err: &Error) -> Response<String> {
    log(err);
    json(err.status(), &err.to_json())
}
