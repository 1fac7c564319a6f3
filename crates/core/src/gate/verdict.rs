//! The AE's verdict on a handoff, which closes the loop.
//!
//! The AE sets two fields on the deal (`handoff.verdict`: by default `pg_handoff_verdict`,
//! accepted / rejected, and `pg_handoff_reason`, a picklist of reasons). Any change of a deal that
//! carries a verdict is read ([`read`]): CRMs that say which field changed and CRMs that send the
//! whole record (Salesforce outbound messages) alike. The verdict is then matched to the deal's
//! latest handoff in the handoff log ([`VerdictDecision::conclude`]): a verdict the log already
//! holds is not news; a new one is recorded, and
//! - a rejection goes back to the BDR as a task with the AE's reason and, in enforce mode, the
//!   deal moves back to the stage it came from (never a closed deal);
//! - an acceptance is recorded, nobody is told;
//! - a value outside the configured lists is recorded as unreadable with the raw value, and the
//!   AE gets a note naming the allowed values;
//! - a verdict on a deal with no handoff record is recorded as a verdict without handoff.

use serde::{Deserialize, Serialize};

use crate::{
    crm_id::Crm,
    event::WebhookEvent,
    handoffs::{DealHistory, RecordedHandoff, VerdictRecord},
    mode::Mode,
    model::DealStatus,
    playbook::{Playbook, VerdictValue},
    writeback::{Notice, Priority, WriteBack},
};

use super::notices::deal_name;

/// The AE's verdict on a deal's handoff, as decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictDecision {
    /// The verdict as read.
    pub value: VerdictValue,
    /// Who set it, when the CRM says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_by: Option<String>,
    /// Whether the handoff log was consulted (a callout that only answers does not).
    pub matched: bool,
    /// The handoff it is about; `None` once matched: a verdict without handoff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<RecordedHandoff>,
    /// The mode it was decided in.
    pub mode: Mode,
    /// Only the reason of a rejection already recorded on the handoff changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reason_only: bool,
    /// Where a rejected deal is moved back to (enforce mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_back_to: Option<String>,
    /// Why a rejected deal is not moved back, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_moved_back: Option<String>,
    /// The decision in one line.
    pub message: String,
}

/// The verdict `event`'s deal carries, if any: read from the playbook's verdict fields.
pub fn read(event: &WebhookEvent, playbook: &Playbook, mode: Mode) -> Option<VerdictDecision> {
    let fields = &playbook.handoff.verdict;
    let text = |name: &str| {
        event
            .record
            .fields
            .get(name)
            .map_or_else(String::new, |v| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => String::new(),
                other => other.to_string(),
            })
    };
    let value = fields.read(&text(&fields.field), &text(&fields.reason_field))?;
    Some(VerdictDecision {
        message: format!(
            "The AE's verdict: {}; not matched to a handoff yet.",
            describe(&value)
        ),
        value,
        set_by: event.changed_by.clone(),
        matched: false,
        handoff: None,
        mode,
        reason_only: false,
        moved_back_to: None,
        not_moved_back: None,
    })
}

impl VerdictDecision {
    /// The status kept and answered: `accepted`, `rejected`, `unreadable`,
    /// `verdict_without_handoff`, or `verdict_received` before it is matched.
    pub fn status(&self) -> &'static str {
        match (&self.value, self.matched, &self.handoff) {
            (_, false, _) => "verdict_received",
            (VerdictValue::Unreadable { .. }, _, _) => "unreadable",
            (_, true, None) => "verdict_without_handoff",
            (VerdictValue::Accepted, _, _) => "accepted",
            (VerdictValue::Rejected { .. }, _, _) => "rejected",
        }
    }

    /// Match the verdict to what the log holds for the deal ([`DealHistory::handoff_for`]).
    /// `None` when the log already holds this verdict on that handoff from another event (a save
    /// that did not change it, an echo): nothing to do. The same event seen again (a retry) is
    /// concluded again, on the handoff it was recorded on, so its write-back is completed.
    pub fn conclude(
        mut self,
        event: &WebhookEvent,
        history: DealHistory,
        playbook: &Playbook,
    ) -> Option<VerdictDecision> {
        let (kept, reason) = self.kept();
        let handoff = history
            .handoff_for(&event.dedupe_key, event.occurred_at)
            .cloned();
        let handoff_key = handoff.as_ref().map(|h| h.key.clone());
        let earlier = history
            .verdict
            .as_ref()
            .filter(|last| last.key != event.dedupe_key && last.handoff_key == handoff_key);
        if earlier.is_some_and(|last| last.verdict == kept && last.reason == reason) {
            return None;
        }
        // The AE set the verdict first and the reason in a second save: the BDR is told the
        // reason, but the rejection is not repeated.
        self.reason_only = earlier.is_some_and(|last| last.verdict == kept);
        self.matched = true;
        let latest = handoff.as_ref().is_some_and(|h| history.is_latest(h));
        self.handoff = handoff;
        let rejected = matches!(self.value, VerdictValue::Rejected { .. });
        if let Some(handoff) = self.handoff.clone()
            && rejected
            && !self.reason_only
            && self.mode == Mode::Enforce
        {
            if latest {
                self.plan_move_back(handoff, event, playbook);
            } else {
                self.not_moved_back = Some(
                    "The deal was handed off again since, so it was not moved back.".to_owned(),
                );
            }
        }
        self.message = self.headline(event, playbook);
        Some(self)
    }

    /// Where a rejected deal goes back to: the stage it came from, else `handoff.return_stage`;
    /// never a closed deal, nor one already there.
    fn plan_move_back(
        &mut self,
        handoff: RecordedHandoff,
        event: &WebhookEvent,
        playbook: &Playbook,
    ) {
        let record = &event.record;
        if record.status != DealStatus::Open {
            self.not_moved_back = Some("The deal is closed, so it was not moved back.".to_owned());
            return;
        }
        match handoff
            .from_stage
            .or_else(|| playbook.handoff.return_stage.clone())
        {
            Some(stage) if record.stage.as_deref() == Some(stage.as_str()) => {
                self.not_moved_back = Some(format!(
                    "The deal already sits in {}.",
                    playbook.stage_name(&stage)
                ));
            }
            Some(stage) => self.moved_back_to = Some(stage),
            None => {
                self.not_moved_back = Some(
                    "The CRM did not say which stage the deal came from and the playbook sets \
                     no handoff.return_stage, so it was not moved back."
                        .to_owned(),
                );
            }
        }
    }

    /// The deal is not moved back after all, because `why` (it moved on since the AE's verdict).
    pub fn cancel_move(&mut self, why: &str, event: &WebhookEvent, playbook: &Playbook) {
        self.moved_back_to = None;
        self.not_moved_back = Some(why.to_owned());
        self.message = self.headline(event, playbook);
    }

    /// The verdict and reason as kept: (`accepted`, none), (`rejected`, the reason),
    /// (`unreadable`, the raw value).
    fn kept(&self) -> (String, Option<String>) {
        match &self.value {
            VerdictValue::Accepted => ("accepted".to_owned(), None),
            VerdictValue::Rejected { reason } => ("rejected".to_owned(), reason.clone()),
            VerdictValue::Unreadable { raw } => ("unreadable".to_owned(), Some(raw.clone())),
        }
    }

    /// The verdict as the handoff log keeps it.
    pub fn record(&self, event: &WebhookEvent, crm: Crm) -> VerdictRecord {
        let (verdict, reason) = self.kept();
        VerdictRecord {
            key: event.dedupe_key.clone(),
            crm,
            deal_id: event.record.id.clone(),
            handoff_key: self.handoff.as_ref().map(|h| h.key.clone()),
            verdict,
            reason,
            ae: self
                .set_by
                .clone()
                .or_else(|| self.handoff.as_ref().and_then(|h| h.ae.clone())),
            at: event.occurred_at,
        }
    }

    /// The decision in one line.
    fn headline(&self, event: &WebhookEvent, playbook: &Playbook) -> String {
        let deal = deal_name(&event.record);
        let what = describe(&self.value);
        match (&self.value, &self.handoff) {
            (VerdictValue::Unreadable { .. }, _) => format!(
                "The AE's verdict on {deal} is unreadable ({what}); the AE was told the allowed values."
            ),
            (_, None) => format!(
                "The AE's verdict on {deal} ({what}) was recorded as a verdict without handoff: no handoff of this deal is on record."
            ),
            (VerdictValue::Accepted, Some(_)) => {
                format!("The AE accepted the handoff of {deal}.")
            }
            (VerdictValue::Rejected { .. }, Some(_)) => {
                let then = match (&self.moved_back_to, &self.not_moved_back) {
                    (Some(stage), _) => {
                        format!(
                            " The deal was moved back to {}.",
                            playbook.stage_name(stage)
                        )
                    }
                    (None, Some(why)) => format!(" {why}"),
                    (None, None) => String::new(),
                };
                format!("The AE rejected the handoff of {deal} ({what}); the BDR was told.{then}")
            }
        }
    }

    /// What the verdict writes back: for a rejection, the task to the BDR (and a note on the
    /// deal) and the move back; for an unreadable value, a note to the AE; nothing otherwise.
    pub fn write_back(&self, event: &WebhookEvent, playbook: &Playbook) -> Option<WriteBack> {
        let record = &event.record;
        let deal = deal_name(record);
        let notices = match (&self.value, &self.handoff) {
            (VerdictValue::Unreadable { raw }, _) => {
                let ae = self
                    .handoff
                    .as_ref()
                    .and_then(|h| h.ae.clone())
                    .or_else(|| self.set_by.clone())
                    .or_else(|| record.owner_id.clone());
                let body = format!(
                    "The handoff verdict set on {deal} ({raw:?}) is not one pipeline-guard knows, so it was recorded as unreadable and nothing else happened. {}. Set the fields again with one of those values.",
                    playbook.handoff.verdict.allowed_values()
                );
                vec![Notice::note(
                    ae,
                    format!("Handoff verdict on {deal} not understood"),
                    body,
                )]
            }
            (VerdictValue::Rejected { reason }, Some(handoff)) => {
                let title = format!(
                    "AE rejected the handoff of {deal}: {}",
                    reason.as_deref().unwrap_or("no reason given")
                );
                let body = self.rejection_body(handoff, reason.as_deref(), &deal, playbook);
                let bdr = handoff.bdr.clone();
                // Shadow mode assigns no task: the BDR reads the rejection as a note.
                if self.reason_only || self.mode == Mode::Shadow {
                    vec![Notice::note(bdr, title, body)]
                } else {
                    vec![
                        Notice::task(bdr.clone(), title.clone(), body.clone(), Priority::High),
                        Notice::note(bdr, title, body),
                    ]
                }
            }
            _ => Vec::new(),
        };
        if notices.is_empty() && self.moved_back_to.is_none() {
            return None;
        }
        Some(WriteBack {
            record_kind: record.kind,
            record_id: record.id.clone(),
            fields: Default::default(),
            move_to_stage: self.moved_back_to.clone(),
            // Moved only if still in the handoff stage when read again (see the recheck stage).
            move_only_from: self
                .moved_back_to
                .as_ref()
                .and(self.handoff.as_ref())
                .map(|h| h.to_stage.clone()),
            notices,
            personal: false,
        })
    }

    /// The BDR's task on a rejection: the AE's reason, what happened to the deal, what to do.
    fn rejection_body(
        &self,
        handoff: &RecordedHandoff,
        reason: Option<&str>,
        deal: &str,
        playbook: &Playbook,
    ) -> String {
        let mut lines = vec![format!(
            "The AE reviewed the handoff of {deal} (handed off {}) and rejected it.",
            handoff.at.date()
        )];
        lines.push(format!(
            "The AE's reason: {}.",
            reason.unwrap_or("none given; ask the AE")
        ));
        lines.push(match (&self.moved_back_to, &self.not_moved_back) {
            (Some(stage), _) => {
                format!("The deal was moved back to {}.", playbook.stage_name(stage))
            }
            (None, Some(why)) => why.clone(),
            (None, None) if self.reason_only => {
                "The AE added this reason to the rejection recorded earlier.".to_owned()
            }
            (None, None) => "The deal was not moved (shadow mode).".to_owned(),
        });
        lines.push(format!(
            "Qualify what the AE found missing, then hand the deal off to {} again.",
            playbook.stage_name(&handoff.to_stage)
        ));
        lines.join("\n")
    }
}

/// A verdict in words: `accepted`, `rejected: no timeline`, `"maybe"`.
fn describe(value: &VerdictValue) -> String {
    match value {
        VerdictValue::Accepted => "accepted".to_owned(),
        VerdictValue::Rejected { reason: Some(r) } => format!("rejected: {r}"),
        VerdictValue::Rejected { reason: None } => "rejected, no reason given".to_owned(),
        VerdictValue::Unreadable { raw } => format!("{raw:?}"),
    }
}
