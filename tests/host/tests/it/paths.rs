//! Where things are, for any test two levels below the workspace root (`tests/host`,
//! `crates/cli`, which includes this file and [`browser`](super::browser) for the audit page's
//! browser check).

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The cargo target dir this test was built into (it holds the release `.wasm`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}
