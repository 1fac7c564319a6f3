//! Checks that a component imports nothing beyond what a WIT world declares.
//!
//! The world's imports are the fully-qualified interface names
//! (`wasi:http/types@0.3.0`), including interfaces pulled in by `include`
//! and, transitively, by `use` (wit-parser elaborates them into the world),
//! plus the plain names of any bare function imports.
//!
//! A component import matches a world import with the same name, or with the
//! same package and interface and a semver-compatible version, the rule
//! Wasmtime's linker applies: for `1.x` and above the same major version, for
//! `0.x` (x ≥ 1) the same minor version, for `0.0.x` the exact version. So a
//! Rust std import of `wasi:io/streams@0.2.4` is inside a world that imports
//! `wasi:io/streams@0.2.6`.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{Context as _, bail};
use wasmparser::{Encoding, Parser, Payload};
use wit_parser::{Resolve, WorldItem};

/// Every import of `component_wasm` that world `world` of the WIT package in
/// `wit_dir` (with its `deps/`) does not import, in the component's order.
/// `world` is a world name in that package or a full `ns:pkg/world` id.
pub fn imports_outside_world(
    component_wasm: &[u8],
    wit_dir: &Path,
    world: &str,
) -> anyhow::Result<Vec<String>> {
    let allowed = world_imports(wit_dir, world)?;
    let imports = component_imports(component_wasm)?;
    Ok(outside(&imports, &allowed))
}

/// The names world `world` in `wit_dir` imports.
pub fn world_imports(wit_dir: &Path, world: &str) -> anyhow::Result<BTreeSet<String>> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .with_context(|| format!("cannot resolve WIT in {}", wit_dir.display()))?;
    let world_id = resolve
        .select_world(&[package], Some(world))
        .with_context(|| format!("no world {world:?} in {}", wit_dir.display()))?;
    Ok(resolve.worlds[world_id]
        .imports
        .iter()
        .filter(|(_, item)| matches!(item, WorldItem::Interface { .. } | WorldItem::Function(_)))
        .map(|(key, _)| resolve.name_world_key(key))
        .collect())
}

/// The names of the top-level imports of a component binary, in order.
pub fn component_imports(component_wasm: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(component_wasm) {
        match payload.context("invalid wasm binary")? {
            Payload::Version { encoding, .. } => {
                if depth == 0 && encoding != Encoding::Component {
                    bail!("not a component (a core wasm module?)");
                }
                depth += 1;
            }
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    names.push(
                        import
                            .context("invalid import section")?
                            .name
                            .name
                            .to_string(),
                    );
                }
            }
            _ => {}
        }
    }
    Ok(names)
}

/// The imports of `imports` that `allowed` does not cover.
fn outside(imports: &[String], allowed: &BTreeSet<String>) -> Vec<String> {
    let allowed_keys: BTreeSet<(String, String)> = allowed.iter().map(|n| compat_key(n)).collect();
    imports
        .iter()
        .filter(|name| !allowed.contains(*name) && !allowed_keys.contains(&compat_key(name)))
        .cloned()
        .collect()
}

/// Splits `ns:pkg/iface@1.2.3` into the name without version and the part
/// of the version that must match for semver compatibility.
fn compat_key(name: &str) -> (String, String) {
    let Some((base, version)) = name.split_once('@') else {
        return (name.to_string(), String::new());
    };
    // Pre-release versions (`0.2.0-rc-…`) only match exactly.
    if version.contains('-') {
        return (base.to_string(), version.to_string());
    }
    let mut parts = version.splitn(3, '.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    let compat = if major != "0" {
        major.to_string()
    } else if minor != "0" {
        format!("0.{minor}")
    } else {
        version.to_string()
    };
    (base.to_string(), compat)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn strings(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn semver_compatible_versions_match() {
        let allowed = set(&[
            "wasi:io/streams@0.2.6",
            "wasi:http/types@0.3.0",
            "a:b/c@1.4.0",
            "x:y/z@0.0.3",
        ]);
        let imports = strings(&[
            "wasi:io/streams@0.2.0",
            "wasi:io/streams@0.3.0",
            "wasi:http/types@0.3.0",
            "wasi:http/types@0.3.1",
            "wasi:http/handler@0.3.0",
            "a:b/c@1.0.0",
            "a:b/c@2.0.0",
            "x:y/z@0.0.3",
            "x:y/z@0.0.4",
            "wasi:http/types@0.3.0-rc-2025-09-16",
        ]);
        assert_eq!(
            outside(&imports, &allowed),
            strings(&[
                "wasi:io/streams@0.3.0",
                "wasi:http/handler@0.3.0",
                "a:b/c@2.0.0",
                "x:y/z@0.0.4",
                "wasi:http/types@0.3.0-rc-2025-09-16",
            ])
        );
    }

    #[test]
    fn reads_top_level_component_imports_only() {
        let wasm = wat::parse_str(
            r#"(component
                (import "wasi:http/types@0.3.0" (instance))
                (import "spin:key-value/key-value@3.0.0" (instance))
                (component (import "nested:only/inner@1.0.0" (instance)))
                (import "plain-func" (func))
            )"#,
        )
        .expect("valid wat");
        assert_eq!(
            component_imports(&wasm).expect("parses"),
            strings(&[
                "wasi:http/types@0.3.0",
                "spin:key-value/key-value@3.0.0",
                "plain-func",
            ])
        );
        let module = wat::parse_str("(module)").expect("valid wat");
        assert!(component_imports(&module).is_err());
    }

    #[test]
    fn world_imports_include_used_and_included_interfaces() {
        let dir = tempfile::tempdir().expect("tempdir");
        let deps = dir.path().join("deps").join("dep");
        std::fs::create_dir_all(&deps).expect("mkdir");
        std::fs::write(
            deps.join("dep.wit"),
            "package ext:dep@1.2.0;\n\
             interface types { type id = u32; }\n\
             interface api { use types.{id}; get: func() -> id; }\n\
             world base { import api; }\n",
        )
        .expect("write");
        std::fs::write(
            dir.path().join("world.wit"),
            "package app:guard;\n\
             interface local { hello: func(); }\n\
             world guard {\n\
               include ext:dep/base@1.2.0;\n\
               import local;\n\
               import log: func(msg: string);\n\
               export run: func();\n\
             }\n",
        )
        .expect("write");
        let imports = world_imports(dir.path(), "guard").expect("resolves");
        assert_eq!(
            imports,
            set(&[
                "ext:dep/types@1.2.0",
                "ext:dep/api@1.2.0",
                "app:guard/local",
                "log"
            ])
        );

        let wasm = wat::parse_str(
            r#"(component
                (import "ext:dep/types@1.2.0" (instance))
                (import "ext:dep/api@1.0.0" (instance))
                (import "app:guard/local" (instance))
                (import "wasi:sockets/tcp@0.2.0" (instance))
            )"#,
        )
        .expect("valid wat");
        assert_eq!(
            imports_outside_world(&wasm, dir.path(), "app:guard/guard").expect("checks"),
            strings(&["wasi:sockets/tcp@0.2.0"])
        );
        assert!(imports_outside_world(&wasm, dir.path(), "nope").is_err());
    }
}
