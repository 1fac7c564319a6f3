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
    playbook::{Playbook, WriteBackFields},
};

pub mod adapter;
mod answer;
pub mod generic;
pub mod hubspot;
pub mod oauth;
pub mod pipedrive;
pub mod salesforce;

pub use adapter::{Adapter, BatchCall, Steps};
pub use answer::{Reply, workflow_answer};

/// The CRMs pipeline-guard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

    /// The CRM whose route segment this is.
    pub fn from_name(name: &str) -> Option<Crm> {
        Crm::ALL.iter().copied().find(|crm| crm.name() == name)
    }

    /// The Spin variables holding the secrets this CRM's webhooks are checked with.
    pub fn secret_variables(self) -> &'static [&'static str] {
        match self {
            Crm::Generic => &[generic::SECRET_VARIABLE],
            Crm::Hubspot => &[hubspot::SECRET_VARIABLE],
            Crm::Pipedrive => &[pipedrive::USER_VARIABLE, pipedrive::PASSWORD_VARIABLE],
            Crm::Salesforce => &[salesforce::TOKEN_VARIABLE],
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
/// (else its canonical field), the fit fields, the required fields, and the handoff's BDR and AE
/// fields (`handoff.crm_fields`). Contact dimensions are
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
    for field in handoff.people_fields() {
        let name = handoff.field_in(crm.field_table(kind), field).to_owned();
        properties.insert(name, field.to_owned());
    }
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

/// A secret a webhook is authenticated with (a signing secret, a shared token, a password):
/// never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// The secret's text, for the check that uses it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The secret variable `name`, present and not empty.
pub(crate) fn secret(secrets: &Secrets, name: &'static str) -> Result<WebhookSecret, Error> {
    match secrets.get(name).map(|s| s.trim()) {
        Some(value) if !value.is_empty() => Ok(WebhookSecret(value.to_owned())),
        _ => Err(Error::Config(format!(
            "variable `{name}` is empty: set it (spin up --variable {name}=… or SPIN_VARIABLE_{}) so webhooks can be authenticated",
            name.to_uppercase()
        ))),
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
        assert_eq!(credentials.1.expose(), "hunter2");
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
