//! The last stage: record what finished, in one ledger call, and let go of what did not.

use super::{Job, Ports, Tally, apply::Written, decide::Decided};
use crate::{
    Error,
    ledger::Ledger,
    outcome::{DeliveryOutcome, EventOutcome, EventStatus},
    ports::Store,
};

/// Settle the decided and applied events, save the review histogram, and release the claims of
/// events left pending so the CRM's retry takes them at once.
pub(super) async fn settle<S: Store, L: Ledger, C, K, H, T>(
    job: &Job<'_>,
    ports: Ports<'_, S, L, C, K, H, T>,
    decided: Decided,
    written: Written,
    mut tally: Tally,
    workflow: bool,
) -> Result<DeliveryOutcome, Error> {
    let mut scored = false;
    let partial: Vec<String> = decided
        .events
        .iter()
        .zip(&written.partial)
        .filter(|(_, partial)| **partial)
        .map(|(event, _)| event.fresh.claim.key.clone())
        .collect();
    ports.ledger.mark_partial(&job.claimant, &partial).await?;
    for (event, result) in decided.events.into_iter().zip(written.results) {
        let fresh = &event.fresh;
        match result {
            Ok(calls) => {
                scored |= matches!(event.decision, crate::function::Decision::Scored(_));
                let mut outcome = EventOutcome::new(
                    &fresh.event.event_id,
                    &fresh.event.record.id,
                    EventStatus::Processed,
                );
                outcome.brief = Some(event.decision.brief());
                outcome.decision = Some(event.decision);
                outcome.crm_calls = calls;
                tally.finish(fresh, outcome);
            }
            Err(e) => tally.fail(fresh, &e),
        }
    }
    ports
        .ledger
        .settle(
            &job.claimant,
            &tally.settlements,
            &tally.newest,
            job.now,
            job.retention,
        )
        .await?;
    let results = tally.into_results();
    if results.iter().any(|r| r.status == EventStatus::Pending) {
        ports.ledger.release(&job.claimant).await?;
    }
    // The histogram only tunes future review flags: failing to keep it must not hide what was
    // done, nor make the CRM deliver again.
    if scored && let Some((key, histogram)) = &decided.histogram {
        let _ = histogram.save(ports.store, key).await;
    }
    Ok(DeliveryOutcome::new(
        job.function,
        job.settings.mode,
        results,
        workflow,
    ))
}

/// A stage failed before anything was written: release every claim and answer the error, so the
/// CRM's retry redoes the whole delivery.
pub(super) async fn abandon(
    job: &Job<'_>,
    ledger: &impl Ledger,
    tally: Tally,
    error: Error,
) -> Result<DeliveryOutcome, Error> {
    drop(tally);
    // The error that stopped the delivery matters more than one releasing it: the claims expire.
    let _ = ledger.release(&job.claimant).await;
    Err(error)
}
