//! Work a scheduler asks for, not a CRM webhook: the BDRs' weekly handoff summaries.

use time::OffsetDateTime;

use crate::{
    Error,
    api::Api,
    crm::{FieldNames, adapter::Adapter},
    function::Settings,
    handoffs::{
        report::week_start,
        sql::SqlHandoffs,
        summary::{SummaryRun, last_week},
    },
    pipeline,
    ports::{Clock, CrmClient, Database},
};

/// Send each BDR of `adapter`'s CRM the summary of their handoffs in week `week` (by default
/// the last whole week before `now`), once: summaries already sent, or being sent by another
/// call, are left alone; one that fails is let go for the next call. In shadow mode a summary
/// is a note: no task.
pub async fn send_summaries<A: Adapter, D: Database>(
    adapter: &A,
    log: &SqlHandoffs<D>,
    settings: &Settings,
    week: Option<i64>,
    now: OffsetDateTime,
    api: &Api<'_, impl CrmClient, impl Clock>,
) -> Result<SummaryRun, Error> {
    let (crm, playbook) = (adapter.crm(), &settings.playbook);
    let week = week.unwrap_or_else(|| last_week(now));
    // A week not over yet would be summarised in part, and then never again.
    if week > last_week(now) {
        return Err(Error::invalid_query(format!(
            "week: the week of {} is not over yet; the last whole week began on {}",
            week_start(week),
            week_start(last_week(now))
        )));
    }
    let summaries = log.summaries(crm, week).await?;
    let bdrs: Vec<&str> = summaries.iter().map(|s| s.bdr.as_str()).collect();
    let claimed = log.claim_summaries(crm, week, &bdrs, now).await?;
    let mine: Vec<_> = summaries
        .iter()
        .filter(|s| claimed.contains(&s.bdr))
        .collect();
    let write_backs: Vec<_> = mine
        .iter()
        .map(|s| s.write_back(playbook, settings.mode))
        .collect();
    let names = FieldNames::new(playbook, adapter.facts());
    let results = pipeline::write_backs(
        adapter,
        &names,
        settings.rep_links.as_ref(),
        &write_backs,
        now,
        api,
    )
    .await;
    let mut run = SummaryRun {
        week_start: Some(week_start(week)),
        bdrs: summaries.len(),
        already_sent: summaries.len() - mine.len(),
        ..SummaryRun::default()
    };
    let (mut sent, mut failed) = (Vec::new(), Vec::new());
    for (summary, result) in mine.iter().zip(results) {
        match result {
            Ok(_) => sent.push(summary.bdr.as_str()),
            Err(e) => {
                run.failed.push(format!("BDR {}: {e}", summary.bdr));
                failed.push(summary.bdr.as_str());
            }
        }
    }
    run.sent = sent.len();
    log.summaries_sent(crm, week, &sent, now).await?;
    log.release_summaries(crm, week, &failed, now).await?;
    Ok(run)
}
