//! Every built component imports only what `wit/world.wit` allows, so a dependency that pulls in
//! the filesystem or sockets fails here rather than on an edge deploy.

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
