//! The coaching report: what became of the team's handoffs, week by week, and what to coach.
//!
//! Built for the people it is about: team totals always; figures per BDR only from the playbook's
//! `[rollout] manager_view_from`, sorted by the BDR, each with the one dimension to coach next,
//! never a rank or a score per rep; and what the figures do not measure, said on the report.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use super::sql::SqlHandoffs;
use crate::{
    Error,
    playbook::Playbook,
    ports::{Database, SqlValue},
    statement::{columns, integer, optional_text, text},
};

/// The longest window a report covers, in weeks (two years).
pub const MAX_WEEKS: u32 = 104;

/// What the handoff figures cannot see, said on every report.
pub const NOT_MEASURED: &[&str] = &[
    "relationship work: the trust a BDR builds with the buyer before the handoff",
    "champion activity between calls",
    "whether a rejected deal later came back, or an accepted one closed",
];

/// What a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportQuery {
    /// Whole weeks back from the current one (1..=[`MAX_WEEKS`]).
    pub weeks: u32,
    /// Only this CRM's handoffs (`hubspot`), or all.
    pub crm: Option<String>,
}

impl Default for ReportQuery {
    fn default() -> Self {
        ReportQuery {
            weeks: 52,
            crm: None,
        }
    }
}

/// Counts of handoffs and of the AEs' verdicts on them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Handoff attempts.
    pub attempted: u64,
    /// Blocked by the gate (enforce mode).
    pub blocked: u64,
    /// Would have been blocked (shadow mode).
    pub would_block: u64,
    /// Validated by the gate.
    pub validated: u64,
    /// Accepted by the AE.
    pub accepted: u64,
    /// Rejected by the AE.
    pub rejected: u64,
    /// Verdicts the AE set to a value outside the configured lists.
    pub unreadable: u64,
}

/// Counts from the [`COUNTS`] columns of a row.
pub(crate) fn counts_from_row(values: &[SqlValue]) -> Counts {
    Counts::from_row(values)
}

impl Counts {
    fn from_row(values: &[SqlValue]) -> Counts {
        let n = |i: usize| values.get(i).map_or(0, integer).max(0) as u64;
        Counts {
            attempted: n(0),
            blocked: n(1),
            would_block: n(2),
            validated: n(3),
            accepted: n(4),
            rejected: n(5),
            unreadable: n(6),
        }
    }

    fn add(&mut self, other: &Counts) {
        self.attempted += other.attempted;
        self.blocked += other.blocked;
        self.would_block += other.would_block;
        self.validated += other.validated;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.unreadable += other.unreadable;
    }

    /// The share of readable verdicts that were rejections; `None` before any verdict.
    pub fn rejection_rate(&self) -> Option<f64> {
        let decided = self.accepted + self.rejected;
        (decided > 0).then(|| self.rejected as f64 / decided as f64)
    }
}

/// One week of handoffs (by when the handoff was made).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Week {
    /// Its Monday.
    pub week_start: Date,
    /// Its counts.
    #[serde(flatten)]
    pub counts: Counts,
}

/// A dimension and how often handoffs lacked it (red or yellow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MissingDimension {
    /// The dimension's key.
    pub dimension: String,
    /// Its name, from the playbook in force (the key when it has no such dimension any more).
    pub name: String,
    /// Handoffs that lacked it.
    pub count: u64,
    /// Their share of all handoff attempts.
    pub share: f64,
}

/// A rejection reason and how often AEs gave it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectionReason {
    /// The reason (`not given` when the AE gave none).
    pub reason: String,
    /// How many rejections gave it.
    pub count: u64,
}

/// For one threshold: how many handoffs it validated that the AE later rejected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdRow {
    /// The threshold in force when the handoffs were validated.
    pub threshold: u8,
    /// Handoffs validated under it.
    pub validated: u64,
    /// Of those, accepted by the AE.
    pub accepted: u64,
    /// Of those, rejected by the AE.
    pub rejected_later: u64,
    /// `rejected_later` over the verdicts given; `None` before any.
    pub rejection_rate: Option<f64>,
}

/// One BDR's figures, shown once the manager view is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BdrRow {
    /// The BDR's CRM user id (`unknown` for handoffs whose BDR the CRM did not say).
    pub bdr: String,
    /// Their handoffs' counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// The dimension their handoffs lacked most often: the one to coach next.
    pub coach_next: Option<String>,
}

/// Figures per BDR, or why there are none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "view", rename_all = "snake_case")]
pub enum PerBdr {
    /// Team totals only, until the rollout date (reps see their own figures first).
    Hidden {
        /// The first day per-BDR rows show; none when the playbook sets no date.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<Date>,
        /// Why, in words.
        why: String,
    },
    /// One row per BDR, sorted by BDR (never by a figure).
    Shown {
        /// The rows.
        rows: Vec<BdrRow>,
    },
}

/// The coaching report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The first day covered (a Monday).
    pub from: Date,
    /// The last day covered (today).
    pub to: Date,
    /// The CRM it covers, or all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<String>,
    /// The handoff threshold in force now.
    pub threshold: u8,
    /// Every handoff in the window.
    pub totals: Counts,
    /// Rejected over accepted + rejected.
    pub rejection_rate: Option<f64>,
    /// The median time from handoff to the AE's verdict, in hours.
    pub median_hours_to_verdict: Option<f64>,
    /// Verdicts on deals with no handoff record.
    pub verdicts_without_handoff: u64,
    /// Week by week, oldest first (weeks without a handoff included).
    pub weeks: Vec<Week>,
    /// The dimensions handoffs lacked, most often first.
    pub missing_dimensions: Vec<MissingDimension>,
    /// The AEs' reasons for rejecting, most common first.
    pub rejection_reasons: Vec<RejectionReason>,
    /// Per threshold: validated handoffs later rejected.
    pub thresholds: Vec<ThresholdRow>,
    /// Figures per BDR, from the rollout date.
    pub per_bdr: PerBdr,
    /// What these figures do not measure.
    pub not_measured: Vec<String>,
}

/// Seconds from the Unix epoch to Monday 1970-01-05, the first week's start.
const FIRST_MONDAY: i64 = 4 * 86_400;
const WEEK: i64 = 7 * 86_400;

/// The week `at` (Unix seconds) falls in, as its index since 1970-01-05.
pub(crate) fn week_of(at: i64) -> i64 {
    (at - FIRST_MONDAY).div_euclid(WEEK)
}

/// The Monday of week `index`.
pub(crate) fn week_start(index: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(FIRST_MONDAY + index * WEEK)
        .map_or(Date::MIN, OffsetDateTime::date)
}

/// The counts' columns, over `pg_handoffs` rows.
const COUNTS: &str = "COUNT(*), SUM(status = 'blocked'), SUM(status = 'would_block'), \
     SUM(status = 'validated'), SUM(verdict = 'accepted'), SUM(verdict = 'rejected'), \
     SUM(verdict = 'unreadable')";

impl<D: Database> SqlHandoffs<D> {
    /// The report for `query` at `now`, under `playbook` (its rollout date, threshold and
    /// dimension names).
    pub async fn report(
        &self,
        query: &ReportQuery,
        playbook: &Playbook,
        now: OffsetDateTime,
    ) -> Result<Report, Error> {
        let weeks = i64::from(query.weeks.clamp(1, MAX_WEEKS));
        let this_week = week_of(now.unix_timestamp());
        let first = this_week - weeks + 1;
        let window = Window {
            from: FIRST_MONDAY + first * WEEK,
            crm: query.crm.clone(),
        };
        let by_week = self.weeks(&window).await?;
        let mut totals = Counts::default();
        let weeks: Vec<Week> = (first..=this_week)
            .map(|index| {
                let counts = by_week
                    .iter()
                    .find(|(w, _)| *w == index)
                    .map(|(_, c)| *c)
                    .unwrap_or_default();
                totals.add(&counts);
                Week {
                    week_start: week_start(index),
                    counts,
                }
            })
            .collect();
        let per_bdr = if playbook.rollout.manager_view_open(now) {
            PerBdr::Shown {
                rows: self.per_bdr(&window, playbook).await?,
            }
        } else {
            let from = playbook.rollout.manager_view_from;
            PerBdr::Hidden {
                from,
                why: match from {
                    Some(date) => format!(
                        "Team totals only until {date} ([rollout] manager_view_from): each BDR sees their own weekly summary first."
                    ),
                    None => "Team totals only: the playbook sets no [rollout] manager_view_from, so figures per BDR are never shown.".to_owned(),
                },
            }
        };
        Ok(Report {
            generated_at: now,
            from: week_start(first),
            to: now.date(),
            crm: query.crm.clone(),
            threshold: playbook.handoff.threshold,
            rejection_rate: totals.rejection_rate(),
            median_hours_to_verdict: self
                .median_seconds_to_verdict(&window, totals.accepted + totals.rejected)
                .await?
                .map(|s| (s / 360.0).round() / 10.0),
            verdicts_without_handoff: self.verdicts_without_handoff(&window).await?,
            weeks,
            missing_dimensions: self.missing(&window, playbook, totals.attempted).await?,
            rejection_reasons: self.reasons(&window).await?,
            thresholds: self.thresholds(&window).await?,
            totals,
            per_bdr,
            not_measured: NOT_MEASURED.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    async fn weeks(&self, window: &Window) -> Result<Vec<(i64, Counts)>, Error> {
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT (at - {FIRST_MONDAY}) / {WEEK} AS week, {COUNTS} FROM pg_handoffs \
             WHERE {filter} GROUP BY week"
        );
        let rows = self.db.execute(&sql, params).await?;
        Ok(rows
            .iter()
            .map(|row| {
                let week = row.first().map_or(0, integer);
                (week, Counts::from_row(&row[1..]))
            })
            .collect())
    }

    async fn median_seconds_to_verdict(
        &self,
        window: &Window,
        verdicts: u64,
    ) -> Result<Option<f64>, Error> {
        if verdicts == 0 {
            return Ok(None);
        }
        let (filter, mut params) = window.filter();
        // The middle row, or the two middle rows of an even count.
        let (offset, take) = ((verdicts - 1) / 2, 2 - verdicts % 2);
        let sql = format!(
            "SELECT verdict_at - at AS waited FROM pg_handoffs WHERE {filter} \
             AND verdict IN ('accepted', 'rejected') AND verdict_at IS NOT NULL \
             ORDER BY waited LIMIT ? OFFSET ?"
        );
        params.extend([(take as i64).into(), (offset as i64).into()]);
        let rows = self.db.execute(&sql, params).await?;
        let waited: Vec<f64> = rows
            .iter()
            .map(|row| row.first().map_or(0, integer) as f64)
            .collect();
        Ok((!waited.is_empty()).then(|| waited.iter().sum::<f64>() / waited.len() as f64))
    }

    async fn verdicts_without_handoff(&self, window: &Window) -> Result<u64, Error> {
        let (filter, params) = window.filter();
        let sql =
            format!("SELECT COUNT(*) FROM pg_verdicts WHERE {filter} AND handoff_key IS NULL");
        let rows = self.db.execute(&sql, params).await?;
        Ok(rows
            .first()
            .and_then(|row| row.first())
            .map_or(0, integer)
            .max(0) as u64)
    }

    async fn missing(
        &self,
        window: &Window,
        playbook: &Playbook,
        attempted: u64,
    ) -> Result<Vec<MissingDimension>, Error> {
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT dimension, COUNT(*) AS n FROM pg_handoff_gaps WHERE {filter} \
             GROUP BY dimension ORDER BY n DESC, dimension"
        );
        let mut missing = Vec::new();
        for row in self.db.execute(&sql, params).await? {
            let [dimension, count] = columns(row)?;
            let dimension = text(&dimension)?;
            let count = integer(&count).max(0) as u64;
            missing.push(MissingDimension {
                name: dimension_name(playbook, &dimension),
                dimension,
                count,
                share: if attempted == 0 {
                    0.0
                } else {
                    count as f64 / attempted as f64
                },
            });
        }
        Ok(missing)
    }

    async fn reasons(&self, window: &Window) -> Result<Vec<RejectionReason>, Error> {
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT COALESCE(reason, 'not given') AS why, COUNT(*) AS n FROM pg_handoffs \
             WHERE {filter} AND verdict = 'rejected' GROUP BY why ORDER BY n DESC, why"
        );
        let mut reasons = Vec::new();
        for row in self.db.execute(&sql, params).await? {
            let [reason, count] = columns(row)?;
            reasons.push(RejectionReason {
                reason: text(&reason)?,
                count: integer(&count).max(0) as u64,
            });
        }
        Ok(reasons)
    }

    async fn thresholds(&self, window: &Window) -> Result<Vec<ThresholdRow>, Error> {
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT threshold, COUNT(*), SUM(verdict = 'accepted'), SUM(verdict = 'rejected') \
             FROM pg_handoffs WHERE {filter} AND status = 'validated' \
             GROUP BY threshold ORDER BY threshold"
        );
        let mut thresholds = Vec::new();
        for row in self.db.execute(&sql, params).await? {
            let [threshold, validated, accepted, rejected] = columns(row)?;
            let (accepted, rejected) = (
                integer(&accepted).max(0) as u64,
                integer(&rejected).max(0) as u64,
            );
            thresholds.push(ThresholdRow {
                threshold: u8::try_from(integer(&threshold)).unwrap_or(u8::MAX),
                validated: integer(&validated).max(0) as u64,
                accepted,
                rejected_later: rejected,
                rejection_rate: (accepted + rejected > 0)
                    .then(|| rejected as f64 / (accepted + rejected) as f64),
            });
        }
        Ok(thresholds)
    }

    async fn per_bdr(&self, window: &Window, playbook: &Playbook) -> Result<Vec<BdrRow>, Error> {
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT COALESCE(bdr, 'unknown') AS who, {COUNTS} FROM pg_handoffs WHERE {filter} \
             GROUP BY who ORDER BY who"
        );
        let mut rows: Vec<BdrRow> = self
            .db
            .execute(&sql, params)
            .await?
            .iter()
            .map(|row| BdrRow {
                bdr: row.first().and_then(optional_text).unwrap_or_default(),
                counts: Counts::from_row(&row[1..]),
                coach_next: None,
            })
            .collect();
        let (filter, params) = window.filter();
        let sql = format!(
            "SELECT COALESCE(bdr, 'unknown') AS who, dimension, COUNT(*) AS n FROM pg_handoff_gaps \
             WHERE {filter} GROUP BY who, dimension ORDER BY who, n DESC, dimension"
        );
        for row in self.db.execute(&sql, params).await? {
            let [who, dimension, _] = columns(row)?;
            let (who, dimension) = (text(&who)?, text(&dimension)?);
            if let Some(row) = rows.iter_mut().find(|r| r.bdr == who)
                && row.coach_next.is_none()
            {
                row.coach_next = Some(dimension_name(playbook, &dimension));
            }
        }
        Ok(rows)
    }
}

/// The rows a report reads: from a time on, of one CRM or all.
struct Window {
    from: i64,
    crm: Option<String>,
}

impl Window {
    /// The `WHERE` condition and its parameters.
    fn filter(&self) -> (String, Vec<SqlValue>) {
        let mut params = vec![SqlValue::Integer(self.from)];
        let mut filter = "at >= ?".to_owned();
        if let Some(crm) = &self.crm {
            filter.push_str(" AND crm = ?");
            params.push(crm.as_str().into());
        }
        (filter, params)
    }
}

/// The name reps know a dimension by.
fn dimension_name(playbook: &Playbook, key: &str) -> String {
    playbook
        .dimension(key)
        .map_or_else(|| key.to_owned(), |d| d.name.clone())
}
