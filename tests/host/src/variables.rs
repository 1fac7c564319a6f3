//! Application and component variables, and the `spin:variables` host.
//!
//! As in Spin, each application variable (`[variables]`) takes its value from
//! a runtime provider (here: values given to the host, like `--variable` or
//! `SPIN_VARIABLE_<NAME>`) or else from its `default`; a `required` variable
//! that gets no value makes start-up fail. A component sees only the
//! variables of its own `[component.<id>.variables]` table, whose values are
//! templates over the application variables.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use wasmtime::component::{Accessor, HasData};

use crate::bindings::variables;
use crate::manifest::{ComponentDecl, Manifest};
use crate::template::{Template, validate_variable_name};

/// The prefix of environment variables that provide variable values.
pub const ENV_PREFIX: &str = "SPIN_VARIABLE_";

/// Gives every application variable its value: `provided` first, then the
/// declared default. Fails, like Spin, if a required variable gets no value,
/// and (unlike Spin, to catch typos in tests) if `provided` names a variable
/// the manifest does not declare.
pub fn resolve_app_variables(
    manifest: &Manifest,
    provided: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    for name in provided.keys() {
        validate_variable_name(name)?;
        if !manifest.variables.contains_key(name) {
            bail!("a value was given for variable {name:?}, which spin.toml does not declare");
        }
    }
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, decl) in &manifest.variables {
        match provided.get(name).or(decl.default.as_ref()) {
            Some(value) => {
                values.insert(name.clone(), value.clone());
            }
            None => missing.push(name.as_str()),
        }
    }
    if !missing.is_empty() {
        let hints: Vec<String> = missing
            .iter()
            .map(|n| format!("{ENV_PREFIX}{}", n.to_ascii_uppercase()))
            .collect();
        bail!(
            "no provider resolved required variable(s): {missing:?} \
             (give a value with HostBuilder::variable, --variable NAME=VALUE or {})",
            hints.join(" / ")
        );
    }
    Ok(values)
}

/// Values for the manifest's variables found in `SPIN_VARIABLE_<NAME>`
/// environment variables (what Spin's default environment provider reads).
pub fn variables_from_env(manifest: &Manifest) -> BTreeMap<String, String> {
    manifest
        .variables
        .keys()
        .filter_map(|name| {
            let key = format!("{ENV_PREFIX}{}", name.to_ascii_uppercase());
            std::env::var(key).ok().map(|v| (name.clone(), v))
        })
        .collect()
}

/// Renders a component's variable templates with the application values.
pub fn component_variables(
    component: &ComponentDecl,
    app_values: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    component
        .variables
        .iter()
        .map(|(name, text)| {
            let value = Template::parse(text)
                .and_then(|t| t.render(app_values))
                .with_context(|| format!("component variable {name:?}"))?;
            Ok((name.clone(), value))
        })
        .collect()
}

/// What one component's guests can read through `spin:variables`.
#[derive(Debug, Clone)]
pub(crate) struct ComponentVariables {
    component: Arc<str>,
    values: Arc<BTreeMap<String, String>>,
}

impl ComponentVariables {
    pub(crate) fn new(component: &str, values: BTreeMap<String, String>) -> Self {
        Self {
            component: component.into(),
            values: Arc::new(values),
        }
    }

    /// `spin:variables/variables.get`, with Spin's errors.
    pub(crate) fn get(&self, name: &str) -> Result<String, variables::Error> {
        if let Err(err) = validate_variable_name(name) {
            let message = err.to_string();
            let detail = message
                .strip_prefix("invalid variable name: ")
                .unwrap_or(&message);
            return Err(variables::Error::InvalidName(detail.to_string()));
        }
        self.values.get(name).cloned().ok_or_else(|| {
            variables::Error::Undefined(format!("no variable for {:?}.{name:?}", &*self.component))
        })
    }
}

/// [`HasData`] marker giving the `spin:variables` host access to
/// [`ComponentVariables`].
pub(crate) struct HasVariables;

impl HasData for HasVariables {
    type Data<'a> = &'a ComponentVariables;
}

impl variables::Host for &ComponentVariables {}

impl<T> variables::HostWithStore<T> for HasVariables {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, variables::Error>> {
        Ok(accessor.with(|mut access| access.get().get(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn manifest() -> Manifest {
        Manifest::parse(
            r#"
spin_manifest_version = 2
[application]
name = "t"
[variables]
crm_api_url = { default = "https://api.hubapi.com" }
hubspot_token = { required = true, secret = true }
[[trigger.http]]
route = "/a/..."
component = "a"
[component.a]
source = "a.wasm"
[component.a.variables]
token = "Bearer {{ hubspot_token }}"
base = "{{crm_api_url}}/crm"
plain = "x"
"#,
            PathBuf::from("/app"),
        )
        .expect("valid manifest")
    }

    fn provided(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn required_variables_must_be_provided() {
        let err = resolve_app_variables(&manifest(), &BTreeMap::new()).expect_err("missing");
        let text = err.to_string();
        assert!(text.contains("hubspot_token"), "{text}");
        assert!(text.contains("SPIN_VARIABLE_HUBSPOT_TOKEN"), "{text}");
    }

    #[test]
    fn provided_values_win_over_defaults() {
        let m = manifest();
        let values = resolve_app_variables(
            &m,
            &provided(&[
                ("hubspot_token", "t0k"),
                ("crm_api_url", "http://127.0.0.1:9"),
            ]),
        )
        .expect("resolves");
        let c = component_variables(&m.components["a"], &values).expect("renders");
        assert_eq!(c["token"], "Bearer t0k");
        assert_eq!(c["base"], "http://127.0.0.1:9/crm");
        assert_eq!(c["plain"], "x");

        let defaults =
            resolve_app_variables(&m, &provided(&[("hubspot_token", "t")])).expect("resolves");
        assert_eq!(defaults["crm_api_url"], "https://api.hubapi.com");
    }

    #[test]
    fn undeclared_values_are_rejected() {
        let err = resolve_app_variables(&manifest(), &provided(&[("hubspot_tokn", "x")]))
            .expect_err("typo");
        assert!(err.to_string().contains("hubspot_tokn"));
    }

    #[test]
    fn guest_lookups_use_spin_errors() {
        let vars = ComponentVariables::new("a", BTreeMap::from([("x".into(), "1".into())]));
        assert_eq!(vars.get("x").expect("defined"), "1");
        assert!(matches!(
            vars.get("Bad-Name"),
            Err(variables::Error::InvalidName(_))
        ));
        assert!(matches!(
            vars.get(""),
            Err(variables::Error::InvalidName(_))
        ));
        match vars.get("y") {
            Err(variables::Error::Undefined(msg)) => assert_eq!(msg, "no variable for \"a\".\"y\""),
            other => panic!("unexpected {other:?}"),
        }
    }
}
