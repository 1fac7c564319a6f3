//! The probe component in `tests/probe`: a spin-sdk 7 component with one route per host
//! interface, for the host's own tests and the benchmarks' minimal baseline.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, ensure};

/// Build the probe with `cargo build --target wasm32-wasip2 --release` into
/// `<target>/test-host-probe` (`<target>` is `CARGO_TARGET_DIR` or the workspace's `target`), and
/// return that target dir: a manifest's `source = "target/wasm32-wasip2/release/test_host_probe.wasm"`
/// resolves there with [`crate::HostBuilder::target_dir`].
pub fn build() -> anyhow::Result<PathBuf> {
    let workspace_target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let target = workspace_target.join("test-host-probe");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/probe"))
        .status()
        .context("cannot run cargo to build the probe component")?;
    ensure!(
        status.success(),
        "building tests/probe for wasm32-wasip2 failed (is the wasm32-wasip2 target installed?)"
    );
    Ok(target)
}
