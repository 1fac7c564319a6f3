//! Pipedrive: webhooks v2 in, the v2 API out.
//!
//! # Inbound
//! `POST /<function>/pipedrive`: one event per request, `{"meta": …, "data": …, "previous": …}`,
//! with the HTTP Basic credentials set on the webhook (`http_auth_user`/`http_auth_password`),
//! checked against the `pipedrive_webhook_user`/`pipedrive_webhook_password` variables. Pipedrive
//! does not sign webhooks; the credentials and TLS are what authenticate them. When
//! `pipedrive_company_id` is set, a webhook whose `meta.company_id` is another company's is
//! refused with `403`.
//!
//! `data` is the whole object after the change (`null` on delete), `previous` only the fields
//! that changed (`webhook`): a `stage_id` there is the stage a deal came from, an `owner_id`
//! there says the change gave the deal another owner (the AE, in a handoff), and `meta.user_id`
//! is who made the change (the BDR). Deals are scored as deals, persons as leads; other entities
//! are acknowledged and skipped. A deal created in a handoff stage is gated like one moved there.
//! A bulk edit in Pipedrive's list view sends one event per record (`meta.is_bulk_edit`), each
//! judged on its own: a bulk move into a handoff stage is gated deal by deal. Events are
//! de-duplicated on `meta.id`, the event's UUID.
//!
//! Custom fields arrive under 40-character keys, as typed objects (`{"type": "varchar", "value":
//! …}`); the playbook's `crm_fields.pipedrive` names the key that feeds each dimension, and
//! `handoff.crm_fields.pipedrive` the keys of the BDR and AE user fields (the adapters' shared
//! `mapped_fields`). A deal's person is fetched (`GET /api/v2/persons/<id>`) for
//! its name, job title and, when the contact dimension names a person field in
//! `crm_fields.pipedrive`, its buying role. Option fields (single and multiple option) carry ids;
//! those the playbook reads get their labels from the field definitions ([`options`]).
//!
//! Before a blocked handoff is moved back, the deals are read again (`GET /api/v2/deals?ids=…`):
//! one moved on since stays where it is.
//!
//! # Write-back
//! In `write`: `PATCH /api/v2/deals/<id>` (or `/persons/<id>`) with the result fields in
//! `custom_fields` and `stage_id` when a blocked handoff goes back; then, for each notice, an
//! activity of type `task` owned by the user who must act (`POST /api/v2/activities`), or a note
//! (`POST /api/v1/notes`: Pipedrive has no v2 notes API).

mod accept;
mod activities;
mod by_id;
mod complete;
mod list;
mod names;
pub mod options;
mod organization;
mod write;

use std::collections::BTreeMap;

use time::OffsetDateTime;

pub use accept::parse;
pub use write::render;

use super::{
    Adapter, ApiAuth, ApiVariables, Crm, Facts, FieldNames, FieldRules, Secrets, Steps, Tenant,
    Tenants, WebhookSecret, adapter::one_record_per_call, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Delivery, WebhookEvent},
    inbound::InboundRequest,
    model::RecordKind,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    signature::credentials::AUTHORIZATION_HEADER,
    writeback::WriteBack,
};
use std::time::Duration;

/// The Spin variable holding the webhook's HTTP Basic user.
pub const USER_VARIABLE: &str = "pipedrive_webhook_user";
/// The Spin variable holding the webhook's HTTP Basic password.
pub const PASSWORD_VARIABLE: &str = "pipedrive_webhook_password";
/// The Spin variable holding the company id webhooks must come from (empty: any).
pub const COMPANY_VARIABLE: &str = "pipedrive_company_id";
/// The Spin variables for Pipedrive's API; the token goes in Pipedrive's `x-api-token` header.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "pipedrive_api_url",
    token: "pipedrive_api_token",
    auth: ApiAuth::Header("x-api-token"),
    oauth: None,
    origin: ApiVariables::ANY_ORIGIN,
    wrong_origin: |_| None,
};

/// Pipedrive's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Pipedrive;

/// What Pipedrive webhooks are checked with.
#[derive(Debug, Clone)]
pub struct PipedriveCredentials {
    /// The HTTP Basic user set on the webhook.
    pub user: WebhookSecret,
    /// Its password.
    pub password: WebhookSecret,
    /// The company served.
    pub company: Tenants,
}

impl Pipedrive {
    /// A Pipedrive company id: `meta.company_id`.
    pub const TENANT: Tenant = Tenant {
        variable: COMPANY_VARIABLE,
        described: "a Pipedrive company id (digits, the webhooks' meta.company_id)",
        is_valid: Tenant::is_number,
        key: |id| id,
    };
}

impl Adapter for Pipedrive {
    const FACTS: Facts = Facts {
        crm: Crm::Pipedrive,
        secret_variables: &[USER_VARIABLE, PASSWORD_VARIABLE, COMPANY_VARIABLE],
        function_secret: None,
        api_variables: API_VARIABLES,
        credential_headers: &[AUTHORIZATION_HEADER],
        credential_query: None,
        credential_hint: AUTHORIZATION_HEADER,
        answer_timeout: Duration::from_secs(10),
        answer_timeout_variable: None,
        tenant: Some(Pipedrive::TENANT),
        fields: FieldRules {
            // A person field's key is not the deal field's: persons have their own table.
            table: |kind| match kind {
                RecordKind::Lead => Some(complete::PERSON_FIELDS),
                RecordKind::Deal => None,
            },
            custom: str::to_owned,
        },
    };

    /// The HTTP Basic user and password set on the webhook, and the company served.
    type Credentials = PipedriveCredentials;

    fn credentials(&self, secrets: &Secrets) -> Result<Self::Credentials, Error> {
        Ok(PipedriveCredentials {
            user: secret(secrets, USER_VARIABLE)?,
            password: secret(secrets, PASSWORD_VARIABLE)?,
            company: Tenants::from_secrets(secrets, Pipedrive::TENANT)?,
        })
    }

    fn accept(
        &self,
        request: &InboundRequest<'_>,
        credentials: &Self::Credentials,
        _now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        accept::accept(request, credentials)
    }

    /// Pipedrive sends one webhook per deal: each event is completed on its own, side by side.
    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        api.map(events, |event| {
            complete::complete(event, playbook, names, api)
        })
        .await
    }

    /// `GET /api/v2/deals?ids=…`, a hundred deals a call ([`complete::current_stages`]).
    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<BTreeMap<String, String>, Error> {
        complete::current_stages(ids, api).await
    }

    /// `GET /api/v2/deals?status=open&cursor=…`, each deal completed as a webhook's ([`list`]).
    async fn list_open_deals(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<super::DealPage, Error> {
        list::open_deals(cursor, page_size, playbook, names, api).await
    }

    async fn user_names(
        &self,
        ids: &std::collections::BTreeSet<String>,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> std::collections::BTreeMap<String, Result<Option<String>, Error>> {
        names::user_names(ids, api).await
    }

    fn render(&self, write_backs: &[WriteBack], now: OffsetDateTime) -> Steps {
        one_record_per_call(write_backs, |wb| render(wb, now))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::{
        complete::{complete, complete_with},
        *,
    };

    /// A swept deal's person is taken from the page's persons, never fetched on its own; a
    /// person not among them was deleted: no contact, and no call.
    #[test]
    fn a_listed_deal_takes_its_person_from_the_page() {
        use crate::memory::{RecordingCrm, StoppedClock};
        let crm = RecordingCrm::default();
        let clock = StoppedClock::default();
        let api = Api::new(
            &crm,
            &clock,
            crate::api::Limits::within(std::time::Duration::from_secs(10)),
        );
        let person: Value = serde_json::from_str(include_str!(
            "../../../../../fixtures/pipedrive/api/person-201.json"
        ))
        .unwrap();
        let Value::Object(person) = person["data"].clone() else {
            panic!("a person")
        };
        let page = complete::PageReads {
            persons: BTreeMap::from([("201".to_owned(), person)]),
            organizations: Ok(BTreeMap::new()),
        };
        let playbook = Playbook::default_playbook();
        let deal = |person: &str| {
            let mut record = crate::model::Record::new_deal("102");
            record.fields.insert("person_id".into(), person.into());
            // As the list gives it: nothing done, so no activities to read.
            record
                .fields
                .insert("done_activities_count".into(), 0.into());
            crate::crm::list::listed(record, false)
        };
        let known = futures::executor::block_on(complete_with(
            deal("201"),
            &playbook,
            &FieldNames::new(&playbook, &Pipedrive::FACTS),
            &api,
            Some(&page),
        ))
        .unwrap();
        let contact = &known.record.contacts[0];
        assert_eq!(
            (contact.name.as_deref(), contact.title.as_deref()),
            (Some("Dana Ortiz"), Some("CFO"))
        );
        let gone = futures::executor::block_on(complete_with(
            deal("999"),
            &playbook,
            &FieldNames::new(&playbook, &Pipedrive::FACTS),
            &api,
            Some(&page),
        ))
        .unwrap();
        assert!(gone.record.contacts.is_empty());
        assert!(crm.calls().is_empty(), "{:?}", crm.calls());
    }

    fn accept(company: &str, meta_company: Value) -> Result<Delivery, Error> {
        use base64::Engine as _;
        let mut secrets = Secrets::new();
        secrets.insert(USER_VARIABLE, "pipedrive".into());
        secrets.insert(PASSWORD_VARIABLE, "s3cret".into());
        secrets.insert(COMPANY_VARIABLE, company.into());
        let credentials = Pipedrive.credentials(&secrets).unwrap();
        let mut meta = json!({"action": "change", "entity": "deal", "version": "2.0", "id": "e-1", "entity_id": "7", "timestamp": "2026-11-21T11:00:00Z"});
        if !meta_company.is_null() {
            meta["company_id"] = meta_company;
        }
        let body =
            json!({"meta": meta, "data": {"id": 7, "stage_id": 2}, "previous": null}).to_string();
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        let basic = base64::engine::general_purpose::STANDARD.encode("pipedrive:s3cret");
        headers.insert("authorization", format!("Basic {basic}").parse().unwrap());
        let request = InboundRequest {
            method: "POST",
            url: "https://pg.example/gate-handoff/pipedrive",
            headers: &headers,
            body: body.as_bytes(),
        };
        Pipedrive.accept(&request, &credentials, OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_pinned_company_refuses_webhooks_from_other_companies_with_403() {
        assert!(accept("7315220", json!("7315220")).is_ok());
        assert!(accept("7315220", json!(7315220)).is_ok());
        assert!(accept("", json!("1")).is_ok(), "not pinned");
        for other in [json!("7315221"), Value::Null] {
            let err = accept("7315220", other.clone()).unwrap_err();
            assert_eq!((err.status(), err.code()), (403, "wrong_tenant"), "{other}");
            assert!(err.to_string().contains("meta.company_id"), "{err}");
        }
    }

    #[test]
    fn option_fields_the_playbook_reads_get_their_labels_and_others_their_ids() {
        use crate::memory::RecordingCrm;
        let situation = "0dc5f2323d817fc98ca27bc8ce648acad2c657b1";
        let body = json!({
            "meta": {"action": "change", "entity": "deal", "version": "2.0", "id": "e-1", "entity_id": "7", "timestamp": "2026-11-21T11:00:00Z"},
            "data": {"id": 7, "title": "t", "status": "open", "stage_id": 2, "pipeline_id": 1, "custom_fields": {
                situation: {"type": "set", "values": [{"id": 5}, {"id": 6}]},
                "ffff0000ffff0000ffff0000ffff0000ffff0000": {"type": "enum", "id": 9},
            }},
            "previous": null,
        });
        let mut playbook = Playbook::default_playbook();
        for d in &mut playbook.dimensions {
            if d.key == "situation" {
                d.crm_fields.insert("pipedrive".into(), situation.into());
            }
        }
        let crm = RecordingCrm::default();
        crm.answer(
            "GET",
            "/api/v1/dealFields",
            json!({"data": [{"key": situation, "field_type": "set", "options": [
                {"id": 5, "label": "Spreadsheets"}, {"id": 6, "label": "Manual bank exports"}]}]}),
        );
        let event = parse(body.to_string().as_bytes()).unwrap().remove(0);
        let clock = crate::memory::StoppedClock::default();
        let api = Api::new(
            &crm,
            &clock,
            crate::api::Limits::within(std::time::Duration::from_secs(10)),
        );
        let event = futures::executor::block_on(complete(
            event,
            &playbook,
            &FieldNames::new(&playbook, &Pipedrive::FACTS),
            &api,
        ))
        .unwrap();
        assert_eq!(
            event.record.text("situation").as_deref(),
            Some("Spreadsheets, Manual bank exports")
        );
        assert_eq!(
            event
                .record
                .text("ffff0000ffff0000ffff0000ffff0000ffff0000")
                .as_deref(),
            Some("9"),
            "not read: kept as its id, no labels needed"
        );
        let paths: Vec<String> = crm.calls().into_iter().map(|c| c.path).collect();
        assert_eq!(
            paths
                .iter()
                .filter(|p| p.starts_with("/api/v1/dealFields"))
                .count(),
            1,
            "one fetch of the deal fields: {paths:?}"
        );
    }

    #[test]
    fn a_deal_read_again_without_its_stage_is_a_fault() {
        use crate::{
            api::Limits,
            memory::{RecordingCrm, StoppedClock},
        };
        let (crm, clock) = (RecordingCrm::default(), StoppedClock::default());
        let api = Api::new(
            &crm,
            &clock,
            Limits::within(std::time::Duration::from_secs(5)),
        );
        let ids = vec!["115".to_owned(), "116".to_owned()];
        crm.answer(
            "GET",
            "/api/v2/deals",
            json!({"success": true, "data": [{"id": 115, "stage_id": 5}]}),
        );
        let stages = futures::executor::block_on(Pipedrive.current_stages(&ids, &api)).unwrap();
        assert_eq!(stages.get("115").map(String::as_str), Some("5"));
        assert!(!stages.contains_key("116"), "the CRM no longer has it");
        crm.answer(
            "GET",
            "/api/v2/deals",
            json!({"success": true, "data": [{"id": 115, "stage_id": 5}, {"id": 116, "stage_id": null}]}),
        );
        let err = futures::executor::block_on(Pipedrive.current_stages(&ids, &api)).unwrap_err();
        assert!(err.is_transient(), "{err}");
        assert!(
            err.to_string()
                .contains("deal 116 was read again without its stage"),
            "{err}"
        );
    }
}
