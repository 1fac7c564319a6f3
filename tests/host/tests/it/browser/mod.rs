//! What the browser checks (`e2e_*_browser.rs`) share: whether Chromium, Node.js and
//! `playwright-core` are here (a check without them says what is missing and passes, unless
//! `PIPELINE_GUARD_BROWSER=required`), running one of `tests/browser`'s scripts, and where its
//! screenshot goes.

#![allow(dead_code)] // each browser check uses a different subset

use std::path::{Path, PathBuf};

use super::paths::{root, target_dir};

/// Where the scripts are.
pub fn scripts() -> PathBuf {
    root().join("tests/browser")
}

/// What the browser check needs that is not here; empty when it can run.
pub fn missing(chromium: &Path, scripts: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !chromium.exists() {
        missing.push(format!(
            "{} (apt-get install -y chromium)",
            chromium.display()
        ));
    }
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        missing.push("node (Node.js)".to_owned());
    }
    if !scripts.join("node_modules/playwright-core").exists() {
        missing.push(format!(
            "{}/node_modules (npm ci --prefix tests/browser)",
            scripts.display()
        ));
    }
    missing
}

/// The Chromium to check `what` in (`CHROMIUM`, else `/usr/bin/chromium`), or `None` when
/// something is missing: then the check is skipped, saying what is missing, unless
/// `PIPELINE_GUARD_BROWSER=required` makes that a failure.
pub fn chromium_for(what: &str) -> anyhow::Result<Option<PathBuf>> {
    let chromium =
        PathBuf::from(std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    let missing = missing(&chromium, &scripts());
    if missing.is_empty() {
        return Ok(Some(chromium));
    }
    let required = std::env::var("PIPELINE_GUARD_BROWSER").is_ok_and(|v| v == "required");
    anyhow::ensure!(
        !required,
        "PIPELINE_GUARD_BROWSER=required, but missing: {}",
        missing.join(", ")
    );
    eprintln!(
        "SKIPPED the browser check of {what}: missing {}",
        missing.join(", ")
    );
    Ok(None)
}

/// Where the screenshots of a run go: `name` under the target directory, or `docs/<blessed>`
/// with `BLESS` set. Returns the directory (made) and the final screenshot's path.
pub fn screenshots(name: &str, file: &str, blessed: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = target_dir().join(name);
    std::fs::create_dir_all(&dir)?;
    let last = match std::env::var("BLESS") {
        Ok(_) => root().join("docs").join(blessed),
        Err(_) => dir.join(file),
    };
    Ok((dir, last))
}

/// Runs `node tests/browser/<script> <args>` from the repository's root with Chromium at
/// `chromium`, saving its screenshot at `screenshot`, and prints what it said under `title`;
/// fails with its output unless every check passed.
pub async fn run_script(
    script: &str,
    args: &[&str],
    chromium: &Path,
    screenshot: &Path,
    title: &str,
) -> anyhow::Result<()> {
    let output = tokio::process::Command::new("node")
        .arg(scripts().join(script))
        .args(args)
        .arg("--screenshot")
        .arg(screenshot)
        .arg("--chromium")
        .arg(chromium)
        .current_dir(root())
        .output()
        .await?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("-- {script}, {title}:\n{said}");
    anyhow::ensure!(
        output.status.success(),
        "the browser check failed ({}):\n{said}",
        output.status
    );
    Ok(())
}
