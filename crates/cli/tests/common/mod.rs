//! What the command-line tests share: the command, run as a real process from the repository's
//! root.

use std::process::Command;

/// Run `pipeline-guard` with `args`: whether it succeeded, its stdout and its stderr.
pub fn pipeline_guard(args: &[&str]) -> (bool, String, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_pipeline-guard"))
        .current_dir(root)
        .args(args)
        .output()
        .expect("run pipeline-guard");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
