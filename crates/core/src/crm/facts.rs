//! What a CRM is like, fixed at build time: its variables, how its webhooks are authenticated,
//! how long it waits for an answer, whose account a delivery comes from, how it names fields.
//!
//! Each adapter states its facts once, as its [`Adapter::FACTS`](super::Adapter::FACTS); code
//! that holds only a [`Crm`] asks [`super::facts`].

use std::time::Duration;

use super::{oauth, tenant::Tenant};
use crate::{crm_id::Crm, model::RecordKind};

/// A CRM's fixed facts.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    /// The CRM these facts are of.
    pub crm: Crm,
    /// The Spin variables its webhooks are checked with: its secrets, the tenants it is pinned
    /// to ([`Facts::tenant`]), and which signatures it takes (HubSpot's workflow v1/v2).
    pub secret_variables: &'static [&'static str],
    /// For a CRM that sends all of an app's webhooks to one URL with one secret (HubSpot), the
    /// variable holding a function's own secret, and the shared secret variable it replaces when
    /// it is set: an admin runs one app per function.
    pub function_secret: Option<FunctionSecret>,
    /// The Spin variables holding its API base URL and API token.
    pub api_variables: ApiVariables,
    /// The request headers that carry its webhooks' credentials: a request with none of them is
    /// refused before its body is read.
    pub credential_headers: &'static [&'static str],
    /// A query parameter that may carry the credential instead (Salesforce's `?token=`).
    pub credential_query: Option<&'static str>,
    /// The credential a request without any is told to send.
    pub credential_hint: &'static str,
    /// How long it waits for an answer to a webhook before it gives up and retries.
    pub answer_timeout: Duration,
    /// The variable that sets [`Facts::answer_timeout`] in milliseconds instead, where the
    /// sender's timeout is the admin's to say (a generic sender).
    pub answer_timeout_variable: Option<&'static str>,
    /// Whose account a delivery comes from, where deployments can be pinned to some.
    pub tenant: Option<Tenant>,
    /// How it names the fields pipeline-guard reads and writes.
    pub fields: FieldRules,
}

impl Facts {
    /// Whether a request carries any of the credentials this CRM's webhooks are authenticated
    /// with. `query` is the request URL's query string.
    pub fn presents_credentials(&self, headers: &http::HeaderMap, query: Option<&str>) -> bool {
        self.credential_headers
            .iter()
            .any(|name| headers.contains_key(*name))
            || self.credential_query.is_some_and(|wanted| {
                query.is_some_and(|q| {
                    form_urlencoded::parse(q.as_bytes()).any(|(key, _)| key == wanted)
                })
            })
    }
}

impl Facts {
    /// The playbook's `crm_fields` table for this CRM's records of `kind`.
    pub fn field_table(&self, kind: RecordKind) -> &'static str {
        (self.fields.table)(kind).unwrap_or(self.crm.name())
    }
}

/// How a CRM names the fields of its records.
#[derive(Debug, Clone, Copy)]
pub struct FieldRules {
    /// The playbook's `crm_fields` table for a record kind when it is not the CRM's name: the
    /// CRM's custom-field keys may differ per entity (`pipedrive_person`).
    pub table: fn(RecordKind) -> Option<&'static str>,
    /// The name of a custom field pipeline-guard creates (its write-back and verdict fields)
    /// when the playbook names none for this CRM: the canonical name, or Salesforce's `__c`.
    pub custom: fn(&str) -> String,
}

impl FieldRules {
    /// One table named after the CRM, and the canonical names unchanged.
    pub const PLAIN: FieldRules = FieldRules {
        table: |_| None,
        custom: str::to_owned,
    };
}

/// The names of the Spin variables holding a CRM's API base URL and token, and how the token is
/// sent.
#[derive(Debug, Clone, Copy)]
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
    /// What the base URL is, for an admin who left it empty.
    pub origin: &'static str,
    /// Why a base URL is not this CRM's API, when an admin may mistake one for it (a login
    /// host); `None` for any other.
    pub wrong_origin: fn(&str) -> Option<&'static str>,
}

impl ApiVariables {
    /// A CRM's API at a `scheme://host[:port]` the admin chooses.
    pub const ANY_ORIGIN: &'static str = "the CRM API's scheme://host[:port]";
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

/// A function's own webhook secret, in place of the CRM's shared one ([`Facts::function_secret`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunctionSecret {
    /// The component variable holding the function's own secret (empty: not set).
    pub variable: &'static str,
    /// The shared secret's variable, whose value it replaces when set.
    pub replaces: &'static str,
}
