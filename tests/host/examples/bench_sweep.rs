//! The stale-deal sweep benchmark: `POST /flag-stale-deals/<crm>/sweep` through the real
//! flag-stale-deals `.wasm`, called until `done` over a portfolio of 100,000 open deals held by an
//! in-process fake of each CRM's API (generic, HubSpot, Pipedrive, Salesforce), on the test host
//! and, when a Spin CLI is found, on real Spin (each call on its own connection).
//!
//! The portfolio is generated deterministically (40 owners, five stages): most deals are fresh
//! and already carry what the previous sweep wrote (an empty stale flag and their hygiene score,
//! stored the way each CRM stores an empty text: `""` in the generic API, absent elsewhere); some
//! have been idle as long as rotting ones but are held back by a next activity booked after
//! today; the others rot (no activity for 40 to 200 days), passed their close date, lack a next
//! step or an amount, or several of these. A third of the deals that rot or lack a next step have
//! an overdue next activity (which holds nothing back), a quarter of the others one booked after
//! today. Which deals are stale is checked natively with the same playbook
//! (`pipeline_guard_core::staleness`) before the run, on each deal as each CRM's adapter will read
//! it (its last and next activity, its stage and its contact's role), and the sweep must find
//! exactly those: `sweep.seen` the portfolio's size and `sweep.flagged` the stale deals, else the
//! benchmark fails. What the previous sweep wrote on a clean deal is that native judgement, per
//! CRM.
//!
//! Each fake pages as the CRM's API does and as the adapter asks: the generic
//! `GET /records/deals?status=open&limit=…&cursor=…`; HubSpot's CRM search (filters, sort by
//! `hs_object_id`, `after`, a `400` past its 10,000 results a query) with the batch reads of
//! deals (with history), contact associations and contacts; Pipedrive's v2 deals with `cursor`
//! (the last emails and the last and next activities' ids only when `include_fields` names
//! them), then the page's activities and persons read by id (`GET /api/v2/activities?ids=…`,
//! `GET /api/v2/persons?ids=…`, at most 100 ids a call; a deal's last done activity is on its
//! last activity day, or before it when an email came later); Salesforce SOQL (`Id >` pages,
//! `nextRecordsUrl` batches, the `Tasks`/`Events` subqueries answered as Salesforce does: the
//! first open task or coming event after today, `null` when empty) with the contact-role query.
//! What a score reads besides the deal is answered too: a deal's done activities (Pipedrive's
//! `GET /api/v2/activities?deal_id=…`, only for deals whose `done_activities_count` is not 0;
//! Salesforce's `Tasks`/`Events` query of closed tasks: its last done call, without notes, so the
//! call-notes check is measured), Salesforce's Account query, and HubSpot's activity and company
//! associations (none).
//! Write-backs (updates, tasks, notes) are answered as each CRM answers success. Every CRM
//! request is counted by kind: listing, completion reads (Pipedrive's activities and persons by
//! id among them), write-backs.
//!
//! Prints a Markdown table: deals, calls, wall time and time per 1,000 deals, CRM calls (per
//! 1,000 deals by kind), deals flagged and written, and peak memory per call. On the test host
//! every call gets a fresh instance (Spin's `--max-instance-reuse-count 1`) so that each call's
//! peak linear memory is its own ([`pipeline_guard_test_host::Host::memory_peaks`]; max and p50
//! over the calls); on Spin only the process's peak RSS (`VmHWM`, process-wide, all calls and
//! Spin's own memory) can be seen from outside.
//!
//! Each sweep calls with the default of one page a call (the figure reported); the generic CRM
//! on the test host is also swept with `?pages=10` (up to ten pages a call while the deadline
//! allows), an extra row that shows how many calls a sweep takes then.
//!
//! Run it after building the components (`./scripts/test` does):
//! `cargo run -p pipeline-guard-test-host --example bench_sweep -- [--deals N]
//! [--crm generic|hubspot|pipedrive|salesforce|all] [--host test|spin|both]`
//! (default: 100,000 deals, every CRM, both hosts).

mod common;

use common::{Draw, root, target_dir};

use std::{
    collections::{BTreeMap, HashMap},
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{body::Incoming, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use pipeline_guard_core::{
    model::{Activity, ActivityKind, Contact, Record},
    playbook::{DEFAULT_PLAYBOOK, Playbook},
    staleness,
};
use pipeline_guard_test_host::{
    Host, InstanceReuse, KvBackend,
    node::{Node, Runtime},
    spin::spin_cli,
};
use serde_json::{Value, json};
use time::{Date, Duration as Days, OffsetDateTime, format_description::well_known::Rfc3339};

const SWEEP: &str = "bench-sweep-token";
const COMPONENT: &str = "flag-stale-deals";
const OWNERS: usize = 40;
const STAGES: [&str; 5] = [
    "discovery",
    "qualification",
    "demo",
    "proposal",
    "negotiation",
];
/// HubSpot's cap on one search query's results.
const HUBSPOT_SEARCH_CAP: usize = 10_000;
/// The rows Salesforce answers per query batch (then `nextRecordsUrl`).
const SALESFORCE_BATCH: usize = 2_000;
const SALESFORCE_API: &str = "/services/data/v65.0";

/// The CRMs a sweep runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Crm {
    Generic,
    Hubspot,
    Pipedrive,
    Salesforce,
}

impl Crm {
    const ALL: [Crm; 4] = [Crm::Generic, Crm::Hubspot, Crm::Pipedrive, Crm::Salesforce];

    fn name(self) -> &'static str {
        match self {
            Crm::Generic => "generic",
            Crm::Hubspot => "hubspot",
            Crm::Pipedrive => "pipedrive",
            Crm::Salesforce => "salesforce",
        }
    }

    /// The CRM's place in [`Crm::ALL`] (and in [`Deal::prior`]).
    fn index(self) -> usize {
        self as usize
    }
}

/// One generated open deal, in canonical terms; each fake renders it in its CRM's shape.
struct Deal {
    n: usize,
    owner: usize,
    stage: usize,
    amount: Option<u64>,
    close: Date,
    /// The last real activity: the last email, or the day of the last done activity (midnight
    /// UTC) when that came after the emails ([`Deal::activity_carries`]).
    last_activity: OffsetDateTime,
    stage_entered: OffsetDateTime,
    /// The next open activity: booked after today (it holds rotting back), or overdue (it
    /// holds nothing back).
    next_activity: Option<OffsetDateTime>,
    next_step: bool,
    contact: bool,
    /// What the previous sweep wrote (flag, hygiene) on a deal it found clean, per CRM (by
    /// [`Crm::index`]): judged natively on the deal as that CRM's adapter reads it.
    prior: [Option<(String, u8)>; 4],
}

impl Deal {
    fn generic_id(&self) -> String {
        format!("D-{:06}", self.n)
    }
    fn hubspot_id(&self) -> u64 {
        10_000_000 + 7 * self.n as u64
    }
    fn pipedrive_id(&self) -> u64 {
        1 + self.n as u64
    }
    fn salesforce_id(&self) -> String {
        format!("006{:015}", self.n)
    }
    fn next_step_text(&self) -> Option<String> {
        self.next_step
            .then(|| format!("Call the CFO about pricing on day {}", self.n % 28 + 1))
    }

    /// What the previous sweep wrote on this deal in `crm`, if it found it clean.
    fn prior(&self, crm: Crm) -> Option<&(String, u8)> {
        self.prior[crm.index()].as_ref()
    }

    /// Whether deal `n`'s last real activity is its last done activity (two deals in five: its
    /// day, the emails days older) rather than its last email.
    fn activity_carries(n: usize) -> bool {
        n % 5 < 2
    }

    /// The day of the deal's last done activity in Pipedrive: its last activity day when that
    /// activity carries it, else a day or more before the last email; one deal in five has none.
    fn last_done_day(&self) -> Option<Date> {
        if Deal::activity_carries(self.n) {
            Some(self.last_activity.date())
        } else {
            (self.n % 5 != 4)
                .then(|| self.last_activity.date() - Days::days(1 + (self.n % 9) as i64))
        }
    }

    /// The last email in and out (Pipedrive): the last activity itself, unless the last done
    /// activity carries it, when they are days older.
    fn last_mails(&self) -> (OffsetDateTime, OffsetDateTime) {
        if Deal::activity_carries(self.n) {
            (
                self.last_activity - Days::days(4),
                self.last_activity - Days::days(3),
            )
        } else {
            (self.last_activity - Days::hours(2), self.last_activity)
        }
    }

    /// The deal's last done activity, a call without notes, when it has one (Pipedrive's and
    /// Salesforce's fakes answer it).
    fn last_done_call(&self) -> Option<Activity> {
        let day = self.last_done_day()?;
        Some(Activity {
            kind: ActivityKind::Call,
            at: day
                .with_time(time::Time::from_hms(15, 31, 0).expect("a time"))
                .assume_utc(),
            subject: Some("Discovery call".into()),
            notes: None,
        })
    }

    /// Pipedrive's ids of the deal's last done and next activities.
    fn last_activity_id(&self) -> Option<u64> {
        self.last_done_day().map(|_| 2_000_000 + 2 * self.n as u64)
    }
    fn next_activity_id(&self) -> Option<u64> {
        self.next_activity.map(|_| 2_000_001 + 2 * self.n as u64)
    }

    /// The canonical record as `crm`'s adapter reads it (the generic API answers it as is):
    /// Pipedrive names stages by id, and reads no buying role from a person unless the playbook
    /// names the person field holding it (the default playbook names none: no role is asked).
    fn record(&self, crm: Crm) -> Record {
        let mut record = Record::new_deal(self.generic_id());
        record.name = Some(format!("Deal {}", self.n));
        record.owner_id = Some(format!("ae-{:02}", self.owner));
        record.stage = Some(match crm {
            Crm::Pipedrive => (1 + self.stage).to_string(),
            _ => STAGES[self.stage].to_owned(),
        });
        record.amount = self.amount.map(|a| a as f64);
        record.close_date = Some(self.close);
        record.stage_entered_at = Some(self.stage_entered);
        record.last_activity_at = Some(self.last_activity);
        record.next_activity_at = self.next_activity;
        record.contact_roles_read = crm != Crm::Pipedrive;
        if let Some(step) = self.next_step_text() {
            record.fields.insert("next_step".into(), step.into());
        }
        if self.contact {
            record.contacts.push(Contact {
                id: format!("C-{:06}", self.n),
                name: Some(format!("Buyer {}", self.n)),
                email: Some(format!("buyer{}@example.com", self.n)),
                title: Some("CFO".into()),
                role: (crm != Crm::Pipedrive).then(|| "economic_buyer".into()),
                authority: None,
            });
        }
        // HubSpot, Pipedrive and Salesforce read the deal's activities: the fakes answer its
        // last done call (no notes) where it has one (HubSpot's timeline is empty); the generic
        // API sends none.
        record.activities_read = crm != Crm::Generic;
        if matches!(crm, Crm::Pipedrive | Crm::Salesforce) {
            record.activities.extend(self.last_done_call());
        }
        if let Some((flag, hygiene)) = self.prior(crm) {
            record.fields.insert("pg_stale".into(), flag.clone().into());
            record.fields.insert("pg_hygiene".into(), (*hygiene).into());
        }
        record
    }
}

/// The portfolio, and how many of its deals are stale.
struct Portfolio {
    deals: Vec<Deal>,
    stale: usize,
    /// Deals by generator category, for the header.
    mix: BTreeMap<&'static str, usize>,
    /// The day the deals are judged on (UTC).
    today: Date,
}

fn generate(count: usize, playbook: &Playbook, now: OffsetDateTime) -> anyhow::Result<Portfolio> {
    let mut draw = Draw(0x2545_F491_4F6C_DD1D);
    let today = now.date();
    let mut deals = Vec::with_capacity(count);
    let mut mix = BTreeMap::new();
    let mut expected_stale = 0;
    // A next activity `days` after today (before it, when negative), at 10:00 UTC.
    let booked = |days: i64| today.midnight().assume_utc() + Days::hours(24 * days + 10);
    for n in 0..count {
        let category = match draw.next(100) {
            0..64 => "fresh",
            64..70 => "held back",
            70..82 => "rotting",
            82..90 => "close date passed",
            90..95 => "no next step",
            95..98 => "no amount",
            _ => "rotting, no next step",
        };
        *mix.entry(category).or_insert(0) += 1;
        let idle = category.starts_with("rotting") || category == "held back";
        let idle_hours = if idle {
            24 * (40 + draw.next(160) as i64)
        } else {
            1 + draw.next(40) as i64
        };
        let mut last_activity = now - Days::hours(idle_hours);
        if Deal::activity_carries(n) {
            // A done activity's day is all Pipedrive gives of it.
            last_activity = last_activity.replace_time(time::Time::MIDNIGHT);
        }
        let next_activity = match category {
            "held back" => Some(booked(2 + (n % 28) as i64)),
            "rotting" | "no next step" | "rotting, no next step" => {
                (n % 3 == 0).then(|| booked(-1 - (n % 20) as i64))
            }
            _ => (n % 4 == 0).then(|| booked(2 + (n % 28) as i64)),
        };
        let close = if category == "close date passed" {
            today - Days::days(3 + draw.next(57) as i64)
        } else {
            today + Days::days(20 + draw.next(100) as i64)
        };
        let deal = Deal {
            n,
            owner: draw.next(OWNERS as u64) as usize + 1,
            stage: draw.next(STAGES.len() as u64) as usize,
            amount: (category != "no amount").then(|| 1_000 * (5 + draw.next(200))),
            close,
            last_activity,
            stage_entered: last_activity - Days::days(10 + draw.next(60) as i64),
            next_activity,
            next_step: !category.contains("no next step"),
            contact: draw.next(10) != 0,
            prior: Default::default(),
        };
        if !["fresh", "held back"].contains(&category) {
            expected_stale += 1;
        }
        deals.push(deal);
    }
    // Judged natively with the same playbook, on each deal as each CRM's adapter reads it: the
    // generator's stale deals must be exactly those, and a clean deal carries what the previous
    // sweep wrote there.
    let rules = staleness::Rules::of(playbook);
    for crm in Crm::ALL {
        let mut stale = 0;
        for deal in &mut deals {
            let report = rules.assess(&deal.record(crm), now);
            if report.stale {
                stale += 1;
            } else {
                deal.prior[crm.index()] = Some((report.flag.clone(), report.hygiene.score_pct));
            }
        }
        anyhow::ensure!(
            stale == expected_stale,
            "the generator means {expected_stale} stale deals, the playbook finds {stale} as {} reads them",
            crm.name()
        );
    }
    Ok(Portfolio {
        deals,
        stale: expected_stale,
        mix,
        today,
    })
}

/// CRM requests by kind.
#[derive(Default)]
struct Counts {
    list: AtomicU64,
    read: AtomicU64,
    update: AtomicU64,
    create: AtomicU64,
    other: AtomicU64,
}

#[derive(Clone, Copy)]
enum Kind {
    List,
    Read,
    Update,
    Create,
    Other,
}

impl Counts {
    fn add(&self, kind: Kind) {
        let counter = match kind {
            Kind::List => &self.list,
            Kind::Read => &self.read,
            Kind::Update => &self.update,
            Kind::Create => &self.create,
            Kind::Other => &self.other,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
    fn get(&self, kind: Kind) -> u64 {
        match kind {
            Kind::List => &self.list,
            Kind::Read => &self.read,
            Kind::Update => &self.update,
            Kind::Create => &self.create,
            Kind::Other => &self.other,
        }
        .load(Ordering::Relaxed)
    }
}

/// The fake CRM: the portfolio in one CRM's shape, and what it was asked.
struct Fake {
    crm: Crm,
    portfolio: Arc<Portfolio>,
    counts: Counts,
    /// Records written back (updates' records, not calls).
    records_updated: AtomicU64,
    /// Tasks and notes created.
    notices_created: AtomicU64,
    /// Records updated with exactly what they already held (a clean deal's empty flag and the
    /// same hygiene score): writes the sweep means to skip.
    unchanged_rewrites: AtomicU64,
    /// Salesforce query locators: the rows still to answer.
    locators: Mutex<HashMap<String, Vec<Value>>>,
    next_locator: AtomicU64,
    /// Requests the fake did not expect (method and path), to fail the run.
    unexpected: Mutex<Vec<String>>,
}

fn answer(status: u16, body: &Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a response")
}

fn query_pairs(query: &str) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).expect("a time")
}

impl Fake {
    async fn start(crm: Crm, portfolio: Arc<Portfolio>) -> anyhow::Result<(Arc<Fake>, String)> {
        let fake = Arc::new(Fake {
            crm,
            portfolio,
            counts: Counts::default(),
            records_updated: AtomicU64::new(0),
            notices_created: AtomicU64::new(0),
            unchanged_rewrites: AtomicU64::new(0),
            locators: Mutex::new(HashMap::new()),
            next_locator: AtomicU64::new(1),
            unexpected: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr: SocketAddr = listener.local_addr()?;
        let server = fake.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let fake = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request: http::Request<Incoming>| {
                        let fake = fake.clone();
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes());
                            let body = body.unwrap_or_default();
                            Ok::<_, Infallible>(fake.handle(&parts, &body))
                        }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok((fake, format!("http://{addr}")))
    }

    fn handle(&self, parts: &http::request::Parts, body: &[u8]) -> http::Response<Full<Bytes>> {
        let path = parts.uri.path();
        let query = parts.uri.query().unwrap_or("");
        let method = parts.method.as_str();
        let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let answered = match self.crm {
            Crm::Generic => self.generic(method, path, query, &body),
            Crm::Hubspot => self.hubspot(method, path, &body),
            Crm::Pipedrive => self.pipedrive(method, path, query, &body),
            Crm::Salesforce => self.salesforce(method, path, query, &body),
        };
        match answered {
            Some((kind, response)) => {
                self.counts.add(kind);
                response
            }
            None => {
                self.counts.add(Kind::Other);
                self.unexpected
                    .lock()
                    .expect("not poisoned")
                    .push(format!("{method} {path}?{query}"));
                answer(404, &json!({"error": "not served by the benchmark's fake"}))
            }
        }
    }

    /// Counts an update of deal `n` that writes what it already held.
    fn written(&self, n: Option<usize>, stale: &Value, hygiene: &Value) {
        let text = |v: &Value| match v {
            Value::String(s) => s.trim().to_owned(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let prior = n
            .and_then(|n| self.portfolio.deals.get(n))
            .and_then(|d| d.prior(self.crm));
        if let Some((flag, score)) = prior
            && text(stale) == *flag
            && text(hygiene).parse::<f64>().ok() == Some(f64::from(*score))
        {
            self.unchanged_rewrites.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Deals after `offset`: at most `limit`, and the offset after them if any remain.
    fn page(&self, offset: usize, limit: usize) -> (&[Deal], Option<usize>) {
        let deals = &self.portfolio.deals;
        let start = offset.min(deals.len());
        let end = (start + limit).min(deals.len());
        (&deals[start..end], (end < deals.len()).then_some(end))
    }

    fn generic(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &Value,
    ) -> Option<(Kind, http::Response<Full<Bytes>>)> {
        match method {
            "GET" if path == "/records/deals" => {
                let q = query_pairs(query);
                if q.get("status").map(String::as_str) != Some("open") {
                    return None;
                }
                let limit: usize = q.get("limit")?.parse().ok()?;
                let offset = match q.get("cursor") {
                    Some(cursor) => cursor.strip_prefix("after-")?.parse().ok()?,
                    None => 0,
                };
                let (deals, next) = self.page(offset, limit.min(500));
                let records: Vec<Value> = deals
                    .iter()
                    .map(|d| serde_json::to_value(d.record(Crm::Generic)).expect("a record"))
                    .collect();
                let body = json!({
                    "records": records,
                    "next_cursor": next.map(|n| format!("after-{n}")),
                });
                Some((Kind::List, answer(200, &body)))
            }
            "PATCH" if path.starts_with("/records/deals/") => {
                self.records_updated.fetch_add(1, Ordering::Relaxed);
                let id = path.trim_start_matches("/records/deals/");
                let n = id.strip_prefix("D-").and_then(|n| n.parse().ok());
                self.written(
                    n,
                    &body["fields"]["pg_stale"],
                    &body["fields"]["pg_hygiene"],
                );
                Some((
                    Kind::Update,
                    answer(200, &json!({"id": id, "updated": true})),
                ))
            }
            _ => None,
        }
    }

    fn hubspot_deal(&self, deal: &Deal, properties: &[Value], history: bool) -> Value {
        let created = deal.stage_entered - Days::days(30);
        let all = json!({
            "hs_object_id": deal.hubspot_id().to_string(),
            "dealname": format!("Deal {}", deal.n),
            "dealstage": STAGES[deal.stage],
            "pipeline": "default",
            "amount": deal.amount.map(|a| a.to_string()),
            "closedate": format!("{}T00:00:00Z", deal.close),
            "hubspot_owner_id": (52_000_000 + deal.owner).to_string(),
            "hs_is_closed": "false",
            "hs_is_closed_won": "false",
            "notes_last_updated": rfc3339(deal.last_activity),
            "notes_last_contacted": rfc3339(deal.last_activity),
            "notes_next_activity_date": deal.next_activity.map(rfc3339),
            "hs_next_step": deal.next_step_text(),
            "pg_stale": deal.prior(self.crm).map(|(flag, _)| flag.clone()).filter(|f| !f.is_empty()),
            "pg_hygiene": deal.prior(self.crm).map(|(_, h)| h.to_string()),
            "createdate": rfc3339(created),
            "hs_lastmodifieddate": rfc3339(deal.last_activity),
        });
        let mut props = serde_json::Map::new();
        for name in properties.iter().filter_map(Value::as_str) {
            props.insert(
                name.to_owned(),
                all.get(name).cloned().unwrap_or(Value::Null),
            );
        }
        let mut object = json!({
            "id": deal.hubspot_id().to_string(),
            "properties": props,
            "createdAt": rfc3339(created),
            "updatedAt": rfc3339(deal.last_activity),
            "archived": false,
        });
        if history {
            object["propertiesWithHistory"] = json!({
                "dealstage": [{"value": STAGES[deal.stage], "timestamp": rfc3339(deal.stage_entered), "sourceType": "CRM_UI", "sourceId": "userId:9000001", "updatedByUserId": 9000001}],
                "hubspot_owner_id": [{"value": (52_000_000 + deal.owner).to_string(), "timestamp": rfc3339(created), "sourceType": "CRM_UI"}],
            });
        }
        object
    }

    fn hubspot_ids(body: &Value) -> Vec<u64> {
        body["inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str()?.parse().ok())
            .collect()
    }

    fn hubspot_find(&self, id: u64) -> Option<&Deal> {
        let n = id.checked_sub(10_000_000)?;
        (n % 7 == 0)
            .then(|| self.portfolio.deals.get((n / 7) as usize))
            .flatten()
    }

    fn hubspot(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Option<(Kind, http::Response<Full<Bytes>>)> {
        if method != "POST" {
            return None;
        }
        let now = rfc3339(OffsetDateTime::now_utc());
        match path {
            "/crm/v3/objects/deals/search" => {
                let limit = body["limit"].as_u64().unwrap_or(10) as usize;
                if limit > 200 {
                    let error = json!({"status": "error", "category": "VALIDATION_ERROR", "message": "limit must be at most 200"});
                    return Some((Kind::List, answer(400, &error)));
                }
                let filters = body["filterGroups"][0]["filters"].as_array()?;
                let mut floor = None;
                for filter in filters {
                    match (filter["propertyName"].as_str(), filter["operator"].as_str()) {
                        (Some("hs_is_closed"), Some("EQ")) if filter["value"] == "false" => {}
                        (Some("hs_object_id"), Some("GT")) => {
                            floor = Some(filter["value"].as_str()?.parse::<u64>().ok()?);
                        }
                        _ => return None,
                    }
                }
                if body["sorts"][0]["propertyName"] != "hs_object_id"
                    || body["sorts"][0]["direction"] != "ASCENDING"
                {
                    return None;
                }
                let after: usize = match body.get("after") {
                    Some(a) => a.as_str()?.parse().ok()?,
                    None => 0,
                };
                if after + limit > HUBSPOT_SEARCH_CAP {
                    let error = json!({"status": "error", "category": "VALIDATION_ERROR", "message": format!("Paging beyond {HUBSPOT_SEARCH_CAP} results is not supported (after {after}, limit {limit})")});
                    return Some((Kind::List, answer(400, &error)));
                }
                let deals = &self.portfolio.deals;
                let start = floor.map_or(0, |gt| deals.partition_point(|d| d.hubspot_id() <= gt));
                let total = deals.len() - start;
                let (page, more) = self.page(start + after, limit);
                let results: Vec<Value> = page
                    .iter()
                    .map(|d| {
                        self.hubspot_deal(
                            d,
                            &body["properties"].as_array().cloned().unwrap_or_default(),
                            false,
                        )
                    })
                    .collect();
                let mut answered = json!({"total": total, "results": results});
                if more.is_some() {
                    let next = after + page.len();
                    answered["paging"] = json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}});
                }
                Some((Kind::List, answer(200, &answered)))
            }
            "/crm/v3/objects/deals/batch/read" => {
                let properties = body["properties"].as_array().cloned().unwrap_or_default();
                let history = body["propertiesWithHistory"]
                    .as_array()
                    .is_some_and(|h| !h.is_empty());
                let ids = Self::hubspot_ids(body);
                if ids.len() > if history { 50 } else { 100 } {
                    return Some((
                        Kind::Read,
                        answer(
                            400,
                            &json!({"status": "error", "message": "too many inputs"}),
                        ),
                    ));
                }
                let results: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| self.hubspot_find(*id))
                    .map(|d| self.hubspot_deal(d, &properties, history))
                    .collect();
                let body = json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
                Some((Kind::Read, answer(200, &body)))
            }
            "/crm/v4/associations/deals/calls/batch/read"
            | "/crm/v4/associations/deals/meetings/batch/read"
            | "/crm/v4/associations/deals/emails/batch/read"
            | "/crm/v4/associations/deals/notes/batch/read"
            | "/crm/v4/associations/deals/companies/batch/read" => {
                // No activity or company is associated: an empty timeline, no company.
                let body = json!({"status": "COMPLETE", "results": [], "startedAt": now, "completedAt": now});
                Some((Kind::Read, answer(200, &body)))
            }
            "/crm/v4/associations/deals/contacts/batch/read" => {
                let results: Vec<Value> = Self::hubspot_ids(body)
                    .iter()
                    .filter_map(|id| self.hubspot_find(*id))
                    .filter(|d| d.contact)
                    .map(|d| json!({
                        "from": {"id": d.hubspot_id().to_string()},
                        "to": [{"toObjectId": 80_000_000 + d.n as u64, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": 3, "label": null}]}],
                    }))
                    .collect();
                let body = json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
                Some((Kind::Read, answer(200, &body)))
            }
            "/crm/v3/objects/contacts/batch/read" => {
                let results: Vec<Value> = Self::hubspot_ids(body)
                    .iter()
                    .map(|id| {
                        let n = id - 80_000_000;
                        json!({
                            "id": id.to_string(),
                            "properties": {"firstname": "Buyer", "lastname": n.to_string(), "email": format!("buyer{n}@example.com"), "jobtitle": "CFO", "hs_buying_role": "BUDGET_HOLDER", "hs_object_id": id.to_string()},
                            "createdAt": now, "updatedAt": now, "archived": false,
                        })
                    })
                    .collect();
                let body = json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
                Some((Kind::Read, answer(200, &body)))
            }
            "/crm/v3/objects/deals/batch/update" => {
                let inputs = body["inputs"].as_array()?;
                self.records_updated
                    .fetch_add(inputs.len() as u64, Ordering::Relaxed);
                for input in inputs {
                    let id = input["id"].as_str().and_then(|id| id.parse::<u64>().ok());
                    let n = id.and_then(|id| self.hubspot_find(id)).map(|d| d.n);
                    let properties = &input["properties"];
                    self.written(n, &properties["pg_stale"], &properties["pg_hygiene"]);
                }
                let results: Vec<Value> = inputs
                    .iter()
                    .map(|i| json!({"id": i["id"], "properties": i["properties"], "createdAt": now, "updatedAt": now, "archived": false}))
                    .collect();
                let body = json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
                Some((Kind::Update, answer(200, &body)))
            }
            "/crm/v3/objects/tasks/batch/create" | "/crm/v3/objects/notes/batch/create" => {
                let inputs = body["inputs"].as_array()?;
                let first = self
                    .notices_created
                    .fetch_add(inputs.len() as u64, Ordering::Relaxed);
                let results: Vec<Value> = (0..inputs.len() as u64)
                    .map(|k| json!({"id": (90_000_000 + first + k).to_string(), "properties": {}, "createdAt": now, "updatedAt": now, "archived": false}))
                    .collect();
                let body = json!({"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now});
                Some((Kind::Create, answer(201, &body)))
            }
            _ => None,
        }
    }

    /// A v2 deal; the fields v2 gives only when asked (`include_fields`) as `include` asks.
    fn pipedrive_deal(&self, deal: &Deal, include: &[&str]) -> Value {
        let (incoming, outgoing) = deal.last_mails();
        let mut object = json!({
            "id": deal.pipedrive_id(),
            "title": format!("Deal {}", deal.n),
            "owner_id": 1000 + deal.owner,
            "person_id": deal.contact.then_some(500_000 + deal.n as u64),
            "org_id": null,
            "stage_id": 1 + deal.stage,
            "pipeline_id": 1,
            "value": deal.amount,
            "currency": "EUR",
            "add_time": rfc3339(deal.stage_entered - Days::days(30)),
            "update_time": rfc3339(deal.last_activity),
            "stage_change_time": rfc3339(deal.stage_entered),
            "status": "open",
            "expected_close_date": deal.close.to_string(),
            "custom_fields": {
                "next_step": deal.next_step_text(),
                "pg_stale": deal.prior(self.crm).map(|(flag, _)| flag.clone()).filter(|f| !f.is_empty()),
                "pg_hygiene": deal.prior(self.crm).map(|(_, h)| *h),
            },
        });
        let optional = [
            ("last_incoming_mail_time", json!(rfc3339(incoming))),
            ("last_outgoing_mail_time", json!(rfc3339(outgoing))),
            ("last_activity_id", json!(deal.last_activity_id())),
            ("next_activity_id", json!(deal.next_activity_id())),
            (
                "done_activities_count",
                json!(usize::from(deal.last_activity_id().is_some())),
            ),
        ];
        for (name, value) in optional {
            if include.contains(&name) {
                object[name] = value;
            }
        }
        object
    }

    /// Pipedrive's activity `id`: a deal's last done activity (even ids) or its next one.
    fn pipedrive_activity(&self, id: u64) -> Option<Value> {
        let offset = id.checked_sub(2_000_000)?;
        let deal = self.portfolio.deals.get((offset / 2) as usize)?;
        let done = offset % 2 == 0;
        let (due, time) = if done {
            let day = deal.last_done_day()?;
            (day, time::Time::from_hms(15, 0, 0).expect("a time"))
        } else {
            let at = deal.next_activity?;
            (at.date(), at.time())
        };
        let stamp = |at: OffsetDateTime| rfc3339(at);
        let added = deal.stage_entered.min(due.with_time(time).assume_utc()) - Days::days(1);
        Some(json!({
            "id": id,
            "subject": if done { "Discovery call" } else { "Pricing follow-up" },
            "type": if done { "call" } else { "meeting" },
            "owner_id": 1000 + deal.owner,
            "creator_user_id": 1000 + deal.owner,
            "is_deleted": false,
            "add_time": stamp(added),
            "update_time": stamp(added),
            "deal_id": deal.pipedrive_id(),
            "lead_id": null,
            "person_id": deal.contact.then_some(500_000 + deal.n as u64),
            "org_id": null,
            "project_id": null,
            "due_date": due.to_string(),
            "due_time": format!("{:02}:{:02}", time.hour(), time.minute()),
            "duration": "00:30",
            "busy": true,
            "done": done,
            "marked_as_done_time": done.then(|| stamp(due.with_time(time).assume_utc() + Days::minutes(31))),
            "location": null,
            "participants": [],
            "attendees": null,
            "public_description": null,
            "priority": null,
            "note": null,
        }))
    }

    /// Pipedrive's person `id` (a deal's buyer).
    fn pipedrive_person(&self, id: u64) -> Option<Value> {
        let n = id.checked_sub(500_000)?;
        self.portfolio.deals.get(n as usize).filter(|d| d.contact)?;
        Some(json!({
            "id": id, "name": format!("Buyer {n}"), "first_name": "Buyer", "last_name": n.to_string(),
            "owner_id": 1001, "org_id": null,
            "emails": [{"value": format!("buyer{n}@example.com"), "primary": true, "label": "work"}],
            "phones": [], "job_title": "CFO", "add_time": "2025-01-02T09:00:00Z",
            "update_time": "2025-01-02T09:00:00Z", "visible_to": 3, "label_ids": [], "custom_fields": {},
        }))
    }

    /// `GET /api/v2/<entity>?ids=…`: the items found (at most 100 ids, as Pipedrive takes).
    fn pipedrive_by_ids(
        query: &str,
        item: impl Fn(u64) -> Option<Value>,
    ) -> Option<(Kind, http::Response<Full<Bytes>>)> {
        let q = query_pairs(query);
        let ids: Vec<u64> = q
            .get("ids")?
            .split(',')
            .map(|id| id.trim().parse().ok())
            .collect::<Option<_>>()?;
        let limit: usize = q.get("limit").map_or(Some(100), |l| l.parse().ok())?;
        if ids.len() > 100 || limit > 100 {
            let error = json!({"success": false, "error": "ids: at most 100", "code": "ERR_SCHEMA_VALIDATION_FAILED"});
            return Some((Kind::Read, answer(400, &error)));
        }
        let data: Vec<Value> = ids.into_iter().filter_map(item).take(limit).collect();
        let body = json!({"success": true, "data": data, "additional_data": {"next_cursor": null}});
        Some((Kind::Read, answer(200, &body)))
    }

    fn pipedrive(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &Value,
    ) -> Option<(Kind, http::Response<Full<Bytes>>)> {
        match method {
            "GET" if path == "/api/v2/deals" => {
                let q = query_pairs(query);
                if q.get("status").map(String::as_str) != Some("open")
                    || q.get("sort_by").map(String::as_str) != Some("id")
                {
                    return None;
                }
                let limit: usize = q.get("limit").map_or(Some(100), |l| l.parse().ok())?;
                if limit > 500 {
                    return Some((
                        Kind::List,
                        answer(
                            400,
                            &json!({"success": false, "error": "limit must be at most 500"}),
                        ),
                    ));
                }
                let offset = match q.get("cursor") {
                    Some(cursor) => cursor.strip_prefix("eyJpZCI6")?.parse().ok()?,
                    None => 0,
                };
                let include: Vec<&str> = q
                    .get("include_fields")
                    .map(|f| f.split(',').collect())
                    .unwrap_or_default();
                let (deals, next) = self.page(offset, limit);
                let data: Vec<Value> = deals
                    .iter()
                    .map(|d| self.pipedrive_deal(d, &include))
                    .collect();
                let body = json!({
                    "success": true,
                    "data": data,
                    "additional_data": {"next_cursor": next.map(|n| format!("eyJpZCI6{n}"))},
                });
                Some((Kind::List, answer(200, &body)))
            }
            "GET" if path == "/api/v2/activities" && query_pairs(query).contains_key("deal_id") => {
                // A deal's done activities: its last done one, if any.
                let q = query_pairs(query);
                let n: usize = q.get("deal_id")?.parse::<usize>().ok()?.checked_sub(1)?;
                let limit: usize = q.get("limit").map_or(Some(100), |l| l.parse().ok())?;
                if limit > 500 || q.get("done").map(String::as_str) != Some("true") {
                    let error = json!({"success": false, "error": "limit: at most 500"});
                    return Some((Kind::Read, answer(400, &error)));
                }
                let deal = self.portfolio.deals.get(n)?;
                let data: Vec<Value> = deal
                    .last_activity_id()
                    .and_then(|id| self.pipedrive_activity(id))
                    .into_iter()
                    .collect();
                let body = json!({"success": true, "data": data, "additional_data": {"next_cursor": null}});
                Some((Kind::Read, answer(200, &body)))
            }
            "GET" if path == "/api/v2/activities" => {
                Self::pipedrive_by_ids(query, |id| self.pipedrive_activity(id))
            }
            "GET" if path == "/api/v2/persons" => {
                Self::pipedrive_by_ids(query, |id| self.pipedrive_person(id))
            }
            "GET" if path.starts_with("/api/v2/persons/") => {
                let id: u64 = path.trim_start_matches("/api/v2/persons/").parse().ok()?;
                let (status, body) = match self.pipedrive_person(id) {
                    Some(person) => (200, json!({"success": true, "data": person})),
                    None => (404, json!({"success": false, "error": "Person not found"})),
                };
                Some((Kind::Read, answer(status, &body)))
            }
            "PATCH" if path.starts_with("/api/v2/deals/") => {
                self.records_updated.fetch_add(1, Ordering::Relaxed);
                let id: u64 = path.trim_start_matches("/api/v2/deals/").parse().ok()?;
                let custom = &body["custom_fields"];
                self.written(
                    id.checked_sub(1).map(|n| n as usize),
                    &custom["pg_stale"],
                    &custom["pg_hygiene"],
                );
                Some((
                    Kind::Update,
                    answer(200, &json!({"success": true, "data": {"id": id}})),
                ))
            }
            "POST" if path == "/api/v2/activities" || path == "/api/v1/notes" => {
                let id = 700_000 + self.notices_created.fetch_add(1, Ordering::Relaxed);
                Some((
                    Kind::Create,
                    answer(201, &json!({"success": true, "data": {"id": id}})),
                ))
            }
            _ => None,
        }
    }

    fn salesforce_row(&self, deal: &Deal) -> Value {
        let stamp = |at: OffsetDateTime| {
            format!(
                "{}T{:02}:{:02}:{:02}.000+0000",
                at.date(),
                at.hour(),
                at.minute(),
                at.second()
            )
        };
        let created = deal.stage_entered - Days::days(30);
        let id = deal.salesforce_id();
        json!({
            "attributes": {"type": "Opportunity", "url": format!("{SALESFORCE_API}/sobjects/Opportunity/{id}")},
            "Id": id,
            "Name": format!("Deal {}", deal.n),
            "StageName": STAGES[deal.stage],
            "Amount": deal.amount,
            "CloseDate": deal.close.to_string(),
            "IsClosed": false,
            "IsWon": false,
            "OwnerId": format!("005{:015}", deal.owner),
            "NextStep": deal.next_step_text(),
            "LastActivityDate": deal.last_activity.date().to_string(),
            "LastStageChangeDate": stamp(deal.stage_entered),
            "CreatedDate": stamp(created),
            "LastModifiedDate": stamp(deal.last_activity),
            "LastModifiedById": format!("005{:015}", deal.owner),
            "Situation__c": null, "Pain__c": null, "Impact__c": null,
            "pg_stale__c": deal.prior(self.crm).map(|(flag, _)| flag.clone()).filter(|f| !f.is_empty()),
            "pg_hygiene__c": deal.prior(self.crm).map(|(_, h)| *h),
            "Tasks": self.salesforce_next(deal, "Tasks"),
            "Events": self.salesforce_next(deal, "Events"),
        })
    }

    /// The `Tasks` or `Events` subquery of `deal`: its first open task (even deals) or coming
    /// event (odd ones) after today, and `null`, as Salesforce answers an empty child
    /// relationship, when it has none.
    fn salesforce_next(&self, deal: &Deal, relation: &str) -> Value {
        let today = self.portfolio.today;
        let Some(at) = deal.next_activity.filter(|at| at.date() > today) else {
            return Value::Null;
        };
        let row = match (relation, deal.n % 2) {
            ("Tasks", 0) => {
                json!({"attributes": {"type": "Task"}, "ActivityDate": at.date().to_string()})
            }
            ("Events", 1) => json!({"attributes": {"type": "Event"}, "StartDateTime": format!(
                "{}T{:02}:{:02}:00.000+0000", at.date(), at.hour(), at.minute()
            )}),
            _ => return Value::Null,
        };
        json!({"totalSize": 1, "done": true, "records": [row]})
    }

    /// A row per opportunity the query's `from` names (`Id IN ('…')`), with what `fields` gives
    /// the deal besides its id.
    fn salesforce_by_ids(&self, from: &str, fields: impl Fn(&Deal) -> Value) -> Vec<Value> {
        from.split('\'')
            .skip(1)
            .step_by(2)
            .filter_map(|id| {
                let deal = self
                    .portfolio
                    .deals
                    .get(id.strip_prefix("006")?.parse::<usize>().ok()?)?;
                let mut row = json!({"attributes": {"type": "Opportunity"}, "Id": id});
                for (name, value) in fields(deal).as_object()? {
                    row[name] = value.clone();
                }
                Some(row)
            })
            .collect()
    }

    /// A query's answer: its first batch, and a locator for the rest.
    fn salesforce_rows(&self, mut rows: Vec<Value>) -> Value {
        let total = rows.len();
        if rows.len() <= SALESFORCE_BATCH {
            return json!({"totalSize": total, "done": true, "records": rows});
        }
        let rest = rows.split_off(SALESFORCE_BATCH);
        let locator = format!(
            "01gBENCH{:010}",
            self.next_locator.fetch_add(1, Ordering::Relaxed)
        );
        self.locators
            .lock()
            .expect("not poisoned")
            .insert(locator.clone(), rest);
        json!({"totalSize": total, "done": false, "nextRecordsUrl": format!("{SALESFORCE_API}/query/{locator}-{SALESFORCE_BATCH}"), "records": rows})
    }

    fn salesforce(
        &self,
        method: &str,
        path: &str,
        query: &str,
        body: &Value,
    ) -> Option<(Kind, http::Response<Full<Bytes>>)> {
        let quoted = |text: &str| -> Vec<String> {
            text.split('\'')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        };
        match method {
            "GET" if path == format!("{SALESFORCE_API}/query") => {
                let soql = query_pairs(query).remove("q")?;
                let (_, from) = soql.rsplit_once(" FROM ")?;
                if from.starts_with("Opportunity WHERE IsClosed = false") {
                    let limit: usize = from.rsplit_once(" LIMIT ")?.1.trim().parse().ok()?;
                    let deals = &self.portfolio.deals;
                    let start = match from.split_once(" AND Id > '") {
                        Some((_, rest)) => {
                            let after = rest.split('\'').next()?;
                            deals.partition_point(|d| d.salesforce_id().as_str() <= after)
                        }
                        None => 0,
                    };
                    let (page, _) = self.page(start, limit);
                    let rows = page.iter().map(|d| self.salesforce_row(d)).collect();
                    Some((Kind::List, answer(200, &self.salesforce_rows(rows))))
                } else if from.starts_with("OpportunityContactRole WHERE OpportunityId IN (") {
                    let rows = quoted(from)
                        .iter()
                        .filter_map(|id| id.strip_prefix("006")?.parse::<usize>().ok())
                        .filter_map(|n| self.portfolio.deals.get(n))
                        .filter(|d| d.contact)
                        .map(|d| json!({
                            "attributes": {"type": "OpportunityContactRole"},
                            "OpportunityId": d.salesforce_id(),
                            "ContactId": format!("003{:015}", d.n),
                            "Role": "Economic Decision Maker",
                            "IsPrimary": true,
                            "Contact": {"attributes": {"type": "Contact"}, "Name": format!("Buyer {}", d.n), "Title": "CFO", "Email": format!("buyer{}@example.com", d.n)},
                        }))
                        .collect();
                    Some((Kind::Read, answer(200, &self.salesforce_rows(rows))))
                } else if from.starts_with("Opportunity WHERE Id IN (")
                    && soql.contains("FROM Tasks WHERE IsClosed = true")
                {
                    // The opportunities' closed tasks and past events: the last done call.
                    let rows = self.salesforce_by_ids(from, |deal| {
                        let tasks = deal.last_done_day().map(|day| json!({"totalSize": 1, "done": true, "records": [{
                            "attributes": {"type": "Task"}, "Subject": "Discovery call", "ActivityDate": day.to_string(),
                            "Status": "Completed", "TaskSubtype": "Call", "CallType": "Outbound", "CallDurationInSeconds": 600,
                            "Description": null, "CompletedDateTime": format!("{day}T15:31:00.000+0000"),
                        }]}));
                        json!({"Tasks": tasks, "Events": null})
                    });
                    Some((Kind::Read, answer(200, &self.salesforce_rows(rows))))
                } else if from.starts_with("Opportunity WHERE Id IN (")
                    && soql.starts_with("SELECT Id, Account.")
                {
                    let rows = self.salesforce_by_ids(from, |deal| {
                        json!({"Account": {"attributes": {"type": "Account"}, "NumberOfEmployees": 50 + 37 * deal.n % 4000, "Industry": "Manufacturing", "BillingCountry": "Germany"}})
                    });
                    Some((Kind::Read, answer(200, &self.salesforce_rows(rows))))
                } else if from.starts_with("Opportunity WHERE Id IN (") {
                    // The next activities of opportunities listed without their subqueries.
                    let rows = quoted(from)
                        .iter()
                        .filter_map(|id| {
                            let deal = self
                                .portfolio
                                .deals
                                .get(id.strip_prefix("006")?.parse::<usize>().ok()?)?;
                            Some(json!({
                                "attributes": {"type": "Opportunity"},
                                "Id": id,
                                "Tasks": self.salesforce_next(deal, "Tasks"),
                                "Events": self.salesforce_next(deal, "Events"),
                            }))
                        })
                        .collect();
                    Some((Kind::Read, answer(200, &self.salesforce_rows(rows))))
                } else {
                    None
                }
            }
            "GET" if path.starts_with(&format!("{SALESFORCE_API}/query/")) => {
                let locator = path.rsplit('/').next()?.split('-').next()?;
                let mut rows = self
                    .locators
                    .lock()
                    .expect("not poisoned")
                    .remove(locator)?;
                let rest = rows.split_off(rows.len().min(SALESFORCE_BATCH));
                let mut body = json!({"totalSize": rows.len() + rest.len(), "done": rest.is_empty(), "records": rows});
                if !rest.is_empty() {
                    body["nextRecordsUrl"] =
                        format!("{SALESFORCE_API}/query/{locator}-{}", SALESFORCE_BATCH * 2).into();
                    self.locators
                        .lock()
                        .expect("not poisoned")
                        .insert(locator.to_owned(), rest);
                }
                Some((Kind::List, answer(200, &body)))
            }
            "PATCH" | "POST" if path == format!("{SALESFORCE_API}/composite/sobjects") => {
                let records = body["records"].as_array()?;
                if records.len() > 200 {
                    return Some((
                        Kind::Other,
                        answer(
                            400,
                            &json!([{"errorCode": "EXCEEDED_ID_LIMIT", "message": "record limit exceeded"}]),
                        ),
                    ));
                }
                let (kind, counter, prefix) = if method == "PATCH" {
                    (Kind::Update, &self.records_updated, "006")
                } else {
                    (Kind::Create, &self.notices_created, "00T")
                };
                let first = counter.fetch_add(records.len() as u64, Ordering::Relaxed);
                if method == "PATCH" {
                    for record in records {
                        let n = record["id"]
                            .as_str()
                            .and_then(|id| id.strip_prefix("006")?.parse().ok());
                        self.written(n, &record["pg_stale__c"], &record["pg_hygiene__c"]);
                    }
                }
                let results: Vec<Value> = records
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        let id = r["id"].as_str().map_or_else(
                            || format!("{prefix}{:015}", first + k as u64),
                            str::to_owned,
                        );
                        json!({"id": id, "success": true, "errors": []})
                    })
                    .collect();
                Some((kind, answer(200, &Value::Array(results))))
            }
            _ => None,
        }
    }
}

/// Where the sweep runs: the test host in process (a fresh instance per call), or Spin.
enum Target {
    Test(Host),
    Spin(Box<Node>),
}

impl Target {
    async fn request(
        &self,
        request: http::Request<Bytes>,
    ) -> anyhow::Result<http::Response<Bytes>> {
        match self {
            Target::Test(host) => host.request(request).await,
            Target::Spin(node) => node.request(request).await,
        }
    }
}

fn variables(crm_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sweep_token", SWEEP.into()),
        ("generic_webhook_secret", "bench".into()),
        ("generic_api_origin", crm_url.into()),
        ("generic_api_token", "bench-generic-token".into()),
        ("hubspot_api_origin", crm_url.into()),
        ("hubspot_api_token", "pat-na1-bench".into()),
        ("pipedrive_api_origin", crm_url.into()),
        ("pipedrive_api_token", "bench-pipedrive-token".into()),
        ("salesforce_api_origin", crm_url.into()),
        ("salesforce_api_token", "00Dbench!token".into()),
    ]
}

/// The processes whose command line names `addr` (`spin up --listen <addr>` and the trigger
/// process it starts), with their peak resident set (`VmHWM`), in kB.
fn spin_peak_rss_kb(addr: SocketAddr) -> Option<u64> {
    let needle = addr.to_string();
    let mut peak = None;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if !String::from_utf8_lossy(&cmdline).contains(&needle) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
        if let Some(hwm) = hwm {
            peak = Some(peak.map_or(hwm, |p: u64| p.max(hwm)));
        }
    }
    peak
}

/// What one sweep to `done` measured.
struct Run {
    calls: usize,
    retries: usize,
    wall: Duration,
    slowest_call: Duration,
    sweep: Value,
    memory: String,
}

/// One sweep call; `pages` asks for up to that many pages (`?pages=N`), else the default one.
async fn sweep_once(
    target: &Target,
    crm: Crm,
    pages: Option<u32>,
) -> anyhow::Result<http::Response<Bytes>> {
    let query = pages.map_or_else(String::new, |n| format!("?pages={n}"));
    let request = http::Request::post(format!(
        "http://pipeline-guard.test/flag-stale-deals/{}/sweep{query}",
        crm.name()
    ))
    .header("authorization", format!("Bearer {SWEEP}"))
    .header("connection", "close")
    .body(Bytes::new())?;
    target.request(request).await
}

async fn run_sweep(
    target: &Target,
    crm: Crm,
    deals: usize,
    pages: Option<u32>,
) -> anyhow::Result<(usize, usize, Duration, Duration, Value)> {
    let started = Instant::now();
    let (mut calls, mut retries, mut slowest) = (0, 0, Duration::ZERO);
    let expected_calls = deals.div_ceil(50) + 10;
    loop {
        let call_started = Instant::now();
        let response = sweep_once(target, crm, pages).await?;
        let took = call_started.elapsed();
        let body: Value = serde_json::from_slice(response.body()).with_context(|| {
            format!(
                "call {calls}: {} {}",
                response.status(),
                String::from_utf8_lossy(response.body())
            )
        })?;
        if response.status() == 503 || body["status"] == "busy" {
            retries += 1;
            anyhow::ensure!(retries <= 50, "the sweep keeps answering {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        anyhow::ensure!(response.status() == 200, "call {calls}: {body}");
        calls += 1;
        slowest = slowest.max(took);
        if let Some(failures) = body["failures"].as_array()
            && !failures.is_empty()
        {
            anyhow::bail!("call {calls}: failures {failures:?}");
        }
        if body["done"] == true {
            return Ok((calls, retries, started.elapsed(), slowest, body));
        }
        anyhow::ensure!(
            calls <= expected_calls,
            "the sweep is not done after {calls} calls: {body}"
        );
        if calls % 200 == 0 {
            eprintln!(
                "  … {} calls, {} deals seen, {:.0} s",
                calls,
                body["sweep"]["seen"],
                started.elapsed().as_secs_f64()
            );
        }
    }
}

async fn measure(
    crm: Crm,
    runtime: &Runtime,
    portfolio: &Arc<Portfolio>,
    pages: Option<u32>,
) -> anyhow::Result<(Run, Arc<Fake>)> {
    let (fake, url) = Fake::start(crm, portfolio.clone()).await?;
    let state = tempfile::tempdir()?;
    let target = match runtime {
        Runtime::TestHost => {
            let mut builder = Host::builder(root().join("spin.toml"))
                .target_dir(target_dir())
                .key_value(KvBackend::Dir(state.path().to_path_buf()))
                .instance_reuse(InstanceReuse::fresh_per_request())
                .only_components([COMPONENT]);
            for (name, value) in variables(&url) {
                builder = builder.variable(name, value);
            }
            Target::Test(builder.build()?)
        }
        Runtime::Spin(_) | Runtime::SpinOnPostgres(..) => {
            let mut builder =
                Node::builder(runtime.clone(), root().join("spin.toml"), target_dir())
                    .state_dir(state.path());
            for (name, value) in variables(&url) {
                builder = builder.variable(name, value);
            }
            Target::Spin(Box::new(builder.start().await?))
        }
    };
    let (calls, retries, wall, slowest_call, sweep) =
        run_sweep(&target, crm, portfolio.deals.len(), pages).await?;
    let memory = match &target {
        Target::Test(host) => {
            // Each instance is dropped just after its call: give the last one a moment.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut peaks = host.memory_peaks(COMPONENT);
            peaks.sort_unstable();
            match peaks.last() {
                Some(max) => format!(
                    "{:.1} MiB max, {:.1} MiB p50 (linear memory, {} calls)",
                    *max as f64 / 1_048_576.0,
                    peaks[peaks.len() / 2] as f64 / 1_048_576.0,
                    peaks.len()
                ),
                None => "n/a".into(),
            }
        }
        Target::Spin(node) => match spin_peak_rss_kb(node.tcp_addr().await?) {
            Some(kb) => format!(
                "{:.0} MiB spin process peak RSS (process-wide)",
                kb as f64 / 1024.0
            ),
            None => "n/a".into(),
        },
    };
    let unexpected = fake.unexpected.lock().expect("not poisoned").clone();
    anyhow::ensure!(
        unexpected.is_empty(),
        "{} requests the fake CRM did not expect, first {:?}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(3)]
    );
    Ok((
        Run {
            calls,
            retries,
            wall,
            slowest_call,
            sweep,
            memory,
        },
        fake,
    ))
}

struct Options {
    deals: usize,
    crms: Vec<Crm>,
    hosts: String,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        deals: 100_000,
        crms: Crm::ALL.to_vec(),
        hosts: "both".into(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--deals" => options.deals = value()?.replace('_', "").parse()?,
            "--crm" => {
                let name = value()?;
                options.crms = match name.as_str() {
                    "all" => Crm::ALL.to_vec(),
                    name => vec![
                        *Crm::ALL
                            .iter()
                            .find(|c| c.name() == name)
                            .with_context(|| format!("no CRM {name:?}"))?,
                    ],
                };
            }
            "--host" => {
                options.hosts = value()?;
                anyhow::ensure!(
                    ["test", "spin", "both"].contains(&options.hosts.as_str()),
                    "--host test|spin|both"
                );
            }
            other => anyhow::bail!(
                "unknown argument {other:?}: [--deals N] [--crm generic|hubspot|pipedrive|salesforce|all] [--host test|spin|both]"
            ),
        }
    }
    anyhow::ensure!(options.deals > 0, "--deals must be at least 1");
    Ok(options)
}

fn per_thousand(count: u64, deals: usize) -> String {
    format!("{:.0}", count as f64 * 1000.0 / deals as f64)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let mut runtimes = Vec::new();
    if options.hosts != "spin" {
        runtimes.push(Runtime::TestHost);
    }
    if options.hosts != "test" {
        match spin_cli() {
            Some(cli) => runtimes.push(Runtime::Spin(cli)),
            None => eprintln!(
                "Spin not found (PIPELINE_GUARD_SPIN, ../shared/bin/spin, spin on PATH): test host only"
            ),
        }
    }
    let playbook = Playbook::from_toml(DEFAULT_PLAYBOOK)?;
    // Whole seconds, as the CRMs' times are.
    let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let generated = Instant::now();
    let portfolio = Arc::new(generate(options.deals, &playbook, now)?);
    let mix: Vec<String> = portfolio
        .mix
        .iter()
        .map(|(category, count)| format!("{count} {category}"))
        .collect();
    println!(
        "{} open deals, {OWNERS} owners, {} stale by the playbook ({}; generated and judged natively in {:.1} s)\n",
        options.deals,
        portfolio.stale,
        mix.join(", "),
        generated.elapsed().as_secs_f64()
    );
    println!(
        "| CRM | host | deals | calls | wall time | per 1,000 deals | slowest call | CRM calls | per 1,000 deals: list / reads / updates / creates | flagged | written (records updated, of which unchanged; tasks) | peak memory per call |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut failed = Vec::new();
    // Each CRM on each host at one page a call; the generic CRM on the test host also at
    // `?pages=10`.
    let mut sweeps = Vec::new();
    for crm in &options.crms {
        for runtime in &runtimes {
            sweeps.push((*crm, runtime, None));
            if *crm == Crm::Generic && matches!(runtime, Runtime::TestHost) {
                sweeps.push((*crm, runtime, Some(10)));
            }
        }
    }
    for (crm, runtime, pages) in sweeps {
        let host = match pages {
            Some(n) => format!("{}, `?pages={n}`", runtime.name()),
            None => runtime.name().to_string(),
        };
        eprintln!("{} on {host} …", crm.name());
        let (run, fake) = match measure(crm, runtime, &portfolio, pages).await {
            Ok(measured) => measured,
            Err(e) => {
                eprintln!("{} on {host}: {e:#}", crm.name());
                failed.push(format!("{} on {host}: {e:#}", crm.name()));
                continue;
            }
        };
        let sweep = &run.sweep["sweep"];
        let seen = sweep["seen"].as_u64().unwrap_or(0);
        let flagged = sweep["flagged"].as_u64().unwrap_or(0);
        let deals = options.deals;
        let counts = &fake.counts;
        let total: u64 = [
            Kind::List,
            Kind::Read,
            Kind::Update,
            Kind::Create,
            Kind::Other,
        ]
        .iter()
        .map(|k| counts.get(*k))
        .sum();
        println!(
            "| {} | {} | {deals} | {}{} | {:.1} s | {:.2} s | {:.0} ms | {total} | {} / {} / {} / {} | {flagged} | {} ({} records, {} unchanged; {} tasks) | {} |",
            crm.name(),
            host,
            run.calls,
            if run.retries > 0 {
                format!(" (+{} busy/503)", run.retries)
            } else {
                String::new()
            },
            run.wall.as_secs_f64(),
            run.wall.as_secs_f64() * 1000.0 / deals as f64,
            run.slowest_call.as_secs_f64() * 1000.0,
            per_thousand(counts.get(Kind::List), deals),
            per_thousand(counts.get(Kind::Read), deals),
            per_thousand(counts.get(Kind::Update), deals),
            per_thousand(counts.get(Kind::Create), deals),
            sweep["written"],
            fake.records_updated.load(Ordering::Relaxed),
            fake.unchanged_rewrites.load(Ordering::Relaxed),
            fake.notices_created.load(Ordering::Relaxed),
            run.memory,
        );
        let mut wrong = Vec::new();
        if seen != deals as u64 {
            wrong.push(format!("seen {seen}, not {deals}"));
        }
        if flagged != portfolio.stale as u64 {
            wrong.push(format!("flagged {flagged}, not {}", portfolio.stale));
        }
        if sweep["failed"] != 0 {
            wrong.push(format!("failed {}", sweep["failed"]));
        }
        if !wrong.is_empty() {
            failed.push(format!(
                "{} on {host}: {} ({})",
                crm.name(),
                wrong.join(", "),
                run.sweep
            ));
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "the sweep went wrong:\n{}",
        failed.join("\n")
    );
    Ok(())
}
