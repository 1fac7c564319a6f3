//! The compare stage, between complete and decide (score-lead and gate-handoff): every record's
//! text dimensions are kept as hashes ([`crate::templates`]) and counted against the CRM's other
//! records in one call, so decide knows a pasted template when it scores one. Keeping a record's
//! texts replaces what it held, so a retry counts nothing twice; a store that cannot be written
//! stops the delivery before the CRM is touched, and the CRM's retry redoes it.

use crate::{
    Error,
    crm::FieldNames,
    crm_id::Crm,
    event::{Change, WebhookEvent},
    function::FunctionKind,
    playbook::Playbook,
    templates::{self, DimensionText, Templates, TextHashes},
};

/// Keep the texts of the records `function` scores among `events`, and answer each event's
/// [`Templates`] (none for an event whose record is not scored). An echo of pipeline-guard's own
/// write-back, and an event type not acted on, carry a record that may be partial: they keep
/// nothing. A deleted record's texts are forgotten.
pub(super) async fn compare(
    function: FunctionKind,
    crm: Crm,
    playbook: &Playbook,
    names: &FieldNames,
    events: &[&WebhookEvent],
    hashes: &impl TextHashes,
) -> Result<Vec<Templates>, Error> {
    let mut found = vec![Templates::default(); events.len()];
    if function == FunctionKind::FlagStaleDeals {
        return Ok(found);
    }
    let scored: Vec<usize> = (0..events.len())
        .filter(|&i| {
            let event = events[i];
            let kind = event.record.kind;
            !matches!(event.change, Change::Unsupported { .. })
                && !event.only_touched(|field| names.is_write_back(kind, field))
        })
        .collect();
    let per_record = scored
        .iter()
        .map(|&i| {
            let event = events[i];
            if event.change == Change::Deleted {
                DimensionText::forgotten(&event.record, playbook)
            } else {
                DimensionText::of(&event.record, playbook)
            }
        })
        .collect();
    let compared = templates::compare(crm, per_record, hashes).await?;
    for (i, templates) in scored.into_iter().zip(compared) {
        found[i] = templates;
    }
    Ok(found)
}
