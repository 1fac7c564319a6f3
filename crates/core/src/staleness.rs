//! Deals rotting in a stage, open deals whose close date has passed, and missing fields.
//!
//! Rotting counts days since the last activity on the deal (as Pipedrive does), or since it
//! entered its stage when no activity is recorded.

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::{
    hygiene::{self, Hygiene},
    model::{DealStatus, Record},
    playbook::Playbook,
    writeback::{Notice, Priority, WriteBack},
};

/// Why a deal is flagged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StaleReason {
    /// Nothing has happened on the deal for longer than its stage allows.
    RottingInStage {
        /// The stage it sits in (its id).
        stage: String,
        /// The stage's name, when the playbook gives one ([`Playbook::stage_names`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage_name: Option<String>,
        /// Days since the last activity (or since entering the stage).
        idle_days: i64,
        /// The stage's limit.
        limit_days: u32,
    },
    /// The deal is open but its close date is in the past.
    CloseDatePassed {
        /// The close date.
        close_date: Date,
        /// How many days ago.
        days_overdue: i64,
    },
    /// Required fields are empty.
    MissingFields {
        /// Which.
        fields: Vec<String>,
    },
}

impl std::fmt::Display for StaleReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StaleReason::RottingInStage {
                stage,
                stage_name,
                idle_days,
                limit_days,
            } => write!(
                f,
                "no activity for {idle_days} days in stage {} (limit {limit_days})",
                stage_name.as_deref().unwrap_or(stage)
            ),
            StaleReason::CloseDatePassed {
                close_date,
                days_overdue,
            } => write!(
                f,
                "close date {close_date} passed {days_overdue} days ago: update it or close the deal"
            ),
            StaleReason::MissingFields { fields } => {
                write!(f, "missing required fields: {}", fields.join(", "))
            }
        }
    }
}

/// The staleness check of one deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaleReport {
    /// The deal checked.
    pub record_id: String,
    /// Whether any reason applies.
    pub stale: bool,
    /// Every reason that applies.
    pub reasons: Vec<StaleReason>,
    /// The deal's completeness.
    pub hygiene: Hygiene,
}

/// Check an open deal at time `now`.
pub fn assess(record: &Record, playbook: &Playbook, now: OffsetDateTime) -> StaleReport {
    let hygiene = hygiene::assess(record, playbook);
    let mut reasons = Vec::new();
    if record.status == DealStatus::Open {
        let idle_since = record.last_activity_at.or(record.stage_entered_at);
        if let (Some(stage), Some(since)) = (record.stage.as_deref(), idle_since) {
            let limit_days = playbook.staleness.rotting_days_for(Some(stage));
            let idle_days = (now - since).whole_days();
            if idle_days > i64::from(limit_days) {
                reasons.push(StaleReason::RottingInStage {
                    stage: stage.to_owned(),
                    stage_name: playbook.stage_names.get(stage).cloned(),
                    idle_days,
                    limit_days,
                });
            }
        }
        if let Some(close_date) = record.close_date {
            let days_overdue = (now.date() - close_date).whole_days();
            if days_overdue > 0 {
                reasons.push(StaleReason::CloseDatePassed {
                    close_date,
                    days_overdue,
                });
            }
        }
        if !hygiene.missing.is_empty() {
            reasons.push(StaleReason::MissingFields {
                fields: hygiene.missing.clone(),
            });
        }
    }
    StaleReport {
        record_id: record.id.clone(),
        stale: !reasons.is_empty(),
        reasons,
        hygiene,
    }
}

impl StaleReport {
    /// The CRM changes this report makes: the stale flag and completeness always, and a note for
    /// the owner when the deal is stale.
    pub fn write_back(&self, record: &Record, playbook: &Playbook) -> WriteBack {
        let names = &playbook.write_back;
        let flag = if self.stale {
            self.reasons
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            String::new()
        };
        let fields = [
            (names.stale.clone(), flag.into()),
            (names.hygiene.clone(), self.hygiene.complete_pct.into()),
        ]
        .into_iter()
        .collect();
        let notices = self
            .stale
            .then(|| {
                Notice::task(
                    record.owner_id.clone(),
                    "pipeline-guard: deal needs attention",
                    self.reasons
                        .iter()
                        .map(|r| format!("- {r}"))
                        .collect::<Vec<_>>()
                        .join("\n"),
                    Priority::High,
                )
            })
            .into_iter()
            .collect();
        WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields,
            move_to_stage: None,
            move_only_from: None,
            notices,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn complete_deal() -> Record {
        let mut deal = Record::new_deal("D-9");
        deal.owner_id = Some("u-1".into());
        deal.amount = Some(12_000.0);
        deal.close_date = Some(date!(2026 - 12 - 15));
        deal.stage = Some("negotiation".into());
        deal.fields
            .insert("next_step".into(), "Send the order form".into());
        deal
    }

    #[test]
    fn a_fresh_complete_deal_is_not_stale() {
        let mut deal = complete_deal();
        deal.last_activity_at = Some(datetime!(2026-11-15 10:00 UTC));
        let r = assess(
            &deal,
            &Playbook::default_playbook(),
            datetime!(2026-11-21 10:00 UTC),
        );
        assert!(!r.stale, "{:?}", r.reasons);
    }

    #[test]
    fn rotting_uses_the_stage_limit_and_close_date_overdue_is_flagged() {
        let mut deal = complete_deal();
        deal.last_activity_at = Some(datetime!(2026-10-01 10:00 UTC));
        deal.close_date = Some(date!(2026 - 11 - 01));
        let r = assess(
            &deal,
            &Playbook::default_playbook(),
            datetime!(2026-11-21 10:00 UTC),
        );
        assert_eq!(
            r.reasons,
            vec![
                StaleReason::RottingInStage {
                    stage: "negotiation".into(),
                    stage_name: None,
                    idle_days: 51,
                    limit_days: 21
                },
                StaleReason::CloseDatePassed {
                    close_date: date!(2026 - 11 - 01),
                    days_overdue: 20
                },
            ]
        );
        let wb = r.write_back(&deal, &Playbook::default_playbook());
        assert!(wb.notices[0].is_task());
        assert!(wb.fields["pg_stale"].as_str().unwrap().contains("51 days"));

        // With a name for the stage, reps read the name; the id stays in the data.
        let mut named = Playbook::default_playbook();
        named
            .stage_names
            .insert("negotiation".into(), "Negotiation started".into());
        let r = assess(&deal, &named, datetime!(2026-11-21 10:00 UTC));
        let StaleReason::RottingInStage {
            stage, stage_name, ..
        } = &r.reasons[0]
        else {
            panic!("{:?}", r.reasons)
        };
        assert_eq!(stage, "negotiation");
        assert_eq!(stage_name.as_deref(), Some("Negotiation started"));
        assert!(
            r.reasons[0]
                .to_string()
                .contains("in stage Negotiation started ("),
            "{}",
            r.reasons[0]
        );
    }

    #[test]
    fn closed_deals_are_never_stale() {
        let mut deal = Record::new_deal("D-10");
        deal.status = DealStatus::Won;
        deal.close_date = Some(date!(2020 - 01 - 01));
        let r = assess(
            &deal,
            &Playbook::default_playbook(),
            datetime!(2026-11-21 10:00 UTC),
        );
        assert!(!r.stale);
    }
}
