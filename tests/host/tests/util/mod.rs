//! Shared helpers for the end-to-end tests: where things are, signed requests, a host wired to a
//! fake CRM.

#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};

use bytes::Bytes;
use pipeline_guard_test_host::{FakeCrm, Host, HostBuilder};

/// The generic webhook secret the tests configure.
pub const SECRET: &str = "e2e-secret";
/// The API token the tests configure.
pub const TOKEN: &str = "e2e-token";

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cargo target dir this test was built into (it holds the release `.wasm`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}

/// The built component of `crate_name` (`score_lead`).
pub fn component(crate_name: &str) -> Vec<u8> {
    let path = target_dir().join(format!("wasm32-wasip2/release/{crate_name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the components first (./scripts/test does)",
            path.display()
        )
    })
}

/// A fixture file's bytes.
pub fn fixture(path: &str) -> Vec<u8> {
    let path = root().join("fixtures").join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fixture's expected CRM calls (`crm_calls` in `<case>.expected.json`).
pub fn expected_calls(case: &str) -> Vec<serde_json::Value> {
    let expected: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{case}.expected.json"))).expect("expected json");
    expected["crm_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The current Unix time.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `HMAC-SHA256(secret, "<ts>.<body>")` as the signature header value, computed independently of
/// the code under test.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A generic webhook POST to `path`, signed now with [`SECRET`].
pub fn signed_post(path: &str, body: &[u8]) -> http::Request<Bytes> {
    let ts = now();
    http::Request::post(format!("http://pipeline-guard.test{path}"))
        .header("content-type", "application/json")
        .header("x-pipeline-guard-timestamp", ts.to_string())
        .header("x-pipeline-guard-signature", sign(SECRET, ts, body))
        .body(Bytes::copy_from_slice(body))
        .expect("request")
}

/// A GET to `path`.
pub fn get(path: &str) -> http::Request<Bytes> {
    http::Request::get(format!("http://pipeline-guard.test{path}"))
        .body(Bytes::new())
        .expect("request")
}

/// The app's spin.toml, with its required variables pointed at `crm`.
pub fn host_builder(crm: &FakeCrm) -> HostBuilder {
    host_builder_for(&root().join("spin.toml"), crm)
}

/// Like [`host_builder`], for another manifest.
pub fn host_builder_for(manifest: &Path, crm: &FakeCrm) -> HostBuilder {
    Host::builder(manifest)
        .target_dir(target_dir())
        .variable("generic_webhook_secret", SECRET)
        .variable("generic_api_origin", crm.url())
        .variable("generic_api_token", TOKEN)
}

/// A response body as JSON.
pub fn json(response: &http::Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(response.body())
        )
    })
}

/// What the fake CRM received, as `{method, path, body}` like the fixtures' `crm_calls`.
pub fn received(crm: &FakeCrm) -> Vec<serde_json::Value> {
    crm.requests()
        .iter()
        .map(|r| {
            serde_json::json!({
                "method": r.method.as_str(),
                "path": r.path_and_query,
                "body": r.json().unwrap_or(serde_json::Value::Null),
            })
        })
        .collect()
}

/// Calls as the fixtures record them, without the time-dependent field at `pointer` in each body
/// (`/properties/hs_timestamp`): the fixtures ran at a fixed time, the `.wasm` runs now.
pub fn without(mut calls: Vec<serde_json::Value>, pointer: &str) -> Vec<serde_json::Value> {
    let (parent, field) = pointer.rsplit_once('/').expect("a JSON pointer");
    for call in &mut calls {
        if let Some(object) = call["body"]
            .pointer_mut(parent)
            .and_then(serde_json::Value::as_object_mut)
        {
            object.remove(field);
        }
    }
    calls
}
