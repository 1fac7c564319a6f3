//! Real Spin, where it is installed: finding the CLI and running `spin up` on a free port, so the
//! same requests can be sent to Spin and to the test host and their answers compared.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// The Spin CLI: `PIPELINE_GUARD_SPIN`, else `../shared/bin/spin` beside the workspace, else
/// `spin` on `PATH`; `None` when there is none.
pub fn spin_cli() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PIPELINE_GUARD_SPIN") {
        return Some(PathBuf::from(path));
    }
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bin/spin");
    if shared.exists() {
        return Some(shared);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("spin"))
            .find(|path| path.is_file())
    })
}

/// A copy of the workspace's `spin.toml` in `dir`, with `target` pointing at `target_dir` (where
/// the components are built), so Spin resolves each component's `source` there.
pub fn app_manifest(dir: &Path, workspace: &Path, target_dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = dir.join("spin.toml");
    std::fs::copy(workspace.join("spin.toml"), &manifest).context("cannot copy spin.toml")?;
    std::os::unix::fs::symlink(target_dir, dir.join("target"))?;
    Ok(manifest)
}

/// Send `request` to `addr` over its own HTTP/1.1 connection (closed after the answer), as a
/// CRM would: the answer's status and body.
pub async fn send(
    addr: SocketAddr,
    request: http::Request<bytes::Bytes>,
) -> anyhow::Result<(u16, bytes::Bytes)> {
    let response = exchange(addr, request).await?;
    Ok((response.status().as_u16(), response.into_body()))
}

/// Send `request` to `addr` over its own HTTP/1.1 connection (closed after the answer), in
/// origin form with the request URL's authority (else `addr`) as `Host`, as the CRM signed it:
/// the whole answer.
pub async fn exchange(
    addr: SocketAddr,
    request: http::Request<bytes::Bytes>,
) -> anyhow::Result<http::Response<bytes::Bytes>> {
    use http_body_util::{BodyExt as _, Full};
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let (mut parts, body) = request.into_parts();
    let host = match parts.uri.authority() {
        Some(authority) => authority.to_string(),
        None => addr.to_string(),
    };
    parts.uri = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .parse()?;
    if !parts.headers.contains_key(http::header::HOST) {
        parts.headers.insert(http::header::HOST, host.parse()?);
    }
    parts
        .headers
        .insert(http::header::CONNECTION, "close".parse()?);
    let response = sender
        .send_request(http::Request::from_parts(parts, Full::new(body)))
        .await?;
    let (parts, body) = response.into_parts();
    Ok(http::Response::from_parts(
        parts,
        body.collect().await?.to_bytes(),
    ))
}

/// `spin up` of a manifest on a free port of 127.0.0.1; stopped when dropped.
pub struct SpinUp {
    child: std::process::Child,
    addr: SocketAddr,
    _state: Option<tempfile::TempDir>,
}

impl SpinUp {
    /// Start `cli` on `manifest` with `variables` (as `SPIN_VARIABLE_*`), its state (the default
    /// key-value store and SQLite database) in `state_dir`, or a new temporary one; returns once
    /// it accepts connections.
    pub async fn start(
        cli: &Path,
        manifest: &Path,
        state_dir: Option<&Path>,
        variables: &[(&str, String)],
    ) -> anyhow::Result<SpinUp> {
        SpinUp::start_only(cli, manifest, state_dir, variables, &[]).await
    }

    /// [`SpinUp::start`] with only `components` of the app (`spin up --component-id`, each;
    /// none: all), as an admin deploys one function alone.
    pub async fn start_only(
        cli: &Path,
        manifest: &Path,
        state_dir: Option<&Path>,
        variables: &[(&str, String)],
        components: &[&str],
    ) -> anyhow::Result<SpinUp> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let temporary = match state_dir {
            Some(_) => None,
            None => Some(tempfile::tempdir()?),
        };
        let state = state_dir
            .map(Path::to_path_buf)
            .or_else(|| temporary.as_ref().map(|t| t.path().to_path_buf()))
            .context("a state dir")?;
        let mut command = std::process::Command::new(cli);
        // Its own process group: `spin up` runs the app in a child (`spin trigger http`), which
        // a kill of `spin up` alone would leave running, listening, after the test.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
            .args(["up", "--listen", &addr.to_string(), "--state-dir"])
            .arg(&state)
            .arg("--from")
            .arg(manifest)
            .args(components.iter().flat_map(|id| ["--component-id", id]))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        for (name, value) in variables {
            command.env(format!("SPIN_VARIABLE_{}", name.to_uppercase()), value);
        }
        let up = SpinUp {
            child: command
                .spawn()
                .with_context(|| format!("cannot run {}", cli.display()))?,
            addr,
            _state: temporary,
        };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "spin up did not listen on {addr}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(up)
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for SpinUp {
    /// Stops `spin up` and the trigger process it started: the whole process group.
    fn drop(&mut self) {
        if let Ok(group) = i32::try_from(self.child.id()) {
            // SAFETY: `kill` only sends a signal; the group is the one `start` made for this
            // child, so no other process is signalled.
            unsafe {
                libc::kill(-group, libc::SIGKILL);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
