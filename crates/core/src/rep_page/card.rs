//! A record's latest scorecard as its owner's page shows it: each dimension's status, what is
//! missing and the question to ask next, and what the score does not measure.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::{
    model::{DealStatus, Record, RecordKind},
    score::Status,
    scorecard::Scorecard,
};

/// One dimension on a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardDimension {
    /// The dimension's name.
    pub name: String,
    /// Green, yellow or red.
    pub status: Status,
    /// What keeps it from green, when not green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
    /// What to ask next, when not green.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_question: Option<String>,
}

/// A record's latest scorecard, kept for its owner's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealCard {
    /// Lead or deal.
    pub kind: RecordKind,
    /// The CRM record's id.
    pub record_id: String,
    /// Its name, when the CRM gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its owner's CRM user id.
    pub owner: String,
    /// Whether it is still open.
    pub open: bool,
    /// When it was scored.
    #[serde(with = "time::serde::rfc3339")]
    pub scored_at: OffsetDateTime,
    /// The score, 0–100.
    pub total: u8,
    /// Its tier.
    pub tier: String,
    /// Every dimension, in the playbook's order.
    pub dimensions: Vec<CardDimension>,
    /// The one question to ask next: the first dimension not green's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_question: Option<String>,
    /// What the score does not measure.
    pub not_measured: Vec<String>,
}

impl DealCard {
    /// `card` of `record` scored at `at`, for its owner; `None` when the record names no owner.
    pub fn of(record: &Record, card: &Scorecard, at: OffsetDateTime) -> Option<DealCard> {
        let owner = record.owner_id.as_deref()?.trim();
        if owner.is_empty() {
            return None;
        }
        Some(DealCard {
            kind: record.kind,
            record_id: record.id.clone(),
            name: record.name.clone(),
            owner: owner.to_owned(),
            open: record.status == DealStatus::Open,
            scored_at: at,
            total: card.total,
            tier: card.tier.clone(),
            dimensions: card
                .dimensions
                .iter()
                .map(|d| CardDimension {
                    name: d.name.clone(),
                    status: d.status,
                    missing: d.gap.clone(),
                    next_question: d.next_question.clone(),
                })
                .collect(),
            next_question: card.dimensions.iter().find_map(|d| d.next_question.clone()),
            not_measured: card.not_measured.clone(),
        })
    }

    /// What it is called on the page: its name, else its kind and id.
    pub fn title(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            let kind = match self.kind {
                RecordKind::Deal => "Deal",
                RecordKind::Lead => "Lead",
            };
            format!("{kind} {}", self.record_id)
        })
    }
}
