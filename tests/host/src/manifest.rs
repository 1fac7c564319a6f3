//! Loading and checking `spin.toml` (manifest version 2).
//!
//! Only what a Spin HTTP application needs is supported: `[application]`,
//! `[variables]`, `[[trigger.http]]` and `[component.<id>]` with `source`,
//! `variables`, `environment`, `allowed_outbound_hosts`, `key_value_stores`
//! and `sqlite_databases` (labels kebab-case or snake_case, as Spin checks).
//! `build`, `description`, `tool` and similar informational fields are
//! ignored. Fields the test host cannot honour (`files`, remote `source`s,
//! inline trigger components, component dependencies…) are rejected with an
//! error rather than silently ignored; unknown fields are rejected, as Spin
//! does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail, ensure};
use serde::Deserialize;

use crate::allowed_hosts::AllowedHosts;
use crate::template::{Template, validate_variable_name};

/// A loaded and checked `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The directory holding `spin.toml`; component sources are relative to it.
    pub dir: PathBuf,
    /// `application.name`.
    pub name: String,
    /// `application.version` (empty if not given).
    pub version: String,
    /// `[variables]`: the application variables, by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]`, in manifest order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[component.<id>]`, by id.
    pub components: BTreeMap<String, ComponentDecl>,
}

/// An application variable declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    /// `default = "…"`; `None` exactly when the variable is `required`.
    pub default: Option<String>,
    /// `secret = true`.
    pub secret: bool,
}

impl VariableDecl {
    /// True for `required = true` variables (those without a default).
    pub fn is_required(&self) -> bool {
        self.default.is_none()
    }
}

/// A `[[trigger.http]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// `id`, if given.
    pub id: Option<String>,
    /// `route`; `None` for `route = { private = true }` (not routable).
    pub route: Option<String>,
    /// The id of the component the route leads to.
    pub component: String,
}

/// A `[component.<id>]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDecl {
    /// `source`, as written (relative to the manifest directory).
    pub source: PathBuf,
    /// `[component.<id>.variables]`: name → template.
    pub variables: BTreeMap<String, String>,
    /// `environment`: environment variables the guest sees.
    pub environment: BTreeMap<String, String>,
    /// `allowed_outbound_hosts`, as written (entries may be templates).
    pub allowed_outbound_hosts: Vec<String>,
    /// `key_value_stores`: the store labels the component may open.
    pub key_value_stores: Vec<String>,
    /// `sqlite_databases`: the SQLite database labels the component may open.
    pub sqlite_databases: Vec<String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read manifest {}", path.display()))?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        Self::parse(&text, dir).with_context(|| format!("invalid manifest {}", path.display()))
    }

    /// Parses manifest text; `dir` is where component sources are relative to.
    pub fn parse(text: &str, dir: PathBuf) -> anyhow::Result<Self> {
        let raw: RawManifest = toml::from_str(text)?;
        ensure!(
            raw.spin_manifest_version == 2,
            "spin_manifest_version must be 2, not {}",
            raw.spin_manifest_version
        );

        let mut variables = BTreeMap::new();
        for (name, var) in raw.variables {
            validate_variable_name(&name)?;
            ensure!(
                var.required ^ var.default.is_some(),
                "variable {name:?}: must be `required` OR have a `default`"
            );
            variables.insert(
                name,
                VariableDecl {
                    default: var.default,
                    secret: var.secret,
                },
            );
        }

        let mut components = BTreeMap::new();
        for (id, raw_component) in raw.component {
            validate_component_id(&id)?;
            let component = raw_component
                .check(&variables)
                .with_context(|| format!("component {id:?}"))?;
            components.insert(id, component);
        }

        let mut http_triggers = Vec::new();
        for (kind, triggers) in raw.trigger {
            ensure!(
                kind == "http",
                "trigger type {kind:?} is not supported by the test host (only \"http\")"
            );
            for table in triggers {
                let trigger: RawHttpTrigger =
                    table.try_into().context("invalid [[trigger.http]] entry")?;
                let trigger = trigger.check()?;
                ensure!(
                    components.contains_key(&trigger.component),
                    "[[trigger.http]] route {:?} refers to undefined component {:?}",
                    trigger.route,
                    trigger.component
                );
                http_triggers.push(trigger);
            }
        }

        Ok(Self {
            dir,
            name: raw.application.name,
            version: raw.application.version,
            variables,
            http_triggers,
            components,
        })
    }

    /// Where the `.wasm` of `component` lives. A `source` starting with
    /// `target/` is resolved against `target_dir` (so that a
    /// `CARGO_TARGET_DIR` outside the checkout works); any other relative
    /// path against the manifest directory.
    pub fn component_wasm_path(&self, component: &ComponentDecl, target_dir: &Path) -> PathBuf {
        let source = component
            .source
            .strip_prefix(".")
            .unwrap_or(&component.source);
        match source.strip_prefix("target") {
            Ok(rest) => target_dir.join(rest),
            Err(_) => self.dir.join(source),
        }
    }
}

/// Whether `label` is a valid store or database label: kebab-case or
/// snake_case words, each starting with an ASCII letter and all lower or all
/// upper case (Spin's `KebabId` / `SnakeId`).
pub(crate) fn is_valid_label(label: &str) -> bool {
    fn words_separated_by(label: &str, delimiter: char) -> bool {
        label.split(delimiter).all(|word| {
            let mut chars = word.chars();
            let Some(first) = chars.next() else {
                return false;
            };
            let upper = first.is_ascii_uppercase();
            first.is_ascii_alphabetic()
                && chars.all(|c| {
                    c.is_ascii_digit()
                        || (c.is_ascii_alphabetic() && c.is_ascii_uppercase() == upper)
                })
        })
    }
    words_separated_by(label, '-') || words_separated_by(label, '_')
}

fn validate_component_id(id: &str) -> anyhow::Result<()> {
    let ok = id.split('-').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }) && id.starts_with(|c: char| c.is_ascii_lowercase());
    ensure!(
        ok,
        "component id {id:?} must be kebab-case: lower-case letters and digits in words separated by '-', starting with a letter"
    );
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    spin_manifest_version: i64,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Table>>,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "informational fields are parsed only to be accepted"
)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    targets: Vec<toml::Value>,
    #[serde(default)]
    trigger: toml::Table,
    #[serde(default)]
    tool: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "informational fields are parsed only to be accepted"
)]
struct RawVariable {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[serde(default)]
    id: Option<String>,
    component: Option<toml::Value>,
    route: RawRoute,
    #[serde(default)]
    executor: Option<toml::Table>,
    #[serde(default)]
    static_response: Option<toml::Value>,
    #[serde(default)]
    components: Option<toml::Table>,
}

impl RawHttpTrigger {
    fn check(self) -> anyhow::Result<HttpTrigger> {
        let route = match self.route {
            RawRoute::Path(route) => Some(route),
            RawRoute::Private { private: true } => None,
            RawRoute::Private { private: false } => {
                bail!("route must be a string pattern or '{{ private = true }}'")
            }
        };
        ensure!(
            self.static_response.is_none(),
            "route {route:?}: static_response is not supported by the test host"
        );
        ensure!(
            self.components.is_none(),
            "route {route:?}: trigger `components` (middleware) are not supported by the test host"
        );
        if let Some(executor) = &self.executor {
            let kind = executor.get("type").and_then(toml::Value::as_str);
            ensure!(
                kind == Some("http"),
                "route {route:?}: only the default (wasi-http) executor is supported by the test host"
            );
        }
        let component = match self.component {
            Some(toml::Value::String(id)) => id,
            Some(_) => bail!(
                "route {route:?}: inline components are not supported by the test host; use `component = \"<id>\"`"
            ),
            None => bail!("route {route:?}: missing `component`"),
        };
        Ok(HttpTrigger {
            id: self.id,
            route,
            component,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(
    dead_code,
    reason = "informational fields are parsed only to be accepted"
)]
struct RawComponent {
    source: toml::Value,
    #[serde(default)]
    description: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    targets: Option<Vec<toml::Value>>,
    #[serde(default)]
    build: Option<toml::Value>,
    #[serde(default)]
    tool: toml::Table,
    #[serde(default)]
    dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    dependencies: toml::Table,
    #[serde(default)]
    profile: toml::Table,
}

impl RawComponent {
    fn check(self, app_vars: &BTreeMap<String, VariableDecl>) -> anyhow::Result<ComponentDecl> {
        let source = match self.source {
            toml::Value::String(path) => PathBuf::from(path),
            _ => bail!("only a local file `source` is supported by the test host"),
        };
        for (field, empty) in [
            ("files", self.files.is_empty()),
            ("allowed_http_hosts", self.allowed_http_hosts.is_empty()),
            ("ai_models", self.ai_models.is_empty()),
            ("dependencies", self.dependencies.is_empty()),
        ] {
            ensure!(empty, "`{field}` is not supported by the test host");
        }

        for label in &self.sqlite_databases {
            ensure!(
                is_valid_label(label),
                "`sqlite_databases` label {label:?}: expected kebab-case or snake_case"
            );
        }

        let check_template = |what: &str, text: &str| -> anyhow::Result<()> {
            let template = Template::parse(text).with_context(|| what.to_string())?;
            for name in template.variables() {
                ensure!(
                    app_vars.contains_key(name),
                    "{what}: invalid variable template {text:?}: unknown variable {name:?}"
                );
            }
            Ok(())
        };
        for (name, value) in &self.variables {
            validate_variable_name(name)?;
            check_template(&format!("variable {name:?}"), value)?;
        }
        for entry in &self.allowed_outbound_hosts {
            check_template(&format!("allowed_outbound_hosts entry {entry:?}"), entry)?;
        }
        let defaults: BTreeMap<String, String> = app_vars
            .iter()
            .filter_map(|(name, var)| Some((name.clone(), var.default.clone()?)))
            .collect();
        AllowedHosts::validate(&self.allowed_outbound_hosts, &defaults)
            .context("`allowed_outbound_hosts` is malformed")?;

        Ok(ComponentDecl {
            source,
            variables: self.variables,
            environment: self.environment,
            allowed_outbound_hosts: self.allowed_outbound_hosts,
            key_value_stores: self.key_value_stores,
            sqlite_databases: self.sqlite_databases,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
spin_manifest_version = 2

[application]
name = "pipeline-guard"
version = "0.1.0"
authors = ["x"]

[variables]
crm_api_url = { default = "https://api.hubapi.com" }
hubspot_token = { required = true, secret = true }

[[trigger.http]]
route = "/score-lead/..."
component = "score-lead"

[[trigger.http]]
id = "hidden"
route = { private = true }
component = "score-lead"

[component.score-lead]
source = "target/wasm32-wasip2/release/score_lead.wasm"
allowed_outbound_hosts = ["{{ crm_api_url }}", "https://example.com"]
key_value_stores = ["default"]
sqlite_databases = ["default", "audit_log"]
[component.score-lead.variables]
token = "Bearer {{ hubspot_token }}"
mode = "strict"
[component.score-lead.build]
command = "cargo build --target wasm32-wasip2 --release"
watch = ["src/**/*.rs"]
"#;

    fn parse(text: &str) -> anyhow::Result<Manifest> {
        Manifest::parse(text, PathBuf::from("/app"))
    }

    #[test]
    fn parses_a_full_manifest() {
        let m = parse(MANIFEST).expect("valid manifest");
        assert_eq!(m.name, "pipeline-guard");
        assert_eq!(
            m.variables["crm_api_url"].default.as_deref(),
            Some("https://api.hubapi.com")
        );
        assert!(m.variables["hubspot_token"].is_required());
        assert!(m.variables["hubspot_token"].secret);
        assert_eq!(
            m.http_triggers,
            vec![
                HttpTrigger {
                    id: None,
                    route: Some("/score-lead/...".into()),
                    component: "score-lead".into()
                },
                HttpTrigger {
                    id: Some("hidden".into()),
                    route: None,
                    component: "score-lead".into()
                },
            ]
        );
        let c = &m.components["score-lead"];
        assert_eq!(c.key_value_stores, ["default"]);
        assert_eq!(c.sqlite_databases, ["default", "audit_log"]);
        assert_eq!(c.variables["token"], "Bearer {{ hubspot_token }}");
        assert_eq!(c.allowed_outbound_hosts.len(), 2);
    }

    #[test]
    fn target_sources_follow_the_target_dir() {
        let m = parse(MANIFEST).expect("valid manifest");
        let c = &m.components["score-lead"];
        assert_eq!(
            m.component_wasm_path(c, Path::new("/tmp/tgt")),
            PathBuf::from("/tmp/tgt/wasm32-wasip2/release/score_lead.wasm")
        );
        let mut other = c.clone();
        other.source = PathBuf::from("build/x.wasm");
        assert_eq!(
            m.component_wasm_path(&other, Path::new("/tmp/tgt")),
            PathBuf::from("/app/build/x.wasm")
        );
        other.source = PathBuf::from("./target/a.wasm");
        assert_eq!(
            m.component_wasm_path(&other, Path::new("/t")),
            PathBuf::from("/t/a.wasm")
        );
        other.source = PathBuf::from("targets/a.wasm");
        assert_eq!(
            m.component_wasm_path(&other, Path::new("/t")),
            PathBuf::from("/app/targets/a.wasm")
        );
    }

    #[test]
    fn labels_are_kebab_or_snake_case_like_spin() {
        for good in [
            "default",
            "snake_case",
            "kebab-case",
            "UPPER",
            "MIXED-words2",
            "a1",
        ] {
            assert!(is_valid_label(good), "{good}");
        }
        for bad in [
            "",
            "b@dlabel",
            "kebab-and_snake",
            "Mixed",
            "1st",
            "a--b",
            "_a",
            "../x",
            "a b",
        ] {
            assert!(!is_valid_label(bad), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_manifests() {
        let cases = [
            (
                MANIFEST.replace("spin_manifest_version = 2", "spin_manifest_version = 1"),
                "spin_manifest_version",
            ),
            (
                MANIFEST.replace("{{ hubspot_token }}", "{{ hubspot_tokn }}"),
                "unknown variable",
            ),
            (
                MANIFEST.replace(
                    "required = true, secret",
                    "required = true, default = \"x\", secret",
                ),
                "must be `required` OR have a `default`",
            ),
            (
                MANIFEST.replace("{ default = \"https://api.hubapi.com\" }", "{ }"),
                "must be `required` OR have a `default`",
            ),
            (
                MANIFEST.replace("\"https://example.com\"", "\"example.com\""),
                "allowed_outbound_hosts",
            ),
            (
                MANIFEST.replace(
                    "component = \"score-lead\"\n\n[[",
                    "component = \"nope\"\n\n[[",
                ),
                "undefined component",
            ),
            (
                MANIFEST.replace("mode = ", "Mode = "),
                "invalid variable name",
            ),
            (
                MANIFEST.replace("key_value_stores", "key_value_storez"),
                "unknown field",
            ),
            (
                MANIFEST.replace("[[trigger.http]]", "[[trigger.redis]]"),
                "not supported",
            ),
            (
                MANIFEST.replace("\"audit_log\"", "\"audit-log_x\""),
                "expected kebab-case or snake_case",
            ),
        ];
        for (text, expected) in cases {
            let err = format!("{:#}", parse(&text).expect_err(expected));
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }
}
