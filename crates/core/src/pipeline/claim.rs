//! The first two stages: claim every event before acting, then order them.

use std::collections::BTreeMap;

use super::{Fresh, Job, Tally};
use crate::{
    Error,
    crm_id::Crm,
    event::{Change, WebhookEvent},
    ledger::{Claim, Claiming, Ledger, event_key, stream_key},
    outcome::{EventOutcome, EventStatus},
    templates::Templates,
};

/// Claim the delivery's events in one ledger call. Events settled by an earlier delivery are
/// answered as duplicates with their first decision; events another worker holds right now are
/// answered as in progress (the CRM's retry finds their result); an event repeated within the
/// delivery mirrors its first copy. The rest are this delivery's to handle.
pub(super) async fn claim(
    crm: Crm,
    job: &Job<'_>,
    events: Vec<WebhookEvent>,
    ledger: &impl Ledger,
    tally: &mut Tally,
) -> Result<Vec<Fresh>, Error> {
    let mut first_of_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut candidates = Vec::with_capacity(events.len());
    for (index, event) in events.into_iter().enumerate() {
        let key = event_key(job.function, &event.dedupe_key);
        if let Some(&original) = first_of_key.get(&key) {
            tally.twins.push((index, original));
            continue;
        }
        first_of_key.insert(key.clone(), index);
        let claim = Claiming {
            key,
            function: job.function,
            crm,
            event_id: event.event_id.clone(),
            record_id: event.record.id.clone(),
        };
        let stream = stream_key(job.function, crm, &event);
        candidates.push(Fresh {
            index,
            event,
            claim,
            stream,
            resume: false,
            templates: Templates::default(),
        });
    }
    let claims: Vec<Claiming> = candidates.iter().map(|f| f.claim.clone()).collect();
    let answers = ledger
        .claim(&claims, &job.claimant, job.now, job.retention)
        .await?;
    let mut mine = Vec::with_capacity(candidates.len());
    for (fresh, answer) in candidates.into_iter().zip(answers) {
        let (event_id, record_id) = (&fresh.event.event_id, &fresh.event.record.id);
        match answer {
            Claim::Mine => mine.push(fresh),
            Claim::Resume => mine.push(Fresh {
                resume: true,
                ..fresh
            }),
            Claim::Settled(settled) => {
                let mut outcome = EventOutcome::new(event_id, record_id, EventStatus::Duplicate);
                if settled.status == EventStatus::Failed {
                    // Failed for good earlier: the retry gets the same answer, not a new try.
                    outcome.status = EventStatus::Failed;
                }
                outcome.brief = settled.brief;
                outcome.reason = settled.reason;
                tally.answer(fresh.index, outcome);
            }
            Claim::Busy => {
                let mut outcome = EventOutcome::new(event_id, record_id, EventStatus::InProgress);
                outcome.reason =
                    Some("another delivery of this event is being handled right now".into());
                tally.answer(fresh.index, outcome);
            }
        }
    }
    Ok(mine)
}

/// Supersede what must not be applied: an event older than the newest change of its kind already
/// applied to its record (CRMs deliver out of order), and, within the delivery, every event but
/// one per record, so each record is decided and written once. The one kept is the newest stage
/// change (a way into a handoff stage is never hidden by another kind of change), else a
/// creation or restore, else the newest event.
pub(super) async fn order(
    claimed: Vec<Fresh>,
    ledger: &impl Ledger,
    tally: &mut Tally,
) -> Result<Vec<Fresh>, Error> {
    let streams: Vec<String> = claimed.iter().map(|f| f.stream.clone()).collect();
    let newest = ledger.newest(&streams).await?;
    let mut kept: BTreeMap<(&'static str, String), Fresh> = BTreeMap::new();
    for fresh in claimed {
        if newest
            .get(&fresh.stream)
            .is_some_and(|newest| fresh.event.occurred_at < *newest)
        {
            supersede(tally, &fresh, "superseded by a newer change to the record");
            continue;
        }
        let record = (
            fresh.event.record.kind.as_str(),
            fresh.event.record.id.clone(),
        );
        match kept.remove(&record) {
            None => {
                kept.insert(record, fresh);
            }
            Some(held) => {
                let (keep, drop) = if outranks(&fresh.event, &held.event) {
                    (fresh, held)
                } else {
                    (held, fresh)
                };
                let reason = format!(
                    "decided once for the record in this delivery, with event {}",
                    keep.event.event_id
                );
                supersede(tally, &drop, &reason);
                kept.insert(record, keep);
            }
        }
    }
    let mut ordered: Vec<Fresh> = kept.into_values().collect();
    ordered.sort_by_key(|f| f.index);
    Ok(ordered)
}

/// Whether `a` rather than `b` decides their record: stage changes first, then creations and
/// restores (ways into a stage too), then
/// other changes, then events pipeline-guard does not act on; among equals the newest (the later
/// in the delivery on a tie).
fn outranks(a: &WebhookEvent, b: &WebhookEvent) -> bool {
    let rank = |e: &WebhookEvent| match e.change {
        Change::StageChanged { .. } => 3,
        Change::Created | Change::Restored => 2,
        Change::Unsupported { .. } => 0,
        _ => 1,
    };
    (rank(a), a.occurred_at) >= (rank(b), b.occurred_at)
}

fn supersede(tally: &mut Tally, fresh: &Fresh, reason: &str) {
    let mut outcome = EventOutcome::new(
        &fresh.event.event_id,
        &fresh.event.record.id,
        EventStatus::Superseded,
    );
    outcome.reason = Some(reason.to_owned());
    tally.finish(fresh, outcome);
}
