//! A function's configuration, read from its Spin variables on every request.
//!
//! Variables are read per request: Spin may keep an instance for many requests, and an admin's
//! change must take effect without a redeploy. What is costly to derive from them (the parsed and
//! hashed playbook) is kept in the instance, keyed by the variables' values.

use std::{
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use pipeline_guard_core::{
    Error,
    crm::{self, ApiAuth, Crm, FunctionSecret, Secrets, oauth::OAuthVariables},
    function::Settings,
    mode::Mode,
    pipeline::Limits,
    playbook::{DEFAULT_PLAYBOOK, Playbook},
    secret::Secret,
};
use spin_sdk::variables;

/// Read a variable; a variable the manifest does not give this component is a configuration error.
pub async fn variable(name: &str) -> Result<String, Error> {
    variables::get(name).await.map_err(|e| {
        Error::Config(format!(
            "variable `{name}` could not be read ({e}); declare it in spin.toml under [component.<id>.variables]"
        ))
    })
}

/// The settings last derived in this instance, and the variable values they came from.
static SETTINGS: Mutex<Option<(String, String, Arc<Settings>)>> = Mutex::new(None);

/// The mode and playbook in force. An empty `playbook` variable means the shipped default.
/// Parsed once per instance for the same variable values.
pub async fn settings() -> Result<Arc<Settings>, Error> {
    let mode_text = variable("mode").await?;
    let source = variable("playbook").await?;
    let mut cached = SETTINGS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((mode, playbook, settings)) = cached.as_ref()
        && *mode == mode_text
        && *playbook == source
    {
        return Ok(settings.clone());
    }
    let mode: Mode = mode_text.parse()?;
    let playbook = if source.trim().is_empty() {
        Playbook::from_toml(DEFAULT_PLAYBOOK)?
    } else {
        Playbook::from_toml(&source)?
    };
    let settings = Arc::new(Settings::new(playbook, mode));
    *cached = Some((mode_text, source, settings.clone()));
    Ok(settings)
}

/// How far a delivery from `crm` may go: a deadline with margin under the CRM's own timeout
/// (the generic CRM's is `generic_timeout_ms`), and `crm_concurrency` calls at once.
pub async fn limits(crm: Crm) -> Result<Limits, Error> {
    let facts = crm::facts(crm);
    let timeout = match facts.answer_timeout_variable {
        Some(name) => Duration::from_millis(number(name, 1000, 600_000).await?),
        None => facts.answer_timeout,
    };
    let mut limits = Limits::within(timeout);
    limits.concurrency = usize::try_from(number("crm_concurrency", 1, 64).await?).unwrap_or(8);
    Ok(limits)
}

/// A whole-number variable within `min..=max`.
async fn number(name: &str, min: u64, max: u64) -> Result<u64, Error> {
    let text = variable(name).await?;
    text.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            Error::Config(format!(
                "variable `{name}` is {text:?}: set a whole number from {min} to {max}"
            ))
        })
}

/// The admin token the status view and the retry route ask for; `None` when it is not set.
pub async fn admin_token() -> Result<Option<Secret>, Error> {
    let token = variable("admin_token").await?.trim().to_owned();
    Ok((!token.is_empty()).then(|| Secret::new(token)))
}

/// The public base URL CRMs call (`public_base_url`), as written: empty when signatures are
/// checked against the URL Spin received (see [`crate::signed_url`]).
pub async fn public_base_url() -> Result<String, Error> {
    variable(crate::signed_url::PUBLIC_BASE_URL_VARIABLE).await
}

/// The secrets `crm`'s webhooks are checked with. Where the CRM lets a function have its own
/// (one HubSpot app per function: an app has one target URL), the function's secret, when set,
/// replaces the shared one.
pub async fn secrets(crm: Crm) -> Result<Secrets, Error> {
    let mut secrets = Secrets::new();
    let facts = crm::facts(crm);
    for name in facts.secret_variables {
        secrets.insert(*name, variable(name).await?);
    }
    if let Some(own) = facts.function_secret {
        prefer_function_secret(&mut secrets, own, variable(own.variable).await?);
    }
    Ok(secrets)
}

/// The one rule for a function's own secret: set, it is used instead of the shared one.
fn prefer_function_secret(secrets: &mut Secrets, own: FunctionSecret, value: String) {
    if !value.trim().is_empty() {
        secrets.insert(own.replaces, value);
    }
}

/// Where and how to call a CRM's API.
#[derive(Debug, Clone)]
pub struct CrmApi {
    /// The API base URL, without a trailing slash.
    pub base_url: String,
    /// What authenticates the calls.
    pub credentials: Credentials,
    /// How the token is sent.
    pub auth: ApiAuth,
}

/// What authenticates a CRM's API calls (its `Debug` shows no secret: they are [`Secret`]s).
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A fixed API token.
    Token(Secret),
    /// OAuth client credentials: a token is requested, kept and renewed when refused.
    Client(ClientCredentials),
}

/// An app's OAuth client credentials.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id.
    pub id: String,
    /// The client secret.
    pub secret: Secret,
    /// The variables they came from, and the token endpoint's path.
    pub variables: OAuthVariables,
}

/// The API access configured for `crm`: client credentials when the CRM takes them and they are
/// set, else its API token.
pub async fn crm_api(crm: Crm) -> Result<CrmApi, Error> {
    let names = crm::facts(crm).api_variables;
    let base_url = variable(names.url)
        .await?
        .trim()
        .trim_end_matches('/')
        .to_owned();
    if base_url.is_empty() {
        return Err(Error::Config(format!(
            "variable `{}` is empty: set `{}_api_origin` to {}",
            names.url,
            crm.name(),
            names.origin
        )));
    }
    if !has_origin(&base_url) {
        return Err(Error::Config(format!(
            "variable `{}` is `{base_url}`, no scheme://host: set `{}_api_origin` to {}",
            names.url,
            crm.name(),
            names.origin
        )));
    }
    if let Some(why) = (names.wrong_origin)(&base_url) {
        return Err(Error::Config(format!(
            "`{}_api_origin` is {base_url}, {why}: set it to {}",
            crm.name(),
            names.origin
        )));
    }
    if let Some(oauth) = names.oauth {
        let id = variable(oauth.client_id).await?.trim().to_owned();
        if !id.is_empty() {
            let secret = variable(oauth.client_secret).await?.trim().to_owned();
            if secret.is_empty() {
                return Err(Error::Config(format!(
                    "variable `{}` is set but `{}` is empty: set both",
                    oauth.client_id, oauth.client_secret
                )));
            }
            return Ok(CrmApi {
                base_url,
                credentials: Credentials::Client(ClientCredentials {
                    id,
                    secret: Secret::new(secret),
                    variables: oauth,
                }),
                auth: names.auth,
            });
        }
    }
    let token = variable(names.token).await?.trim().to_owned();
    if token.is_empty() {
        let or_client = names
            .oauth
            .map(|o| format!(" (or `{}` and `{}`)", o.client_id, o.client_secret))
            .unwrap_or_default();
        return Err(Error::Config(format!(
            "variable `{}`{or_client} is empty: set it to an API token pipeline-guard may write back with",
            names.token
        )));
    }
    Ok(CrmApi {
        base_url,
        credentials: Credentials::Token(Secret::new(token)),
        auth: names.auth,
    })
}

/// Whether `base_url` starts with `scheme://host`: a base path set without its origin
/// (`generic_api_base_path` alone) is no URL to call.
fn has_origin(base_url: &str) -> bool {
    ["https://", "http://"].iter().any(|scheme| {
        base_url
            .strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_secret_replaces_the_shared_one_only_when_set() {
        let own = crm::facts(Crm::Hubspot)
            .function_secret
            .expect("HubSpot has one");
        let shared = || Secrets::from([(own.replaces, "shared".to_owned())]);
        let mut secrets = shared();
        prefer_function_secret(&mut secrets, own, "  ".into());
        assert_eq!(secrets, shared());
        prefer_function_secret(&mut secrets, own, "gate-handoff-app".into());
        assert_eq!(secrets[own.replaces], "gate-handoff-app");
    }

    #[test]
    fn an_api_url_needs_its_origin_not_only_a_base_path() {
        assert!(has_origin("https://crm.example.com/api/v2"));
        assert!(has_origin("http://127.0.0.1:8080"));
        assert!(!has_origin("/api/v2"));
        assert!(!has_origin("https:///api"));
        assert!(!has_origin("crm.example.com"));
    }
}
