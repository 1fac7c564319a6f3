//! Salesforce: outbound messages (and Flow HTTP callouts) in, the REST sObject API out.
//!
//! # Inbound
//! `POST /<function>/salesforce` with the token in an `x-pipeline-guard-token` header (a Flow
//! callout's named credential sets it), or `?token=<token>` on the URL where no header can be
//! set (outbound messages: Salesforce does not sign them, so the endpoint URL carries a shared
//! secret, which proxies and request traces log). The header wins when both are sent. It is
//! checked in constant time against the `salesforce_webhook_token` variable and, while the token
//! is rotated, `salesforce_webhook_token_next`. When `salesforce_org_id` is set, an outbound
//! message's `OrganizationId` (a callout's `organization_id`) must be that org (compared on the
//! 15-character id), or the request is refused with `403`: a sandbox refreshed from production
//! keeps the outbound message's URL and token and the production record ids.
//!
//! - `Content-Type: text/xml`: an outbound message, the SOAP `notifications` envelope with up to
//!   [`MAX_NOTIFICATIONS`] `Notification`s (`outbound`). Opportunities are deals and leads are
//!   leads; other objects are acknowledged and skipped. Notifications are de-duplicated on
//!   (OrganizationId, Notification Id). The answer is the SOAP `notificationsResponse` with
//!   `<Ack>true</Ack>`, sent only once every notification is written back and recorded; on any
//!   failure the answer is a SOAP fault, and Salesforce retries.
//! - `Content-Type: application/json`: a Flow HTTP callout that waits for the decision (see
//!   [`FlowCallout`]). It is decided and answered with flat JSON the Flow can branch on; nothing is
//!   written back or recorded, the Flow acts on the answer itself.
//!
//! An outbound message does not say what changed: an opportunity's message is taken as its entry
//! into its current `StageName`, or as its creation (`record`).
//!
//! ## What the admin sets up for the handoff gate
//! - **The outbound message's fields** must include `Id`, `StageName` (an opportunity's message
//!   without it is refused with a `400` naming the field and delivered again, never judged),
//!   `OwnerId` (the AE, when the handoff gave the deal to one), `LastModifiedById` (who made the
//!   change: the BDR who moved the deal, who is told when it is blocked), `LastModifiedDate` (to
//!   order deliveries), `CreatedDate` (to tell a creation from a move), the qualification fields
//!   and, when the playbook names them, the AE and BDR user fields
//!   (`handoff.crm_fields.salesforce`, such as `AE_Owner__c`).
//! - **When it fires**: on creation and on every edit that changes the stage, so a deal created
//!   in a handoff stage (an import, the API) is gated like one moved there. In a record-triggered
//!   flow: "A record is created or updated", the entry formula `OR(ISNEW(),
//!   ISCHANGED({!$Record.StageName}))`, and the outbound message as its action; in a workflow
//!   rule: "created, and every time it's edited" with `OR(ISNEW(), ISCHANGED(StageName))`. Only
//!   then: a message sent for any other edit reads as an entry into the stage the deal sits in,
//!   so a deal edited while in a handoff stage would be gated again.
//! - **A Flow callout** sends the same fields in `record`; as `LastModifiedById` it sends the
//!   user running the Flow (`{!$User.Id}`), who is about to make the change.
//!
//! An opportunity's contact roles are read with SOQL (`OpportunityContactRole`) for the economic
//! buyer; the playbook's `crm_fields.salesforce` maps custom fields (`Pain__c`) to dimensions
//! (`soql`). Before a blocked handoff is moved back, the opportunities are read again
//! (`SELECT Id, StageName FROM Opportunity WHERE Id IN (…)`): one moved on since stays where it is.
//!
//! # Write-back
//! sObject collections (`write`): the result fields (by default the playbook's names with
//! `__c`: `pg_score__c`) and `StageName` when a blocked handoff goes back; then a `Task` for each
//! notice, owned by the user it is for: open for a task (high priority for a blocked BDR),
//! completed for a note.

mod accept;
mod account;
mod activities;
mod complete;
mod fields;
mod list;
mod names;
mod record;
mod write;

use serde_json::Value;
use time::OffsetDateTime;

pub use accept::parse;
pub use complete::{NEXT_ACTIVITY_SUBQUERIES, complete};
pub(crate) use record::is_id;
pub use record::{FlowCallout, parse_callout};
pub use write::{COLLECTION_LIMIT, default_field_name, render};

use super::{
    Adapter, ApiAuth, ApiVariables, BatchCall, Crm, Facts, FieldNames, FieldRules, Reply, Secrets,
    Steps, Tenant, Tenants, WebhookSecret, oauth::OAuthVariables, secret,
};
use crate::{
    Error,
    api::Api,
    event::{Delivery, WebhookEvent},
    inbound::{InboundRequest, content_type_is},
    outcome::DeliveryOutcome,
    playbook::Playbook,
    ports::{Clock, CrmClient},
    writeback::WriteBack,
};
use std::time::Duration;

/// The Spin variable holding the shared token.
pub const TOKEN_VARIABLE: &str = "salesforce_webhook_token";
/// The Spin variable holding the token that replaces it during a rotation (empty: none).
pub const NEXT_TOKEN_VARIABLE: &str = "salesforce_webhook_token_next";
/// The Spin variable holding the org id outbound messages must come from (empty: any).
pub const ORG_VARIABLE: &str = "salesforce_org_id";
/// The header that carries the shared token (preferred to the URL's `?token=`).
pub const TOKEN_HEADER: &str = "x-pipeline-guard-token";
/// The Spin variable holding the external client app's consumer key (client credentials flow).
pub const CLIENT_ID_VARIABLE: &str = "salesforce_client_id";
/// The Spin variable holding the external client app's consumer secret.
pub const CLIENT_SECRET_VARIABLE: &str = "salesforce_client_secret";
/// The Spin variables for Salesforce's REST API: the My Domain URL, and either client credentials
/// (an access token is requested from `/services/oauth2/token` and renewed when it expires) or a
/// fixed access token.
pub const API_VARIABLES: ApiVariables = ApiVariables {
    url: "salesforce_api_url",
    token: "salesforce_api_token",
    auth: ApiAuth::Bearer,
    oauth: Some(OAuthVariables {
        client_id: CLIENT_ID_VARIABLE,
        client_secret: CLIENT_SECRET_VARIABLE,
        token_path: "/services/oauth2/token",
    }),
    origin: "your org's My Domain (https://<domain>.my.salesforce.com)",
    wrong_origin: |url| {
        ["://login.salesforce.com", "://test.salesforce.com"]
            .iter()
            .any(|login| url.contains(login))
            .then_some("a login host: the client credentials flow and the REST API are served on your org's My Domain")
    },
};
/// The REST API version pipeline-guard calls (Winter '26).
pub const API_VERSION: &str = "v65.0";
/// The most notifications one outbound message carries.
pub const MAX_NOTIFICATIONS: usize = 100;

/// Salesforce's adapter.
#[derive(Debug, Clone, Copy)]
pub struct Salesforce;

/// What Salesforce requests are checked with.
#[derive(Debug, Clone)]
pub struct SalesforceCredentials {
    /// The shared token, then the next one while it is rotated.
    pub tokens: Vec<WebhookSecret>,
    /// The org served.
    pub org: Tenants,
}

impl Salesforce {
    /// A Salesforce org id: an outbound message's `OrganizationId`.
    pub const TENANT: Tenant = Tenant {
        variable: ORG_VARIABLE,
        described: "a Salesforce org id (15 or 18 letters and digits, Setup → Company Information)",
        is_valid: is_id,
        // An 18-character id only adds a case checksum to the 15 characters that are the id.
        key: |id| id.get(..15).unwrap_or(id),
    };
}

impl Adapter for Salesforce {
    const FACTS: Facts = Facts {
        crm: Crm::Salesforce,
        secret_variables: &[TOKEN_VARIABLE, NEXT_TOKEN_VARIABLE, ORG_VARIABLE],
        function_secret: None,
        api_variables: API_VARIABLES,
        credential_headers: &[TOKEN_HEADER],
        credential_query: Some("token"),
        credential_hint: "x-pipeline-guard-token (or ?token=)",
        answer_timeout: Duration::from_secs(60),
        answer_timeout_variable: None,
        tenant: Some(Salesforce::TENANT),
        fields: FieldRules {
            table: |_| None,
            custom: default_field_name,
        },
    };

    /// The shared tokens and the org served.
    type Credentials = SalesforceCredentials;

    fn credentials(&self, secrets: &Secrets) -> Result<SalesforceCredentials, Error> {
        let mut tokens = vec![secret(secrets, TOKEN_VARIABLE)?];
        tokens.extend(secret(secrets, NEXT_TOKEN_VARIABLE).ok());
        Ok(SalesforceCredentials {
            tokens,
            org: Tenants::from_secrets(secrets, Salesforce::TENANT)?,
        })
    }

    /// An outbound message or a Flow callout, with a shared token, from the org served.
    fn accept(
        &self,
        request: &InboundRequest<'_>,
        credentials: &SalesforceCredentials,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        accept::accept(request, credentials, now)
    }

    async fn complete(
        &self,
        events: Vec<WebhookEvent>,
        playbook: &Playbook,
        names: &FieldNames,
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Vec<Result<WebhookEvent, Error>> {
        complete(events, playbook, names, api).await
    }

    async fn current_stages(
        &self,
        ids: &[String],
        api: &Api<'_, impl CrmClient, impl Clock>,
    ) -> Result<std::collections::BTreeMap<String, String>, Error> {
        complete::current_stages(ids, api).await
    }

    /// SOQL for open opportunities after the last id read, the page completed as a webhook's
    /// ([`list`]).
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
        render(write_backs, now)
    }

    /// sObject collections answer one result per record, in order; an answer that does not
    /// hold one result per record sent says nothing about any of them, so all are refused.
    fn refused(&self, call: &BatchCall, answer: &Value) -> Vec<(usize, String)> {
        match answer.as_array() {
            Some(results) if results.len() == call.serves.len() => results
                .iter()
                .enumerate()
                .filter(|(_, result)| result["success"] != true)
                .map(|(i, result)| (i, write::collection_error(result)))
                .collect(),
            _ => (0..call.serves.len())
                .map(|i| {
                    (
                        i,
                        format!(
                            "Salesforce answered without one result per record ({} sent)",
                            call.serves.len()
                        ),
                    )
                })
                .collect(),
        }
    }

    fn reply(&self, content_type: Option<&str>, result: &Result<DeliveryOutcome, Error>) -> Reply {
        reply(content_type, result)
    }
}

pub(super) fn is_json(content_type: Option<&str>) -> bool {
    content_type_is(content_type, "application/json")
}

/// The answer Salesforce expects to an outbound message: the SOAP acknowledgement once every
/// notification is done, else a SOAP fault (`503` while some are pending, the error's status on
/// failure) so Salesforce delivers again. A Flow callout (JSON) gets [`Reply::of`]: the flat
/// fields it branches on, or a JSON error.
pub fn reply(content_type: Option<&str>, result: &Result<DeliveryOutcome, Error>) -> Reply {
    if is_json(content_type) {
        return Reply::of(result);
    }
    let (status, body) = match result {
        Ok(outcome) => match outcome.unfinished() {
            None => (
                200,
                "<notificationsResponse xmlns=\"http://soap.sforce.com/2005/09/outbound\">\
                 <Ack>true</Ack></notificationsResponse>"
                    .to_owned(),
            ),
            Some(left) => (503, fault("Server", &left)),
        },
        Err(err) => (
            err.status(),
            fault(
                if err.status() < 500 {
                    "Client"
                } else {
                    "Server"
                },
                &err.to_string(),
            ),
        ),
    };
    Reply {
        status,
        content_type: "text/xml; charset=utf-8",
        body: format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
             <soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">\
             <soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
        ),
    }
}

/// A SOAP fault: `code` is `Client` or `Server`.
fn fault(code: &str, message: &str) -> String {
    format!(
        "<soapenv:Fault><faultcode>soapenv:{code}</faultcode><faultstring>{}</faultstring>\
         </soapenv:Fault>",
        quick_xml::escape::escape(message)
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{function::FunctionKind, mode::Mode, writeback::CrmCall};

    #[test]
    fn the_ack_is_exactly_what_salesforce_expects_and_failures_are_faults() {
        let ok = Ok(DeliveryOutcome::new(
            FunctionKind::ScoreLead,
            Mode::Shadow,
            Vec::new(),
            false,
        ));
        let reply = super::reply(Some("text/xml; charset=utf-8"), &ok);
        assert_eq!(reply.status, 200);
        assert_eq!(
            reply.body,
            r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
        );
        let failed = Err(Error::CrmUnavailable {
            call: "PATCH /x".into(),
            reason: "503 <busy>".into(),
        });
        let reply = super::reply(Some("text/xml"), &failed);
        assert_eq!(reply.status, 502);
        assert!(reply.body.contains("<faultcode>soapenv:Server</faultcode>"));
        assert!(reply.body.contains("503 &lt;busy&gt;"), "{}", reply.body);
        assert!(!reply.body.contains("<Ack>"));
    }

    const CURRENT: &str = "sf-current-token";
    const NEXT: &str = "sf-next-token";
    const ORG: &str = "00D5g000004XyZaEAK";
    const OUTBOUND: &str = r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00D5g000004XyZaEAK</OrganizationId><Notification><Id>04l5g00000ABcdEAAT</Id><sObject xsi:type="sf:Opportunity" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>0065g00000AbCdEAAZ</sf:Id><sf:StageName>Discovery</sf:StageName></sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"#;

    fn credentials(next: &str, org: &str) -> SalesforceCredentials {
        let mut secrets = Secrets::new();
        secrets.insert(TOKEN_VARIABLE, CURRENT.into());
        secrets.insert(NEXT_TOKEN_VARIABLE, next.into());
        secrets.insert(ORG_VARIABLE, org.into());
        Salesforce.credentials(&secrets).unwrap()
    }

    fn accept(
        query: &str,
        header: Option<&str>,
        body: &str,
        credentials: &SalesforceCredentials,
    ) -> Result<Delivery, Error> {
        let mut headers = http::HeaderMap::new();
        let content_type = if body.starts_with('{') {
            "application/json"
        } else {
            "text/xml; charset=utf-8"
        };
        headers.insert("content-type", content_type.parse().unwrap());
        if let Some(token) = header {
            headers.insert(TOKEN_HEADER, token.parse().unwrap());
        }
        let url = format!("https://pg.example/gate-handoff/salesforce{query}");
        let request = InboundRequest {
            method: "POST",
            url: &url,
            headers: &headers,
            body: body.as_bytes(),
        };
        let now = time::macros::datetime!(2026-11-21 12:00 UTC);
        Salesforce.accept(&request, credentials, now)
    }

    #[test]
    fn the_token_comes_in_the_header_or_the_query_and_the_header_wins() {
        let unpinned = credentials("", "");
        assert!(accept("", Some(CURRENT), OUTBOUND, &unpinned).is_ok());
        assert!(accept("?token=sf-current-token", None, OUTBOUND, &unpinned).is_ok());
        let err = accept(
            "?token=sf-current-token",
            Some("sf-guess"),
            OUTBOUND,
            &unpinned,
        )
        .unwrap_err();
        assert_eq!(
            err.code(),
            "bad_credentials",
            "the header is the one checked"
        );
        let err = accept("", None, OUTBOUND, &unpinned).unwrap_err();
        assert_eq!(err.code(), "missing_signature");
        assert!(err.to_string().contains(TOKEN_HEADER), "{err}");
    }

    #[test]
    fn during_a_rotation_the_next_token_passes_too() {
        let rotating = credentials(NEXT, "");
        assert_eq!(rotating.tokens.len(), 2);
        assert!(!format!("{rotating:?}").contains(NEXT), "redacted");
        assert!(accept("", Some(NEXT), OUTBOUND, &rotating).is_ok());
        assert!(accept("", Some(CURRENT), OUTBOUND, &rotating).is_ok());
        assert!(accept("?token=sf-next-token", None, OUTBOUND, &rotating).is_ok());
        let err = accept("", Some(NEXT), OUTBOUND, &credentials("", "")).unwrap_err();
        assert_eq!(err.status(), 401, "no next token configured");
    }

    #[test]
    fn a_pinned_org_refuses_other_orgs_with_a_403_soap_fault() {
        assert!(accept("", Some(CURRENT), OUTBOUND, &credentials("", ORG)).is_ok());
        assert!(
            accept(
                "",
                Some(CURRENT),
                OUTBOUND,
                &credentials("", "00D5g000004XyZa")
            )
            .is_ok(),
            "the 15-character form of the same org"
        );
        let sandbox = credentials("", "00D7A0000008aBcUAI");
        let err = accept("", Some(CURRENT), OUTBOUND, &sandbox).unwrap_err();
        assert_eq!(err.code(), "wrong_tenant");
        let reply = super::reply(Some("text/xml"), &Err(err));
        assert_eq!(reply.status, 403);
        assert!(reply.body.contains("<faultcode>soapenv:Client</faultcode>"));
        assert!(reply.body.contains("OrganizationId"), "{}", reply.body);
        assert!(reply.body.contains("salesforce_org_id"), "{}", reply.body);
    }

    #[test]
    fn a_pinned_org_needs_a_callout_to_name_its_org() {
        let callout = |org: &str| {
            format!(
                r#"{{"object":"Opportunity",{org}"record":{{"Id":"0065g00000AbCdEAAZ","StageName":"Discovery"}}}}"#
            )
        };
        let pinned = credentials("", ORG);
        let named = callout(r#""organization_id":"00D5g000004XyZaEAK","#);
        assert!(accept("", Some(CURRENT), &named, &pinned).is_ok());
        let err = accept("", Some(CURRENT), &callout(""), &pinned).unwrap_err();
        assert_eq!((err.status(), err.code()), (403, "wrong_tenant"));
        assert!(err.to_string().contains("organization_id"), "{err}");
        let other = callout(r#""organization_id":"00D7A0000008aBcUAI","#);
        assert_eq!(
            accept("", Some(CURRENT), &other, &pinned)
                .unwrap_err()
                .status(),
            403
        );
        assert!(accept("", Some(CURRENT), &callout(""), &credentials("", "")).is_ok());
    }

    #[test]
    fn collection_results_refuse_by_position_and_an_answer_without_them_refuses_all() {
        let call = BatchCall {
            call: CrmCall::get("/x"),
            serves: vec![4, 7],
        };
        let answer = json!([
            {"id": "a", "success": true, "errors": []},
            {"success": false, "errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "Pain is required", "fields": ["Pain__c"]}]},
        ]);
        let refused = Salesforce.refused(&call, &answer);
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].0, 1);
        assert!(
            refused[0]
                .1
                .contains("FIELD_CUSTOM_VALIDATION_EXCEPTION: Pain is required (fields: Pain__c)")
        );
        for unusable in [json!(null), json!({}), json!([{"success": true}])] {
            assert_eq!(Salesforce.refused(&call, &unusable).len(), 2, "{unusable}");
        }
    }
}
