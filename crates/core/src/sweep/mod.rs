//! The sweep: every open deal of a CRM judged for staleness without waiting for a webhook, a page
//! at a time.
//!
//! A deal rots when nothing happens on it, and then no webhook comes. A scheduler (a cron job,
//! `spin aka cron`, a Kubernetes CronJob) calls `POST /flag-stale-deals/<crm>/sweep` until the
//! answer says `done`; each call ([`sweep_page`]):
//! 1. takes the sweep's lease ([`lease`]): of two calls at once, one works and the other answers
//!    [`SweepStatus::Busy`], so two schedulers, or a scheduler and an admin by hand, never do the
//!    same page twice;
//! 2. lists one page of open deals from the cursor kept in the database
//!    ([`crate::crm::Adapter::list_open_deals`]), completed as a webhook's deals are;
//! 3. judges each deal with the playbook's [`Rules`], and writes back only what changed (a deal
//!    whose flag and hygiene score are already in the CRM is written nothing, so a stale deal
//!    swept every day is told once), batched as a delivery's write-backs are;
//!    A deal whose notice failed is told again by the next sweep ([`untold`]).
//! 4. records each deal's hygiene checklist ([`crate::portfolio`]), and at the last page
//!    concludes the portfolio's measurement (by check and by owner);
//! 5. keeps the next cursor and the running totals, and gives the lease back.
//!
//! A `429`, a `5xx` or the deadline while listing leaves the cursor where it was: the answer is
//! [`SweepStatus::RetryLater`] (`503` with `Retry-After` at the edge, which `curl --retry`
//! honours) and the next call lists the same page again. A write-back that fails is counted and
//! named; the sweep goes on, and the next sweep tries that deal again. A finished sweep starts
//! over on the next call, so a daily schedule just calls until `done`.

pub mod lease;
#[cfg(test)]
mod tests;
pub(crate) mod untold;

use std::collections::BTreeSet;

use serde::Serialize;
use time::OffsetDateTime;

pub use lease::{SqlSweeps, SweepState, Tally};

use crate::{
    Error,
    api::Api,
    crm::{Adapter, DealPage, FieldNames},
    function::Settings,
    model::{Record, RecordKind},
    pipeline,
    playbook::Playbook,
    portfolio::{DealHygiene, SqlPortfolios},
    ports::{Clock, CrmClient, Database},
    rep_page::kept::StaleDeal,
    staleness::Rules,
    writeback::WriteBack,
};

/// How many deals one page lists (an adapter may take fewer).
pub const PAGE_SIZE: usize = 100;
/// The most pages one call may ask for (`?pages=`).
pub const MAX_PAGES: u32 = 20;
/// How long a scheduler waits after a `5xx` or the deadline before calling again.
const RETRY_AFTER_S: u64 = 30;

/// What a call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepStatus {
    /// A page was swept.
    Swept,
    /// Another call holds the sweep right now: nothing was done; call again later.
    Busy,
    /// The CRM could not list the page (a `429`, a `5xx`, the deadline): the cursor stays, and
    /// the next call lists the same page.
    RetryLater,
}

/// The answer to a sweep call: progress of this call and of the whole sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepProgress {
    /// What this call did.
    pub status: SweepStatus,
    /// The CRM swept.
    pub crm: &'static str,
    /// When the sweep started.
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// What this call did to deals.
    pub this_call: Tally,
    /// What the whole sweep did so far.
    pub sweep: Tally,
    /// The pages swept so far.
    pub pages: u64,
    /// Whether the sweep reached its last page (the next call starts a new one).
    pub done: bool,
    /// Where the next page starts (`null`: the first page).
    pub cursor: Option<String>,
    /// The portfolio's hygiene, measured when this call ended the sweep (percent; the report
    /// has the rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hygiene_pct: Option<u8>,
    /// Each deal that failed this call, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Why the page could not be listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long to wait before calling again, in seconds (the `Retry-After` of a
    /// [`SweepStatus::RetryLater`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    /// AEs reminded by this call of a verdict awaited 24 hours
    /// ([`crate::handoffs::reminder`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub verdict_reminders: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl SweepProgress {
    /// Add what a reminder round did: its reminders, and its failures to this call's.
    pub fn reminded(&mut self, reminded: crate::handoffs::reminder::Reminded) {
        self.verdict_reminders += reminded.sent;
        self.failures.extend(reminded.failed);
    }
}

impl SweepProgress {
    fn of(status: SweepStatus, crm: &'static str, state: Option<&SweepState>) -> SweepProgress {
        SweepProgress {
            status,
            crm,
            started_at: state.map(|s| s.started_at),
            this_call: Tally::default(),
            sweep: state.map(|s| s.totals).unwrap_or_default(),
            pages: state.map_or(0, |s| s.pages),
            done: state.is_some_and(|s| s.done),
            cursor: state.and_then(|s| s.cursor.clone()),
            hygiene_pct: None,
            failures: Vec::new(),
            error: None,
            retry_after_s: None,
            verdict_reminders: 0,
        }
    }
}

/// Where a sweep keeps its state and the deals' hygiene.
#[derive(Debug)]
pub struct Stores<S, P> {
    /// The sweeps' cursors, totals and leases.
    pub sweeps: SqlSweeps<S>,
    /// The deals' checklist results and the portfolios' measurements.
    pub portfolios: SqlPortfolios<P>,
}

/// Sweep one page of `adapter`'s open deals for `claimant` (unique to this call) at `now`.
pub async fn sweep_page<A: Adapter, S: Database, P: Database>(
    adapter: &A,
    stores: &Stores<S, P>,
    settings: &Settings,
    claimant: &str,
    now: OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<SweepProgress, Error> {
    let (crm, playbook) = (adapter.crm(), &settings.playbook);
    let names = FieldNames::new(playbook, adapter.facts());
    let sweeps = &stores.sweeps;
    let Some(mut state) = sweeps.claim(crm, claimant, now).await? else {
        return Ok(SweepProgress::of(SweepStatus::Busy, crm.name(), None));
    };
    if state.done {
        state = SweepState::new(now);
    }
    let page = match adapter
        .list_open_deals(state.cursor.as_deref(), PAGE_SIZE, playbook, &names, api)
        .await
    {
        Ok(page) => page,
        Err(e) => {
            sweeps.release(crm, claimant).await?;
            if !e.is_transient() {
                return Err(e);
            }
            let mut progress = SweepProgress::of(SweepStatus::RetryLater, crm.name(), Some(&state));
            progress.retry_after_s = Some(match &e {
                Error::CrmRateLimited { retry_after_ms, .. } => {
                    retry_after_ms.div_ceil(1000).max(1)
                }
                _ => RETRY_AFTER_S,
            });
            progress.error = Some(e.to_string());
            return Ok(progress);
        }
    };
    let ids: Vec<&str> = page.records.iter().map(|r| r.id.as_str()).collect();
    let untold = match sweeps.untold(crm, &ids).await {
        Ok(untold) => untold,
        Err(e) => {
            sweeps.release(crm, claimant).await?;
            return Err(e);
        }
    };
    let judged = judge(
        adapter,
        &names,
        page.records.as_slice(),
        &untold,
        settings,
        now,
        api,
    )
    .await;
    let (this_call, failures, hygiene) = (judged.tally, judged.failures, judged.hygiene);
    let stale = judged.stale;
    let unreadable = page
        .unreadable
        .iter()
        .map(|u| format!("deal {}: {}", u.record_id, u.reason));
    let failures: Vec<String> = unreadable.chain(failures).collect();
    let this_call = Tally {
        failed: this_call.failed + page.unreadable.len() as u64,
        ..this_call
    };
    let DealPage { next, .. } = page;
    // Only deals that were untold can stop being so.
    let told_now: Vec<&str> = judged
        .settled
        .iter()
        .copied()
        .filter(|deal| untold.contains(*deal))
        .collect();
    // Kept before the cursor moves on: a failure here lists the page again on the next call.
    let measured = async {
        sweeps
            .settle_untold(crm, &judged.untold, &told_now, now)
            .await?;
        if next.is_none() {
            sweeps.forget_untold_before(crm, state.started_at).await?;
        }
        let portfolios = &stores.portfolios;
        portfolios.record(crm, state.started_at, &hygiene).await?;
        portfolios.keep_stale(crm, &stale).await?;
        match next {
            None => portfolios
                .conclude(crm, state.started_at, playbook, now)
                .await
                .map(|p| Some(p.hygiene_pct)),
            Some(_) => Ok(None),
        }
    }
    .await;
    let hygiene_pct = match measured {
        Ok(pct) => pct,
        Err(e) => {
            sweeps.release(crm, claimant).await?;
            return Err(e);
        }
    };
    state.done = next.is_none();
    state.cursor = next;
    state.pages += 1;
    state.totals = state.totals.plus(this_call);
    sweeps.save(crm, claimant, &state).await?;
    let mut progress = SweepProgress::of(SweepStatus::Swept, crm.name(), Some(&state));
    progress.this_call = this_call;
    progress.failures = failures;
    progress.hygiene_pct = hygiene_pct;
    Ok(progress)
}

/// Sweep up to `pages` pages in one call, each as [`sweep_page`] does, while the deadline leaves
/// twice the time the slowest page took: for a scheduler that may call only every few minutes.
/// The answer adds up the pages this call swept; it stops at the sweep's end, at a busy or
/// retry-later page (its `error` and `retry_after_s` kept), and at the first error after a page
/// was kept (in `error`; the next call meets it again).
pub async fn sweep_pages<A: Adapter, S: Database, P: Database>(
    adapter: &A,
    stores: &Stores<S, P>,
    settings: &Settings,
    claimant: &str,
    now: OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
    pages: u32,
) -> Result<SweepProgress, Error> {
    let mut progress = sweep_page(adapter, stores, settings, claimant, now, api).await?;
    let mut slowest = api.limits().deadline.saturating_sub(api.remaining());
    for _ in 1..pages.clamp(1, MAX_PAGES) {
        if progress.status != SweepStatus::Swept || progress.done || api.remaining() < slowest * 2 {
            break;
        }
        let before = api.remaining();
        let next = match sweep_page(adapter, stores, settings, claimant, now, api).await {
            Ok(next) => next,
            Err(e) => {
                progress.error = Some(format!("the next page: {e}"));
                break;
            }
        };
        slowest = slowest.max(before.saturating_sub(api.remaining()));
        let this_call = progress.this_call.plus(next.this_call);
        let mut failures = std::mem::take(&mut progress.failures);
        failures.extend(next.failures.iter().cloned());
        progress = match next.status {
            // What this call did stands; the state is the last page's.
            SweepStatus::Swept => SweepProgress {
                this_call,
                failures,
                ..next
            },
            SweepStatus::Busy | SweepStatus::RetryLater => {
                progress.this_call = this_call;
                progress.failures = failures;
                progress.error = next.error;
                progress.retry_after_s = next.retry_after_s;
                break;
            }
        };
    }
    Ok(progress)
}

/// What judging a page did.
struct Judged<'r> {
    /// Its counts.
    tally: Tally,
    /// Each failed write-back, and why.
    failures: Vec<String>,
    /// Each deal's hygiene.
    hygiene: Vec<DealHygiene>,
    /// Each deal's staleness, for its owner's page.
    stale: Vec<StaleDeal>,
    /// Deals whose write-back carrying a notice failed: told again by the next sweep.
    untold: Vec<&'r str>,
    /// Deals judged whose write-back, if any, was written in full.
    settled: Vec<&'r str>,
}

/// Judge `records` (those in `untold` as never told) and write back what changed.
async fn judge<'r, A: Adapter>(
    adapter: &A,
    names: &FieldNames,
    records: &'r [Record],
    untold: &BTreeSet<String>,
    settings: &Settings,
    now: OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Judged<'r> {
    let playbook = &settings.playbook;
    let rules = Rules::of(playbook);
    let mut judged = Judged {
        tally: Tally::default(),
        failures: Vec::new(),
        hygiene: Vec::new(),
        stale: Vec::new(),
        untold: Vec::new(),
        settled: Vec::new(),
    };
    // The write-backs, and the deal each is for.
    let mut write_backs: Vec<WriteBack> = Vec::new();
    let mut deals: Vec<&'r str> = Vec::new();
    for record in records.iter().filter(|r| r.kind == RecordKind::Deal) {
        let flagged = was_flagged(record, playbook);
        let told_or_not;
        let seen = if untold.contains(&record.id) {
            told_or_not = never_told(record, names, playbook);
            &told_or_not
        } else {
            record
        };
        let report = rules.assess(seen, now);
        judged
            .hygiene
            .push(DealHygiene::of(record, &report.hygiene));
        judged.stale.push(StaleDeal {
            deal_id: record.id.clone(),
            name: record.name.clone(),
            owner: record.owner_id.clone().unwrap_or_default(),
            reasons: report.reasons.iter().map(ToString::to_string).collect(),
            swept_at: now,
        });
        judged.tally.seen += 1;
        if report.stale {
            judged.tally.flagged += 1;
        } else if flagged {
            judged.tally.cleared += 1;
        }
        let write_back = report.write_back(seen, playbook, settings.mode);
        // Against what the CRM holds: an untold deal that is clean now still has its flag
        // emptied; one to be told is written even when its flag reads the same.
        if write_back.notices.is_empty() && names.already_in_read(&write_back, record) {
            judged.settled.push(record.id.as_str());
        } else {
            write_backs.push(write_back);
            deals.push(record.id.as_str());
        }
    }
    let results = pipeline::write_backs(
        adapter,
        names,
        settings.rep_links.as_ref(),
        &write_backs,
        now,
        api,
    )
    .await;
    for ((deal, write_back), result) in deals.into_iter().zip(&write_backs).zip(results) {
        match result {
            Ok(_) => {
                judged.tally.written += 1;
                judged.settled.push(deal);
            }
            Err(e) => {
                judged.tally.failed += 1;
                judged.failures.push(format!("deal {deal}: {e}"));
                if !write_back.notices.is_empty() {
                    judged.untold.push(deal);
                }
            }
        }
    }
    judged
}

/// `record` as if its owner had never been told its state: its stale field emptied.
fn never_told(record: &Record, names: &FieldNames, playbook: &Playbook) -> Record {
    let mut record = record.clone();
    let stale = &playbook.write_back.stale;
    record.fields.remove(stale);
    record.fields.remove(&names.outgoing(record.kind, stale));
    record
}

/// Whether the record's stale field holds reasons (not only a snooze, not empty).
fn was_flagged(record: &Record, playbook: &Playbook) -> bool {
    record
        .text(&playbook.write_back.stale)
        .is_some_and(|flag| !flag.trim().is_empty() && !flag.trim_start().starts_with("snoozed"))
}
