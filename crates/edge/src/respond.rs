//! JSON answers.

use pipeline_guard_core::Error;
use spin_sdk::http::Response;

/// A JSON response with `status`.
pub fn json(status: u16, value: &serde_json::Value) -> Response<String> {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(value.to_string())
        .unwrap_or_else(|_| http::Response::new(value.to_string()))
}

/// An error as JSON with its status; server-side errors are also logged for the operator.
pub fn error(err: &Error) -> Response<String> {
    if err.status() >= 500 {
        eprintln!("pipeline-guard: {err}");
    }
    json(err.status(), &err.to_json())
}
