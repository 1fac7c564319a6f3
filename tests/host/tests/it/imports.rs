//! Every built component imports only what `wit/world.wit` allows, so a dependency that pulls in
//! the filesystem or sockets fails here rather than on an edge deploy; and the Akamai Functions
//! build imports no SQLite.

use crate::util;

use pipeline_guard_test_host::imports_outside_world;
use util::*;

#[test]
fn every_component_stays_inside_the_function_world() -> anyhow::Result<()> {
    for name in ["score_lead", "gate_handoff", "flag_stale_deals"] {
        let outside = imports_outside_world(&component(name), &root().join("wit"), "function")?;
        assert!(outside.is_empty(), "{name} imports {outside:?}");
    }
    Ok(())
}

/// The Akamai Functions build of each function (`--no-default-features`, as `spin-akamai.toml`
/// builds it and `scripts/test` too): inside the `akamai-function` world, so no `spin:sqlite`,
/// which that platform refuses even if it is never called.
#[test]
fn every_akamai_component_imports_only_what_akamai_functions_offers() -> anyhow::Result<()> {
    for name in ["score_lead", "gate_handoff", "flag_stale_deals"] {
        let path = target_dir().join(format!("akamai/wasm32-wasip2/release/{name}.wasm"));
        let wasm = std::fs::read(&path).map_err(|e| {
            anyhow::anyhow!(
                "{} ({e}): build it with `cargo build --target wasm32-wasip2 --release -p score-lead \
                 -p gate-handoff -p flag-stale-deals --no-default-features --target-dir <target>/akamai` \
                 (scripts/test does)",
                path.display()
            )
        })?;
        let outside = imports_outside_world(&wasm, &root().join("wit"), "akamai-function")?;
        assert!(
            outside.is_empty(),
            "{name} (Akamai build) imports {outside:?}"
        );
        let imports = pipeline_guard_test_host::imports::component_imports(&wasm)?;
        assert!(
            imports.iter().any(|i| i.starts_with("spin:postgres/")),
            "{name} (Akamai build) cannot reach PostgreSQL: {imports:?}"
        );
    }
    // The default build does import SQLite: the Akamai world must catch it.
    let outside = imports_outside_world(
        &component("gate_handoff"),
        &root().join("wit"),
        "akamai-function",
    )?;
    assert_eq!(outside, vec!["spin:sqlite/sqlite@3.1.0".to_owned()]);
    Ok(())
}

#[test]
fn a_component_importing_outside_the_world_is_caught() -> anyhow::Result<()> {
    // A world without the key-value store: the real components import it, so they must fail.
    let dir = tempfile::tempdir()?;
    let world = std::fs::read_to_string(root().join("wit/world.wit"))?
        .replace("  import spin:key-value/key-value@3.0.0;\n", "");
    std::fs::write(dir.path().join("world.wit"), world)?;
    copy_dir(&root().join("wit/deps"), &dir.path().join("deps"))?;
    let outside = imports_outside_world(&component("score_lead"), dir.path(), "function")?;
    assert_eq!(outside, vec!["spin:key-value/key-value@3.0.0".to_owned()]);
    Ok(())
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
