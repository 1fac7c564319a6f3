//! CRM adapters: one file per CRM, turning its webhook into [`WebhookEvent`]s and a
//! [`WriteBack`] into its API calls.
//!
//! Adding a CRM is one new file and one arm in each `match` below.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::{
    Error,
    event::{Delivery, WebhookEvent},
    evidence::EvidenceRule,
    inbound::InboundRequest,
    model::Record,
    pipeline::{CrmClient, DeliveryOutcome},
    playbook::{Playbook, WriteBackFields},
    writeback::{CrmCall, WriteBack},
};

mod answer;
pub mod generic;
pub mod hubspot;
pub mod oauth;
pub mod pipedrive;
pub mod salesforce;

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

    /// Authenticate a webhook request and turn it into events.
    pub fn accept(
        self,
        request: &InboundRequest<'_>,
        secrets: &Secrets,
        now: OffsetDateTime,
    ) -> Result<Delivery, Error> {
        let events = match self {
            Crm::Generic => {
                generic::accept(request, secret(secrets, generic::SECRET_VARIABLE)?, now)
            }
            Crm::Hubspot => {
                return hubspot::accept(request, secret(secrets, hubspot::SECRET_VARIABLE)?, now);
            }
            Crm::Pipedrive => pipedrive::accept(
                request,
                secret(secrets, pipedrive::USER_VARIABLE)?,
                secret(secrets, pipedrive::PASSWORD_VARIABLE)?,
            ),
            Crm::Salesforce => {
                return salesforce::accept(
                    request,
                    secret(secrets, salesforce::TOKEN_VARIABLE)?,
                    now,
                );
            }
        }?;
        Ok(Delivery::webhook(events))
    }

    /// Fetch what an incomplete event's record lacks (CRMs that send only the changed property).
    pub async fn complete(
        self,
        event: WebhookEvent,
        playbook: &Playbook,
        client: &impl CrmClient,
    ) -> Result<WebhookEvent, Error> {
        match self {
            Crm::Generic => Ok(event),
            Crm::Hubspot => hubspot::complete(event, playbook, client).await,
            Crm::Pipedrive => pipedrive::complete(event, playbook, client).await,
            Crm::Salesforce => salesforce::complete(event, playbook, client).await,
        }
    }

    /// The answer to a delivery, as this CRM expects it: flat fields for a CRM workflow that
    /// branches on them ([`Reply::workflow`]), else JSON for most and a SOAP acknowledgement for
    /// Salesforce's outbound messages. An error answers with its status, so the CRM retries
    /// server-side failures and shows client mistakes in its delivery log.
    /// `content_type` is the request's.
    pub fn reply(
        self,
        content_type: Option<&str>,
        result: &Result<DeliveryOutcome, Error>,
    ) -> Reply {
        if let Ok(outcome) = result
            && outcome.workflow
        {
            return Reply::workflow(outcome);
        }
        match self {
            Crm::Generic | Crm::Hubspot | Crm::Pipedrive => Reply::json(result),
            Crm::Salesforce => salesforce::reply(content_type, result),
        }
    }

    /// The name this CRM knows a write-back field by: the playbook's
    /// `[write_back.crm_fields.<crm>]` entry, else this CRM's default for `name`.
    pub fn write_back_field(self, fields: &WriteBackFields, name: &str) -> String {
        let named = fields.name_in(self.name(), name);
        if named != name {
            return named.to_owned();
        }
        match self {
            Crm::Generic | Crm::Hubspot | Crm::Pipedrive => name.to_owned(),
            Crm::Salesforce => salesforce::default_field_name(name),
        }
    }

    /// Whether `field` (a CRM field name) is one pipeline-guard writes back to.
    pub fn is_write_back_field(self, fields: &WriteBackFields, field: &str) -> bool {
        fields.names().any(|name| {
            self.write_back_field(fields, name)
                .eq_ignore_ascii_case(field)
        })
    }

    /// The API calls that carry out a write-back in this CRM, in order; only the last may be
    /// non-idempotent (creating a note or task), so a retry after a failure repeats nothing twice.
    pub fn render(self, write_back: &WriteBack, now: OffsetDateTime) -> Vec<CrmCall> {
        match self {
            Crm::Generic => generic::render(write_back),
            Crm::Hubspot => hubspot::render(write_back, now),
            Crm::Pipedrive => pipedrive::render(write_back, now),
            Crm::Salesforce => salesforce::render(write_back, now),
        }
    }
}

/// The CRM fields the playbook reads, by their name in `crm`, each with the canonical field it
/// feeds: a dimension's `crm_fields` entry (else its canonical field), the fit fields and the
/// required fields. Contact dimensions are judged from the record's contacts, and canonical fields
/// the record already carries (owner, amount, …) come from each CRM's own fields.
pub(crate) fn mapped_fields(playbook: &Playbook, crm: Crm) -> BTreeMap<String, String> {
    let mut properties = BTreeMap::new();
    for d in &playbook.dimensions {
        if matches!(d.evidence, EvidenceRule::Contact { .. }) {
            continue; // judged from the associated contacts
        }
        let canonical = d.field().to_owned();
        let name = d
            .crm_fields
            .get(crm.name())
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

fn secret<'a>(secrets: &'a Secrets, name: &'static str) -> Result<&'a str, Error> {
    match secrets.get(name).map(|s| s.trim()) {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(Error::Config(format!(
            "variable `{name}` is empty: set it (spin up --variable {name}=… or SPIN_VARIABLE_{}) so webhooks can be authenticated",
            name.to_uppercase()
        ))),
    }
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
