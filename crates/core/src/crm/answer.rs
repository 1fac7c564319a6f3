//! What an endpoint answers a CRM: the delivery's outcome as JSON, or flat fields a CRM workflow
//! can branch on. (Salesforce's outbound messages get a SOAP acknowledgement instead, built in
//! [`super::salesforce`].)

use serde_json::{Value, json};

use crate::{
    Error,
    function::FunctionKind,
    mode::Mode,
    outcome::{DeliveryOutcome, EventStatus},
};

/// An endpoint's answer to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

impl Reply {
    /// The usual answer: flat fields for a CRM workflow that branches on them
    /// ([`Reply::workflow`]), else the outcome as JSON ([`Reply::json`]).
    pub fn of(result: &Result<DeliveryOutcome, Error>) -> Reply {
        match result {
            Ok(outcome) if outcome.workflow => Reply::workflow(outcome),
            _ => Reply::json(result),
        }
    }

    /// The delivery's outcome as JSON, or the error's JSON with its status. A delivery with
    /// events left to do answers `503`, so the CRM delivers it again; the body says which.
    pub fn json(result: &Result<DeliveryOutcome, Error>) -> Reply {
        let (status, body) = match result {
            Ok(outcome) => (status(outcome), serde_json::to_string(outcome)),
            Err(err) => (err.status(), Ok(err.to_json().to_string())),
        };
        Reply {
            status,
            content_type: "application/json",
            // Serialising the outcome (strings, numbers, maps with string keys) cannot fail.
            body: body.unwrap_or_default(),
        }
    }

    /// A CRM workflow's answer (a HubSpot workflow webhook action, a Salesforce Flow callout):
    /// [`workflow_answer`] as JSON.
    pub fn workflow(outcome: &DeliveryOutcome) -> Reply {
        Reply {
            status: status(outcome),
            content_type: "application/json",
            body: workflow_answer(outcome).to_string(),
        }
    }
}

/// `200`, or `503` while events are left to do.
fn status(outcome: &DeliveryOutcome) -> u16 {
    if outcome.complete { 200 } else { 503 }
}

/// Flat fields a workflow branches on, then the whole decision, for the delivery's one event.
///
/// - `allowed`: false only for a handoff gate-handoff blocks in enforce mode, or could not judge
///   there (failed, pending);
/// - `decision`: `validated`, `blocked`, `would_block` (shadow mode), `scored`, `stale`,
///   `not_stale` or `skipped`;
/// - `status`: `processed` (decided and written back now), `duplicate` (a retry: the first
///   answer's decision again, nothing written twice), `superseded`, `decided` (decided only),
///   `failed` (for good, with `message` saying why), `pending` or `in_progress` (answered `503`:
///   deliver again);
/// - `score`, `tier` (scorecards) and `message` say why; `details` is the whole decision, when it
///   was made now.
pub fn workflow_answer(outcome: &DeliveryOutcome) -> Value {
    let Some(result) = outcome.results.first() else {
        return json!({ "allowed": true, "decision": "skipped", "message": "nothing to decide" });
    };
    let status = serde_json::to_value(result.status).unwrap_or_default();
    let Some(brief) = result.brief.as_ref() else {
        let message = match (result.status, &result.reason) {
            (_, Some(reason)) => reason.as_str(),
            (EventStatus::Superseded, None) => "superseded by a newer change to the record",
            _ => "nothing to decide",
        };
        let decision = match result.status {
            EventStatus::Failed => "failed",
            EventStatus::Pending | EventStatus::InProgress => "pending",
            _ => "skipped",
        };
        // The gate holds without exceptions: a handoff it could not judge (failed, or still to
        // do) is not allowed in enforce mode, so a workflow branching on `allowed` stops.
        let judged = !matches!(
            result.status,
            EventStatus::Failed | EventStatus::Pending | EventStatus::InProgress
        );
        let allowed = judged
            || !(outcome.function == FunctionKind::GateHandoff && outcome.mode == Mode::Enforce);
        return json!({
            "allowed": allowed,
            "decision": decision,
            "status": status,
            "message": message,
        });
    };
    let mut answer = json!({
        "allowed": brief.allowed,
        "decision": brief.decision,
        "status": status,
        "message": brief.message,
    });
    if let Some(decision) = &result.decision {
        answer["details"] = serde_json::to_value(decision).unwrap_or_default();
    }
    if let Some(score) = brief.score {
        answer["score"] = score.into();
    }
    if let Some(tier) = &brief.tier {
        answer["tier"] = tier.clone().into();
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{function::Decision, outcome::EventOutcome};

    fn outcome(status: EventStatus, decision: Option<Decision>) -> DeliveryOutcome {
        let mut result = EventOutcome::new("e", "r", status);
        result.brief = decision.as_ref().map(Decision::brief);
        result.decision = decision;
        DeliveryOutcome::new(FunctionKind::GateHandoff, Mode::Enforce, vec![result], true)
    }

    #[test]
    fn a_superseded_event_is_allowed_and_says_why() {
        let answer = workflow_answer(&outcome(EventStatus::Superseded, None));
        assert_eq!(answer["allowed"], true);
        assert_eq!(answer["status"], "superseded");
        assert_eq!(
            answer["message"],
            "superseded by a newer change to the record"
        );
    }

    #[test]
    fn a_handoff_the_gate_could_not_judge_is_not_allowed_in_enforce_mode() {
        for status in [
            EventStatus::Failed,
            EventStatus::Pending,
            EventStatus::InProgress,
        ] {
            let mut undecided = outcome(status, None);
            assert_eq!(workflow_answer(&undecided)["allowed"], false, "{status:?}");
            undecided.mode = Mode::Shadow;
            assert_eq!(workflow_answer(&undecided)["allowed"], true, "{status:?}");
        }
    }

    #[test]
    fn a_skip_is_allowed_and_carries_its_reason() {
        let answer = workflow_answer(&outcome(
            EventStatus::Processed,
            Some(Decision::skipped("not a stage change")),
        ));
        assert_eq!(answer["decision"], "skipped");
        assert_eq!(answer["status"], "processed");
        assert_eq!(answer["allowed"], true);
        assert!(answer.get("score").is_none());
    }
}
