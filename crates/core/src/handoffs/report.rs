//! The coaching report: what became of the team's handoffs, week by week, and what to coach.
//!
//! Built for the people it is about: team totals always; figures per BDR only once the rollout
//! unlocks them (before that, a BDR's row only while that BDR shares it), sorted by name,
//! each with the one dimension to coach next, never a rank or a score per rep; and what the
//! figures do not measure, said on the report.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use std::collections::BTreeMap;

use super::sql::SqlHandoffs;
use crate::{
    Error,
    people::{by_name, sql::kept_names},
    playbook::{Playbook, rollout::PerRep},
    ports::{Database, SqlValue},
    rep_page::sharing::{self, Section},
    statement::{integer, text},
};

/// Seconds from the Unix epoch to Monday 1970-01-05, the first week's start.
const FIRST_MONDAY: i64 = 4 * 86_400;
/// Seconds in a week.
const WEEK: i64 = 7 * 86_400;

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

impl Counts {
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
    /// The BDR's name, when a delivery kept it ([`crate::people`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their handoffs' counts.
    #[serde(flatten)]
    pub counts: Counts,
    /// The dimension their handoffs lacked most often: the one to coach next.
    pub coach_next: Option<String>,
}

/// Figures per BDR, or why there are none.
pub type PerBdr = PerRep<BdrRow>;

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
    /// The share of validated handoffs whose AE gave a verdict within 24 hours (the bar of
    /// high-performing teams); `None` before any handoff was validated.
    pub verdicts_within_24h: Option<f64>,
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

/// The week `at` (Unix seconds) falls in, as its index since 1970-01-05.
pub(crate) fn week_of(at: i64) -> i64 {
    (at - FIRST_MONDAY).div_euclid(WEEK)
}

/// The Monday of week `index`.
pub(crate) fn week_start(index: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(FIRST_MONDAY + index * WEEK)
        .map_or(Date::MIN, OffsetDateTime::date)
}

impl<D: Database> SqlHandoffs<D> {
    /// The report for `query` at `now`, under `playbook` (its rollout date, threshold and
    /// dimension names), summed from the weekly counts the database keeps ([`super::rollup`]).
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
            first,
            last: this_week,
            crm: query.crm.clone(),
        };
        let by_week: BTreeMap<i64, Counts> = self
            .sum(&window, "pg_roll_bdrs", "week", COUNTS)
            .await?
            .into_iter()
            .map(|(key, n)| (integer(&key[0]), counts(&n)))
            .collect();
        let mut totals = Counts::default();
        let weeks: Vec<Week> = (first..=this_week)
            .map(|index| {
                let counts = by_week.get(&index).copied().unwrap_or_default();
                totals.add(&counts);
                Week {
                    week_start: week_start(index),
                    counts,
                }
            })
            .collect();
        let started = crate::install::first_decision(&self.db).await?;
        let sharers = sharing::sharers(&self.db, Section::Handoffs).await?;
        let visibility = playbook.rollout.per_rep(
            now,
            started,
            "BDR",
            "each BDR sees their own weekly summary first",
            &sharers,
        );
        let rows = self
            .per_bdr(&window, playbook, |crm, bdr| visibility.shows(crm, bdr))
            .await?;
        let per_bdr = visibility.view(rows);
        let waits = self
            .sum(&window, "pg_roll_waits", "hours", "SUM(n)")
            .await?;
        let orphans = self
            .sum(&window, "pg_roll_orphans", "crm", "SUM(n)")
            .await?;
        Ok(Report {
            generated_at: now,
            from: week_start(first),
            to: now.date(),
            crm: query.crm.clone(),
            threshold: playbook.handoff.threshold,
            rejection_rate: totals.rejection_rate(),
            median_hours_to_verdict: median_hours(
                waits
                    .iter()
                    .map(|(key, n)| (integer(&key[0]), count(&n[0]))),
            ),
            verdicts_within_24h: within_a_day(
                waits
                    .iter()
                    .map(|(key, n)| (integer(&key[0]), count(&n[0]))),
                totals.validated,
            ),
            verdicts_without_handoff: orphans.iter().map(|(_, n)| count(&n[0])).sum(),
            weeks,
            missing_dimensions: self.missing(&window, playbook, totals.attempted).await?,
            rejection_reasons: self.reasons(&window).await?,
            thresholds: self.thresholds(&window).await?,
            totals,
            per_bdr,
            not_measured: NOT_MEASURED.iter().map(|s| (*s).to_owned()).collect(),
        })
    }

    /// `sums` of `table` over the window, grouped by `by` (comma-separated columns): each row's
    /// group columns and its sums.
    async fn sum(
        &self,
        window: &Window,
        table: &str,
        by: &str,
        sums: &str,
    ) -> Result<Vec<(Vec<SqlValue>, Vec<SqlValue>)>, Error> {
        let (filter, params) = window.filter();
        let sql =
            format!("SELECT {by}, {sums} FROM {table} WHERE {filter} GROUP BY {by} ORDER BY {by}");
        let keys = by.split(',').count();
        Ok(self
            .db
            .execute(&sql, params)
            .await?
            .into_iter()
            .map(|mut row| {
                let sums = row.split_off(keys.min(row.len()));
                (row, sums)
            })
            .collect())
    }

    async fn missing(
        &self,
        window: &Window,
        playbook: &Playbook,
        attempted: u64,
    ) -> Result<Vec<MissingDimension>, Error> {
        let rows = self
            .sum(window, "pg_roll_gaps", "dimension", "SUM(n)")
            .await?;
        let mut missing = Vec::new();
        for (key, n) in rows {
            let dimension = text(&key[0])?;
            let count = count(&n[0]);
            if count == 0 {
                continue;
            }
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
        missing.sort_by(|a, b| b.count.cmp(&a.count).then(a.dimension.cmp(&b.dimension)));
        Ok(missing)
    }

    async fn reasons(&self, window: &Window) -> Result<Vec<RejectionReason>, Error> {
        let rows = self
            .sum(window, "pg_roll_reasons", "reason", "SUM(n)")
            .await?;
        let mut reasons = Vec::new();
        for (key, n) in rows {
            let reason = text(&key[0])?;
            let count = count(&n[0]);
            if count > 0 {
                reasons.push(RejectionReason {
                    reason: if reason.is_empty() {
                        "not given".to_owned()
                    } else {
                        reason
                    },
                    count,
                });
            }
        }
        reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.reason.cmp(&b.reason)));
        Ok(reasons)
    }

    async fn thresholds(&self, window: &Window) -> Result<Vec<ThresholdRow>, Error> {
        let rows = self
            .sum(
                window,
                "pg_roll_thresholds",
                "threshold",
                "SUM(validated), SUM(accepted), SUM(rejected)",
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, n)| {
                let [validated, accepted, rejected] = [count(&n[0]), count(&n[1]), count(&n[2])];
                (validated > 0).then(|| ThresholdRow {
                    threshold: u8::try_from(integer(&key[0])).unwrap_or(u8::MAX),
                    validated,
                    accepted,
                    rejected_later: rejected,
                    rejection_rate: (accepted + rejected > 0)
                        .then(|| rejected as f64 / (accepted + rejected) as f64),
                })
            })
            .collect())
    }

    /// One row per BDR `shown` allows (by CRM and BDR), with the name a delivery kept, sorted by
    /// name ([`by_name`]), each with the dimension
    /// lacked most often.
    async fn per_bdr(
        &self,
        window: &Window,
        playbook: &Playbook,
        shown: impl Fn(&str, &str) -> bool,
    ) -> Result<Vec<BdrRow>, Error> {
        let gaps = self
            .sum(window, "pg_roll_gaps", "crm, bdr, dimension", "SUM(n)")
            .await?;
        let mut lacked: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (key, n) in gaps {
            let (crm, bdr, dimension) = (text(&key[0])?, text(&key[1])?, text(&key[2])?);
            if shown(&crm, &bdr) {
                *lacked.entry((bdr, dimension)).or_default() += count(&n[0]);
            }
        }
        let mut coach: BTreeMap<String, (u64, String)> = BTreeMap::new();
        for ((bdr, dimension), n) in lacked {
            let best = coach.entry(bdr).or_insert((0, String::new()));
            // Most often lacked; on a tie, the first dimension by key (the map is sorted).
            if n > best.0 {
                *best = (n, dimension);
            }
        }
        let kept = kept_names(&self.db).await?;
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut by_bdr: BTreeMap<String, Counts> = BTreeMap::new();
        for (key, n) in self.sum(window, "pg_roll_bdrs", "crm, bdr", COUNTS).await? {
            let (crm, bdr) = (text(&key[0])?, text(&key[1])?);
            if shown(&crm, &bdr) {
                if let Some(name) = kept.get(&(crm, bdr.clone())) {
                    names.insert(bdr.clone(), name.clone());
                }
                by_bdr.entry(bdr).or_default().add(&counts(&n));
            }
        }
        let mut bdrs = Vec::with_capacity(by_bdr.len());
        for (bdr, counts) in by_bdr {
            bdrs.push(BdrRow {
                coach_next: coach
                    .get(&bdr)
                    .map(|(_, dimension)| dimension_name(playbook, dimension)),
                name: names.get(&bdr).cloned(),
                bdr: if bdr.is_empty() {
                    "unknown".to_owned()
                } else {
                    bdr
                },
                counts,
            });
        }
        bdrs.sort_by(|a, b| by_name((a.name.as_deref(), &a.bdr), (b.name.as_deref(), &b.bdr)));
        Ok(bdrs)
    }
}

/// The sums `pg_roll_bdrs` holds, in [`counts`]'s order.
const COUNTS: &str = "SUM(attempted), SUM(blocked), SUM(would_block), SUM(validated), \
     SUM(accepted), SUM(rejected), SUM(unreadable)";

/// Counts from the [`COUNTS`] sums (or any columns in their order).
pub(crate) fn counts(n: &[SqlValue]) -> Counts {
    let at = |i: usize| n.get(i).map_or(0, count);
    Counts {
        attempted: at(0),
        blocked: at(1),
        would_block: at(2),
        validated: at(3),
        accepted: at(4),
        rejected: at(5),
        unreadable: at(6),
    }
}

/// A count column.
fn count(value: &SqlValue) -> u64 {
    u64::try_from(integer(value)).unwrap_or(0)
}

/// The weeks a report reads, of one CRM or all.
struct Window {
    first: i64,
    last: i64,
    crm: Option<String>,
}

impl Window {
    /// The `WHERE` condition and its parameters.
    fn filter(&self) -> (String, Vec<SqlValue>) {
        let mut params = vec![SqlValue::Integer(self.first), SqlValue::Integer(self.last)];
        let mut filter = "week BETWEEN ? AND ?".to_owned();
        if let Some(crm) = &self.crm {
            filter.push_str(" AND crm = ?");
            params.push(crm.as_str().into());
        }
        (filter, params)
    }
}

/// Of `validated` handoffs, the share whose verdict came within 24 hours, from the verdicts'
/// waits (whole hours, with counts).
fn within_a_day(waits: impl Iterator<Item = (i64, u64)>, validated: u64) -> Option<f64> {
    let within: u64 = waits.filter(|(hours, _)| *hours < 24).map(|(_, n)| n).sum();
    (validated > 0).then(|| within.min(validated) as f64 / validated as f64)
}

/// The median of a histogram of whole hours.
fn median_hours(waits: impl Iterator<Item = (i64, u64)>) -> Option<f64> {
    let mut hours: BTreeMap<i64, u64> = BTreeMap::new();
    for (h, n) in waits {
        *hours.entry(h).or_default() += n;
    }
    let total: u64 = hours.values().sum();
    if total == 0 {
        return None;
    }
    // The value at 0-based rank `rank`.
    let at = |rank: u64| {
        let mut seen = 0;
        hours.iter().find_map(|(h, n)| {
            seen += n;
            (seen > rank).then_some(*h as f64)
        })
    };
    let (low, high) = (at((total - 1) / 2)?, at(total / 2)?);
    Some((low + high) / 2.0)
}

/// The name reps know a dimension by.
fn dimension_name(playbook: &Playbook, key: &str) -> String {
    playbook
        .dimension(key)
        .map_or_else(|| key.to_owned(), |d| d.name.clone())
}
