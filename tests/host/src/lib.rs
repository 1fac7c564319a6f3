//! A test host that runs the real pipeline-guard `.wasm` components the way
//! Spin 4.1 runs a WASI 0.3 (`wasi:http@0.3.0`) HTTP application, for
//! end-to-end tests on a machine without Spin.
//!
//! # Using it
//!
//! ```no_run
//! use pipeline_guard_test_host::{FakeCrm, Host, InstanceReuse, KvBackend};
//!
//! # async fn demo() -> anyhow::Result<()> {
//! let crm = FakeCrm::start().await?;
//! crm.respond("GET", "/crm/v3/objects/deals", 200, serde_json::json!({ "results": [] }));
//!
//! let host = Host::builder("spin.toml")             // manifest v2
//!     .target_dir("/path/to/cargo/target")            // for `source = "target/…"`
//!     .variable("crm_api_url", crm.url())             // like `--variable`
//!     .variable("hubspot_token", "test-token")
//!     .key_value(KvBackend::InMemory)                 // or KvBackend::Dir(dir)
//!     .instance_reuse(InstanceReuse::default())       // or ::fresh_per_request()
//!     .build()?;                                      // compiles each component once
//!
//! let response = host
//!     .request(http::Request::post("/score-lead/hubspot").body(bytes::Bytes::from("{}"))?)
//!     .await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(crm.requests().len(), 1);
//! assert!(host.denied_outbound().is_empty());
//! let stored = host.kv("default");                    // BTreeMap<String, Vec<u8>>
//! let rows = host.sqlite_query("default", "SELECT count(*) FROM sqlite_master")?; // Vec<Vec<serde_json::Value>>
//! let addr = host.serve("127.0.0.1:0".parse()?).await?; // for load tests
//! # let _ = (stored, rows, addr);
//! # Ok(())
//! # }
//! ```
//!
//! [`Host::request`] and [`Host::serve`] must run inside a Tokio runtime
//! (any flavour); [`HostBuilder::build`] need not. Compiled components are
//! cached for the whole process, so building many hosts is cheap.
//!
//! # Public API
//!
//! - [`Host::builder`]`(manifest) -> `[`HostBuilder`], then
//!   `.target_dir(dir)`, `.variable(name, value)`, `.variables_from_env()`,
//!   `.key_value(`[`KvBackend`]`)` (also where SQLite databases live),
//!   `.key_value_label(label)`, `.sqlite_database_label(label)`,
//!   `.instance_reuse(`[`InstanceReuse`]`)`, `.only_components(ids)`,
//!   `.build() -> anyhow::Result<Host>`.
//! - [`Host`]: `request(http::Request<Bytes>) -> anyhow::Result<http::Response<Bytes>>`,
//!   `serve(SocketAddr) -> anyhow::Result<SocketAddr>`,
//!   `kv(label) -> BTreeMap<String, Vec<u8>>`, `kv_set(label, key, value)`,
//!   `sqlite_query(label, sql) -> anyhow::Result<Vec<Vec<serde_json::Value>>>`
//!   (runs `sql` on a SQLite database: seed it, read it back),
//!   `denied_outbound() -> Vec<`[`DeniedRequest`]`>`,
//!   `instances_created(component) -> usize`,
//!   `instance_stats(component) -> `[`InstanceStats`],
//!   `memory_peaks(component) -> Vec<usize>` (each dropped instance's peak linear memory),
//!   `manifest() -> &`[`Manifest`].
//! - [`FakeCrm`]: `start()`, `url()`, `addr()`, `requests() -> Vec<`[`RecordedRequest`]`>`,
//!   `clear()`, `respond(method, path_prefix, status, json)`,
//!   `fail_next(n, status)`, `delay_next(n, duration)`, `inject(n, `[`Fault`]`)`.
//! - [`imports_outside_world`]`(component_wasm, wit_dir, world) -> anyhow::Result<Vec<String>>`.
//! - [`DEFAULT_SQLITE_DB_FILENAME`]: `sqlite_db.db`, the `default` database's
//!   file in a [`KvBackend::Dir`].
//! - The `pipeline-guard-host` binary serves an application:
//!   `pipeline-guard-host <spin.toml> [--listen 127.0.0.1:3000] [--variable NAME=VALUE]…
//!   [--kv-dir DIR] [--target-dir DIR]`.
//!
//! # Map of the crate
//!
//! | module | concept |
//! | --- | --- |
//! | [`host`] | [`Host`] and [`HostBuilder`]: the public face, TCP serving |
//! | `app` | loading: variables, grants, outbound policies, compiled components |
//! | `dispatch` | the request path: route, URI, `spin-*` headers, 404 / 500 |
//! | [`manifest`] | parsing and checking `spin.toml` |
//! | [`template`] | `{{ variable }}` templates and variable-name rules |
//! | [`variables`] | variable values (provided, default, required) and `spin:variables@3.0.0` |
//! | [`kv_store`] | key-value data in memory or in files ([`KvBackend`]) |
//! | `key_value` | the `spin:key-value@3.0.0` host (grants, errors, `get-keys` stream) |
//! | `sqlite_store` | SQLite databases (memory or files) and the connections guests open |
//! | `sqlite_exec` | running one guest statement: binding, value mapping, errors, row stream |
//! | `sqlite` | the `spin:sqlite@3.1.0` host (grants, connection handles, sync and async functions) |
//! | [`allowed_hosts`] | `allowed_outbound_hosts` parsing and URL matching |
//! | [`outbound`] | outbound `wasi:http` sandboxing and [`DeniedRequest`] records |
//! | [`routes`] | Spin's HTTP routing and `spin-*` request headers |
//! | [`instances`] | instance creation and reuse ([`InstanceReuse`], [`InstanceStats`]) |
//! | `engine` | shared Wasmtime engine, linker, compiled-component cache |
//! | [`fake_crm`] | [`FakeCrm`], a recording HTTP server with fault injection |
//! | [`probe`] | building the probe component (host tests, the benchmarks' baseline) |
//! | [`spin`] | real Spin where installed: finding the CLI, `spin up` on a free port |
//! | [`imports`] | [`imports_outside_world`]: component imports vs a WIT world |
//!
//! # Spin semantics reproduced
//!
//! - Manifest: version 2, unknown fields rejected, `build` and other
//!   informational fields ignored; what the host cannot honour (`files`,
//!   remote sources, inline or middleware components, non-HTTP triggers,
//!   `static_response`) is an error, not silently ignored.
//! - Variables: a guest sees only its component's `[component.<id>.variables]`,
//!   rendered from the application variables (provided value, else default);
//!   a `required` variable without a value fails [`HostBuilder::build`];
//!   lookups fail with `invalid-name` or `undefined` as in Spin. (Unlike
//!   Spin, a provided value for an undeclared variable is an error too, to
//!   catch typos.)
//! - Key-value: the `default` store (plus labels added with
//!   [`HostBuilder::key_value_label`]), shared by all components and
//!   instances; `open` of a label not in `key_value_stores` is
//!   `access-denied`; listing an undefined label fails start-up.
//! - SQLite (`spin:sqlite@3.1.0`, checked against Spin 4.1 with the probe):
//!   the `default` database (plus labels added with
//!   [`HostBuilder::sqlite_database_label`]), shared by all components and
//!   instances, in `<dir>/sqlite_db.db` with [`KvBackend::Dir`] (as in
//!   Spin's `.spin/`) or in memory for the `Host`'s lifetime; `open` of a
//!   label not in `sqlite_databases` is `access-denied`; an undefined label
//!   fails start-up with Spin's message. Every `open` is its own SQLite
//!   connection (`changes` and `last-insert-rowid` are its own; 5 s busy
//!   timeout; no `ATTACH` of files); only the first statement of an
//!   `execute` runs; failures are `io(<SQLite's message>)`; `execute-async`
//!   answers with the columns and streams the rows, its errors arriving on
//!   the result future. Details in `sqlite_store`, `sqlite_exec`, `sqlite`.
//! - Outbound HTTP: allowed only to the component's resolved
//!   `allowed_outbound_hosts` (scheme, host and port; default ports from the
//!   scheme); refused requests get `error-code::HTTP-request-denied`. Literal
//!   entries (and templated ones with defaults) are checked at start-up; an
//!   entry that only a provided value makes invalid denies every request of
//!   that component, as in Spin. Self requests and service chaining are not
//!   served; raw sockets are refused.
//! - Instances (Wasmtime's `ProxyHandler`, as in Spin 4.1): 128 requests per
//!   instance, 16 at once, dropped after 1 s idle, by default. A new instance
//!   is started whenever a request finds none ready, so a simultaneous burst
//!   on a cold component gets about one instance per request; reuse shows
//!   with sequential or overlapping-after-warm-up traffic.
//! - Routing: exact, `:name` and `/...` routes (longest, most exact wins);
//!   404 with an empty body when nothing matches; 500 with an empty body
//!   when the component traps or returns an error; `/.well-known/spin/health`
//!   and `/info`. Headers added: `spin-full-url`, `spin-path-info`,
//!   `spin-matched-route`, `spin-raw-component-route`,
//!   `spin-component-route`, `spin-base-path`, `spin-client-addr`,
//!   `spin-path-match-<name>`; `connection` is dropped.
//! - Guest stdout and stderr go to the test process's; host diagnostics are
//!   printed to stderr with a `[test-host]` prefix.

pub mod allowed_hosts;
mod app;
mod bindings;
mod dispatch;
mod engine;
pub mod fake_crm;
pub mod host;
pub mod imports;
pub mod instances;
mod key_value;
pub mod kv_store;
pub mod manifest;
pub mod node;
pub mod outbound;
pub mod postgres;
pub mod probe;
pub mod routes;
pub mod spin;
mod sqlite;
mod sqlite_exec;
mod sqlite_store;
pub mod template;
pub mod variables;

pub use fake_crm::{FakeCrm, Fault, RecordedRequest, Scripted};
pub use host::{Host, HostBuilder, StoreOperations};
pub use imports::imports_outside_world;
pub use instances::{InstanceReuse, InstanceStats};
pub use kv_store::KvBackend;
pub use manifest::Manifest;
pub use outbound::DeniedRequest;
pub use sqlite_store::DEFAULT_SQLITE_DB_FILENAME;
