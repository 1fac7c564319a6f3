//! The apply stage: the batch's write-backs as the adapter renders them, step by step, each step's
//! calls side by side. A call refused for good fails only the write-backs it served: a batched
//! call is then retried one write-back at a time to find which.

use super::{Job, decide::DecidedEvent};
use crate::{
    Error,
    api::Api,
    crm::{
        FieldNames,
        adapter::{Adapter, BatchCall},
    },
    ports::{Clock, CrmClient},
    rep_page::link::RepLinks,
    writeback::WriteBack,
};

/// The least time left for a step that creates things to start (see [`apply`]).
const CREATE_BUDGET: std::time::Duration = std::time::Duration::from_secs(1);

/// What applying one event's write-back came to: the calls made, or why it failed.
pub(super) type Applied = Result<Vec<String>, Error>;

/// The apply stage's result, per decided event in order.
pub(super) struct Written {
    /// The calls made, or why the write-back failed (an event with nothing to write back
    /// succeeds with no calls).
    pub results: Vec<Applied>,
    /// Whether an event that failed had some of its calls made first (its fields written, its
    /// task not): a retry must carry out the rest even though the record now holds the fields.
    pub partial: Vec<bool>,
}

/// Record that `event` failed with `error`, noting whether it had calls made before.
fn fail(results: &mut [Applied], partial: &mut [bool], event: usize, error: Error) {
    if matches!(&results[event], Ok(made) if !made.is_empty()) {
        partial[event] = true;
    }
    results[event] = Err(error);
}

/// Apply the write-backs of `decided`.
pub(super) async fn apply<A: Adapter>(
    adapter: &A,
    job: &Job<'_>,
    names: &FieldNames,
    decided: &[DecidedEvent],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Written {
    let planned: Vec<Result<Option<&WriteBack>, Error>> = decided
        .iter()
        .map(|d| d.held.clone().map_or(Ok(d.write_back.as_ref()), Err))
        .collect();
    let links = job.settings.rep_links.as_ref();
    write(adapter, names, links, job.now, planned, api).await
}

/// Carry out write-backs that were not decided from a delivery (a scheduled summary, a sweep),
/// batched as a delivery's are, their notices to people linking to the reps' pages when `links`
/// are configured: the calls made for each, or why it failed.
pub async fn write_backs<A: Adapter>(
    adapter: &A,
    names: &FieldNames,
    links: Option<&RepLinks>,
    write_backs: &[WriteBack],
    now: time::OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Vec<Result<Vec<String>, Error>> {
    let planned = write_backs.iter().map(|wb| Ok(Some(wb))).collect();
    write(adapter, names, links, now, planned, api)
        .await
        .results
}

/// Carry out `planned` write-backs (an error: one held back; `None`: nothing to write), their
/// fields renamed to the CRM's `names` first and each notice to a person given the link to their
/// page: the one place a write-back leaves the playbook's, and a notice gets its link.
async fn write<A: Adapter>(
    adapter: &A,
    names: &FieldNames,
    links: Option<&RepLinks>,
    now: time::OffsetDateTime,
    planned: Vec<Result<Option<&WriteBack>, Error>>,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Written {
    let mut results: Vec<Applied> = planned
        .iter()
        .map(|p| p.as_ref().map(|_| Vec::new()).map_err(Clone::clone))
        .collect();
    let mut partial = vec![false; planned.len()];
    let renamed: Vec<(usize, WriteBack)> = planned
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().ok().copied().flatten().map(|wb| (i, wb)))
        .map(|(i, wb)| {
            let mut wb = wb.clone();
            names.rename(wb.record_kind, &mut wb);
            if let Some(links) = links {
                links.add_to(adapter.crm(), &mut wb, now);
            }
            (i, wb)
        })
        .collect();
    let targets: Vec<(usize, &WriteBack)> = renamed.iter().map(|(i, wb)| (*i, wb)).collect();
    let steps = adapter
        .render(
            &targets
                .iter()
                .map(|(_, wb)| (*wb).clone())
                .collect::<Vec<_>>(),
            now,
        )
        .len();
    for step in 0..steps {
        // Render again for the write-backs still standing: a batched call must not carry one
        // whose earlier step failed.
        let alive: Vec<(usize, &WriteBack)> = targets
            .iter()
            .copied()
            .filter(|(i, _)| results[*i].is_ok())
            .collect();
        let write_backs: Vec<WriteBack> = alive.iter().map(|(_, wb)| (*wb).clone()).collect();
        let calls = adapter
            .render(&write_backs, now)
            .into_iter()
            .nth(step)
            .unwrap_or_default();
        // Steps after the first create things (a task, a note): one cut off by the deadline may
        // have been created without the answer arriving, and its retry would create it again.
        // Such a step starts only with time to finish; else its events wait for the retry.
        if step > 0 && !calls.is_empty() && api.remaining() < CREATE_BUDGET {
            for call in &calls {
                for &k in &call.serves {
                    fail(
                        &mut results,
                        &mut partial,
                        alive[k].0,
                        api.deadline_exceeded(),
                    );
                }
            }
            continue;
        }
        let answers = api
            .map(calls, |call| async move {
                let answer = api.send(&call.call).await;
                (call, answer)
            })
            .await;
        for (call, answer) in answers {
            let served: Vec<usize> = call.serves.iter().map(|&k| alive[k].0).collect();
            match answer {
                Ok(answer) => {
                    let refused = adapter.refused(&call, &answer);
                    for (position, &event) in served.iter().enumerate() {
                        match refused.iter().find(|(k, _)| *k == position) {
                            Some((_, reason)) => fail(
                                &mut results,
                                &mut partial,
                                event,
                                Error::CrmRejected {
                                    call: call.call.to_string(),
                                    reason: reason.clone(),
                                },
                            ),
                            None => push_call(&mut results[event], &call),
                        }
                    }
                }
                // A create refused for good is not resent one by one: which of its records were
                // created cannot be told (an answer that is not JSON, say).
                Err(e) if e.is_transient() || served.len() == 1 || step > 0 => {
                    for &event in &served {
                        fail(&mut results, &mut partial, event, e.clone());
                    }
                }
                Err(_) => {
                    let alone = isolate(adapter, now, step, &call, &alive, api).await;
                    for (event, result) in alone {
                        match result {
                            Ok(calls) => {
                                if let Ok(made) = &mut results[event] {
                                    made.extend(calls);
                                }
                            }
                            Err(e) => fail(&mut results, &mut partial, event, e),
                        }
                    }
                }
            }
        }
    }
    Written { results, partial }
}

/// A batched call was refused for good: send each write-back it served alone, to find which
/// the CRM refuses. Results by decided-event index.
async fn isolate<A: Adapter>(
    adapter: &A,
    now: time::OffsetDateTime,
    step: usize,
    call: &BatchCall,
    alive: &[(usize, &WriteBack)],
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Vec<(usize, Applied)> {
    api.map(
        call.serves.iter().map(|&k| alive[k]),
        |(event, write_back)| async move {
            let calls = adapter
                .render(std::slice::from_ref(write_back), now)
                .into_iter()
                .nth(step)
                .unwrap_or_default();
            let mut made = Vec::new();
            for single in calls {
                match api.send(&single.call).await {
                    Ok(answer) => {
                        if let Some((_, reason)) =
                            adapter.refused(&single, &answer).into_iter().next()
                        {
                            return (
                                event,
                                Err(Error::CrmRejected {
                                    call: single.call.to_string(),
                                    reason,
                                }),
                            );
                        }
                        made.push(single.call.to_string());
                    }
                    Err(e) => return (event, Err(e)),
                }
            }
            (event, Ok(made))
        },
    )
    .await
}

fn push_call(result: &mut Applied, call: &BatchCall) {
    let call = call.call.to_string();
    // A call serving several notices of one write-back is listed once.
    if let Ok(made) = result
        && made.last() != Some(&call)
    {
        made.push(call);
    }
}
