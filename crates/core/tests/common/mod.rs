//! The fixture harness: each case file sits next to `<case>.expected.json`, and one walk checks
//! them all. `BLESS=1` writes what the code produces into the expected files instead, for review
//! in the diff; `BLESS=<text>` (`BLESS=fixtures/generic/`) does so only for the cases whose path
//! holds the text, and leaves the others alone.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository's `fixtures/` folder.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// For every file in `dir` ending in one of `extensions` (and not `.expected.json`), compute
/// what it produces with `produce(case, expected)` and compare it with `<case>.expected.json`.
/// `expected` is the current expected value (`Null` when missing), so a case can keep its
/// conditions there. Returns how many cases were checked.
pub fn check_cases(
    dir: &Path,
    extensions: &[&str],
    produce: impl Fn(&Path, &Value) -> Value,
) -> usize {
    let only = std::env::var("BLESS").ok();
    let bless = only.is_some();
    let only = only.filter(|o| o != "1");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.ends_with(".expected.json") && extensions.iter().any(|ext| name.ends_with(ext))
        })
        .filter(|p| {
            only.as_ref()
                .is_none_or(|only| p.to_string_lossy().contains(only.as_str()))
        })
        .collect();
    cases.sort();
    let mut failures = Vec::new();
    for case in &cases {
        let expected_path = case.with_extension("expected.json");
        let expected: Value = match std::fs::read(&expected_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
            Err(_) if bless => Value::Null,
            Err(e) => panic!("{}: {e}", expected_path.display()),
        };
        let produced = produce(case, &expected);
        if bless {
            let text = serde_json::to_string_pretty(&produced).expect("json") + "\n";
            std::fs::write(&expected_path, text).expect("write expected");
        } else if produced != expected {
            failures.push(format!(
                "{}:\n--- expected\n{}\n--- produced\n{}",
                case.display(),
                serde_json::to_string_pretty(&expected).unwrap_or_default(),
                serde_json::to_string_pretty(&produced).unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    cases.len()
}
