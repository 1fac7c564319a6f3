//! [`Host`]: a Spin application loaded from `spin.toml`, serving requests
//! in-process ([`Host::request`]) or over TCP ([`Host::serve`]).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bytes::Bytes;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::app::{App, LoadOptions};
use crate::instances::{InstanceReuse, InstanceStats};
use crate::kv_store::KvBackend;
use crate::manifest::Manifest;
use crate::outbound::DeniedRequest;
use crate::variables::variables_from_env;

/// Store operations guests made ([`Host::store_operations`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreOperations {
    /// Key-value calls.
    pub key_value: usize,
    /// SQLite statements.
    pub sqlite: usize,
}

impl StoreOperations {
    /// Both kinds together.
    pub fn total(self) -> usize {
        self.key_value + self.sqlite
    }
}

/// The key-value store labels the host defines, like Spin's default runtime
/// configuration.
pub const DEFAULT_KV_LABELS: &[&str] = &["default"];

/// The SQLite database labels the host defines, like Spin's default runtime
/// configuration.
pub const DEFAULT_SQLITE_LABELS: &[&str] = &["default"];

/// The client address reported in `spin-client-addr` for [`Host::request`].
pub const IN_PROCESS_CLIENT_ADDR: &str = "127.0.0.1:0";

/// Configures and starts a [`Host`]; see [`Host::builder`].
#[derive(Debug, Clone)]
pub struct HostBuilder {
    manifest_path: PathBuf,
    target_dir: Option<PathBuf>,
    variables: BTreeMap<String, String>,
    variables_from_env: bool,
    kv: KvBackend,
    kv_labels: BTreeSet<String>,
    sqlite_labels: BTreeSet<String>,
    reuse: InstanceReuse,
    only_components: Option<BTreeSet<String>>,
    spins_headers_first: bool,
}

impl HostBuilder {
    /// Puts the `spin-*` headers the host adds *before* those the client sent, unlike Spin
    /// (which keeps the client's first): a deliberate deviation, only for the end-to-end
    /// runner's own test that a disagreement between the test host and Spin fails.
    pub fn spins_headers_first(mut self, yes: bool) -> Self {
        self.spins_headers_first = yes;
        self
    }

    /// The cargo target directory that `source = "target/…"` paths are
    /// resolved against. Default: `$CARGO_TARGET_DIR` if set, else
    /// `<spin.toml dir>/target`.
    pub fn target_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.target_dir = Some(dir.into());
        self
    }

    /// Gives application variable `name` a value (like `spin up --variable`).
    /// Names must be declared in `[variables]`.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Also takes values from `SPIN_VARIABLE_<NAME>` environment variables
    /// (values given with [`Self::variable`] win).
    pub fn variables_from_env(mut self) -> Self {
        self.variables_from_env = true;
        self
    }

    /// Where key-value data and SQLite databases live (default: in memory).
    /// With [`KvBackend::Dir`], the `default` SQLite database is the file
    /// `<dir>/sqlite_db.db` ([`crate::DEFAULT_SQLITE_DB_FILENAME`]).
    pub fn key_value(mut self, backend: KvBackend) -> Self {
        self.kv = backend;
        self
    }

    /// Defines an extra key-value store label besides `default` (what a Spin
    /// runtime-config file would add).
    pub fn key_value_label(mut self, label: impl Into<String>) -> Self {
        self.kv_labels.insert(label.into());
        self
    }

    /// Defines an extra SQLite database label besides `default` (what a Spin
    /// runtime-config file would add); it lives where [`Self::key_value`]
    /// says (`<dir>/sqlite_db.<label>.db` in a directory). Labels are
    /// kebab-case or snake_case.
    pub fn sqlite_database_label(mut self, label: impl Into<String>) -> Self {
        self.sqlite_labels.insert(label.into());
        self
    }

    /// How instances are reused (default: Spin's 128 requests, 16 at once).
    pub fn instance_reuse(mut self, reuse: InstanceReuse) -> Self {
        self.reuse = reuse;
        self
    }

    /// Loads only these components (like `spin up --component-id`): routes
    /// to the others answer 404 and their `.wasm` files need not exist.
    pub fn only_components<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.only_components = Some(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Loads the manifest, resolves variables and outbound hosts, opens the
    /// key-value stores and SQLite databases and compiles the components.
    /// Fails, like `spin up`, on an invalid manifest, a required variable
    /// without a value, or a `key_value_stores` or `sqlite_databases` label
    /// no store or database defines.
    pub fn build(self) -> anyhow::Result<Host> {
        let manifest = Manifest::load(&self.manifest_path)?;
        let target_dir = match self.target_dir {
            Some(dir) => dir,
            None => default_target_dir(&manifest),
        };
        let mut variables = if self.variables_from_env {
            variables_from_env(&manifest)
        } else {
            BTreeMap::new()
        };
        variables.extend(self.variables);
        let options = LoadOptions {
            target_dir,
            variables,
            kv: self.kv,
            kv_labels: self.kv_labels,
            sqlite_labels: self.sqlite_labels,
            reuse: self.reuse,
            only_components: self.only_components,
            spins_headers_first: self.spins_headers_first,
        };
        Ok(Host {
            app: Arc::new(App::load(manifest, &options)?),
            servers: Mutex::new(Vec::new()),
        })
    }
}

/// `$CARGO_TARGET_DIR` if set, else `<spin.toml dir>/target`.
fn default_target_dir(manifest: &Manifest) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => manifest.dir.join("target"),
    }
}

/// A running Spin application. Dropping it stops its servers.
pub struct Host {
    app: Arc<App>,
    servers: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Host {
    fn drop(&mut self) {
        let servers = self.servers.get_mut().unwrap_or_else(|p| p.into_inner());
        for server in servers.drain(..) {
            server.abort();
        }
    }
}

impl Host {
    /// Starts configuring a host for the application in `manifest_path`.
    pub fn builder(manifest_path: impl AsRef<Path>) -> HostBuilder {
        HostBuilder {
            manifest_path: manifest_path.as_ref().to_path_buf(),
            target_dir: None,
            variables: BTreeMap::new(),
            variables_from_env: false,
            kv: KvBackend::InMemory,
            kv_labels: DEFAULT_KV_LABELS.iter().map(|s| s.to_string()).collect(),
            sqlite_labels: DEFAULT_SQLITE_LABELS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            reuse: InstanceReuse::default(),
            spins_headers_first: false,
            only_components: None,
        }
    }

    /// The loaded manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.app.manifest
    }

    /// Handles one request in-process, as Spin would handle it from the
    /// network: routed by path (404 with an empty body when no route
    /// matches), with the `spin-*` headers added, and 500 with an empty body
    /// if the component traps or returns an error (the error is printed to
    /// stderr). A URI without authority gets the `Host` header's, or
    /// `localhost`. `spin-client-addr` is [`IN_PROCESS_CLIENT_ADDR`].
    pub async fn request(
        &self,
        request: http::Request<Bytes>,
    ) -> anyhow::Result<http::Response<Bytes>> {
        let client_addr: SocketAddr = IN_PROCESS_CLIENT_ADDR.parse()?;
        self.app.handle(request, client_addr).await
    }

    /// Listens on `addr` (port 0 picks a free port) and serves the
    /// application over HTTP/1.1 until the `Host` is dropped. Returns the
    /// bound address.
    pub async fn serve(&self, addr: SocketAddr) -> anyhow::Result<SocketAddr> {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let app = self.app.clone();
        let server = tokio::spawn(async move {
            loop {
                let (stream, client_addr) = match listener.accept().await {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        eprintln!("[test-host] accept failed: {err}");
                        continue;
                    }
                };
                let app = app.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: http::Request<Incoming>| {
                        let app = app.clone();
                        async move { Ok::<_, Infallible>(app.serve_one(req, client_addr).await) }
                    });
                    let conn = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    if let Err(err) = conn {
                        eprintln!("[test-host] connection from {client_addr}: {err}");
                    }
                });
            }
        });
        self.servers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(server);
        Ok(local)
    }

    /// A copy of the key-value store `label` (empty if no such store).
    pub fn kv(&self, label: &str) -> BTreeMap<String, Vec<u8>> {
        self.app
            .kv
            .get(label)
            .map(|store| store.snapshot())
            .unwrap_or_default()
    }

    /// Sets `key` in store `label`, as a guest would (e.g. to seed state).
    pub fn kv_set(&self, label: &str, key: &str, value: impl Into<Vec<u8>>) -> anyhow::Result<()> {
        let store = self
            .app
            .kv
            .get(label)
            .with_context(|| format!("no key-value store {label:?}"))?;
        store.set(key, value.into())
    }

    /// Runs `sql` on SQLite database `label` and returns the rows of its last
    /// statement, each a list of column values as JSON: `null`, an integer,
    /// a real (`null` if not finite), a string (TEXT), or an array of byte
    /// values (BLOB). Several `;`-separated statements run in order (e.g. to
    /// seed a table). Unlike a guest's, this connection may attach files.
    ///
    /// Blocks the calling thread: a guest statement holding a lock makes it
    /// wait up to SQLite's busy timeout (5 s).
    pub fn sqlite_query(
        &self,
        label: &str,
        sql: &str,
    ) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
        self.app
            .sqlite
            .get(label)
            .with_context(|| format!("no SQLite database {label:?}"))?
            .run_script(sql)
            .with_context(|| format!("SQLite database {label:?}: {sql}"))
    }

    /// How many store operations guests have made so far: key-value calls
    /// (`get`, `set`, `delete`, `exists`, `get-keys`) and SQLite statements,
    /// over every store and database.
    pub fn store_operations(&self) -> StoreOperations {
        StoreOperations {
            key_value: self.app.kv.operations(),
            sqlite: self.app.sqlite.statements(),
        }
    }

    /// Outbound requests refused so far, in order.
    pub fn denied_outbound(&self) -> Vec<DeniedRequest> {
        self.app.denied.snapshot()
    }

    /// How many instances of `component` have been created so far (see
    /// [`InstanceStats::instances`] for how bursts create several).
    pub fn instances_created(&self, component: &str) -> usize {
        self.instance_stats(component).instances
    }

    /// Instance and request counts of `component` (all zero if it is not
    /// loaded).
    pub fn instance_stats(&self, component: &str) -> InstanceStats {
        self.app
            .components
            .get(component)
            .map(|c| c.runtime.stats.snapshot())
            .unwrap_or_default()
    }

    /// The peak linear memory, in bytes, of each instance of `component` dropped so far (every
    /// memory of the instance together; memories never shrink, so it is the size it ended
    /// with), in the order they were dropped; empty if it is not loaded. With
    /// [`InstanceReuse::fresh_per_request`] each instance serves one request, so these are the
    /// requests' peaks. For benchmarks: measuring changes nothing the guest sees.
    pub fn memory_peaks(&self, component: &str) -> Vec<usize> {
        self.app
            .components
            .get(component)
            .map(|c| c.runtime.stats.memory_peaks())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Compile-time check: a `Host` can be shared across tasks and its
    /// request future spawned.
    #[allow(dead_code, reason = "only needs to compile")]
    fn host_can_be_shared_and_spawned(host: &Host) {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        send_sync(host);
        send(&host.request(http::Request::new(Bytes::new())));
        send(&host.serve(SocketAddr::from(([127, 0, 0, 1], 0))));
    }
}
