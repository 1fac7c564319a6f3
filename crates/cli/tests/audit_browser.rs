//! The audit's page in a real headless browser: `pipeline-guard sample-data` and `audit --html
//! --json` run as real processes, then `tests/browser/audit.mjs` opens the page in Debian's
//! Chromium at 360 and 390 px and checks it against the JSON of the same run (see that script).
//!
//! Needs what the reports' browser checks need (Chromium, Node.js, `npm ci --prefix
//! tests/browser`): without them the test says what is missing and passes, unless
//! `PIPELINE_GUARD_BROWSER=required`. The screenshot goes under the target directory; `BLESS=1`
//! writes `docs/audit.png` instead.

mod common;

// The same helpers as the test host's browser checks, not a copy of them.
#[path = "../../../tests/host/tests/it/browser/mod.rs"]
mod browser;
#[path = "../../../tests/host/tests/it/paths.rs"]
mod paths;

use common::pipeline_guard;

#[tokio::test]
async fn the_audit_page_reads_on_a_phone_and_says_what_the_json_says() -> anyhow::Result<()> {
    let Some(chromium) = browser::chromium_for("the audit's page")? else {
        return Ok(());
    };
    let dir = tempfile::tempdir()?;
    let out = dir.path().display().to_string();
    let (ok, _, stderr) = pipeline_guard(&[
        "sample-data",
        "--out",
        &out,
        "--deals",
        "1500",
        "--seed",
        "5",
        "--now",
        "2026-12-07T12:00:00Z",
    ]);
    anyhow::ensure!(ok, "sample-data: {stderr}");
    let (html, json) = (dir.path().join("audit.html"), dir.path().join("audit.json"));
    let export = dir.path().join("hubspot-deals.csv");
    let (ok, _, stderr) = pipeline_guard(&[
        "audit",
        "--playbook",
        "fixtures/playbooks/default.toml",
        "--crm",
        "hubspot",
        "--export",
        &export.display().to_string(),
        "--now",
        "2026-12-07T12:00:00Z",
        "--json",
        &json.display().to_string(),
        "--html",
        &html.display().to_string(),
    ]);
    anyhow::ensure!(ok, "audit: {stderr}");
    let (_, screenshot) = browser::screenshots("audit-browser", "audit.png", "audit.png")?;
    browser::run_script(
        "audit.mjs",
        &[
            "--html",
            &html.display().to_string(),
            "--json",
            &json.display().to_string(),
        ],
        &chromium,
        &screenshot,
        "the audit of 1,500 generated HubSpot deals",
    )
    .await
}
