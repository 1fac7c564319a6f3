//! What the benchmarks share: where the repository and its build live, and a deterministic
//! generator for the data they seed.

#![allow(dead_code)] // each benchmark uses a different subset

use std::path::{Path, PathBuf};

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where Cargo builds (`CARGO_TARGET_DIR`, else `target/`): the components are read from there.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// A small deterministic generator (xorshift), so every run seeds the same data.
pub struct Draw(pub u64);

impl Draw {
    /// A number below `below`.
    pub fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}
