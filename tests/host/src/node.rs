//! One runner, two hosts: an end-to-end scenario runs on a [`Node`], which is either the test
//! host or a real `spin up`, started from the same manifest, variables and state directory. The
//! same scenario code runs on both, so where the test host copies Spin wrongly a test fails; and
//! [`Runtime::all`] says which hosts a run covers.
//!
//! ```no_run
//! # async fn scenario() -> anyhow::Result<()> {
//! use pipeline_guard_test_host::node::{Node, Runtime};
//! for runtime in Runtime::all() {
//!     let node = Node::builder(runtime, "spin.toml", "target").variable("mode", "enforce").start().await?;
//!     let answer = node.request(http::Request::get("http://pipeline-guard.test/score-lead").body(bytes::Bytes::new())?).await?;
//!     assert_eq!(answer.status(), 200, "on {}", node.runtime());
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::Context as _;
use bytes::Bytes;

use crate::{
    Host, KvBackend,
    postgres::PostgresServer,
    spin::{SpinUp, app_manifest, exchange, spin_cli},
    sqlite_store::run_script_on,
};

/// Where a scenario runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// The wasmtime test host in this process.
    TestHost,
    /// Real Spin: `spin up` with this CLI.
    Spin(PathBuf),
    /// Real Spin with `database_url` set: every node's stores in PostgreSQL on this server.
    SpinOnPostgres(PathBuf, PostgresServer),
}

impl Runtime {
    /// Every host to run on: the test host always, then real Spin where it is found
    /// ([`spin_cli`]). The first call says on stderr which hosts the run covers.
    pub fn all() -> Vec<Runtime> {
        static SAID: Once = Once::new();
        let spin = spin_cli();
        SAID.call_once(|| match &spin {
            Some(cli) => eprintln!(
                "end-to-end hosts: test host and Spin ({})",
                cli.display()
            ),
            None => eprintln!(
                "end-to-end hosts: test host only; Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, spin on PATH)"
            ),
        });
        std::iter::once(Runtime::TestHost)
            .chain(spin.map(Runtime::Spin))
            .collect()
    }

    /// [`Runtime::all`], then real Spin on PostgreSQL where both are found. The test host has
    /// no `spin:postgres`: the scenarios on PostgreSQL run on Spin only, and the first call says
    /// so on stderr, or why they do not run at all.
    pub fn all_and_postgres() -> Vec<Runtime> {
        static SAID: Once = Once::new();
        let mut runtimes = Runtime::all();
        let spin = spin_cli();
        let server = crate::postgres::server();
        SAID.call_once(|| match (&spin, &server) {
            (Some(_), Some(_)) => eprintln!(
                "PostgreSQL: on Spin only (the test host has no spin:postgres), server from PIPELINE_GUARD_POSTGRES_URL"
            ),
            (None, _) => eprintln!("PostgreSQL: not run (no Spin)"),
            (_, None) => eprintln!(
                "PostgreSQL: not run (PIPELINE_GUARD_POSTGRES_URL is not set; .ci/run starts a server)"
            ),
        });
        if let (Some(cli), Some(server)) = (spin, server) {
            runtimes.push(Runtime::SpinOnPostgres(cli, server));
        }
        runtimes
    }

    /// `test host`, `spin` or `spin on postgresql`, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Runtime::TestHost => "test host",
            Runtime::Spin(_) => "spin",
            Runtime::SpinOnPostgres(..) => "spin on postgresql",
        }
    }
}

/// How the test host orders the `spin-*` headers it adds against those a client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderOrder {
    /// As Spin does: the client's first, Spin's own after.
    #[default]
    AsSpin,
    /// Spin's own first: deliberately wrong, for the runner's own test that a disagreement
    /// between the hosts fails.
    SpinsFirst,
}

/// Configures a [`Node`].
#[derive(Debug, Clone)]
pub struct NodeBuilder {
    runtime: Runtime,
    manifest: PathBuf,
    target_dir: PathBuf,
    variables: BTreeMap<String, String>,
    state_dir: Option<PathBuf>,
    header_order: HeaderOrder,
}

impl NodeBuilder {
    /// Gives application variable `name` a value.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    /// Keeps the key-value store and SQLite database in `dir` (kept across a
    /// [`Node::restart`] and shared by nodes given the same one); default a new temporary one.
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }

    /// The test host's header order (Spin's own is fixed).
    pub fn header_order(mut self, order: HeaderOrder) -> Self {
        self.header_order = order;
        self
    }

    /// Starts the node; on Spin, returns once it accepts connections.
    pub async fn start(self) -> anyhow::Result<Node> {
        let temporary = match &self.state_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir()?),
        };
        let state = match (&self.state_dir, &temporary) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => dir.path().to_path_buf(),
            (None, None) => unreachable!("one of the two is set"),
        };
        std::fs::create_dir_all(&state)?;
        let inner = match &self.runtime {
            Runtime::TestHost => {
                let mut builder = Host::builder(&self.manifest)
                    .target_dir(&self.target_dir)
                    .key_value(KvBackend::Dir(state.clone()))
                    .spins_headers_first(self.header_order == HeaderOrder::SpinsFirst);
                for (name, value) in &self.variables {
                    builder = builder.variable(name, value);
                }
                Inner::Host(builder.build()?)
            }
            Runtime::Spin(cli) | Runtime::SpinOnPostgres(cli, _) => {
                let dir = tempfile::tempdir()?;
                let workspace = self.manifest.parent().context("the manifest's folder")?;
                let manifest = app_manifest(dir.path(), workspace, &self.target_dir)?;
                let mut variables: Vec<(&str, String)> = self
                    .variables
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.clone()))
                    .collect();
                let postgres = match &self.runtime {
                    Runtime::SpinOnPostgres(_, server) => {
                        let database = server.database_for(&state)?;
                        variables.push(("database_url", server.database_url(&database)));
                        variables.push(("database_host", server.host()));
                        Some((server.clone(), database))
                    }
                    _ => None,
                };
                let up = SpinUp::start(cli, &manifest, Some(&state), &variables).await?;
                Inner::Spin {
                    up,
                    _app: dir,
                    postgres,
                }
            }
        };
        Ok(Node {
            builder: self,
            state,
            _temporary: temporary,
            inner,
        })
    }
}

enum Inner {
    Host(Host),
    Spin {
        up: SpinUp,
        _app: tempfile::TempDir,
        /// The server and database its stores are in, on PostgreSQL.
        postgres: Option<(PostgresServer, String)>,
    },
}

/// The application running on one [`Runtime`].
pub struct Node {
    builder: NodeBuilder,
    state: PathBuf,
    _temporary: Option<tempfile::TempDir>,
    inner: Inner,
}

impl Node {
    /// Starts configuring the application of `manifest` (its components built under
    /// `target_dir`) on `runtime`.
    pub fn builder(
        runtime: Runtime,
        manifest: impl AsRef<Path>,
        target_dir: impl AsRef<Path>,
    ) -> NodeBuilder {
        NodeBuilder {
            runtime,
            manifest: manifest.as_ref().to_path_buf(),
            target_dir: target_dir.as_ref().to_path_buf(),
            variables: BTreeMap::new(),
            state_dir: None,
            header_order: HeaderOrder::default(),
        }
    }

    /// Which host this is.
    pub fn runtime(&self) -> &'static str {
        self.builder.runtime.name()
    }

    /// Whether its stores are in PostgreSQL.
    pub fn on_postgres(&self) -> bool {
        matches!(self.builder.runtime, Runtime::SpinOnPostgres(..))
    }

    /// Where it keeps its store and database.
    pub fn state_dir(&self) -> &Path {
        &self.state
    }

    /// The test host, when this node is one (for what only it can tell: instance counts,
    /// store operations).
    pub fn host(&self) -> Option<&Host> {
        match &self.inner {
            Inner::Host(host) => Some(host),
            Inner::Spin { .. } => None,
        }
    }

    /// Sends `request` as a CRM would: to the test host in process, or to Spin over its own
    /// connection, with the request URL's authority as `Host` (as the CRM signed it).
    pub async fn request(
        &self,
        request: http::Request<Bytes>,
    ) -> anyhow::Result<http::Response<Bytes>> {
        match &self.inner {
            Inner::Host(host) => host.request(request).await,
            Inner::Spin { up, .. } => exchange(up.addr(), request).await,
        }
    }

    /// Where the node takes requests over TCP, as a CRM reaches it: Spin's listener, or a
    /// listener the test host starts on a free port.
    pub async fn tcp_addr(&self) -> anyhow::Result<std::net::SocketAddr> {
        match &self.inner {
            Inner::Host(host) => host.serve("127.0.0.1:0".parse()?).await,
            Inner::Spin { up, .. } => Ok(up.addr()),
        }
    }

    /// Runs `sql` on the application's database: the `default` SQLite database, or its
    /// PostgreSQL database on [`Runtime::SpinOnPostgres`] (write SQL both read alike).
    pub fn sql(&self, sql: &str) -> anyhow::Result<Vec<Vec<serde_json::Value>>> {
        match &self.inner {
            Inner::Host(host) => host.sqlite_query("default", sql),
            Inner::Spin {
                postgres: Some((server, database)),
                ..
            } => server.query(database, sql),
            Inner::Spin { .. } => {
                let path = self.state.join(crate::DEFAULT_SQLITE_DB_FILENAME);
                if !path.exists() {
                    anyhow::bail!("no database yet at {}", path.display());
                }
                let connection = rusqlite::Connection::open_with_flags(
                    &path,
                    rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
                )?;
                run_script_on(&connection, sql)
            }
        }
    }

    /// Stops the node and starts it again on the same state, as after a crash or a deploy.
    pub async fn restart(self) -> anyhow::Result<Node> {
        let Node {
            builder,
            state,
            _temporary,
            inner,
        } = self;
        drop(inner);
        let mut node = builder.state_dir(state).start().await?;
        node._temporary = _temporary;
        Ok(node)
    }
}
