//! The rep's page as data: what the rep's notices told them, gathered in one place, compared
//! only with the rep's own past. The same value is answered as JSON and rendered as HTML
//! ([`super::html`]).
//!
//! Everything comes from what the database already keeps: the latest scorecards of the rep's
//! open records and the sweep's stale deals ([`super::kept`]), the handoff log (`pg_handoffs`,
//! `pg_verdicts`), the calls' metrics (`pg_calls`, [`crate::conversation::history`]) and the
//! rep's sharing choices ([`super::sharing`]).

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{
    card::DealCard,
    kept::{self, StaleDeal},
    link::RepLink,
    sharing::{self, Section},
};
use crate::{
    Error,
    crm_id::Crm,
    handoffs::DimensionSnapshot,
    playbook::Playbook,
    ports::{Database, SqlValue},
    score::Status,
    statement::{columns, corrupt, integer, optional_text, text},
};

/// How far back the page lists the rep's handoffs.
pub const HANDOFF_DAYS: i64 = 90;

/// The most handoffs the page lists.
pub const MAX_HANDOFFS: i64 = 30;

/// How far back the page follows the rep's calls.
pub const CALL_DAYS: i64 = 30;

/// What the page's figures do not measure, besides what each scorecard lists.
pub const NOT_MEASURED: &[&str] = &[
    "how you compare with anyone else: this page compares you only with your own past",
    "work the CRM and your recorded calls do not show: relationships, champion activity between calls, email threads",
];

/// One of the rep's handoffs, with the AE's verdict when given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffLine {
    /// The deal's CRM id.
    pub deal_id: String,
    /// Its name, when the CRM gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deal_name: Option<String>,
    /// When the handoff was made.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `validated`, `blocked` or `would_block` (shadow mode).
    pub status: String,
    /// Why, as the gate said.
    pub rule: String,
    /// The score then, and the threshold.
    pub score: u8,
    /// The threshold in force then.
    pub threshold: u8,
    /// The dimensions not green then, by name.
    pub missing: Vec<String>,
    /// The AE's verdict (`accepted`, `rejected`, `unreadable`), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<String>,
    /// The AE's reason, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One of the rep's calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallLine {
    /// The call's id.
    pub call_id: String,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The rep's share of the talking.
    pub talk_share: f64,
    /// The rep's questions.
    pub questions: u32,
    /// Whether a next step was agreed near the end, when it could be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_step_agreed: Option<bool>,
    /// Marked for the rep (talk share above the band, no question, no next step).
    pub outlier: bool,
    /// The tracked behaviour's value in this call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracked: Option<f64>,
}

/// The rep's one micro-behaviour over the last [`CALL_DAYS`], against their own earlier calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trend {
    /// The behaviour the playbook tracks (`questions per call`).
    pub behaviour: String,
    /// Its mean over the calls of the window's first half.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub earlier: Option<f64>,
    /// Its mean over the calls of the window's second half.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent: Option<f64>,
    /// In words, against the rep's own earlier calls only.
    pub said: String,
}

/// The rep's calls and their trend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calls {
    /// The calls of the last [`CALL_DAYS`], oldest first.
    pub calls: Vec<CallLine>,
    /// The tracked behaviour's trend.
    pub trend: Trend,
}

/// A section the rep may share, and whether they do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharingChoice {
    /// The section.
    pub section: Section,
    /// What sharing it shows, in words.
    pub label: String,
    /// Whether the rep shares it now.
    pub shared: bool,
}

/// The rep's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepPage {
    /// The rep's CRM.
    pub crm: Crm,
    /// The rep's CRM user id.
    pub rep: String,
    /// The rep's name, when a delivery kept it ([`crate::people`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// When the link it was opened with stops working (the next notice brings a new one).
    #[serde(with = "time::serde::rfc3339")]
    pub link_expires: OffsetDateTime,
    /// The latest scorecard of each open record the rep owns, newest first.
    pub deals: Vec<DealCard>,
    /// The rep's handoffs of the last [`HANDOFF_DAYS`], newest first, with the AEs' verdicts.
    pub handoffs: Vec<HandoffLine>,
    /// The rep's deals the last sweep found stale, and why.
    pub stale: Vec<StaleDeal>,
    /// The rep's calls and their tracked behaviour.
    pub calls: Calls,
    /// What the rep shares with their manager, section by section.
    pub sharing: Vec<SharingChoice>,
    /// What none of this measures.
    pub not_measured: Vec<String>,
}

/// The page of `link`'s rep at `now`, under `playbook`, from `db`.
pub async fn gather(
    db: &impl Database,
    link: &RepLink,
    playbook: &Playbook,
    now: OffsetDateTime,
) -> Result<RepPage, Error> {
    let (crm, rep) = (link.crm, link.rep.as_str());
    let shared = sharing::shared_by(db, crm, rep).await?;
    let mut not_measured: Vec<String> = playbook.not_measured.clone();
    not_measured.extend(NOT_MEASURED.iter().map(|s| (*s).to_owned()));
    Ok(RepPage {
        crm,
        rep: rep.to_owned(),
        name: crate::people::sql::name_of(db, crm, rep).await?,
        generated_at: now,
        link_expires: link.expires,
        deals: kept::cards(db, crm, rep).await?,
        handoffs: handoffs(db, crm, rep, playbook, now).await?,
        stale: kept::stale(db, crm, rep).await?,
        calls: calls(db, crm, rep, playbook, now).await?,
        sharing: Section::ALL
            .into_iter()
            .map(|section| SharingChoice {
                section,
                label: section.label().to_owned(),
                shared: shared.contains(&section),
            })
            .collect(),
        not_measured,
    })
}

fn at(value: &SqlValue, what: &str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(integer(value)).map_err(|_| corrupt(what))
}

async fn handoffs(
    db: &impl Database,
    crm: Crm,
    rep: &str,
    playbook: &Playbook,
    now: OffsetDateTime,
) -> Result<Vec<HandoffLine>, Error> {
    let rows = db
        .execute(
            "SELECT h.key, h.deal_id, h.deal_name, h.at, h.status, h.rule, h.score, h.threshold, \
             h.dimensions, v.verdict, v.reason FROM pg_handoffs h \
             LEFT JOIN pg_verdicts v ON v.handoff_key = h.key \
             WHERE h.crm = ? AND h.bdr = ? AND h.at >= ? \
             ORDER BY h.at DESC, h.key, v.at DESC LIMIT ?",
            vec![
                crm.name().into(),
                rep.into(),
                (now - Duration::days(HANDOFF_DAYS)).unix_timestamp().into(),
                // Several verdicts on one handoff read as several rows: room for them.
                SqlValue::Integer(MAX_HANDOFFS * 4),
            ],
        )
        .await?;
    let mut lines: Vec<(String, HandoffLine)> = Vec::new();
    for row in rows {
        let [
            key,
            deal,
            name,
            when,
            status,
            rule,
            score,
            threshold,
            dims,
            verdict,
            reason,
        ] = columns(row)?;
        let key = text(&key)?;
        // The latest verdict comes first; a handoff is listed once.
        if lines.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let dims: Vec<DimensionSnapshot> =
            serde_json::from_str(&text(&dims)?).map_err(|_| corrupt("pg_handoffs.dimensions"))?;
        let line = HandoffLine {
            deal_id: text(&deal)?,
            deal_name: optional_text(&name),
            at: at(&when, "pg_handoffs.at")?,
            status: text(&status)?,
            rule: text(&rule)?,
            score: u8::try_from(integer(&score)).unwrap_or(0),
            threshold: u8::try_from(integer(&threshold)).unwrap_or(0),
            missing: dims
                .iter()
                .filter(|d| d.status != Status::Green)
                .map(|d| {
                    playbook
                        .dimension(&d.key)
                        .map_or_else(|| d.key.clone(), |known| known.name.clone())
                })
                .collect(),
            verdict: optional_text(&verdict),
            reason: optional_text(&reason).filter(|r| !r.trim().is_empty()),
        };
        lines.push((key, line));
        if lines.len() as i64 == MAX_HANDOFFS {
            break;
        }
    }
    Ok(lines.into_iter().map(|(_, line)| line).collect())
}

async fn calls(
    db: &impl Database,
    crm: Crm,
    rep: &str,
    playbook: &Playbook,
    now: OffsetDateTime,
) -> Result<Calls, Error> {
    let since = now - Duration::days(CALL_DAYS);
    let rows = db
        .execute(
            "SELECT call_id, at, talk_share, questions, next_step_agreed, outlier, tracked \
             FROM pg_calls WHERE crm = ? AND rep = ? AND at >= ? AND at <= ? \
             ORDER BY at, call_id",
            vec![
                crm.name().into(),
                rep.into(),
                since.unix_timestamp().into(),
                now.unix_timestamp().into(),
            ],
        )
        .await?;
    let real = |v: &SqlValue| match v {
        SqlValue::Real(x) => Some(*x),
        SqlValue::Integer(n) => Some(*n as f64),
        _ => None,
    };
    let mut calls = Vec::new();
    for row in rows {
        let [id, when, talk, questions, next, outlier, tracked] = columns(row)?;
        calls.push(CallLine {
            call_id: text(&id)?,
            at: at(&when, "pg_calls.at")?,
            talk_share: real(&talk).unwrap_or(0.0),
            questions: u32::try_from(integer(&questions)).unwrap_or(0),
            next_step_agreed: real(&next).map(|n| n != 0.0),
            outlier: integer(&outlier) != 0,
            tracked: real(&tracked),
        });
    }
    let trend = trend(
        playbook.conversation.tracked.label(),
        &calls,
        now - Duration::days(CALL_DAYS / 2),
    );
    Ok(Calls { calls, trend })
}

/// The tracked behaviour over `calls`: its mean before `middle` against its mean since, the
/// rep's own calls only.
pub fn trend(behaviour: &str, calls: &[CallLine], middle: OffsetDateTime) -> Trend {
    let mean = |values: Vec<f64>| {
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let values = |recent: bool| {
        calls
            .iter()
            .filter(|c| (c.at >= middle) == recent)
            .filter_map(|c| c.tracked)
            .collect::<Vec<_>>()
    };
    let (earlier, recent) = (mean(values(false)), mean(values(true)));
    let one = |x: f64| format!("{}", (x * 10.0).round() / 10.0);
    let said = match (earlier, recent) {
        (None, None) => format!(
            "No call of yours kept in the last {CALL_DAYS} days: your {behaviour} shows here once a recorder posts your calls."
        ),
        (Some(before), None) => format!(
            "Your {behaviour}: {} in the first half of the last {CALL_DAYS} days; no call since.",
            one(before)
        ),
        (None, Some(now)) => format!(
            "Your {behaviour}: {} over your calls of the last {} days; the trend shows once you have calls in both halves of {CALL_DAYS} days.",
            one(now),
            CALL_DAYS / 2
        ),
        (Some(before), Some(now)) => format!(
            "Your {behaviour}: {} over your last {} days, against {} in the {} days before (your own calls only).",
            one(now),
            CALL_DAYS / 2,
            one(before),
            CALL_DAYS / 2
        ),
    };
    Trend {
        behaviour: behaviour.to_owned(),
        earlier,
        recent,
        said,
    }
}
