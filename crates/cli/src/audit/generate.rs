//! Sample data to try an audit on: one seeded set of deals written as HubSpot's deal export,
//! Pipedrive's deal export, a Salesforce opportunity report (trailer included) and JSON Lines,
//! with a known relationship between evidence and outcome.
//!
//! Each deal has a hidden quality `q`, uniform on 0..1. Each of its evidence texts (situation,
//! pain, impact, next step) is written well with chance `q`, weakly with chance `(1 − q) / 2`,
//! and left empty otherwise; its contact is the CFO with chance `q`. A closed deal is won with
//! chance `0.15 + 0.6 q`. So better-evidenced deals win more often, and a backtest must find it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use time::{Date, Duration, OffsetDateTime};

/// What `sample-data` is asked.
#[derive(Debug, Clone, clap::Args)]
pub struct SampleArgs {
    /// The folder to write the four files into (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// How many deals.
    #[arg(long, default_value_t = 2000)]
    pub deals: usize,
    /// The seed: the same seed writes the same files (for the same day).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// The day the data is written as of (RFC 3339); defaults to now.
    #[arg(long, value_parser = crate::parse_time)]
    pub now: Option<OffsetDateTime>,
}

/// One generated deal.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleDeal {
    /// Its number, from 1.
    pub number: usize,
    /// Its owner.
    pub owner: &'static str,
    /// Its value.
    pub amount: u32,
    /// Open, won or lost.
    pub outcome: Outcome,
    /// How far along an open deal is (0–4).
    pub stage: usize,
    /// Its expected (or actual) close date.
    pub close_date: Date,
    /// The evidence texts (empty: not filled in).
    pub situation: String,
    /// …
    pub pain: String,
    /// …
    pub impact: String,
    /// …
    pub next_step: String,
    /// Why a lost deal was lost.
    pub lost_reason: String,
    /// Its contact's name and title.
    pub contact: (String, String),
}

/// How a generated deal ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still open.
    Open,
    /// Closed won.
    Won,
    /// Closed lost.
    Lost,
}

const OWNERS: [&str; 6] = [
    "Alex Kim",
    "Bea Novak",
    "Chris Osei",
    "Dana Ruiz",
    "Eli Stone",
    "Fay Moreau",
];
const TOOLS: [&str; 4] = ["NetSuite", "SAP", "Xero", "QuickBooks"];
const PEOPLE: [&str; 6] = ["Sam", "Noor", "Jonas", "Priya", "Marta", "Ken"];
const LOST_REASONS: [&str; 3] = [
    "Chose a competitor on price",
    "No budget this year",
    "Went quiet after the demo",
];

/// `n` deals drawn with `seed`, as of `today`.
pub fn deals(n: usize, seed: u64, today: Date) -> Vec<SampleDeal> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (1..=n)
        .map(|number| deal(number, today, &mut rng))
        .collect()
}

fn deal(number: usize, today: Date, rng: &mut ChaCha8Rng) -> SampleDeal {
    let q: f64 = rng.random();
    let outcome = if rng.random_bool(0.75) {
        if rng.random_bool(0.15 + 0.6 * q) {
            Outcome::Won
        } else {
            Outcome::Lost
        }
    } else {
        Outcome::Open
    };
    let close_date = match outcome {
        Outcome::Open => today + Duration::days(rng.random_range(-20..90)),
        _ => today - Duration::days(rng.random_range(1..360)),
    };
    // A next step is dated after the day the deal is judged: its close date once closed.
    let step_day = match outcome {
        Outcome::Open => today,
        _ => close_date,
    } + Duration::days(rng.random_range(3..15));
    let days: u32 = rng.random_range(6..15);
    let text = |strong: String, weak: &str, rng: &mut ChaCha8Rng| {
        let draw: f64 = rng.random();
        if draw < q {
            strong
        } else if draw < q + (1.0 - q) / 2.0 {
            weak.to_owned()
        } else {
            String::new()
        }
    };
    let tool = TOOLS[rng.random_range(0..TOOLS.len())];
    let team: u32 = rng.random_range(3..40);
    let situation = text(
        format!(
            "Finance team of {team} at Company {number} closes the books in Excel with {tool} exports"
        ),
        "Uses spreadsheets",
        rng,
    );
    let pain = text(
        format!("Month-end close at Company {number} takes {days} days and delays board reporting"),
        "Reporting is slow",
        rng,
    );
    let saved = rng.random_range(1..5);
    let impact = text(
        format!(
            "Close in {} days instead of {days}, saving {saved} FTEs for Company {number}",
            days / 2
        ),
        "Faster close",
        rng,
    );
    let person = PEOPLE[rng.random_range(0..PEOPLE.len())];
    let next_step = text(
        format!("Contract review with {person}, the CFO, on {step_day}"),
        "Follow up",
        rng,
    );
    let contact_name = format!(
        "{person} {}",
        ["Ortiz", "Lee", "Berg", "Okafor"][number % 4]
    );
    let title = if rng.random_bool(q) { "CFO" } else { "Analyst" };
    SampleDeal {
        number,
        owner: OWNERS[rng.random_range(0..OWNERS.len())],
        amount: rng.random_range(5..120) * 1000,
        outcome,
        stage: rng.random_range(0..5),
        close_date,
        situation,
        pain,
        impact,
        next_step,
        lost_reason: match outcome {
            Outcome::Lost if rng.random_bool(0.8) => {
                LOST_REASONS[rng.random_range(0..LOST_REASONS.len())].to_owned()
            }
            _ => String::new(),
        },
        contact: (contact_name, title.to_owned()),
    }
}

/// The files written, by CRM.
pub const FILES: [(&str, &str); 4] = [
    ("hubspot", "hubspot-deals.csv"),
    ("pipedrive", "pipedrive-deals.csv"),
    ("salesforce", "salesforce-opportunities.csv"),
    ("generic", "deals.jsonl"),
];

/// Write the sample into `args.out`; the paths written.
pub fn run(args: &SampleArgs) -> anyhow::Result<Vec<PathBuf>> {
    let today = args.now.unwrap_or_else(OffsetDateTime::now_utc).date();
    let deals = deals(args.deals, args.seed, today);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut written = Vec::new();
    for (crm, name) in FILES {
        let text = match crm {
            "hubspot" => hubspot(&deals)?,
            "pipedrive" => pipedrive(&deals)?,
            "salesforce" => salesforce(&deals)?,
            _ => jsonl(&deals)?,
        };
        let path = args.out.join(name);
        write(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn csv(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> anyhow::Result<String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(headers)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    Ok(String::from_utf8(writer.into_inner()?)?)
}

fn hubspot(deals: &[SampleDeal]) -> anyhow::Result<String> {
    const OPEN: [&str; 5] = [
        "Appointment Scheduled",
        "Qualified To Buy",
        "Presentation Scheduled",
        "Decision Maker Bought-In",
        "Contract Sent",
    ];
    csv(
        &[
            "Record ID",
            "Deal Name",
            "Deal Stage",
            "Close Date",
            "Deal owner",
            "Amount",
            "Pipeline",
            "Situation",
            "Pain",
            "Impact",
            "Next step",
            "Closed Lost Reason",
            "Associated Contact",
            "Competitor",
        ],
        deals.iter().map(|d| {
            let stage = match d.outcome {
                Outcome::Open => OPEN[d.stage],
                Outcome::Won => "Closed Won",
                Outcome::Lost => "Closed Lost",
            };
            vec![
                format!("{}", 9_000_000 + d.number),
                format!("Deal {}", d.number),
                stage.to_owned(),
                format!("{} 00:00", d.close_date),
                d.owner.to_owned(),
                d.amount.to_string(),
                "Sales Pipeline".to_owned(),
                d.situation.clone(),
                d.pain.clone(),
                d.impact.clone(),
                d.next_step.clone(),
                d.lost_reason.clone(),
                format!(
                    "{} ({}@company{}.example)",
                    d.contact.0,
                    d.contact.0.to_lowercase().replace(' ', "."),
                    d.number
                ),
                String::new(),
            ]
        }),
    )
}

fn pipedrive(deals: &[SampleDeal]) -> anyhow::Result<String> {
    const STAGES: [&str; 5] = [
        "Qualified",
        "Contact Made",
        "Demo Scheduled",
        "Proposal Made",
        "Negotiations Started",
    ];
    csv(
        &[
            "Deal - ID",
            "Deal - Title",
            "Deal - Owner",
            "Deal - Value",
            "Deal - Currency",
            "Deal - Status",
            "Deal - Stage",
            "Deal - Expected close date",
            "Deal - Lost reason",
            "Deal - Situation",
            "Deal - Pain",
            "Deal - Impact",
            "Deal - Next step",
            "Person - Name",
            "Person - Job title",
            "Organization - Name",
        ],
        deals.iter().map(|d| {
            let status = match d.outcome {
                Outcome::Open => "Open",
                Outcome::Won => "Won",
                Outcome::Lost => "Lost",
            };
            vec![
                d.number.to_string(),
                format!("Deal {}", d.number),
                d.owner.to_owned(),
                d.amount.to_string(),
                "EUR".to_owned(),
                status.to_owned(),
                STAGES[d.stage].to_owned(),
                d.close_date.to_string(),
                d.lost_reason.clone(),
                d.situation.clone(),
                d.pain.clone(),
                d.impact.clone(),
                d.next_step.clone(),
                d.contact.0.clone(),
                d.contact.1.clone(),
                format!("Company {}", d.number),
            ]
        }),
    )
}

fn salesforce(deals: &[SampleDeal]) -> anyhow::Result<String> {
    const OPEN: [&str; 5] = [
        "Prospecting",
        "Qualification",
        "Needs Analysis",
        "Proposal/Price Quote",
        "Negotiation/Review",
    ];
    let mut text = csv(
        &[
            "Opportunity Owner",
            "Opportunity Name",
            "Opportunity ID",
            "Stage",
            "Amount",
            "Close Date",
            "Next Step",
            "Won",
            "Closed",
            "Loss Reason",
            "Situation",
            "Pain",
            "Impact",
            "Contact: Full Name",
            "Contact: Title",
            "Account Name",
        ],
        deals.iter().map(|d| {
            let (stage, won, closed) = match d.outcome {
                Outcome::Open => (OPEN[d.stage], "0", "0"),
                Outcome::Won => ("Closed Won", "1", "1"),
                Outcome::Lost => ("Closed Lost", "0", "1"),
            };
            let date = d.close_date;
            vec![
                d.owner.to_owned(),
                format!("Deal {}", d.number),
                format!("0065g00000{:08}", d.number),
                stage.to_owned(),
                d.amount.to_string(),
                format!("{}/{}/{}", u8::from(date.month()), date.day(), date.year()),
                d.next_step.clone(),
                won.to_owned(),
                closed.to_owned(),
                d.lost_reason.clone(),
                d.situation.clone(),
                d.pain.clone(),
                d.impact.clone(),
                d.contact.0.clone(),
                d.contact.1.clone(),
                format!("Company {}", d.number),
            ]
        }),
    )?;
    text.push_str(&format!(
        "\n\"Grand Totals ({} records)\"\n\n\"Confidential Information - Do Not Distribute\"\n\"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.\"\n",
        deals.len()
    ));
    Ok(text)
}

fn jsonl(deals: &[SampleDeal]) -> anyhow::Result<String> {
    let mut text = String::new();
    for d in deals {
        let status = match d.outcome {
            Outcome::Open => "open",
            Outcome::Won => "won",
            Outcome::Lost => "lost",
        };
        let mut fields = serde_json::Map::new();
        for (key, value) in [
            ("situation", &d.situation),
            ("pain", &d.pain),
            ("impact", &d.impact),
            ("next_step", &d.next_step),
            ("lost_reason", &d.lost_reason),
        ] {
            if !value.is_empty() {
                fields.insert(key.to_owned(), value.clone().into());
            }
        }
        let role = (d.contact.1 == "CFO").then_some("economic_buyer");
        let record = json!({
            "kind": "deal",
            "id": format!("D-{}", d.number),
            "name": format!("Deal {}", d.number),
            "owner_id": d.owner,
            "status": status,
            "amount": d.amount,
            "close_date": d.close_date.to_string(),
            "fields": fields,
            "contacts": [{"id": format!("C-{}", d.number), "name": d.contact.0, "title": d.contact.1, "role": role}],
        });
        text.push_str(&serde_json::to_string(&record)?);
        text.push('\n');
    }
    Ok(text)
}
