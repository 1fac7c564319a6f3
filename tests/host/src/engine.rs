//! The Wasmtime engine, the linker with every host interface, and the
//! compiled-component cache (each `.wasm` is compiled once per engine and
//! reused by every [`crate::Host`] of the process while the file is unchanged).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use anyhow::Context as _;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Linker, ResourceType};
use wasmtime::{Config, Engine};

use crate::bindings::{key_value, sqlite, variables};
use crate::instances::InstanceState;
use crate::key_value::{HasKeyValue, KvView};
use crate::sqlite::{HasSqlite, SqliteView};
use crate::variables::HasVariables;

/// The engine every host of this process shares (configured like Spin's:
/// component model with async support).
pub(crate) fn shared_engine() -> anyhow::Result<Engine> {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    if let Some(engine) = ENGINE.get() {
        return Ok(engine.clone());
    }
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.wasm_component_model_async(true);
    let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
    Ok(ENGINE.get_or_init(|| engine).clone())
}

struct CacheEntry {
    engine: Engine,
    path: PathBuf,
    len: u64,
    modified: Option<SystemTime>,
    component: Component,
}

/// Compiles the component at `path`, or returns the copy compiled earlier
/// for this engine if the file has not changed since.
pub(crate) fn compile(engine: &Engine, path: &Path) -> anyhow::Result<Component> {
    static CACHE: Mutex<Vec<CacheEntry>> = Mutex::new(Vec::new());
    let meta = std::fs::metadata(path).with_context(|| {
        format!(
            "component file {} not found (build the components first: \
             cargo build --target wasm32-wasip2 --release)",
            path.display()
        )
    })?;
    let path = path.canonicalize()?;
    let modified = meta.modified().ok();
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(hit) = cache.iter().find(|e| {
        Engine::same(&e.engine, engine)
            && e.path == path
            && e.len == meta.len()
            && e.modified == modified
    }) {
        return Ok(hit.component.clone());
    }
    let component = Component::from_file(engine, &path)
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot compile {}", path.display()))?;
    cache.retain(|e| !(Engine::same(&e.engine, engine) && e.path == path));
    cache.push(CacheEntry {
        engine: engine.clone(),
        path,
        len: meta.len(),
        modified,
        component: component.clone(),
    });
    Ok(component)
}

/// A linker with WASI 0.2 and 0.3, `wasi:http@0.3.0` (client and types),
/// `spin:variables@3.0.0`, `spin:key-value@3.0.0` and `spin:sqlite@3.1.0`.
pub(crate) fn linker(engine: &Engine) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = Linker::<InstanceState>::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi::p3::add_to_linker(&mut linker)?;
    wasmtime_wasi_http::p3::add_to_linker(&mut linker)?;
    variables::add_to_linker::<_, HasVariables>(&mut linker, |state| &state.variables)?;
    key_value::add_to_linker::<_, HasKeyValue>(&mut linker, |state| KvView {
        access: &state.kv,
        table: &mut state.table,
    })?;
    sqlite::add_to_linker::<_, HasSqlite>(&mut linker, |state| SqliteView {
        instance: &mut state.sqlite,
        table: &mut state.table,
    })?;
    Ok(linker)
}

/// `linker`, with `spin:postgres` defined as functions that trap when `component` imports it.
/// The test host has no PostgreSQL: a component reaches it only when `database_url` is set,
/// which no scenario here does; the scenarios on PostgreSQL run on real Spin.
pub(crate) fn with_postgres_trapping(
    linker: &Linker<InstanceState>,
    engine: &Engine,
    component: &Component,
) -> anyhow::Result<Linker<InstanceState>> {
    let mut linker = linker.clone();
    let component_type = component.component_type();
    for (name, import) in component_type.imports(engine) {
        let ComponentItem::ComponentInstance(instance) = import.ty else {
            continue;
        };
        if !name.starts_with("spin:postgres/") {
            continue;
        }
        let mut stubs = linker.instance(name)?;
        for (item, export) in instance.exports(engine) {
            match export.ty {
                ComponentItem::ComponentFunc(func) => {
                    let refusal = format!("{name}#{item}: the test host has no PostgreSQL");
                    if func.async_() {
                        stubs.func_new_concurrent(item, move |_, _, _, _| {
                            let refusal = refusal.clone();
                            Box::pin(async move { Err(wasmtime::Error::msg(refusal)) })
                        })?;
                    } else {
                        stubs.func_new(item, move |_, _, _, _| {
                            Err(wasmtime::Error::msg(refusal.clone()))
                        })?;
                    }
                }
                ComponentItem::Resource(_) => {
                    stubs.resource(item, ResourceType::host::<()>(), |_, _| Ok(()))?;
                }
                _ => {}
            }
        }
    }
    Ok(linker)
}
