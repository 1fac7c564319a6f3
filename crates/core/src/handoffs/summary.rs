//! Each BDR's weekly summary of their own handoffs: reps see their figures before any manager
//! does ([`crate::playbook::Rollout`]).
//!
//! A summary covers one whole week (Monday to Sunday) of one BDR's handoffs in one CRM: how many
//! were attempted, blocked and validated, what the AEs made of them, what was missing most often
//! (with the question to ask for each), and which deals the AEs rejected and why. It reaches the
//! BDR as a task of their own, on no deal (the deal they last handed off may be the AE's by then;
//! in shadow mode, a note on that deal). Each BDR gets
//! one per week however often the summaries are asked for: a summary is claimed in the log before
//! it is written, marked sent after, and a failed one is let go for the next call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::{
    report::{Counts, counts, week_of, week_start},
    sql::SqlHandoffs,
};
use crate::{
    Error,
    crm_id::Crm,
    mode::Mode,
    model::RecordKind,
    playbook::Playbook,
    ports::{Database, SqlValue},
    statement::{columns, count_where, integer, optional_text, placeholders, text},
    writeback::{Notice, Priority, WriteBack},
};

/// How long a claimed summary waits before another call may take it over (its writer crashed).
const CLAIM_SECONDS: i64 = 15 * 60;

/// The most rejected deals one summary lists.
const MAX_REJECTIONS_LISTED: usize = 10;

/// One BDR's week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdrSummary {
    /// The BDR's CRM user id.
    pub bdr: String,
    /// The week's Monday.
    pub week_start: Date,
    /// Their handoffs' counts.
    pub counts: Counts,
    /// The dimensions their handoffs lacked, most often first: key and count.
    pub missing: Vec<(String, u64)>,
    /// The deals AEs rejected: deal name (or id) and reason.
    pub rejected: Vec<(String, String)>,
    /// The deal the summary is left on (their last handoff of the week).
    pub deal_id: String,
}

/// What a call for summaries did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SummaryRun {
    /// The week summarised (its Monday).
    pub week_start: Option<Date>,
    /// BDRs with handoffs that week.
    pub bdrs: usize,
    /// Summaries written by this call.
    pub sent: usize,
    /// Summaries sent earlier, or being sent by another call.
    pub already_sent: usize,
    /// Summaries that failed, with why (they are tried again on the next call).
    pub failed: Vec<String>,
}

/// The last whole week before `now`: its index.
pub fn last_week(now: OffsetDateTime) -> i64 {
    week_of(now.unix_timestamp()) - 1
}

/// The index of the week `day` falls in.
pub fn week_containing(day: Date) -> i64 {
    week_of(day.midnight().assume_utc().unix_timestamp())
}

impl<D: Database> SqlHandoffs<D> {
    /// Every BDR's summary of week `week` in `crm`.
    pub async fn summaries(&self, crm: Crm, week: i64) -> Result<Vec<BdrSummary>, Error> {
        let from = week_start(week).midnight().assume_utc().unix_timestamp();
        let range = |extra: &str| {
            (
                format!("crm = ? AND bdr IS NOT NULL AND at >= ? AND at < ?{extra}"),
                vec![
                    SqlValue::from(crm.name()),
                    from.into(),
                    (from + 7 * 86_400).into(),
                ],
            )
        };
        let (filter, params) = range("");
        let sql = format!(
            "SELECT bdr, COUNT(*), {blocked}, {would_block}, {validated}, {accepted}, {rejected}, \
             {unreadable}, \
             (SELECT deal_id FROM pg_handoffs l WHERE l.crm = h.crm AND l.bdr = h.bdr \
              AND l.at >= ? AND l.at < ? ORDER BY l.at DESC, l.key DESC LIMIT 1) \
             FROM pg_handoffs h WHERE {filter} GROUP BY crm, bdr ORDER BY bdr",
            blocked = count_where("status = 'blocked'"),
            would_block = count_where("status = 'would_block'"),
            validated = count_where("status = 'validated'"),
            accepted = count_where("verdict = 'accepted'"),
            rejected = count_where("verdict = 'rejected'"),
            unreadable = count_where("verdict = 'unreadable'"),
        );
        let mut all = vec![SqlValue::from(from), (from + 7 * 86_400).into()];
        all.extend(params);
        let mut summaries: BTreeMap<String, BdrSummary> = BTreeMap::new();
        for row in self.db.execute(&sql, all).await? {
            let bdr = row.first().map(text).transpose()?.unwrap_or_default();
            let deal_id = row.get(8).and_then(optional_text).unwrap_or_default();
            summaries.insert(
                bdr.clone(),
                BdrSummary {
                    bdr,
                    week_start: week_start(week),
                    counts: counts(&row[1..8]),
                    missing: Vec::new(),
                    rejected: Vec::new(),
                    deal_id,
                },
            );
        }
        let (filter, params) = range("");
        let sql = format!(
            "SELECT bdr, dimension, COUNT(*) AS n FROM pg_handoff_gaps WHERE {filter} \
             GROUP BY bdr, dimension ORDER BY bdr, n DESC, dimension"
        );
        for row in self.db.execute(&sql, params).await? {
            let [bdr, dimension, n] = columns(row)?;
            if let Some(summary) = summaries.get_mut(&text(&bdr)?) {
                summary
                    .missing
                    .push((text(&dimension)?, integer(&n).max(0) as u64));
            }
        }
        let (filter, params) = range(" AND verdict = 'rejected'");
        let sql = format!(
            "SELECT bdr, COALESCE(deal_name, deal_id), COALESCE(reason, 'no reason given') \
             FROM pg_handoffs WHERE {filter} ORDER BY bdr, at"
        );
        for row in self.db.execute(&sql, params).await? {
            let [bdr, deal, reason] = columns(row)?;
            if let Some(summary) = summaries.get_mut(&text(&bdr)?)
                && summary.rejected.len() < MAX_REJECTIONS_LISTED
            {
                summary.rejected.push((text(&deal)?, text(&reason)?));
            }
        }
        Ok(summaries.into_values().collect())
    }

    /// Claim the summaries of `bdrs` for week `week`: those nobody has sent or is sending. A
    /// claim older than [`CLAIM_SECONDS`] whose summary was never marked sent is taken over.
    pub async fn claim_summaries(
        &self,
        crm: Crm,
        week: i64,
        bdrs: &[&str],
        now: OffsetDateTime,
    ) -> Result<Vec<String>, Error> {
        if bdrs.is_empty() {
            return Ok(Vec::new());
        }
        let now = now.unix_timestamp();
        let mut params = Vec::with_capacity(bdrs.len() * 4 + 1);
        for bdr in bdrs {
            params.extend([
                SqlValue::from(crm.name()),
                (*bdr).into(),
                week.into(),
                now.into(),
            ]);
        }
        params.push((now - CLAIM_SECONDS).into());
        let sql = format!(
            "INSERT INTO pg_summaries (crm, bdr, week, state, at) VALUES {} \
             ON CONFLICT (crm, bdr, week) DO UPDATE SET at = excluded.at \
             WHERE pg_summaries.state = 'sending' AND pg_summaries.at < ? RETURNING bdr",
            vec!["(?, ?, ?, 'sending', ?)"; bdrs.len()].join(", ")
        );
        let rows = self.db.execute(&sql, params).await?;
        rows.iter()
            .map(|row| row.first().map_or_else(|| Ok(String::new()), text))
            .collect()
    }

    /// Mark `bdrs`' summaries of week `week`, claimed at `claimed_at`, sent. A claim another
    /// call took over since (its time differs) is left to that call.
    pub async fn summaries_sent(
        &self,
        crm: Crm,
        week: i64,
        bdrs: &[&str],
        claimed_at: OffsetDateTime,
    ) -> Result<(), Error> {
        let change = "UPDATE pg_summaries SET state = 'sent'";
        self.set_summaries(crm, week, bdrs, claimed_at, change)
            .await
    }

    /// Let go of `bdrs`' summaries of week `week` claimed at `claimed_at`, for the next call.
    pub async fn release_summaries(
        &self,
        crm: Crm,
        week: i64,
        bdrs: &[&str],
        claimed_at: OffsetDateTime,
    ) -> Result<(), Error> {
        let change = "DELETE FROM pg_summaries";
        self.set_summaries(crm, week, bdrs, claimed_at, change)
            .await
    }

    async fn set_summaries(
        &self,
        crm: Crm,
        week: i64,
        bdrs: &[&str],
        claimed_at: OffsetDateTime,
        change: &str,
    ) -> Result<(), Error> {
        if bdrs.is_empty() {
            return Ok(());
        }
        let mut params = vec![
            SqlValue::from(crm.name()),
            week.into(),
            claimed_at.unix_timestamp().into(),
        ];
        params.extend(bdrs.iter().map(|b| SqlValue::from(*b)));
        let sql = format!(
            "{change} WHERE crm = ? AND week = ? AND state = 'sending' AND at = ? AND bdr IN ({})",
            placeholders(bdrs.len())
        );
        self.db.execute(&sql, params).await.map(drop)
    }
}

impl BdrSummary {
    /// What carries the summary to the BDR: their own task on no deal, or in `shadow` mode
    /// (which assigns no task) a note on the deal they last handed off.
    pub fn write_back(&self, playbook: &Playbook, mode: Mode) -> WriteBack {
        let c = &self.counts;
        let mut lines = vec![
            format!(
                "Your handoffs in the week of {}: {} attempted, {} validated, {} blocked{}.",
                self.week_start,
                c.attempted,
                c.validated,
                c.blocked,
                if c.would_block > 0 {
                    format!(", {} would have been blocked (shadow mode)", c.would_block)
                } else {
                    String::new()
                }
            ),
            format!(
                "AEs accepted {} and rejected {} of them so far.",
                c.accepted, c.rejected
            ),
        ];
        if !self.missing.is_empty() {
            lines.push(String::new());
            lines.push("Missing most often, and what to ask the buyer:".to_owned());
            for (key, n) in self.missing.iter().take(3) {
                let (name, question) = playbook.dimension(key).map_or_else(
                    || (key.clone(), String::new()),
                    |d| (d.name.clone(), format!(": {}", d.question)),
                );
                lines.push(format!("- {name}, in {n} of {}{question}", c.attempted));
            }
        }
        if !self.rejected.is_empty() {
            lines.push(String::new());
            lines.push("What AEs rejected:".to_owned());
            for (deal, reason) in &self.rejected {
                lines.push(format!("- {deal}: {reason}"));
            }
        }
        lines.push(String::new());
        lines.push(format!(
            "This summary is for you. The team's handoff report shows figures per BDR only {} (sorted by name, never ranked).",
            playbook.rollout.schedule()
        ));
        lines.push(
            "Not measured: relationship work, and champion activity between calls.".to_owned(),
        );
        let title = format!("Your handoffs, week of {}", self.week_start);
        let body = lines.join("\n");
        match mode {
            // The rep's own task, on no deal: the deal they last handed off may be the AE's now.
            Mode::Enforce => {
                WriteBack::personal_task(self.bdr.clone(), title, body, Priority::Normal)
            }
            // Shadow mode assigns no task: a note, on the deal they last handed off.
            Mode::Shadow => WriteBack {
                record_kind: RecordKind::Deal,
                record_id: self.deal_id.clone(),
                fields: BTreeMap::new(),
                move_to_stage: None,
                move_only_from: None,
                notices: vec![Notice::note(Some(self.bdr.clone()), title, body)],
                personal: false,
            },
        }
    }
}
