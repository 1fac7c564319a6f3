//! SpinKube: the `SpinApp` manifests in `deploy/spinkube` (one per function, selective
//! deployment) and the sweep's CronJobs, checked against what they deploy.
//!
//! - Against `spin.toml`: each SpinApp runs exactly one component of the app and is named after
//!   it (so its Service is the host the CronJobs call); every variable it binds is one the app
//!   declares, and every variable `spin.toml` marks secret comes from a Kubernetes Secret, never
//!   from a value written in the manifest; the CronJobs call routes their function serves.
//! - Against the SpinApp CRD: [`spinapp_crd`] reads the schema of spinframework/spin-operator's
//!   `config/crd/bases/core.spinkube.dev_spinapps.yaml` when `PIPELINE_GUARD_SPINAPP_CRD` names a
//!   copy (no package registry carries it and the repository keeps no copy of it), closed as a
//!   strict field validation closes it (a field the schema does not name is an error, not pruned);
//!   without it the manifests are read into [`SpinAppReading`], our typed reading of the fields
//!   they use, which refuses any other field.
//! - The CronJobs against Kubernetes' own `batch/v1` types (`k8s-openapi`): a field those types
//!   do not know is lost when read and written back, and the test names it.

use std::{collections::BTreeMap, path::Path};

use anyhow::{Context, anyhow, bail};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::util::root;

/// The functions, by component id.
const FUNCTIONS: [&str; 3] = ["score-lead", "gate-handoff", "flag-stale-deals"];

/// Every YAML document in `deploy/spinkube`, with the file it is in.
fn documents() -> anyhow::Result<Vec<(String, Value)>> {
    let dir = root().join("deploy/spinkube");
    let mut found = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.sort();
    for path in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(path)?;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for document in serde_norway::Deserializer::from_str(&text) {
            let value = Value::deserialize(document).with_context(|| name.clone())?;
            if !value.is_null() {
                found.push((name.clone(), value));
            }
        }
    }
    Ok(found)
}

fn of_kind(kind: &str) -> anyhow::Result<Vec<(String, Value)>> {
    Ok(documents()?
        .into_iter()
        .filter(|(_, d)| d["kind"] == kind)
        .collect())
}

/// What `spin.toml` says the manifests must agree with.
struct App {
    /// Component id → its routes (`/gate-handoff/...`).
    routes: BTreeMap<String, Vec<String>>,
    /// Application variable → whether it is secret.
    variables: BTreeMap<String, bool>,
}

fn app() -> anyhow::Result<App> {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(root().join("spin.toml"))?)?;
    let mut routes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for trigger in manifest["trigger"]["http"]
        .as_array()
        .context("no HTTP triggers")?
    {
        let component = trigger["component"]
            .as_str()
            .context("trigger without component")?;
        let route = trigger["route"].as_str().context("trigger without route")?;
        routes
            .entry(component.into())
            .or_default()
            .push(route.into());
    }
    let variables = manifest["variables"]
        .as_table()
        .context("no [variables]")?
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                v.get("secret").and_then(toml::Value::as_bool) == Some(true),
            )
        })
        .collect();
    Ok(App { routes, variables })
}

#[test]
fn each_function_has_a_spinapp_that_runs_it_alone() -> anyhow::Result<()> {
    let app = app()?;
    let apps = of_kind("SpinApp")?;
    for function in FUNCTIONS {
        let named: Vec<_> = apps
            .iter()
            .filter(|(_, d)| d["metadata"]["name"] == function)
            .collect();
        let [(file, spinapp)] = named.as_slice() else {
            bail!(
                "{} SpinApps named {function} in deploy/spinkube",
                named.len()
            );
        };
        assert_eq!(
            spinapp["spec"]["components"],
            json!([function]),
            "{file}: runs only {function} (selective deployment)"
        );
        assert!(
            app.routes.contains_key(function),
            "{function} is not a component of spin.toml"
        );
    }
    assert_eq!(
        apps.len(),
        FUNCTIONS.len(),
        "one SpinApp per function, no more"
    );
    Ok(())
}

#[test]
fn spinapp_variables_are_the_apps_and_its_secrets_come_from_secrets() -> anyhow::Result<()> {
    let app = app()?;
    for (file, spinapp) in of_kind("SpinApp")? {
        let bound = spinapp["spec"]["variables"]
            .as_array()
            .context("no variables")?;
        let mut seen = Vec::new();
        for variable in bound {
            let name = variable["name"]
                .as_str()
                .context("a variable without a name")?;
            let secret = *app
                .variables
                .get(name)
                .ok_or_else(|| anyhow!("{file}: {name} is not a variable of spin.toml"))?;
            assert!(!seen.contains(&name), "{file}: {name} is bound twice");
            seen.push(name);
            if secret {
                assert!(
                    variable.get("value").is_none()
                        && variable["valueFrom"].get("secretKeyRef").is_some(),
                    "{file}: {name} is secret: it must come from a Secret (valueFrom.secretKeyRef), \
                     never a value in the manifest"
                );
            }
        }
        // What a HubSpot install on PostgreSQL with several replicas cannot do without.
        for needed in [
            "hubspot_client_secret",
            "hubspot_api_token",
            "database_url",
            "database_host",
        ] {
            assert!(seen.contains(&needed), "{file} does not bind {needed}");
        }
        let replicas = spinapp["spec"]["replicas"].as_u64().unwrap_or(1);
        assert!(
            replicas == 1 || seen.contains(&"database_url"),
            "{file}: {replicas} replicas need one shared database (database_url)"
        );
    }
    Ok(())
}

/// Our typed reading of the SpinApp fields the manifests use, after the CRD (spin-operator
/// v0.6, `core.spinkube.dev/v1alpha1`): `image` and `executor` required, any field it does not
/// name refused. Extend it, from the CRD, before a manifest uses another field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "read only to be checked")]
struct SpinAppReading {
    api_version: ApiVersion,
    kind: SpinAppKind,
    metadata: Metadata,
    spec: Spec,
}

#[derive(Deserialize)]
enum ApiVersion {
    #[serde(rename = "core.spinkube.dev/v1alpha1")]
    V1Alpha1,
}

#[derive(Deserialize)]
enum SpinAppKind {
    SpinApp,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "read only to be checked")]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "read only to be checked")]
struct Spec {
    image: String,
    executor: String,
    #[serde(default)]
    components: Vec<String>,
    #[serde(default)]
    replicas: Option<i32>,
    #[serde(default)]
    enable_autoscaling: Option<bool>,
    #[serde(default)]
    runtime_config: Option<RuntimeConfig>,
    #[serde(default)]
    resources: Option<Resources>,
    #[serde(default)]
    variables: Vec<Variable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "read only to be checked")]
struct RuntimeConfig {
    load_from_secret: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "read only to be checked")]
struct Resources {
    #[serde(default)]
    limits: BTreeMap<String, String>,
    #[serde(default)]
    requests: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "read only to be checked")]
struct Variable {
    name: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    value_from: Option<ValueFrom>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code, reason = "read only to be checked")]
struct ValueFrom {
    #[serde(default)]
    secret_key_ref: Option<KeyRef>,
    #[serde(default)]
    config_map_key_ref: Option<KeyRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "read only to be checked")]
struct KeyRef {
    name: String,
    key: String,
    #[serde(default)]
    optional: Option<bool>,
}

/// The SpinApp CRD's `v1alpha1` schema, closed, when `PIPELINE_GUARD_SPINAPP_CRD` names a copy.
fn spinapp_crd() -> anyhow::Result<Option<Value>> {
    let Some(path) = std::env::var_os("PIPELINE_GUARD_SPINAPP_CRD") else {
        return Ok(None);
    };
    let path = Path::new(&path);
    let crd: Value = serde_norway::from_str(&std::fs::read_to_string(path)?)
        .with_context(|| path.display().to_string())?;
    if crd["spec"]["group"] != "core.spinkube.dev" || crd["spec"]["names"]["kind"] != "SpinApp" {
        bail!("{} is not the SpinApp CRD", path.display());
    }
    let version = crd["spec"]["versions"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "v1alpha1"))
        .context("the CRD has no v1alpha1")?;
    let mut schema = version["schema"]["openAPIV3Schema"].clone();
    close(&mut schema);
    Ok(Some(schema))
}

/// Refuse, as Kubernetes' strict field validation does, any field an object schema does not
/// name, unless it keeps unknown fields or says what its other fields are.
fn close(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let open = object.contains_key("additionalProperties")
        || object.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if object.contains_key("properties") && !open {
        object.insert("additionalProperties".into(), Value::Bool(false));
    }
    for value in object.values_mut() {
        match value {
            Value::Object(_) => close(value),
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
}

/// Whether `document` is valid against the closed CRD `schema`; the errors, one per line.
fn crd_errors(schema: &Value, document: &Value) -> anyhow::Result<Vec<String>> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("crd.json", schema.clone())
        .map_err(|e| anyhow!("the CRD's schema: {e}"))?;
    let compiled = compiler
        .compile("crd.json", &mut schemas)
        .map_err(|e| anyhow!("the CRD's schema: {e}"))?;
    Ok(match schemas.validate(document, compiled) {
        Ok(()) => Vec::new(),
        Err(error) => vec![format!("{error:#}")],
    })
}

/// Every reason `document` is not a SpinApp: against the CRD when given, else our reading.
fn spinapp_errors(crd: Option<&Value>, document: &Value) -> anyhow::Result<Vec<String>> {
    let mut errors = match crd {
        Some(schema) => crd_errors(schema, document)?,
        None => Vec::new(),
    };
    if let Err(e) = serde_json::from_value::<SpinAppReading>(document.clone()) {
        errors.push(format!("our reading of the SpinApp CRD: {e}"));
    }
    Ok(errors)
}

#[test]
fn spinapps_are_valid_against_the_spinapp_crd() -> anyhow::Result<()> {
    let crd = spinapp_crd()?;
    match &crd {
        Some(_) => println!("SpinApps checked against the SpinApp CRD and our reading of it"),
        None => println!(
            "SpinApps checked against our reading of the SpinApp CRD only: set \
             PIPELINE_GUARD_SPINAPP_CRD to a copy of spin-operator's \
             config/crd/bases/core.spinkube.dev_spinapps.yaml to check against the CRD itself"
        ),
    }
    for (file, spinapp) in of_kind("SpinApp")? {
        let errors = spinapp_errors(crd.as_ref(), &spinapp)?;
        assert!(errors.is_empty(), "{file}:\n{}", errors.join("\n"));
    }
    // The checks can fail: a misspelt field, a field in the wrong place, a missing image.
    let (_, good) = of_kind("SpinApp")?.remove(0);
    let mut misspelt = good.clone();
    misspelt["spec"]["component"] = json!(["gate-handoff"]);
    let mut misplaced = good.clone();
    misplaced["spec"]["variables"][0]["secretKeyRef"] = json!({"name": "s", "key": "k"});
    let mut imageless = good;
    imageless["spec"].as_object_mut().unwrap().remove("image");
    for (what, bad) in [
        ("misspelt", misspelt),
        ("misplaced", misplaced),
        ("imageless", imageless),
    ] {
        let errors = spinapp_errors(crd.as_ref(), &bad)?;
        assert!(!errors.is_empty(), "a {what} SpinApp passed");
        if crd.is_some() {
            assert!(
                errors.len() == 2,
                "a {what} SpinApp passed one of the checks: {errors:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn cronjobs_are_kubernetes_cronjobs_calling_routes_their_function_serves() -> anyhow::Result<()> {
    use k8s_openapi::api::batch::v1::CronJob;
    let app = app()?;
    let jobs = of_kind("CronJob")?;
    assert_eq!(jobs.len(), 2, "the sweep and the weekly summaries");
    let unknown = |job: &Value| -> anyhow::Result<Option<String>> {
        let read: CronJob = serde_json::from_value(job.clone())?;
        Ok(lost_field(job, &serde_json::to_value(&read)?, ""))
    };
    // The check can fail: a field in the wrong place is named.
    let mut misplaced = jobs[0].1.clone();
    misplaced["spec"]["jobTemplate"]["spec"]["template"]["spec"]["env"] = json!([]);
    assert_eq!(
        unknown(&misplaced)?.as_deref(),
        Some(".spec.jobTemplate.spec.template.spec.env")
    );
    for (file, job) in jobs {
        if let Some(lost) = unknown(&job).with_context(|| file.clone())? {
            bail!("{file}: {lost} is not a field of a Kubernetes batch/v1 CronJob");
        }
        let container = &job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
        let env = |name: &str| {
            container["env"]
                .as_array()
                .and_then(|env| env.iter().find(|e| e["name"] == name))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let url = env("PIPELINE_GUARD_URL")["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let function = FUNCTIONS
            .iter()
            .find(|f| url.starts_with(&format!("http://{f}.")))
            .with_context(|| format!("{file}: {url} is no SpinApp's Service"))?;
        let script = container["args"][0].as_str().context("no script")?;
        let path = script
            .split("${PIPELINE_GUARD_URL%/}")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .with_context(|| format!("{file}: the script calls no path under the URL"))?;
        let prefix = format!("/{function}/");
        assert!(
            path.starts_with(&prefix)
                && app.routes[*function]
                    .iter()
                    .any(|r| r == &format!("/{function}/...")),
            "{file}: {path} is not a route of {function}"
        );
        assert_eq!(
            env("SWEEP_TOKEN")["valueFrom"]["secretKeyRef"],
            json!({"name": "pipeline-guard", "key": "sweep_token"}),
            "{file}: the token comes from the Secret the SpinApps read"
        );
    }
    Ok(())
}

/// The first field of `original` that `written` (read and written back) no longer has.
fn lost_field(original: &Value, written: &Value, at: &str) -> Option<String> {
    match (original, written) {
        (Value::Object(o), Value::Object(w)) => o.iter().find_map(|(k, v)| match w.get(k) {
            None if !v.is_null() => Some(format!("{at}.{k}")),
            None => None,
            Some(w) => lost_field(v, w, &format!("{at}.{k}")),
        }),
        (Value::Array(o), Value::Array(w)) => o
            .iter()
            .zip(w)
            .enumerate()
            .find_map(|(i, (o, w))| lost_field(o, w, &format!("{at}[{i}]"))),
        _ => None,
    }
}
