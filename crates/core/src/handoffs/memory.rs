//! The handoff log in memory, with the same semantics as [`super::sql::SqlHandoffs`]: for the
//! fixture tests and dry runs.

use std::cell::RefCell;

use super::{DealHistory, HandoffLog, HandoffRecord, RecordedHandoff, VerdictRecord};
use crate::{Error, crm_id::Crm};

/// Handoffs and verdicts in memory.
#[derive(Debug, Default)]
pub struct MemoryHandoffs {
    handoffs: RefCell<Vec<HandoffRecord>>,
    verdicts: RefCell<Vec<VerdictRecord>>,
}

impl MemoryHandoffs {
    /// The handoffs kept, in the order they were.
    pub fn handoffs(&self) -> Vec<HandoffRecord> {
        self.handoffs.borrow().clone()
    }

    /// The verdicts kept, in the order they were.
    pub fn verdicts(&self) -> Vec<VerdictRecord> {
        self.verdicts.borrow().clone()
    }
}

impl HandoffLog for MemoryHandoffs {
    async fn record_handoffs(&self, records: &[HandoffRecord]) -> Result<(), Error> {
        let mut kept = self.handoffs.borrow_mut();
        for record in records {
            if !kept.iter().any(|k| k.key == record.key) {
                kept.push(record.clone());
            }
        }
        Ok(())
    }

    async fn history(&self, crm: Crm, deal_ids: &[&str]) -> Result<Vec<DealHistory>, Error> {
        let handoffs = self.handoffs.borrow();
        let verdicts = self.verdicts.borrow();
        Ok(deal_ids
            .iter()
            .map(|deal| DealHistory {
                handoffs: {
                    let mut found: Vec<&HandoffRecord> = handoffs
                        .iter()
                        .filter(|h| h.crm == crm && h.deal_id == *deal)
                        .collect();
                    found.sort_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)));
                    found
                        .into_iter()
                        .map(|h| RecordedHandoff {
                            key: h.key.clone(),
                            deal_id: h.deal_id.clone(),
                            bdr: h.bdr.clone(),
                            ae: h.ae.clone(),
                            at: truncate(h.at),
                            status: h.status.clone(),
                            from_stage: h.from_stage.clone(),
                            to_stage: h.to_stage.clone(),
                        })
                        .collect()
                },
                verdict: verdicts
                    .iter()
                    .filter(|v| v.crm == crm && v.deal_id == *deal)
                    .max_by(|a, b| (a.at, &a.key).cmp(&(b.at, &b.key)))
                    .cloned()
                    .map(|v| VerdictRecord {
                        at: truncate(v.at),
                        ..v
                    }),
            })
            .collect())
    }

    async fn record_verdicts(&self, records: &[VerdictRecord]) -> Result<(), Error> {
        let mut kept = self.verdicts.borrow_mut();
        for record in records {
            if !kept.iter().any(|k| k.key == record.key) {
                kept.push(record.clone());
            }
        }
        Ok(())
    }
}

/// Times as the database keeps them: whole seconds.
fn truncate(at: time::OffsetDateTime) -> time::OffsetDateTime {
    at.replace_nanosecond(0).unwrap_or(at)
}
