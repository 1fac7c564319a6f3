//! The decide stage: what the function decides for each event, and what that writes back.

use super::{Fresh, Job, Tally};
use crate::{
    Error,
    crm::FieldNames,
    function::Decision,
    ports::Store,
    review::{self, ScoreHistogram},
    writeback::WriteBack,
};

/// One decided event.
#[derive(Debug)]
pub(super) struct DecidedEvent {
    /// The event.
    pub fresh: Fresh,
    /// What the function decided.
    pub decision: Decision,
    /// What to write back; `None` when nothing is (a skip, or the record already says it).
    pub write_back: Option<WriteBack>,
    /// Why its write-back must wait for the CRM's retry, when a check before it failed (the
    /// re-read before a move).
    pub held: Option<Error>,
}

/// The decide stage's result: the decided events, and the review histogram to save when they
/// scored anything.
#[derive(Debug)]
pub(super) struct Decided {
    /// In delivery order.
    pub events: Vec<DecidedEvent>,
    /// The histogram of recent scores, updated with this batch's, and its key.
    pub histogram: Option<(String, ScoreHistogram)>,
}

/// Decide every event. A change to nothing but pipeline-guard's own fields is the echo of its
/// own write-back, and is skipped; an event whose data the CRM must send again fails pending.
/// The review histogram is read once for the batch.
pub(super) async fn decide(
    job: &Job<'_>,
    names: &FieldNames,
    events: Vec<Fresh>,
    store: &impl Store,
    tally: &mut Tally,
) -> Result<Decided, Error> {
    let playbook = &job.settings.playbook;
    let mut histogram: Option<(String, ScoreHistogram)> = None;
    let mut decided = Vec::with_capacity(events.len());
    for fresh in events {
        let event = &fresh.event;
        let kind = event.record.kind;
        let echo = event.only_touched(|field| names.is_write_back(kind, field));
        let mut decision = if echo {
            Decision::skipped("only pipeline-guard's own fields changed (its own write-back)")
        } else {
            match job
                .function
                .decide(event, job.settings, &fresh.templates, job.now)
            {
                Ok(decision) => decision,
                Err(e) => {
                    tally.fail(&fresh, &e);
                    continue;
                }
            }
        };
        if fresh.resume
            && let Decision::Stale(report) = &mut decision
        {
            // The record holds the flag the first attempt wrote, not the task it did not create.
            report.resume();
        }
        if let Decision::Scored(card) = &mut decision {
            if histogram.is_none() {
                let key = review::histogram_key(&playbook.name);
                let recent = ScoreHistogram::load(store, &key).await?;
                histogram = Some((key, recent));
            }
            if let Some((_, recent)) = &mut histogram {
                card.flagged_for_review =
                    Some(recent.in_top_share(card.total, playbook.review_share));
                recent.record(card.total);
            }
        }
        let write_back = decision
            .write_back(event, playbook)
            // A resumed write-back is carried out whole: the record holds the fields its first
            // attempt wrote, not the task that attempt did not create. A handoff is told every
            // time: a deal moved into the stage again is a new handoff, even with the same score.
            .filter(|write_back| {
                fresh.resume
                    || matches!(decision, Decision::Handoff(_))
                    || !names.already_in(write_back, &event.record)
            });
        decided.push(DecidedEvent {
            fresh,
            decision,
            write_back,
            held: None,
        });
    }
    Ok(Decided {
        events: decided,
        histogram,
    })
}
