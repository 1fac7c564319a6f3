//! CRM adapters: one file per CRM, turning its webhook into [`WebhookEvent`]s and a
//! [`WriteBack`] into its API calls.
//!
//! Adding a CRM is one new file and one arm in each `match` below.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::{
    Error,
    event::WebhookEvent,
    inbound::InboundRequest,
    pipeline::CrmClient,
    playbook::Playbook,
    writeback::{CrmCall, WriteBack},
};

pub mod generic;
pub mod hubspot;

/// The CRMs pipeline-guard speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crm {
    /// The generic JSON webhook format, for any other CRM or a workflow tool.
    Generic,
    /// HubSpot's Webhooks API and CRM v3 objects API.
    Hubspot,
}

/// Secret values by Spin variable name, as the function read them.
pub type Secrets = BTreeMap<&'static str, String>;

impl Crm {
    /// Every supported CRM.
    pub const ALL: &'static [Crm] = &[Crm::Generic, Crm::Hubspot];

    /// The CRM's route segment (`/score-lead/generic`).
    pub fn name(self) -> &'static str {
        match self {
            Crm::Generic => "generic",
            Crm::Hubspot => "hubspot",
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
        }
    }

    /// The Spin variables holding this CRM's API base URL and API token.
    pub fn api_variables(self) -> ApiVariables {
        match self {
            Crm::Generic => generic::API_VARIABLES,
            Crm::Hubspot => hubspot::API_VARIABLES,
        }
    }

    /// Authenticate a webhook request and turn it into events.
    pub fn accept(
        self,
        request: &InboundRequest<'_>,
        secrets: &Secrets,
        now: OffsetDateTime,
    ) -> Result<Vec<WebhookEvent>, Error> {
        match self {
            Crm::Generic => {
                generic::accept(request, secret(secrets, generic::SECRET_VARIABLE)?, now)
            }
            Crm::Hubspot => {
                hubspot::accept(request, secret(secrets, hubspot::SECRET_VARIABLE)?, now)
            }
        }
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
        }
    }

    /// The API calls that carry out a write-back in this CRM, in order; only the last may be
    /// non-idempotent (creating a note or task), so a retry after a failure repeats nothing twice.
    pub fn render(self, write_back: &WriteBack, now: OffsetDateTime) -> Vec<CrmCall> {
        match self {
            Crm::Generic => generic::render(write_back),
            Crm::Hubspot => hubspot::render(write_back, now),
        }
    }
}

/// The names of the Spin variables holding a CRM's API base URL and token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVariables {
    /// The API base URL (`https://api.hubapi.com`).
    pub url: &'static str,
    /// The bearer token for the API.
    pub token: &'static str,
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
