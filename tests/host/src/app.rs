//! [`App`]: an application loaded from its manifest and ready to serve:
//! variables resolved, outbound policies, key-value and SQLite grants set up,
//! each routed component compiled and linked behind its instance pool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use wasmtime::Engine;
use wasmtime::component::Linker;
use wasmtime_wasi_http::handler::ProxyHandler;
use wasmtime_wasi_http::p3::bindings::ServicePre;

use crate::allowed_hosts::AllowedHosts;
use crate::engine;
use crate::instances::{
    ComponentHandler, ComponentRuntime, InstanceReuse, InstanceState, StatsCounters,
};
use crate::key_value::KvAccess;
use crate::kv_store::{KvBackend, KvStores};
use crate::manifest::{ComponentDecl, Manifest};
use crate::outbound::{DeniedLog, OutboundPolicy};
use crate::routes::Router;
use crate::sqlite::SqliteAccess;
use crate::sqlite_store::SqliteDatabases;
use crate::variables::{ComponentVariables, component_variables, resolve_app_variables};

/// How to load an application (see [`crate::HostBuilder`]).
pub(crate) struct LoadOptions {
    pub(crate) target_dir: PathBuf,
    pub(crate) variables: BTreeMap<String, String>,
    pub(crate) kv: KvBackend,
    pub(crate) kv_labels: BTreeSet<String>,
    pub(crate) sqlite_labels: BTreeSet<String>,
    pub(crate) reuse: InstanceReuse,
    pub(crate) only_components: Option<BTreeSet<String>>,
    pub(crate) spins_headers_first: bool,
}

/// A component ready to take requests.
pub(crate) struct LoadedComponent {
    pub(crate) runtime: Arc<ComponentRuntime>,
    pub(crate) handler: ProxyHandler<ComponentHandler>,
}

/// A loaded application.
pub(crate) struct App {
    pub(crate) manifest: Manifest,
    pub(crate) router: Router,
    pub(crate) components: BTreeMap<String, LoadedComponent>,
    pub(crate) kv: Arc<KvStores>,
    pub(crate) sqlite: Arc<SqliteDatabases>,
    pub(crate) denied: DeniedLog,
    /// Whether the `spin-*` headers go before the client's (unlike Spin; see
    /// [`crate::HostBuilder::spins_headers_first`]).
    pub(crate) spins_headers_first: bool,
}

/// What every component of one application shares while loading.
struct Shared<'a> {
    options: &'a LoadOptions,
    app_values: BTreeMap<String, String>,
    kv: Arc<KvStores>,
    sqlite: Arc<SqliteDatabases>,
    denied: DeniedLog,
    engine: Engine,
    linker: Linker<InstanceState>,
}

impl App {
    /// Loads `manifest` with `options`; fails like `spin up` would.
    pub(crate) fn load(manifest: Manifest, options: &LoadOptions) -> anyhow::Result<Self> {
        options.reuse.validate()?;
        let app_values = resolve_app_variables(&manifest, &options.variables)?;
        if let Some(only) = &options.only_components {
            for id in only {
                if !manifest.components.contains_key(id) {
                    bail!("only_components: spin.toml has no component {id:?}");
                }
            }
        }
        let selected = |id: &str| {
            options
                .only_components
                .as_ref()
                .is_none_or(|only| only.contains(id))
        };
        let sqlite = SqliteDatabases::open(
            options.sqlite_labels.iter().map(String::as_str),
            &options.kv,
        )?;
        check_sqlite_labels(&manifest, &sqlite)?;
        let engine = engine::shared_engine()?;
        let shared = Shared {
            options,
            app_values,
            kv: Arc::new(KvStores::open(
                options.kv_labels.iter().map(String::as_str),
                &options.kv,
            )?),
            sqlite: Arc::new(sqlite),
            denied: DeniedLog::default(),
            linker: engine::linker(&engine)?,
            engine,
        };

        let mut components = BTreeMap::new();
        for (id, decl) in &manifest.components {
            let routed = manifest.http_triggers.iter().any(|t| t.component == *id);
            let loaded = shared.load_component(&manifest, id, decl, routed && selected(id))?;
            if let Some(loaded) = loaded {
                components.insert(id.clone(), loaded);
            }
        }

        let triggers: Vec<_> = manifest
            .http_triggers
            .iter()
            .filter(|t| selected(&t.component))
            .cloned()
            .collect();
        let router = Router::build(&triggers)?;
        Ok(Self {
            manifest,
            router,
            components,
            kv: shared.kv,
            sqlite: shared.sqlite,
            denied: shared.denied,
            spins_headers_first: options.spins_headers_first,
        })
    }
}

/// Fails, with Spin's message, if a component lists a `sqlite_databases`
/// label that no database defines.
fn check_sqlite_labels(manifest: &Manifest, databases: &SqliteDatabases) -> anyhow::Result<()> {
    let undefined: Vec<String> = manifest
        .components
        .iter()
        .flat_map(|(id, decl)| {
            decl.sqlite_databases
                .iter()
                .filter(|label| !databases.is_defined(label))
                .map(move |label| format!("- Component {id} uses database '{label}'"))
        })
        .collect();
    if undefined.is_empty() {
        return Ok(());
    }
    bail!(
        "One or more components use SQLite databases which are not defined.\n\
         Check the spelling, or pass a runtime configuration file that defines these stores.\n\
         See https://spinframework.dev/dynamic-configuration#sqlite-storage-runtime-configuration\n\
         Details:\n{}",
        undefined.join("\n")
    )
}

impl Shared<'_> {
    /// Checks a component's configuration; if `compile`, also compiles and
    /// links it.
    fn load_component(
        &self,
        manifest: &Manifest,
        id: &str,
        decl: &ComponentDecl,
        compile: bool,
    ) -> anyhow::Result<Option<LoadedComponent>> {
        for label in &decl.key_value_stores {
            if !self.kv.is_defined(label) {
                bail!("unknown key_value_stores label {label:?} for component {id:?}");
            }
        }
        let values = component_variables(decl, &self.app_values)
            .with_context(|| format!("component {id:?}"))?;
        let allowed = match AllowedHosts::resolve(&decl.allowed_outbound_hosts, &self.app_values) {
            Ok(allowed) => allowed,
            Err(err) => {
                eprintln!(
                    "[test-host] component {id:?}: allowed_outbound_hosts cannot be resolved \
                     ({err:#}); as in Spin, all its outbound requests will be denied"
                );
                AllowedHosts::default()
            }
        };
        if !compile {
            return Ok(None);
        }

        let wasm = manifest.component_wasm_path(decl, &self.options.target_dir);
        let component =
            engine::compile(&self.engine, &wasm).with_context(|| format!("component {id:?}"))?;
        let linker = engine::with_postgres_trapping(&self.linker, &self.engine, &component)?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(ServicePre::new)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!(
                    "component {id:?} ({}) cannot be linked as a wasi:http@0.3.0 service",
                    wasm.display()
                )
            })?;
        let runtime = Arc::new(ComponentRuntime {
            id: id.to_string(),
            pre,
            environment: decl
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            outbound: OutboundPolicy {
                component: id.into(),
                allowed: Arc::new(allowed),
                denied: self.denied.clone(),
            },
            variables: ComponentVariables::new(id, values),
            kv: KvAccess::new(
                Arc::new(decl.key_value_stores.iter().cloned().collect()),
                self.kv.clone(),
            ),
            sqlite: SqliteAccess::new(
                Arc::new(decl.sqlite_databases.iter().cloned().collect()),
                self.sqlite.clone(),
            ),
            reuse: self.options.reuse,
            stats: StatsCounters::default(),
        });
        Ok(Some(LoadedComponent {
            handler: ProxyHandler::new(ComponentHandler(runtime.clone())),
            runtime,
        }))
    }
}
