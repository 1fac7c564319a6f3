//! The last stage: record what finished, in one ledger call, and let go of what did not.

use super::{Job, Ports, Tally, apply::Written, decide::Decided};
use crate::{
    Error,
    crm_id::Crm,
    ledger::Ledger,
    outcome::{DeliveryOutcome, EventOutcome, EventStatus},
    review::{ReviewOutcome, ReviewQueue},
};

/// Settle the decided and applied events: the review queue keeps the standing of the scores
/// written back, then the ledger records what finished, and the claims of events left pending
/// are released so the CRM's retry takes them at once.
pub(super) async fn settle<L: Ledger, C, K, H, R: ReviewQueue, T, P>(
    job: &Job<'_>,
    crm: Crm,
    ports: Ports<'_, L, C, K, H, R, T, P>,
    decided: Decided,
    written: Written,
    mut tally: Tally,
    workflow: bool,
) -> Result<DeliveryOutcome, Error> {
    let mut reviewed = Vec::new();
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
                if let Some(standing) = event.review {
                    reviewed.push(ReviewOutcome {
                        kind: fresh.event.record.kind,
                        record_id: fresh.event.record.id.clone(),
                        standing,
                    });
                }
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
    // Before the ledger: should the ledger fail, the retry finds the owners told and does not
    // tell them again. The standing only shapes the queue and later tellings: failing to keep it
    // must not hide what was done, nor make the CRM deliver again (a telling not marked is let
    // go when its lease ends).
    if decided.scored {
        let _ = ports.review.settle(crm, &job.claimant, &reviewed).await;
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
