//! CRM adapters: one folder per CRM, each a type implementing [`Adapter`] with the same files:
//! `mod.rs` (its facts and its `impl Adapter`), `accept.rs` (a webhook authenticated and read;
//! `signature.rs` beside it for a CRM that signs, shared credentials from
//! [`crate::signature::credentials`] for one that does not), `complete.rs` (what a webhook's
//! records lack, and stages read again before a move), `list.rs` (a sweep's pages) and `write.rs`
//! (write-backs as API calls), `names.rs` (users' display names, for notices), with helpers of its own beside them: its webhook into
//! [`crate::event::WebhookEvent`]s, its records completed for a whole batch, write-backs into its
//! API calls, and the answer it expects. What a CRM is like (variables, credentials, timeouts,
//! tenants, field names) is its [`Adapter::FACTS`].
//!
//! Adding a CRM is one new folder, one [`Crm`] variant, and one arm in
//! [`with_adapter!`](crate::with_adapter), the one place a [`Crm`] is matched to its adapter.

use std::collections::BTreeMap;

use crate::Error;

pub mod activity;
pub mod adapter;

mod answer;
pub mod company;
mod facts;
mod fields;
pub mod generic;
pub mod hubspot;
pub mod list;
pub mod oauth;
mod part;
pub mod pipedrive;
pub mod salesforce;
mod tenant;
mod users;

pub use crate::crm_id::Crm;
pub use adapter::{Adapter, BatchCall, Steps};
pub use answer::{Reply, workflow_answer};
pub use facts::{ApiAuth, ApiVariables, Facts, FieldRules, FunctionSecret};
pub use fields::FieldNames;
pub use list::DealPage;
pub use tenant::{Tenant, Tenants};

/// Secret values by Spin variable name, as the function read them.
pub type Secrets = BTreeMap<&'static str, String>;

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

/// The facts of `crm`'s adapter.
pub fn facts(crm: Crm) -> &'static Facts {
    with_adapter!(crm, adapter => adapter.facts())
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
    fn every_crm_has_its_own_facts() {
        for crm in Crm::ALL {
            assert_eq!(facts(*crm).crm, *crm);
        }
    }

    #[test]
    fn a_request_without_any_credential_is_told_apart_before_its_body() {
        let mut headers = http::HeaderMap::new();
        for crm in Crm::ALL {
            assert!(!facts(*crm).presents_credentials(&headers, None), "{crm:?}");
        }
        let salesforce = facts(Crm::Salesforce);
        assert!(salesforce.presents_credentials(&headers, Some("a=1&token=x")));
        headers.insert("x-hubspot-signature-v3", "sig".parse().unwrap());
        assert!(facts(Crm::Hubspot).presents_credentials(&headers, None));
        assert!(!facts(Crm::Generic).presents_credentials(&headers, None));
    }

    /// Issue: HubSpot answering the re-read before a move back with an empty object settled the
    /// event as processed, and the move was lost for good; every CRM now keeps it pending.
    #[test]
    fn a_re_read_answered_with_an_empty_object_waits_for_the_retry() {
        use crate::{
            api::{Api, Limits},
            memory::{RecordingCrm, StoppedClock},
        };
        for crm in Crm::ALL {
            let (client, clock) = (RecordingCrm::default(), StoppedClock::default());
            let api = Api::new(
                &client,
                &clock,
                Limits::within(std::time::Duration::from_secs(10)),
            );
            // Every call is answered `{}`; the ids are valid for every CRM.
            let ids = ["0065g00000AbCdEAAV".to_owned()];
            let read = with_adapter!(*crm, adapter => futures::executor::block_on(
                adapter.current_stages(&ids, &api)
            ));
            match read {
                Err(e) => assert!(e.is_transient(), "{crm:?}: {e}"),
                Ok(stages) => panic!("{crm:?}: read as {stages:?}"),
            }
        }
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
}
