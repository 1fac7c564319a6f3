//! CRM adapters: one module per CRM, each a type implementing [`Adapter`]: its webhook into
//! [`crate::event::WebhookEvent`]s, its records completed for a whole batch, write-backs into its
//! API calls, and the answer it expects.
//!
//! Adding a CRM is one new module, one [`Crm`] variant with its names and variables, and one arm
//! in [`with_adapter!`](crate::with_adapter).

use std::collections::BTreeMap;

use crate::{
    Error,
    evidence::EvidenceRule,
    model::{Record, RecordKind},
    playbook::{Handoff, Playbook, WriteBackFields},
};

pub mod adapter;
mod answer;
pub mod generic;
pub mod hubspot;
pub mod list;
pub mod oauth;
pub mod pipedrive;
pub mod salesforce;

pub use adapter::{Adapter, BatchCall, Steps};
pub use answer::{Reply, workflow_answer};
pub use list::DealPage;

/// The CRMs pipeline-guard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Crm {
    /// The generic JSON webhook format, for any other CRM or a workflow tool.
    Generic,
    /// HubSpot's Webhooks API and CRM v3 objects API.
    Hubspot,
    /// Pipedrive's webhooks v2 and API v2.
    Pipedrive,
    /// Salesforce's outbound messages and Flow callouts, and its REST API.
    Salesforce,
}

/// Secret values by Spin variable name, as the function read them.
pub type Secrets = BTreeMap<&'static str, String>;

impl Crm {
    /// Every supported CRM.
    pub const ALL: &'static [Crm] = &[Crm::Generic, Crm::Hubspot, Crm::Pipedrive, Crm::Salesforce];

    /// The CRM's route segment (`/score-lead/generic`).
    pub fn name(self) -> &'static str {
        match self {
            Crm::Generic => "generic",
            Crm::Hubspot => "hubspot",
            Crm::Pipedrive => "pipedrive",
            Crm::Salesforce => "salesforce",
        }
    }

    /// The CRM as people name it (`HubSpot`; `the generic CRM`).
    pub fn label(self) -> &'static str {
        match self {
            Crm::Generic => "the generic CRM",
            Crm::Hubspot => "HubSpot",
            Crm::Pipedrive => "Pipedrive",
            Crm::Salesforce => "Salesforce",
        }
    }

    /// The CRM whose route segment this is.
    pub fn from_name(name: &str) -> Option<Crm> {
        Crm::ALL.iter().copied().find(|crm| crm.name() == name)
    }

    /// The Spin variables this CRM's webhooks are checked with: its secrets, the tenants it is
    /// pinned to ([`Tenant`]), and which signatures it takes (HubSpot's workflow v1/v2).
    pub fn secret_variables(self) -> &'static [&'static str] {
        match self {
            Crm::Generic => &[generic::SECRET_VARIABLE],
            Crm::Hubspot => &[
                hubspot::SECRET_VARIABLE,
                hubspot::PORTALS_VARIABLE,
                hubspot::WORKFLOW_V1_V2_VARIABLE,
            ],
            Crm::Pipedrive => &[
                pipedrive::USER_VARIABLE,
                pipedrive::PASSWORD_VARIABLE,
                pipedrive::COMPANY_VARIABLE,
            ],
            Crm::Salesforce => &[
                salesforce::TOKEN_VARIABLE,
                salesforce::NEXT_TOKEN_VARIABLE,
                salesforce::ORG_VARIABLE,
            ],
        }
    }

    /// For a CRM that sends all of an app's webhooks to one URL with one secret (HubSpot), the
    /// variable holding a function's own secret, and the shared secret variable it replaces when
    /// it is set: an admin runs one app per function.
    pub fn function_secret(self) -> Option<FunctionSecret> {
        match self {
            Crm::Hubspot => Some(FunctionSecret {
                variable: hubspot::FUNCTION_SECRET_VARIABLE,
                replaces: hubspot::SECRET_VARIABLE,
            }),
            Crm::Generic | Crm::Pipedrive | Crm::Salesforce => None,
        }
    }

    /// The Spin variables holding this CRM's API base URL and API token.
    pub fn api_variables(self) -> ApiVariables {
        match self {
            Crm::Generic => generic::API_VARIABLES,
            Crm::Hubspot => hubspot::API_VARIABLES,
            Crm::Pipedrive => pipedrive::API_VARIABLES,
            Crm::Salesforce => salesforce::API_VARIABLES,
        }
    }

    /// The playbook's `crm_fields` table for this CRM's records of `kind`: the CRM's name, or
    /// `pipedrive_person` for Pipedrive persons (Pipedrive's custom-field keys are per entity: a
    /// person field's key is not the deal field's).
    pub fn field_table(self, kind: RecordKind) -> &'static str {
        match (self, kind) {
            (Crm::Pipedrive, RecordKind::Lead) => "pipedrive_person",
            (crm, _) => crm.name(),
        }
    }

    /// The name this CRM knows a write-back field of a `kind` record by: the playbook's
    /// `[write_back.crm_fields.<table>]` entry ([`Crm::field_table`]), else this CRM's default for
    /// `name`.
    pub fn write_back_field(
        self,
        fields: &WriteBackFields,
        kind: RecordKind,
        name: &str,
    ) -> String {
        let named = fields.name_in(self.field_table(kind), name);
        if named != name {
            return named.to_owned();
        }
        match self {
            Crm::Generic | Crm::Hubspot | Crm::Pipedrive => name.to_owned(),
            Crm::Salesforce => salesforce::default_field_name(name),
        }
    }

    /// The name this CRM knows a canonical handoff field (`handoff.bdr_field`, `ae_field`, the
    /// verdict fields) of a `kind` record by: its `handoff.crm_fields.<table>` entry, else the
    /// canonical name (a custom field's default name in Salesforce for the verdict fields).
    pub fn handoff_field(self, handoff: &Handoff, kind: RecordKind, field: &str) -> String {
        let named = handoff.field_in(self.field_table(kind), field);
        let verdict = &handoff.verdict;
        let is_verdict = field == verdict.field || field == verdict.reason_field;
        match self {
            Crm::Salesforce if named == field && is_verdict => {
                salesforce::default_field_name(field)
            }
            _ => named.to_owned(),
        }
    }

    /// The name this CRM knows a field a write-back sets by: a handoff field's
    /// ([`Crm::handoff_field`]), else a result's ([`Crm::write_back_field`]).
    pub fn outgoing_field(self, playbook: &Playbook, kind: RecordKind, field: &str) -> String {
        let handoff = &playbook.handoff;
        if handoff.read_fields().any(|f| f == field) {
            self.handoff_field(handoff, kind, field)
        } else {
            self.write_back_field(&playbook.write_back, kind, field)
        }
    }

    /// Whether `field` (a CRM field name of a `kind` record) is one pipeline-guard writes back to.
    pub fn is_write_back_field(
        self,
        fields: &WriteBackFields,
        kind: RecordKind,
        field: &str,
    ) -> bool {
        fields.names().any(|name| {
            self.write_back_field(fields, kind, name)
                .eq_ignore_ascii_case(field)
        })
    }

    /// Whether a request carries any of the credentials this CRM's webhooks are authenticated
    /// with (checked before its body is read: a request with none is refused at once). `query`
    /// is the request URL's query string.
    pub fn presents_credentials(self, headers: &http::HeaderMap, query: Option<&str>) -> bool {
        let any = |names: &[&str]| names.iter().any(|name| headers.contains_key(*name));
        match self {
            Crm::Generic => any(&[crate::signature::GENERIC_SIGNATURE_HEADER]),
            Crm::Hubspot => any(&[
                crate::signature::hubspot::SIGNATURE_V3_HEADER,
                crate::signature::hubspot::SIGNATURE_HEADER,
            ]),
            Crm::Pipedrive => any(&[crate::signature::credentials::AUTHORIZATION_HEADER]),
            Crm::Salesforce => {
                any(&[salesforce::TOKEN_HEADER])
                    || query.is_some_and(|q| {
                        form_urlencoded::parse(q.as_bytes()).any(|(key, _)| key == "token")
                    })
            }
        }
    }

    /// The credential a request without any is told to send ([`Crm::presents_credentials`]).
    pub fn credential_header(self) -> &'static str {
        match self {
            Crm::Generic => crate::signature::GENERIC_SIGNATURE_HEADER,
            Crm::Hubspot => crate::signature::hubspot::SIGNATURE_V3_HEADER,
            Crm::Pipedrive => crate::signature::credentials::AUTHORIZATION_HEADER,
            Crm::Salesforce => "x-pipeline-guard-token (or ?token=)",
        }
    }

    /// How long this CRM waits for an answer to a webhook before it gives up and retries.
    pub fn answer_timeout(self) -> std::time::Duration {
        std::time::Duration::from_secs(match self {
            // The edge reads the `generic_timeout_ms` variable instead.
            Crm::Generic => 10,
            Crm::Hubspot => 5,
            Crm::Pipedrive => 10,
            Crm::Salesforce => 60,
        })
    }
}

/// Run `$body` with `$adapter` bound to the [`Adapter`] of `$crm`: the one place a CRM is matched
/// to its adapter.
#[macro_export]
macro_rules! with_adapter {
    ($crm:expr, $adapter:ident => $body:expr) => {
        match $crm {
            $crate::crm::Crm::Generic => {
                let $adapter = &$crate::crm::generic::Generic;
                $body
            }
            $crate::crm::Crm::Hubspot => {
                let $adapter = &$crate::crm::hubspot::Hubspot;
                $body
            }
            $crate::crm::Crm::Pipedrive => {
                let $adapter = &$crate::crm::pipedrive::Pipedrive;
                $body
            }
            $crate::crm::Crm::Salesforce => {
                let $adapter = &$crate::crm::salesforce::Salesforce;
                $body
            }
        }
    };
}

/// The CRM fields the playbook reads from `crm`'s records of `kind`, by their name there, each with
/// the canonical field it feeds: a dimension's `crm_fields` entry in the [`Crm::field_table`]
/// (else its canonical field), the fit fields, the required fields, the handoff's BDR and AE
/// fields (`handoff.crm_fields`) and the stale flag written back. Contact dimensions are
/// judged from the record's contacts, and canonical fields the record already carries (owner,
/// amount, …) come from each CRM's own fields.
pub(crate) fn mapped_fields(
    playbook: &Playbook,
    crm: Crm,
    kind: RecordKind,
) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    for d in &playbook.dimensions {
        if matches!(d.evidence, EvidenceRule::Contact { .. }) {
            continue; // judged from the associated contacts
        }
        let canonical = d.field().to_owned();
        let name = d
            .crm_fields
            .get(crm.field_table(kind))
            .cloned()
            .unwrap_or_else(|| canonical.clone());
        properties.insert(name, canonical);
    }
    let fit_fields = playbook.fit.iter().flat_map(|f| {
        f.company_size
            .iter()
            .map(|b| b.field.clone())
            .chain(f.industries.iter().map(|s| s.field.clone()))
            .chain(f.regions.iter().map(|s| s.field.clone()))
    });
    for field in fit_fields.chain(playbook.staleness.required_fields.iter().cloned()) {
        properties.entry(field.clone()).or_insert(field);
    }
    let handoff = &playbook.handoff;
    for field in handoff.read_fields() {
        properties.insert(crm.handoff_field(handoff, kind, field), field.to_owned());
    }
    // The stale flag already written says whom staleness told, and when (notify once).
    let stale = &playbook.write_back.stale;
    properties.insert(
        crm.write_back_field(&playbook.write_back, kind, stale),
        stale.clone(),
    );
    properties.retain(|_, canonical| !Record::BUILT_IN_FIELDS.contains(&canonical.as_str()));
    properties
}

/// The names of the Spin variables holding a CRM's API base URL and token, and how the token is
/// sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVariables {
    /// The API base URL (`https://api.hubapi.com`).
    pub url: &'static str,
    /// The API token (a fixed one; see `oauth`).
    pub token: &'static str,
    /// How the token goes with each call.
    pub auth: ApiAuth,
    /// Client credentials to obtain the token with, for CRMs whose tokens expire; when they are
    /// set the `token` variable may stay empty.
    pub oauth: Option<oauth::OAuthVariables>,
}

/// How a CRM's API takes its token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiAuth {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// The token alone in this header (Pipedrive's `x-api-token`).
    Header(&'static str),
}

impl ApiAuth {
    /// The header that carries `token`: its name and value.
    pub fn header(self, token: &str) -> (&'static str, String) {
        match self {
            ApiAuth::Bearer => ("authorization", format!("Bearer {token}")),
            ApiAuth::Header(name) => (name, token.to_owned()),
        }
    }
}

/// A secret a webhook is authenticated with (a signing secret, a shared token, a password).
pub type WebhookSecret = crate::secret::Secret;

/// The secret variable `name`, present and not empty.
pub(crate) fn secret(secrets: &Secrets, name: &'static str) -> Result<WebhookSecret, Error> {
    match secrets.get(name).map(|s| s.trim()) {
        Some(value) if !value.is_empty() => Ok(WebhookSecret::new(value)),
        _ => Err(Error::Config(format!(
            "variable `{name}` is empty: set it (spin up --variable {name}=… or SPIN_VARIABLE_{}) so webhooks can be authenticated",
            name.to_uppercase()
        ))),
    }
}

/// A function's own webhook secret, in place of the CRM's shared one ([`Crm::function_secret`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSecret {
    /// The component variable holding the function's own secret (empty: not set).
    pub variable: &'static str,
    /// The shared secret's variable, whose value it replaces when set.
    pub replaces: &'static str,
}

/// Whose account a delivery comes from, as each CRM names it in its payloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// A HubSpot portal (account) id: `portalId` on every event.
    HubspotPortal,
    /// A Salesforce org id: an outbound message's `OrganizationId`.
    SalesforceOrg,
    /// A Pipedrive company id: `meta.company_id`.
    PipedriveCompany,
}

impl Tenant {
    /// The Spin variable listing the tenants served (comma-separated; empty serves any).
    pub fn variable(self) -> &'static str {
        match self {
            Tenant::HubspotPortal => hubspot::PORTALS_VARIABLE,
            Tenant::SalesforceOrg => salesforce::ORG_VARIABLE,
            Tenant::PipedriveCompany => pipedrive::COMPANY_VARIABLE,
        }
    }

    /// Whether `id` is shaped like this tenant's ids.
    fn is_valid(self, id: &str) -> bool {
        match self {
            Tenant::HubspotPortal | Tenant::PipedriveCompany => {
                (1..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
            }
            Tenant::SalesforceOrg => salesforce::is_id(id),
        }
    }

    /// The part of an id that identifies the tenant: a Salesforce id's 18-character form only
    /// adds a case checksum to the 15 characters that are the id.
    fn key(self, id: &str) -> &str {
        match self {
            Tenant::SalesforceOrg => id.get(..15).unwrap_or(id),
            Tenant::HubspotPortal | Tenant::PipedriveCompany => id,
        }
    }
}

/// The tenants a deployment serves, read from [`Tenant::variable`]: none listed serves any
/// (pinning off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenants {
    tenant: Tenant,
    allowed: Vec<String>,
}

impl Tenants {
    /// The tenants listed in `tenant`'s variable; an id of the wrong shape is a configuration
    /// error naming the variable.
    pub fn from_secrets(secrets: &Secrets, tenant: Tenant) -> Result<Tenants, Error> {
        let name = tenant.variable();
        let listed = secrets.get(name).map(String::as_str).unwrap_or_default();
        let mut allowed = Vec::new();
        for id in listed.split(',').map(str::trim).filter(|id| !id.is_empty()) {
            if !tenant.is_valid(id) {
                return Err(Error::Config(format!(
                    "variable `{name}` holds {id:?}, which is not {}",
                    match tenant {
                        Tenant::HubspotPortal =>
                            "a HubSpot portal id (digits; list several with commas)",
                        Tenant::SalesforceOrg =>
                            "a Salesforce org id (15 or 18 letters and digits, Setup → Company Information)",
                        Tenant::PipedriveCompany =>
                            "a Pipedrive company id (digits, the webhooks' meta.company_id)",
                    }
                )));
            }
            allowed.push(tenant.key(id).to_owned());
        }
        Ok(Tenants { tenant, allowed })
    }

    /// Whether the deployment is pinned to some tenants.
    pub fn is_pinned(&self) -> bool {
        !self.allowed.is_empty()
    }

    /// Refuse a delivery whose tenant (`found`, at `path` in the body) is not one served, or that
    /// names none while pinned.
    pub fn check(&self, path: impl Into<String>, found: Option<&str>) -> Result<(), Error> {
        let found = found.map(str::trim).filter(|id| !id.is_empty());
        match found {
            _ if !self.is_pinned() => Ok(()),
            Some(id) if self.allowed.iter().any(|a| a == self.tenant.key(id)) => Ok(()),
            _ => Err(Error::WrongTenant {
                path: path.into(),
                found: found.map(str::to_owned),
                variable: self.tenant.variable(),
            }),
        }
    }
}

/// Plain text as the HTML that CRMs' note and task bodies are (HubSpot, Pipedrive): escaped, line
/// breaks as `<br>`.
pub(crate) fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encode one path segment (a record id) for an API URL.
pub(crate) fn path_segment(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, PATH_SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_without_any_credential_is_told_apart_before_its_body() {
        let mut headers = http::HeaderMap::new();
        for crm in Crm::ALL {
            assert!(!crm.presents_credentials(&headers, None), "{crm:?}");
        }
        assert!(Crm::Salesforce.presents_credentials(&headers, Some("a=1&token=x")));
        headers.insert("x-hubspot-signature-v3", "sig".parse().unwrap());
        assert!(Crm::Hubspot.presents_credentials(&headers, None));
        assert!(!Crm::Generic.presents_credentials(&headers, None));
    }

    #[test]
    fn credentials_are_checked_once_and_never_shown() {
        let mut secrets = Secrets::new();
        secrets.insert(pipedrive::USER_VARIABLE, "bot".into());
        secrets.insert(pipedrive::PASSWORD_VARIABLE, "  ".into());
        let Err(Error::Config(message)) = pipedrive::Pipedrive.credentials(&secrets) else {
            panic!("an empty password was taken")
        };
        assert!(message.contains("pipedrive_webhook_password"), "{message}");
        secrets.insert(pipedrive::PASSWORD_VARIABLE, "hunter2".into());
        let credentials = pipedrive::Pipedrive.credentials(&secrets).unwrap();
        assert_eq!(credentials.password.expose(), "hunter2");
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }

    fn tenants(tenant: Tenant, listed: &str) -> Result<Tenants, Error> {
        let mut secrets = Secrets::new();
        secrets.insert(tenant.variable(), listed.into());
        Tenants::from_secrets(&secrets, tenant)
    }

    #[test]
    fn an_empty_tenant_variable_serves_every_tenant() {
        for listed in ["", " , "] {
            let any = tenants(Tenant::HubspotPortal, listed).unwrap();
            assert!(!any.is_pinned());
            assert!(any.check("portalId", Some("1")).is_ok());
            assert!(any.check("portalId", None).is_ok());
        }
        let unset = Tenants::from_secrets(&Secrets::new(), Tenant::PipedriveCompany).unwrap();
        assert!(!unset.is_pinned());
    }

    #[test]
    fn pinned_tenants_refuse_others_and_deliveries_naming_none_with_403() {
        let portals = tenants(Tenant::HubspotPortal, "62515, 7001").unwrap();
        assert!(portals.check("[0].portalId", Some("7001")).is_ok());
        let err = portals.check("[2].portalId", Some("62516")).unwrap_err();
        assert_eq!((err.status(), err.code()), (403, "wrong_tenant"));
        assert!(err.to_string().contains("[2].portalId"), "{err}");
        let err = portals.check("portalId", None).unwrap_err();
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn salesforce_org_ids_compare_on_their_first_fifteen_characters() {
        let org = tenants(Tenant::SalesforceOrg, "00D5g000004XyZaEAK").unwrap();
        assert!(org.check("OrganizationId", Some("00D5g000004XyZa")).is_ok());
        assert!(
            org.check("OrganizationId", Some("00D5g000004XyZaEAK"))
                .is_ok()
        );
        assert!(
            org.check("OrganizationId", Some("00D5g000004XyZb"))
                .is_err()
        );
        let short = tenants(Tenant::SalesforceOrg, "00D5g000004XyZa").unwrap();
        assert!(
            short
                .check("OrganizationId", Some("00D5g000004XyZaEAK"))
                .is_ok()
        );
        assert!(
            short
                .check("OrganizationId", Some("00d5g000004xyza"))
                .is_err(),
            "15-character ids are case-sensitive"
        );
    }

    #[test]
    fn a_tenant_id_of_the_wrong_shape_is_a_configuration_error() {
        for (tenant, listed) in [
            (Tenant::HubspotPortal, "62515,acme"),
            (Tenant::SalesforceOrg, "00D5g"),
            (Tenant::PipedriveCompany, "acme-sales"),
        ] {
            let Err(Error::Config(message)) = tenants(tenant, listed) else {
                panic!("{listed:?} taken for {tenant:?}")
            };
            assert!(message.contains(tenant.variable()), "{message}");
        }
    }
}
