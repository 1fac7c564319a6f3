//! What an endpoint answers a CRM: the delivery's outcome as JSON, or flat fields a CRM workflow
//! can branch on. (Salesforce's outbound messages get a SOAP acknowledgement instead, built in
//! [`super::salesforce`].)

use serde_json::{Value, json};

use crate::{
    Error,
    function::Decision,
    gate::Verdict,
    mode::Mode,
    pipeline::{DeliveryOutcome, EventStatus},
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
    /// The delivery's outcome as JSON, or the error's JSON with its status.
    pub fn json(result: &Result<DeliveryOutcome, Error>) -> Reply {
        let (status, body) = match result {
            Ok(outcome) => (200, serde_json::to_string(outcome)),
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
            status: 200,
            content_type: "application/json",
            body: workflow_answer(outcome).to_string(),
        }
    }
}

/// Flat fields a workflow branches on, then the whole decision, for the delivery's one event.
///
/// - `allowed`: false only for a handoff gate-handoff blocks in enforce mode;
/// - `decision`: `validated`, `blocked`, `would_block` (shadow mode), `scored`, `stale`,
///   `not_stale` or `skipped`;
/// - `status`: `processed` (decided and written back now), `duplicate` (a retry: the first
///   answer's decision again, nothing written twice), `superseded` or `decided` (decided only);
/// - `score`, `tier` (scorecards) and `message` say why; `details` is the whole decision.
pub fn workflow_answer(outcome: &DeliveryOutcome) -> Value {
    let Some(result) = outcome.results.first() else {
        return json!({ "allowed": true, "decision": "skipped", "message": "nothing to decide" });
    };
    let status = serde_json::to_value(result.status).unwrap_or_default();
    let Some(decision) = result.decision.as_ref() else {
        let message = match result.status {
            EventStatus::Superseded => "superseded by a newer change to the record",
            _ => "nothing to decide",
        };
        return json!({
            "allowed": true,
            "decision": "skipped",
            "status": status,
            "message": message,
        });
    };
    let (allowed, name, score, tier) = match decision {
        Decision::Handoff(d) => {
            let name = match (d.verdict, d.mode) {
                (Verdict::Validated, _) => "validated",
                (Verdict::Blocked, Mode::Enforce) => "blocked",
                (Verdict::Blocked, Mode::Shadow) => "would_block",
            };
            (
                name != "blocked",
                name,
                Some(d.scorecard.total),
                Some(d.scorecard.tier.clone()),
            )
        }
        Decision::Scored(card) => (true, "scored", Some(card.total), Some(card.tier.clone())),
        Decision::Stale(r) => (
            true,
            if r.stale { "stale" } else { "not_stale" },
            None,
            None,
        ),
        Decision::Skipped { .. } => (true, "skipped", None, None),
    };
    let mut answer = json!({
        "allowed": allowed,
        "decision": name,
        "status": status,
        "message": decision.summary(),
        "details": decision,
    });
    if let Some(score) = score {
        answer["score"] = score.into();
    }
    if let Some(tier) = tier {
        answer["tier"] = tier.into();
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{function::FunctionKind, pipeline::EventOutcome};

    fn outcome(status: EventStatus, decision: Option<Decision>) -> DeliveryOutcome {
        DeliveryOutcome {
            function: FunctionKind::GateHandoff,
            mode: Mode::Enforce,
            results: vec![EventOutcome {
                event_id: "e".into(),
                record_id: "r".into(),
                status,
                decision,
                crm_calls: Vec::new(),
            }],
            workflow: true,
        }
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
