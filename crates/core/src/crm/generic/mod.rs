//! The generic JSON webhook, for any CRM or workflow tool without its own adapter.
//!
//! # Inbound
//! `POST /<function>/generic` with `Content-Type: application/json`, signed with
//! [`signature::verify_generic`]'s headers over the timestamp, the method, the path the
//! sender called (function route included, so a request signed for one function is refused by
//! the others) and the body ([`signature`] defines the signing string). The body
//! is one event, or
//! `{"events": [...]}` with up to [`MAX_EVENTS`] of them:
//!
//! ```json
//! {
//!   "event_id": "evt-1001",
//!   "occurred_at": "2026-11-20T09:30:00Z",
//!   "type": "stage_changed",
//!   "previous_stage": "discovery",
//!   "record": { "kind": "deal", "id": "D-1", "stage": "sales_accepted", "fields": { "pain": "…" } }
//! }
//! ```
//! `type` is `created`, `restored`, `updated`, `stage_changed` or `deleted`; `record` is the
//! canonical [`Record`]. `event_id` must be unique per change: it is the de-duplication key.
//! For staleness the record may carry `last_activity_at` (the last call, meeting, email or note),
//! `stage_entered_at`, `next_activity_at`, the snooze and lost-reason fields the playbook names,
//! contacts' `authority` and activities' `notes`; a date in it that cannot be read refuses
//! nothing: it is kept as unreadable and reported, never taken for a missing one.
//! Optionally `changed_by` names the user who made the change (a handoff's BDR) and
//! `previous_owner_id` the owner before it (a new owner after a handoff is its AE).
//!
//! # Write-back
//! One call per decision: `PATCH /records/<kind>s/<id>` with
//! `{"fields": {...}, "stage": "...", "notices": [{"kind": "task", "to": "u-1", "title": "...",
//! "body": "...", "priority": "high"}]}` (`stage` only when the decision moves the deal,
//! `notices` only when it tells someone something: `kind` is `task` or `note`, `to` the user).
//! Before moving a deal back, its stage is read again with `GET /records/deals/<id>`, which
//! answers the canonical record (a `404` when it is gone).
//!
//! # Sweep
//! A sweep (`POST /flag-stale-deals/generic/sweep`) lists open deals a page at a time with
//! `GET /records/deals?status=open&limit=<n>&cursor=<c>` (no `cursor` on the first page), which
//! answers `{"records": [<canonical Record>, …], "next_cursor": "…"}`, `next_cursor` `null` (or
//! absent) on the last page. The cursor is the API's own, kept as it is between calls; the
//! records carry what a webhook's do (contacts, dates, the playbook's fields).

mod accept;
mod complete;
mod list;
mod names;
pub mod signature;
mod write;

pub use accept::{MAX_EVENTS, authenticate, parse};
pub use write::render;

use time::OffsetDateTime;

use super::{
    Adapter, ApiAuth, ApiVariables, Crm, Facts, FieldNames, FieldRules, Secrets, Steps,
    WebhookSecret, adapter::one_record_per_call, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Delivery, WebhookEvent},
    inbound::InboundRequest,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::WriteBack,
};
use signature::GENERIC_SIGNATURE_HEADER;
use std::time::Duration;

/// The Spin variable holding the HMAC secret generic webhooks are signed with.
pub const SECRET_VARIABLE: &str = "generic_webhook_secret";
/// The Spin variables for the generic CRM API.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "generic_api_url",
    token: "generic_api_token",
    auth: ApiAuth::Bearer,
    oauth: None,
    origin: ApiVariables::ANY_ORIGIN,
    wrong_origin: |_| None,
};

/// The generic JSON webhook's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Generic;

impl Adapter for Generic {
    const FACTS: Facts = Facts {
        crm: Crm::Generic,
        secret_variables: &[SECRET_VARIABLE],
        function_secret: None,
        api_variables: API_VARIABLES,
        credential_headers: &[GENERIC_SIGNATURE_HEADER],
        credential_query: None,
        credential_hint: GENERIC_SIGNATURE_HEADER,
        // The edge reads the `generic_timeout_ms` variable instead.
        answer_timeout: Duration::from_secs(10),
        answer_timeout_variable: Some("generic_timeout_ms"),
        tenant: None,
        fields: FieldRules::PLAIN,
    };

    /// The HMAC secret.
    type Credentials = WebhookSecret;

    fn credentials(&self, secrets: &Secrets) -> Result<WebhookSecret, Error> {
        secret(secrets, SECRET_VARIABLE)
    }

    fn accept(
        &self,
        request: &InboundRequest<'_>,
        secret: &WebhookSecret,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        accept::accept(request, secret, now)
    }

    /// Generic webhooks carry the whole record.
    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        _playbook: &Playbook,
        _names: &FieldNames,
        _api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        events.into_iter().map(Ok).collect()
    }

    /// `GET /records/deals/<id>` for each deal ([`complete::current_stages`]).
    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        complete::current_stages(ids, api).await
    }

    /// `GET /records/deals?status=open&limit=…&cursor=…` ([`list`]).
    async fn list_open_deals(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        _playbook: &Playbook,
        _names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<super::DealPage, Error> {
        list::open_deals(cursor, page_size, api).await
    }

    async fn user_names(
        &self,
        ids: &std::collections::BTreeSet<String>,
        _api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> std::collections::BTreeMap<String, Result<Option<String>, Error>> {
        names::user_names(ids)
    }

    /// One call per write-back, all at once.
    fn render(&self, write_backs: &[WriteBack], _now: OffsetDateTime) -> Steps {
        one_record_per_call(write_backs, |wb| vec![write::render(wb)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_event_and_a_batch_both_parse() {
        let one = br#"{"event_id":"e1","occurred_at":"2026-11-20T09:30:00Z","type":"created","record":{"kind":"lead","id":"L-1"}}"#;
        let events = parse(one).unwrap();
        assert_eq!(events[0].dedupe_key, "generic:e1");
        let batch = format!(
            r#"{{"events":[{0},{0}]}}"#,
            std::str::from_utf8(one).unwrap()
        );
        assert_eq!(parse(batch.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn errors_name_the_field_path() {
        let body = br#"{"events":[{"event_id":"e1","occurred_at":"2026-11-20T09:30:00Z","type":"created","record":{"kind":"deal"}}]}"#;
        let Err(Error::InvalidBody { path, message }) = parse(body) else {
            panic!("accepted a record without id")
        };
        assert_eq!(path, "events[0].record");
        assert!(message.contains("missing field `id`"), "{message}");

        let body = br#"{"event_id":"e1","occurred_at":"yesterday","type":"created","record":{"kind":"deal","id":"D"}}"#;
        let Err(Error::InvalidBody { path, .. }) = parse(body) else {
            panic!("accepted a bad date")
        };
        assert_eq!(path, "occurred_at");
    }

    #[test]
    fn record_ids_are_bounded_and_never_a_dot_segment() {
        let event = |id: &str| {
            format!(
                r#"{{"events":[{{"event_id":"e1","occurred_at":"2026-11-20T09:30:00Z","type":"created","record":{{"kind":"deal","id":{}}}}}]}}"#,
                serde_json::Value::from(id)
            )
        };
        for id in [
            "D-88",
            "0065g00000AbCdEAAZ",
            "acct:42.v2_x",
            "...",
            &"a".repeat(128),
        ] {
            assert_eq!(parse(event(id).as_bytes()).unwrap()[0].record.id, id);
        }
        for id in [
            "",
            " ",
            ".",
            "..",
            "D/../x",
            "D 1",
            "D%2F",
            "dé",
            &"a".repeat(129),
        ] {
            let Err(Error::InvalidBody { path, .. }) = parse(event(id).as_bytes()) else {
                panic!("accepted record id {id:?}")
            };
            assert_eq!(path, "events[0].record.id", "{id:?}");
        }
    }

    #[test]
    fn a_stage_change_needs_the_new_stage() {
        let body = br#"{"events":[{"event_id":"e1","occurred_at":"2026-11-20T09:30:00Z","type":"stage_changed","record":{"kind":"deal","id":"D"}}]}"#;
        let Err(Error::InvalidBody { path, .. }) = parse(body) else {
            panic!("accepted a stage change without a stage")
        };
        assert_eq!(path, "events[0].record.stage");
    }

    #[test]
    fn malformed_json_says_where() {
        let Err(Error::InvalidBody { path, message }) = parse(b"{\"events\": [") else {
            panic!("accepted broken JSON")
        };
        assert_eq!(path, ".");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn a_deal_read_again_without_its_stage_is_a_fault_and_a_gone_one_is_left_out() {
        use crate::{
            api::Limits,
            memory::{RecordingCrm, StoppedClock},
        };
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        crm.answer(
            "GET",
            "/records/deals/D-1",
            serde_json::json!({"kind": "deal", "id": "D-1", "stage": "negotiation"}),
        );
        crm.answer(
            "GET",
            "/records/deals/D-2",
            serde_json::json!({"kind": "deal", "id": "D-2"}),
        );
        crm.refuse(
            "GET",
            "/records/deals/D-3",
            Error::CrmRecordGone {
                call: "GET /records/deals/D-3".into(),
            },
        );
        let api = Api::new(
            &crm,
            &clock,
            Limits::within(std::time::Duration::from_secs(5)),
        );
        let read = |ids: &[&str]| {
            let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
            futures::executor::block_on(Generic.current_stages(&ids, &api))
        };
        let stages = read(&["D-1", "D-3"]).unwrap();
        assert_eq!(stages.get("D-1").map(String::as_str), Some("negotiation"));
        assert!(!stages.contains_key("D-3"), "the CRM no longer has it");
        let err = read(&["D-1", "D-2"]).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(
            err.to_string()
                .contains("deal D-2 was read again without its stage"),
            "{err}"
        );
    }
}
