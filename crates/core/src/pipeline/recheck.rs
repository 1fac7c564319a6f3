//! The recheck stage, between journal and apply: a deal about to be moved back (a blocked
//! handoff in enforce mode, a handoff the AE rejected) is read again from the CRM, and moved only
//! if it still sits in the handoff stage it entered. A deal moved on since (an AE already took it,
//! the BDR moved it back by hand) is left where it is, and the notices say why.

use super::decide::DecidedEvent;
use crate::{
    api::Api,
    crm::adapter::Adapter,
    function::Decision,
    gate::notices,
    playbook::Playbook,
    ports::{Clock, CrmClient},
};

/// Read the stages of the deals `decided` would move back, in one go, and cancel the moves that
/// no longer apply. When the read fails for now, the events that needed it keep the error:
/// nothing of theirs is written, and the CRM's retry decides them again. When it fails for good,
/// the deals are not moved (a move must be checked first), and the notices say why.
pub(super) async fn recheck<A: Adapter>(
    adapter: &A,
    decided: &mut [DecidedEvent],
    playbook: &Playbook,
    api: &Api<'_, impl CrmClient, impl Clock>,
) {
    let ids: Vec<String> = decided
        .iter()
        .filter_map(|d| {
            let wb = d.write_back.as_ref()?;
            wb.move_only_from.as_ref()?;
            Some(wb.record_id.clone())
        })
        .collect();
    if ids.is_empty() {
        return;
    }
    let stages = adapter.current_stages(&ids, api).await;
    for event in decided.iter_mut() {
        let Some(wb) = event.write_back.as_mut() else {
            continue;
        };
        let Some(expected) = wb.move_only_from.clone() else {
            continue;
        };
        let why = match &stages {
            Err(e) if e.is_transient() => {
                event.held = Some(e.clone());
                continue;
            }
            Err(e) => format!("The deal was not moved back: it could not be read again ({e})."),
            Ok(stages) => match stages.get(&wb.record_id) {
                Some(stage) if *stage == expected => continue,
                Some(stage) => format!(
                    "The deal was not moved back: it has moved on to {} since.",
                    playbook.stage_name(stage)
                ),
                None => "The deal was not moved back: the CRM no longer has it.".to_owned(),
            },
        };
        // The notices are told again, from the decision as it now stands.
        let fresh = &event.fresh.event;
        match &mut event.decision {
            Decision::Handoff(d) => {
                d.cancel_move(&why, playbook);
                wb.notices = notices::notices(d, fresh, playbook);
            }
            Decision::Verdict(v) => {
                v.cancel_move(&why, fresh, playbook);
                if let Some(told) = v.write_back(fresh, playbook) {
                    wb.notices = told.notices;
                }
            }
            _ => {}
        }
        wb.move_to_stage = None;
        wb.move_only_from = None;
    }
}
