//! What the rep's page reads that no other part keeps: each record's latest scorecard by owner
//! (written when score-lead scores, [`crate::review::ReviewQueue::keep_cards`]) and each deal's
//! staleness at its last sweep, with why (written by the sweep,
//! [`crate::portfolio::SqlPortfolios::keep_stale`]). Plain SQL with `?` parameters and
//! `ON CONFLICT … DO UPDATE`, as every store here.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::card::DealCard;
use crate::{
    Error,
    crm_id::Crm,
    ports::{Database, SqlValue},
    statement::{columns, corrupt, integer, optional_text, placeholders, rows, text},
};

/// The statements that create the tables.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS pg_rep_cards (
        crm TEXT NOT NULL,
        kind TEXT NOT NULL,
        record_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        scored_at INTEGER NOT NULL,
        card TEXT NOT NULL,
        PRIMARY KEY (crm, kind, record_id)
    )",
    "CREATE INDEX IF NOT EXISTS pg_rep_cards_owner ON pg_rep_cards (crm, owner, scored_at)",
    "CREATE TABLE IF NOT EXISTS pg_rep_stale (
        crm TEXT NOT NULL,
        deal TEXT NOT NULL,
        owner TEXT NOT NULL,
        name TEXT,
        reasons TEXT NOT NULL,
        swept_at INTEGER NOT NULL,
        PRIMARY KEY (crm, deal)
    )",
    "CREATE INDEX IF NOT EXISTS pg_rep_stale_owner ON pg_rep_stale (crm, owner)",
];

/// The most cards a rep's page shows.
pub const MAX_CARDS: usize = 50;

/// A deal the sweep judged, as its owner's page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleDeal {
    /// The deal's CRM id.
    pub deal_id: String,
    /// Its name, when the CRM gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its owner's CRM user id.
    pub owner: String,
    /// Why it is stale, in words; empty when it is not (any more).
    pub reasons: Vec<String>,
    /// When the sweep judged it.
    #[serde(with = "time::serde::rfc3339")]
    pub swept_at: OffsetDateTime,
}

/// Keep `cards` (records of `crm`) as their records' latest; an older card never replaces a
/// newer one.
pub async fn keep_cards(db: &impl Database, crm: Crm, cards: &[DealCard]) -> Result<(), Error> {
    for card in cards {
        let json = serde_json::to_string(card).map_err(|e| Error::Store(e.to_string()))?;
        db.execute(
            "INSERT INTO pg_rep_cards (crm, kind, record_id, owner, scored_at, card) \
             VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (crm, kind, record_id) DO UPDATE SET owner = excluded.owner, \
             scored_at = excluded.scored_at, card = excluded.card \
             WHERE excluded.scored_at >= pg_rep_cards.scored_at",
            vec![
                crm.name().into(),
                card.kind.as_str().into(),
                card.record_id.as_str().into(),
                card.owner.as_str().into(),
                card.scored_at.unix_timestamp().into(),
                json.into(),
            ],
        )
        .await?;
    }
    Ok(())
}

/// `owner`'s latest cards in `crm`, open records only, newest first, at most [`MAX_CARDS`].
pub async fn cards(db: &impl Database, crm: Crm, owner: &str) -> Result<Vec<DealCard>, Error> {
    let rows = db
        .execute(
            "SELECT card FROM pg_rep_cards WHERE crm = ? AND owner = ? \
             ORDER BY scored_at DESC, record_id LIMIT ?",
            vec![
                crm.name().into(),
                owner.into(),
                SqlValue::Integer(MAX_CARDS as i64),
            ],
        )
        .await?;
    let mut cards = Vec::new();
    for row in rows {
        let [card] = columns(row)?;
        let card: DealCard =
            serde_json::from_str(&text(&card)?).map_err(|_| corrupt("pg_rep_cards.card"))?;
        if card.open {
            cards.push(card);
        }
    }
    Ok(cards)
}

/// Keep the sweep's judgement of `deals` of `crm`: a stale deal with its reasons, a deal no
/// longer stale (or without an owner) forgotten. Two statements a page, whatever its size: each
/// statement is a transaction of its own, and on Spin's SQLite each one a sync to disk.
pub async fn keep_stale(db: &impl Database, crm: Crm, deals: &[StaleDeal]) -> Result<(), Error> {
    let (stale, clean): (Vec<&StaleDeal>, Vec<&StaleDeal>) = deals
        .iter()
        .partition(|d| !d.reasons.is_empty() && !d.owner.trim().is_empty());
    if !clean.is_empty() {
        let sql = format!(
            "DELETE FROM pg_rep_stale WHERE crm = ? AND deal IN ({})",
            placeholders(clean.len())
        );
        let params = std::iter::once(crm.name().into())
            .chain(clean.iter().map(|d| SqlValue::from(d.deal_id.as_str())))
            .collect();
        db.execute(&sql, params).await?;
    }
    if stale.is_empty() {
        return Ok(());
    }
    let mut params = Vec::with_capacity(stale.len() * 6);
    for deal in &stale {
        let reasons =
            serde_json::to_string(&deal.reasons).map_err(|e| Error::Store(e.to_string()))?;
        params.extend([
            crm.name().into(),
            deal.deal_id.as_str().into(),
            deal.owner.as_str().into(),
            deal.name.as_deref().into(),
            reasons.into(),
            deal.swept_at.unix_timestamp().into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO pg_rep_stale (crm, deal, owner, name, reasons, swept_at) VALUES {} \
         ON CONFLICT (crm, deal) DO UPDATE SET owner = excluded.owner, name = excluded.name, \
         reasons = excluded.reasons, swept_at = excluded.swept_at",
        rows(stale.len(), "(?, ?, ?, ?, ?, ?)")
    );
    db.execute(&sql, params).await?;
    Ok(())
}

/// `owner`'s stale deals in `crm`, by deal.
pub async fn stale(db: &impl Database, crm: Crm, owner: &str) -> Result<Vec<StaleDeal>, Error> {
    let rows = db
        .execute(
            "SELECT deal, name, reasons, swept_at FROM pg_rep_stale WHERE crm = ? AND owner = ? \
             ORDER BY deal",
            vec![crm.name().into(), owner.into()],
        )
        .await?;
    rows.into_iter()
        .map(|row| {
            let [deal, name, reasons, at] = columns(row)?;
            Ok(StaleDeal {
                deal_id: text(&deal)?,
                name: optional_text(&name),
                owner: owner.to_owned(),
                reasons: serde_json::from_str(&text(&reasons)?)
                    .map_err(|_| corrupt("pg_rep_stale.reasons"))?,
                swept_at: OffsetDateTime::from_unix_timestamp(integer(&at))
                    .map_err(|_| corrupt("pg_rep_stale.swept_at"))?,
            })
        })
        .collect()
}
