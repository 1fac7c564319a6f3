//! The decide stage: what the function decides for each event, what the review queue makes of its
//! scores, and what that writes back.

use super::{Fresh, Job, Tally};
use crate::{
    Error,
    crm::FieldNames,
    crm_id::Crm,
    function::Decision,
    people::Names,
    rep_page::card::DealCard,
    review::{self, LatestScore, Ranking, ReviewQueue, Standing},
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
    /// A score's standing in the review queue, kept once its write-back is done.
    pub review: Option<Standing>,
}

/// The decide stage's result: the decided events, in delivery order.
#[derive(Debug)]
pub(super) struct Decided {
    /// In delivery order.
    pub events: Vec<DecidedEvent>,
    /// Whether any was scored: the review queue then has standings to settle.
    pub scored: bool,
}

/// Decide every event. A change to nothing but pipeline-guard's own fields is the echo of its
/// own write-back, and is skipped; an event whose data the CRM must send again fails pending.
/// The batch's scores are ranked in the review queue at once; the people a decision names
/// are given the names `people` knows.
pub(super) async fn decide(
    job: &Job<'_>,
    crm: Crm,
    names: &FieldNames,
    people: &Names,
    events: Vec<Fresh>,
    review: &impl ReviewQueue,
    tally: &mut Tally,
) -> Result<Decided, Error> {
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
        decision.name_people(people, &job.settings.playbook);
        if fresh.resume
            && let Decision::Stale(report) = &mut decision
        {
            // The record holds the flag the first attempt wrote, not the task it did not create.
            report.resume();
        }
        decided.push(DecidedEvent {
            fresh,
            decision,
            write_back: None,
            held: None,
            review: None,
        });
    }
    let scored = rank(job, crm, &mut decided, review).await?;
    for d in &mut decided {
        let event = &d.fresh.event;
        let mut write_back = d.decision.write_back(event, job.settings);
        let tells = d.review.is_some_and(|standing| standing.tell);
        if let (Some(write_back), Decision::Scored(card), Some(standing)) =
            (&mut write_back, &d.decision, &d.review)
            && standing.tell
        {
            let mode = job.settings.mode;
            write_back
                .notices
                .push(review::notice(card, &event.record, standing, mode));
        }
        // A resumed write-back is carried out whole: the record holds the fields its first
        // attempt wrote, not the task that attempt did not create. A handoff is told every
        // time: a deal moved into the stage again is a new handoff, even with the same score.
        // A review is told once, when the queue says so: then it is written even if the record
        // already holds the fields.
        d.write_back = write_back.filter(|write_back| {
            d.fresh.resume
                || tells
                || matches!(d.decision, Decision::Handoff(_))
                || !names.already_in(write_back, &event.record)
        });
    }
    Ok(Decided {
        events: decided,
        scored,
    })
}

/// Rank the batch's scores among the recent ones, and set each scorecard's review flag; whether
/// any event was scored.
async fn rank(
    job: &Job<'_>,
    crm: Crm,
    decided: &mut [DecidedEvent],
    review: &impl ReviewQueue,
) -> Result<bool, Error> {
    let scores: Vec<(usize, LatestScore)> = decided
        .iter()
        .enumerate()
        .filter_map(|(i, d)| match &d.decision {
            Decision::Scored(card) => Some((
                i,
                LatestScore {
                    crm,
                    kind: d.fresh.event.record.kind,
                    record_id: d.fresh.event.record.id.clone(),
                    score: card.total,
                    tier: card.tier.clone(),
                    scored_at: job.now,
                },
            )),
            _ => None,
        })
        .collect();
    if scores.is_empty() {
        return Ok(false);
    }
    let playbook = &job.settings.playbook;
    let ranking = Ranking {
        share: playbook.review_share,
        window_days: playbook.review_window_days,
        now: job.now,
        claimant: &job.claimant,
        lease_until: job.now + job.retention.lease,
    };
    let latest: Vec<LatestScore> = scores.iter().map(|(_, s)| s.clone()).collect();
    let standings = review.rank(&latest, &ranking).await?;
    let cards: Vec<DealCard> = scores
        .iter()
        .filter_map(|(i, _)| match &decided[*i].decision {
            Decision::Scored(card) => DealCard::of(&decided[*i].fresh.event.record, card, job.now),
            _ => None,
        })
        .collect();
    review.keep_cards(crm, &cards).await?;
    for ((i, _), standing) in scores.iter().zip(standings) {
        let d = &mut decided[*i];
        if let Decision::Scored(card) = &mut d.decision {
            card.flagged_for_review = Some(standing.flagged);
        }
        d.review = Some(standing);
    }
    Ok(true)
}
