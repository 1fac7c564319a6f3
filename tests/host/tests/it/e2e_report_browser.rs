//! The coaching report's page in a real headless browser, on the real `.wasm`.
//!
//! Eight weeks of handoffs by five BDRs are seeded through real gate-handoff deliveries: four
//! weeks in shadow mode at a threshold of 50, then four in enforce mode at 60, each followed by
//! the AEs' verdicts (`pg_handoff_verdict`, `pg_handoff_reason`). Then `tests/browser/report.mjs`
//! opens `GET /gate-handoff/report` in Debian's Chromium on a phone and checks it (see that
//! script): once before the rollout date (figures per BDR hidden) and once after it (shown),
//! which leaves the screenshot.
//!
//! Needs `/usr/bin/chromium` (`apt-get install -y chromium`; `CHROMIUM` names another), Node.js
//! and `npm ci --prefix tests/browser`. Without them the test says what is missing and passes,
//! unless `PIPELINE_GUARD_BROWSER=required`. The screenshot goes under the target directory;
//! `BLESS=1` writes `docs/report.png` instead.

use crate::both;
use crate::browser;
use crate::util;

use std::path::Path;

use both::node;
use pipeline_guard_test_host::{
    FakeCrm,
    node::{Node, Runtime},
};
use serde_json::{Value, json};
use util::*;

const ADMIN: &str = "admin-token-for-the-browser";
const BDRS: [&str; 5] = [
    "ana.lima",
    "ben.okafor",
    "chen.wu",
    "dara.singh",
    "erin.o'neil",
];
const WEEKS: u32 = 8;
/// The last weeks, in enforce mode at a threshold of 60; shadow mode at 50 before.
const ENFORCED_WEEKS: u32 = 4;
const MINUTES_A_WEEK: i64 = 7 * 24 * 60;

/// What a BDR recorded on a deal before handing it off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Evidence {
    /// Every dimension evidenced.
    Full,
    /// No economic buyer among the contacts (validated: 80).
    NoBuyer,
    /// No impact (validated: 80).
    NoImpact,
    /// A placeholder next step (blocked: a required dimension).
    NextStepTbd,
    /// A placeholder pain (blocked: a required dimension).
    PainTbd,
    /// Pain and next step only (45: under either threshold).
    Thin,
}

impl Evidence {
    /// Each BDR's habit: what their weaker handoffs lack.
    const HABITS: [Evidence; 5] = [
        Evidence::NoBuyer,
        Evidence::NextStepTbd,
        Evidence::NoImpact,
        Evidence::PainTbd,
        Evidence::Thin,
    ];

    fn fields(self) -> Value {
        let mut fields = json!({
            "situation": "Group finance consolidates 14 entities in Excel every quarter",
            "pain": "Quarterly consolidation takes three weeks and produced two restatements last year",
            "impact": "Consolidating in five days avoids restatements and an audit finding worth 200k",
            "next_step": "Scoping call with the controller next Tuesday",
        });
        match self {
            Evidence::NoImpact => drop(fields.as_object_mut().map(|f| f.remove("impact"))),
            Evidence::NextStepTbd => fields["next_step"] = "TBD".into(),
            Evidence::PainTbd => fields["pain"] = "TBD".into(),
            Evidence::Thin => {
                let object = fields.as_object_mut().expect("an object");
                object.remove("situation");
                object.remove("impact");
            }
            Evidence::Full | Evidence::NoBuyer => {}
        }
        fields
    }

    fn contacts(self) -> Value {
        match self {
            Evidence::NoBuyer | Evidence::Thin => json!([
                {"id": "C-2", "name": "Sam Reyes", "title": "Analyst", "role": "user"}
            ]),
            _ => json!([
                {"id": "C-1", "name": "Priya Shah", "title": "Group CFO", "role": "economic_buyer"}
            ]),
        }
    }

    /// Whether the gate lets it through (in enforce mode the others never reach the AE).
    fn passes(self) -> bool {
        matches!(
            self,
            Evidence::Full | Evidence::NoBuyer | Evidence::NoImpact
        )
    }

    /// What the AE says on the first call about handoff `n`: a rejection reason, or `None` for
    /// an acceptance. Weaker evidence is rejected more often, for the reasons it suggests.
    fn ae_reason(self, n: usize) -> Option<&'static str> {
        let reasons: &[(usize, &str)] = match self {
            Evidence::Full => &[(8, "bad fit"), (11, "duplicate")],
            Evidence::NoBuyer => &[(45, "no budget or authority"), (55, "wrong contact")],
            Evidence::NoImpact => &[(25, "no timeline"), (35, "no real pain")],
            Evidence::NextStepTbd => &[(60, "no timeline"), (70, "other")],
            Evidence::PainTbd => &[(70, "no real pain")],
            Evidence::Thin => &[(40, "wrong contact"), (55, "no budget or authority")],
        };
        // A spread of 0..100 over the handoffs, the same on every run.
        let draw = (n * 37 + 11) % 100;
        reasons
            .iter()
            .find(|(below, _)| draw < *below)
            .map(|(_, reason)| *reason)
    }
}

/// One seeded handoff.
struct Handoff {
    deal: String,
    bdr: &'static str,
    evidence: Evidence,
    /// Minutes ago.
    ago: i64,
    n: usize,
}

/// The handoffs of `weeks_ago` (0: this week), numbered from `*next` on: one to three per BDR,
/// most fully evidenced, the others each BDR's habit (more of them before the gate enforced).
fn handoffs(weeks_ago: u32, next: &mut usize) -> Vec<Handoff> {
    let w = weeks_ago as usize;
    let habit_every = if weeks_ago >= ENFORCED_WEEKS { 2 } else { 3 };
    let mut handoffs = Vec::new();
    for (b, bdr) in BDRS.iter().enumerate() {
        for k in 0..1 + (w + b) % 3 {
            let evidence = match (w + k + b) % habit_every {
                0 => Evidence::HABITS[b],
                _ if (w + k).is_multiple_of(4) => Evidence::NoImpact,
                _ => Evidence::Full,
            };
            // Within its week: later than exactly `weeks_ago` weeks ago.
            let hours = (b * 5 + k * 9 + 1) as i64;
            let ago = match weeks_ago {
                0 => hours * 15 + 30,
                _ => i64::from(weeks_ago) * MINUTES_A_WEEK - hours * 60,
            };
            handoffs.push(Handoff {
                deal: format!("D-{}", 101 + *next),
                bdr,
                evidence,
                ago,
                n: *next,
            });
            *next += 1;
        }
    }
    handoffs
}

fn handoff_event(h: &Handoff) -> Value {
    let id = format!("h-{}", h.deal);
    let (fields, contacts) = (h.evidence.fields(), h.evidence.contacts());
    deal_event(
        &id,
        "stage_changed",
        &h.deal,
        h.bdr,
        fields,
        contacts,
        h.ago,
    )
}

/// The AE's verdict on `h`, 3 to 70 hours after it, if that is already past; none on a deal the
/// gate sent back.
fn verdict_event(h: &Handoff, enforced: bool) -> Option<Value> {
    if enforced && !h.evidence.passes() {
        return None;
    }
    let ago = h.ago - (3 + (h.n as i64 * 17) % 68) * 60;
    if ago < 10 {
        return None;
    }
    let mut fields = h.evidence.fields();
    let reason = h.evidence.ae_reason(h.n);
    fields["pg_handoff_verdict"] = reason.map_or("accepted", |_| "rejected").into();
    fields["pg_handoff_reason"] = reason.unwrap_or_default().into();
    let id = format!("v-{}", h.deal);
    Some(deal_event(
        &id,
        "updated",
        &h.deal,
        "ae-7",
        fields,
        h.evidence.contacts(),
        ago,
    ))
}

/// The default playbook at `threshold`, with the manager view opening on `from`.
fn playbook(threshold: u8, from: &str) -> anyhow::Result<String> {
    let default = String::from_utf8(fixture("playbooks/default.toml"))?;
    anyhow::ensure!(
        default.contains("threshold = 60\n"),
        "the default threshold moved"
    );
    let default = default.replace("threshold = 60\n", &format!("threshold = {threshold}\n"));
    Ok(format!(
        "{default}\n[rollout]\nmanager_view_from = {from}\n"
    ))
}

async fn start(
    crm: &FakeCrm,
    state: &Path,
    mode: &str,
    threshold: u8,
    from: &str,
) -> anyhow::Result<Node> {
    node(Runtime::TestHost, crm)
        .variable("mode", mode)
        .variable("admin_token", ADMIN)
        .variable("playbook", playbook(threshold, from)?)
        .state_dir(state)
        .start()
        .await
}

async fn deliver(node: &Node, events: &[Value]) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let answer = node
        .request(signed_post("/gate-handoff/generic", &batch(events)))
        .await?;
    anyhow::ensure!(answer.status() == 200, "{}", json(&answer));
    let statuses = statuses(&json(&answer));
    anyhow::ensure!(
        statuses.iter().all(|s| s == "processed"),
        "{}",
        json(&answer)
    );
    Ok(())
}

/// Hands off `weeks` (weeks ago, oldest first), numbered from `*next` on, then delivers the
/// AEs' verdicts.
async fn seed(
    node: &Node,
    crm: &FakeCrm,
    weeks: impl Iterator<Item = u32>,
    enforced: bool,
    next: &mut usize,
) -> anyhow::Result<()> {
    let handoffs: Vec<Handoff> = weeks.flat_map(|w| handoffs(w, next)).collect();
    for h in &handoffs {
        // The stage a deal is read at before the gate moves it back.
        let record = json!({"kind": "deal", "id": h.deal, "stage": "sales_accepted"});
        crm.respond("GET", &format!("/records/deals/{}", h.deal), 200, record);
    }
    deliver(
        node,
        &handoffs.iter().map(handoff_event).collect::<Vec<_>>(),
    )
    .await?;
    let verdicts: Vec<Value> = handoffs
        .iter()
        .filter_map(|h| verdict_event(h, enforced))
        .collect();
    deliver(node, &verdicts).await
}

/// Runs the browser check on `node`'s report; fails with its output unless every check passed.
async fn check_in_browser(
    node: &Node,
    per_bdr: &str,
    screenshot: &Path,
    chromium: &Path,
) -> anyhow::Result<()> {
    let addr = node.tcp_addr().await?;
    let url = format!("http://{addr}/gate-handoff/report?weeks={WEEKS}");
    // What a refused request must not show: the reps, and a deal.
    let forbid = [BDRS.join(","), "D-101".to_owned()].join(",");
    let args = [
        "--url",
        &url,
        "--token",
        ADMIN,
        "--per-bdr",
        per_bdr,
        "--min-charts",
        "3",
        "--forbid",
        &forbid,
    ];
    browser::run_script(
        "report.mjs",
        &args,
        chromium,
        screenshot,
        &format!("per BDR {per_bdr}"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_report_page_passes_the_browser_check_on_a_phone() -> anyhow::Result<()> {
    let Some(chromium) = browser::chromium_for("the report")? else {
        return Ok(());
    };
    let crm = FakeCrm::start().await?;
    let state = tempfile::tempdir()?;

    // Shadow mode at 50 for the first four weeks, then enforce mode at 60.
    let shadow = start(&crm, state.path(), "shadow", 50, "2099-01-05").await?;
    let mut next = 0;
    seed(
        &shadow,
        &crm,
        (ENFORCED_WEEKS..WEEKS).rev(),
        false,
        &mut next,
    )
    .await?;
    drop(shadow);
    let enforce = start(&crm, state.path(), "enforce", 60, "2099-01-05").await?;
    seed(&enforce, &crm, (0..ENFORCED_WEEKS).rev(), true, &mut next).await?;
    // An AE's verdict on a deal nobody handed off, and one nobody can read on this week's last
    // handoff (its AE has not decided yet).
    let stray = json!({"pg_handoff_verdict": "rejected", "pg_handoff_reason": "duplicate"});
    let stray = deal_event("v-stray", "updated", "D-900", "ae-7", stray, json!([]), 90);
    let last = format!("D-{}", 100 + next);
    let unreadable = json!({"pg_handoff_verdict": "maybe later", "pg_handoff_reason": ""});
    let unreadable = deal_event(
        "v-unreadable",
        "updated",
        &last,
        "ae-7",
        unreadable,
        json!([]),
        5,
    );
    deliver(&enforce, &[stray, unreadable]).await?;

    let (screenshots, screenshot) =
        browser::screenshots("report-browser", "report.png", "report.png")?;
    check_in_browser(
        &enforce,
        "hidden",
        &screenshots.join("report-hidden.png"),
        &chromium,
    )
    .await?;
    drop(enforce);

    let open = start(&crm, state.path(), "enforce", 60, "2020-01-06").await?;
    check_in_browser(&open, "shown", &screenshot, &chromium).await?;
    println!(
        "the report passed the browser check; screenshot: {}",
        screenshot.display()
    );
    Ok(())
}
