//! The journal stage, between recheck and apply (gate-handoff's decisions only): every handoff
//! decided is recorded in the handoff log, and every AE's verdict is matched to its deal's latest
//! handoff, concluded and recorded, before anything is written to the CRM. Recording is keyed by
//! event, so a retry records nothing twice; a log that cannot be written stops the delivery before
//! the CRM is touched, and the CRM's retry redoes it.

use super::decide::DecidedEvent;
use crate::{
    Error,
    crm_id::Crm,
    function::Decision,
    handoffs::{HandoffLog, HandoffRecord},
    playbook::Playbook,
};

/// Record the handoffs of `decided`, then conclude and record its verdicts.
pub(super) async fn journal(
    crm: Crm,
    playbook: &Playbook,
    decided: &mut [DecidedEvent],
    log: &impl HandoffLog,
) -> Result<(), Error> {
    let handoffs: Vec<HandoffRecord> = decided
        .iter()
        .filter_map(|d| match &d.decision {
            Decision::Handoff(handoff) => Some(HandoffRecord::of(handoff, &d.fresh.event, crm)),
            _ => None,
        })
        .collect();
    log.record_handoffs(&handoffs).await?;
    let verdicts: Vec<usize> = decided
        .iter()
        .enumerate()
        .filter(|(_, d)| matches!(&d.decision, Decision::Verdict(v) if !v.matched))
        .map(|(i, _)| i)
        .collect();
    if verdicts.is_empty() {
        return Ok(());
    }
    let deals: Vec<&str> = verdicts
        .iter()
        .map(|i| decided[*i].fresh.event.record.id.as_str())
        .collect();
    let histories = log.history(crm, &deals).await?;
    let mut records = Vec::new();
    for (i, history) in verdicts.into_iter().zip(histories) {
        let event = &mut decided[i];
        let Decision::Verdict(verdict) = &event.decision else {
            continue;
        };
        let fresh = &event.fresh.event;
        match (**verdict).clone().conclude(fresh, history, playbook) {
            None => {
                event.decision = Decision::skipped(
                    "the AE's verdict on this deal is already recorded (the change did not touch it)",
                );
                event.write_back = None;
            }
            Some(concluded) => {
                records.push(concluded.record(fresh, crm));
                event.write_back = concluded.write_back(fresh, playbook);
                event.decision = Decision::Verdict(Box::new(concluded));
            }
        }
    }
    log.record_verdicts(&records).await
}
