//! Portfolios in SQL: each open deal's checklist result as the sweep records it
//! (`pg_hygiene_deals`, one row per CRM and deal, so a page listed twice counts once), and each
//! CRM's last measurement (`pg_portfolio`). A measurement is summed in the database (a sample is
//! the deals with the lowest draws), so a sweep of 100,000 deals never holds them in memory.

use time::OffsetDateTime;

use super::{CheckFigure, DealHygiene, OwnerRow, Portfolio, UNKNOWN_OWNER, mean_pct};
use crate::{
    Error,
    crm_id::Crm,
    hygiene::Check,
    install,
    playbook::Playbook,
    ports::{Database, SqlValue},
    rep_page::{
        kept::{self, StaleDeal},
        sharing::{self, Section, Sharers},
    },
    statement::{count_where, create_missing, integer, rows},
};

/// The tables, as `CREATE … IF NOT EXISTS` statements.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_hygiene_deals (
        crm TEXT NOT NULL,
        deal TEXT NOT NULL,
        sweep INTEGER NOT NULL,
        draw INTEGER NOT NULL,
        owner TEXT,
        score INTEGER NOT NULL,
        required_fields INTEGER,
        stage_and_close_date INTEGER,
        contacts INTEGER,
        call_notes INTEGER,
        lost_reason INTEGER,
        readable_dates INTEGER,
        PRIMARY KEY (crm, deal)
    )",
    "CREATE INDEX IF NOT EXISTS pg_hygiene_deals_draw ON pg_hygiene_deals (crm, sweep, draw)",
    "CREATE TABLE IF NOT EXISTS pg_portfolio (
        crm TEXT PRIMARY KEY,
        measured_at INTEGER NOT NULL,
        portfolio TEXT NOT NULL
    )",
];

/// Deals per upsert statement (12 parameters each: within SQLite's oldest limit of 999).
const CHUNK: usize = 80;

/// The measured deals of a sweep: `?1` the CRM, `?2` the sweep, `?3` how many (-1: all).
const MEASURED: &str = "WITH m AS (SELECT * FROM pg_hygiene_deals WHERE crm = ?1 AND sweep = ?2
    ORDER BY draw LIMIT ?3)";

/// Portfolios over a [`Database`].
#[derive(Debug)]
pub struct SqlPortfolios<D> {
    pub(super) db: D,
}

impl<D: Database> SqlPortfolios<D> {
    /// The portfolios in `db`; call [`SqlPortfolios::create_tables`] once per connection's life.
    pub fn new(db: D) -> SqlPortfolios<D> {
        SqlPortfolios { db }
    }

    /// Create the tables that do not exist yet (one read when they all do).
    pub async fn create_tables(&self) -> Result<(), Error> {
        let statements: Vec<&str> = SCHEMA
            .iter()
            .chain(kept::SCHEMA)
            .copied()
            .chain([install::SCHEMA, sharing::SCHEMA])
            .collect();
        create_missing(&self.db, &statements).await
    }

    /// Keep the sweep's judgement of `deals` for their owners' pages ([`kept::keep_stale`]).
    pub async fn keep_stale(&self, crm: Crm, deals: &[StaleDeal]) -> Result<(), Error> {
        kept::keep_stale(&self.db, crm, deals).await
    }

    /// The owners who share their deals' hygiene with their manager ([`sharing`]).
    pub async fn sharers(&self) -> Result<Sharers, Error> {
        sharing::sharers(&self.db, Section::Hygiene).await
    }

    /// The install's first decision ([`install`]), from which managers' views unlock.
    pub async fn first_decision(&self) -> Result<Option<OffsetDateTime>, Error> {
        install::first_decision(&self.db).await
    }

    /// Record `deals` as judged by `crm`'s sweep that started at `sweep`: a deal recorded
    /// before (an earlier sweep, or this one's page listed again) is replaced. The first deals
    /// ever judged keep the sweep's start as the install's first decision ([`install`]).
    pub async fn record(
        &self,
        crm: Crm,
        sweep: OffsetDateTime,
        deals: &[DealHygiene],
    ) -> Result<(), Error> {
        if !deals.is_empty() {
            install::record(&self.db, sweep).await?;
        }
        let sweep = sweep.unix_timestamp();
        let columns: Vec<&str> = Check::ALL.iter().map(|c| c.key()).collect();
        for chunk in deals.chunks(CHUNK) {
            let sql = format!(
                "INSERT INTO pg_hygiene_deals (crm, deal, sweep, draw, owner, score, {checks})
                 VALUES {values}
                 ON CONFLICT (crm, deal) DO UPDATE SET sweep = excluded.sweep,
                     draw = excluded.draw, owner = excluded.owner, score = excluded.score, {set}",
                checks = columns.join(", "),
                values = rows(
                    chunk.len(),
                    &format!("({})", vec!["?"; 6 + columns.len()].join(", "))
                ),
                set = columns
                    .iter()
                    .map(|c| format!("{c} = excluded.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            let params = chunk
                .iter()
                .flat_map(|deal| {
                    [
                        crm.name().into(),
                        deal.deal_id.clone().into(),
                        sweep.into(),
                        deal.draw(sweep).into(),
                        deal.owner.clone().into(),
                        i64::from(deal.score_pct).into(),
                    ]
                    .into_iter()
                    .chain(deal.outcomes.map(|o| match o {
                        Some(passed) => SqlValue::Integer(i64::from(passed)),
                        None => SqlValue::Null,
                    }))
                })
                .collect();
            self.db.execute(&sql, params).await?;
        }
        Ok(())
    }

    /// Measure `crm`'s portfolio from the deals its sweep that started at `sweep` recorded, as
    /// `playbook` says (all or a sample), keep it as the CRM's last measurement, and forget the
    /// deals of earlier sweeps (closed or deleted since).
    pub async fn conclude(
        &self,
        crm: Crm,
        sweep: OffsetDateTime,
        playbook: &Playbook,
        now: OffsetDateTime,
    ) -> Result<Portfolio, Error> {
        let staleness = &playbook.staleness;
        let sample = staleness.portfolio.sample();
        // No sample: every deal (PostgreSQL refuses SQLite's `LIMIT -1`).
        let limit = sample.map_or(i64::MAX, i64::from);
        let at = sweep.unix_timestamp();
        let scope = || -> Vec<SqlValue> { vec![crm.name().into(), at.into(), limit.into()] };
        let counted = |column: &str| {
            format!(
                "{}, {}",
                count_where(&format!("{column} = 1")),
                count_where(&format!("{column} = 0"))
            )
        };
        let checks: Vec<String> = Check::ALL.iter().map(|c| counted(c.key())).collect();
        let sql = format!(
            "{MEASURED} SELECT COUNT(*), COALESCE(SUM(score), 0), {trusted},
                 {checks} FROM m",
            trusted = count_where("score >= ?4"),
            checks = checks.join(", ")
        );
        let mut params = scope();
        params.push(i64::from(staleness.hygiene_threshold).into());
        let totals = self.first_row(&sql, params).await?;
        let n = |i: usize| u64::try_from(totals.get(i).map_or(0, integer)).unwrap_or(0);
        let measured = n(0);
        let checks = Check::ALL
            .iter()
            .enumerate()
            .map(|(i, check)| {
                let (passed, failed) = (n(3 + 2 * i), n(4 + 2 * i));
                CheckFigure {
                    check: *check,
                    label: check.label().to_owned(),
                    weight: check.weight(&staleness.checklist),
                    passed,
                    failed,
                    not_applicable: measured.saturating_sub(passed + failed),
                }
            })
            .collect();
        let open_deals = self
            .first_row(
                "SELECT COUNT(*) FROM pg_hygiene_deals WHERE crm = ? AND sweep = ?",
                vec![crm.name().into(), at.into()],
            )
            .await?;
        let portfolio = Portfolio {
            crm: crm.name().to_owned(),
            measured_at: now,
            sweep_started_at: sweep,
            open_deals: u64::try_from(open_deals.first().map_or(0, integer)).unwrap_or(0),
            measured,
            sample,
            hygiene_pct: mean_pct(n(1), measured),
            trustworthy: n(2),
            checks,
            owners: self.owners(scope()).await?,
        };
        let text = serde_json::to_string(&portfolio).map_err(|e| Error::Store(e.to_string()))?;
        self.db
            .execute(
                "INSERT INTO pg_portfolio (crm, measured_at, portfolio) VALUES (?, ?, ?)
                 ON CONFLICT (crm) DO UPDATE SET measured_at = excluded.measured_at,
                     portfolio = excluded.portfolio",
                vec![crm.name().into(), now.unix_timestamp().into(), text.into()],
            )
            .await?;
        self.db
            .execute(
                "DELETE FROM pg_hygiene_deals WHERE crm = ? AND sweep <> ?",
                vec![crm.name().into(), at.into()],
            )
            .await?;
        Ok(portfolio)
    }

    /// Each owner's measured deals, sorted by owner id.
    async fn owners(&self, scope: Vec<SqlValue>) -> Result<Vec<OwnerRow>, Error> {
        let failed: Vec<String> = Check::ALL
            .iter()
            .map(|c| count_where(&format!("{} = 0", c.key())))
            .collect();
        let sql = format!(
            "{MEASURED} SELECT COALESCE(owner, ''), COUNT(*), COALESCE(SUM(score), 0), {failed}
             FROM m GROUP BY owner ORDER BY owner IS NULL, owner",
            failed = failed.join(", ")
        );
        let rows = self.db.execute(&sql, scope).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let n = |i: usize| u64::try_from(row.get(i).map_or(0, integer)).unwrap_or(0);
                let owner = row
                    .first()
                    .and_then(SqlValue::as_text)
                    .filter(|o| !o.is_empty())
                    .unwrap_or(UNKNOWN_OWNER)
                    .to_owned();
                let failed: Vec<(Check, u64)> = Check::ALL
                    .iter()
                    .enumerate()
                    .map(|(i, check)| (*check, n(3 + i)))
                    .filter(|(_, count)| *count > 0)
                    .collect();
                // The most failed; of a tie, the first in the checklist's order.
                let fix_first = failed
                    .iter()
                    .rev()
                    .max_by_key(|(_, count)| *count)
                    .map(|(check, _)| *check);
                OwnerRow {
                    owner,
                    name: None,
                    deals: n(1),
                    hygiene_pct: mean_pct(n(2), n(1)),
                    failed,
                    fix_first,
                }
            })
            .collect())
    }

    /// `crm`'s last measurement, if a sweep of it ever ended.
    pub async fn latest(&self, crm: Crm) -> Result<Option<Portfolio>, Error> {
        let rows = self
            .db
            .execute(
                "SELECT portfolio FROM pg_portfolio WHERE crm = ?",
                vec![crm.name().into()],
            )
            .await?;
        rows.first()
            .and_then(|row| row.first())
            .map(read)
            .transpose()
    }

    /// Every CRM's last measurement, by CRM.
    pub async fn all(&self) -> Result<Vec<Portfolio>, Error> {
        let rows = self
            .db
            .execute(
                "SELECT portfolio FROM pg_portfolio ORDER BY crm",
                Vec::new(),
            )
            .await?;
        rows.iter()
            .filter_map(|row| row.first())
            .map(read)
            .collect()
    }

    async fn first_row(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<SqlValue>, Error> {
        Ok(self
            .db
            .execute(sql, params)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default())
    }
}

/// A measurement as `pg_portfolio` keeps it.
fn read(value: &SqlValue) -> Result<Portfolio, Error> {
    let text = value
        .as_text()
        .ok_or_else(|| crate::statement::corrupt("pg_portfolio.portfolio"))?;
    serde_json::from_str(text).map_err(|_| crate::statement::corrupt("pg_portfolio.portfolio"))
}
