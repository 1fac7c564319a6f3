//! Serves a Spin application with the test host, for manual and load tests.
//!
//! ```text
//! pipeline-guard-host <spin.toml> [--listen 127.0.0.1:3000] [--variable NAME=VALUE]...
//!                     [--kv-dir DIR] [--target-dir DIR]
//!                     [--max-instance-reuse-count N] [--max-instance-concurrent-reuse-count N]
//! ```
//!
//! Variable values also come from `SPIN_VARIABLE_<NAME>` environment
//! variables (`--variable` wins). Without `--kv-dir`, key-value data and
//! SQLite databases live in memory; with it, in files in `DIR` (the default
//! database in `DIR/sqlite_db.db`, as in Spin's `.spin/`). Stops on Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use pipeline_guard_test_host::{Host, InstanceReuse, KvBackend};

const USAGE: &str = "usage: pipeline-guard-host <spin.toml> [--listen 127.0.0.1:3000] \
[--variable NAME=VALUE]... [--kv-dir DIR] [--target-dir DIR] \
[--max-instance-reuse-count N] [--max-instance-concurrent-reuse-count N]";

#[derive(Debug)]
struct Args {
    manifest: PathBuf,
    listen: SocketAddr,
    variables: Vec<(String, String)>,
    kv_dir: Option<PathBuf>,
    target_dir: Option<PathBuf>,
    reuse: InstanceReuse,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> anyhow::Result<Args> {
    let mut manifest = None;
    let mut parsed = Args {
        manifest: PathBuf::new(),
        listen: SocketAddr::from(([127, 0, 0, 1], 3000)),
        variables: Vec::new(),
        kv_dir: None,
        target_dir: None,
        reuse: InstanceReuse::default(),
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => bail!("{USAGE}"),
            "--listen" => {
                parsed.listen = value("--listen")?
                    .parse()
                    .context("--listen needs an address like 127.0.0.1:3000")?;
            }
            "--variable" => {
                let pair = value("--variable")?;
                let (name, val) = pair
                    .split_once('=')
                    .with_context(|| format!("--variable {pair:?} is not NAME=VALUE"))?;
                parsed.variables.push((name.to_string(), val.to_string()));
            }
            "--kv-dir" => parsed.kv_dir = Some(value("--kv-dir")?.into()),
            "--target-dir" => parsed.target_dir = Some(value("--target-dir")?.into()),
            "--max-instance-reuse-count" => {
                parsed.reuse.max_requests = value("--max-instance-reuse-count")?
                    .parse()
                    .context("--max-instance-reuse-count needs a number")?;
            }
            "--max-instance-concurrent-reuse-count" => {
                parsed.reuse.max_concurrent = value("--max-instance-concurrent-reuse-count")?
                    .parse()
                    .context("--max-instance-concurrent-reuse-count needs a number")?;
            }
            other if other.starts_with('-') => bail!("unknown option {other:?}\n{USAGE}"),
            other => {
                if manifest.replace(PathBuf::from(other)).is_some() {
                    bail!("only one manifest may be given\n{USAGE}");
                }
            }
        }
    }
    parsed.manifest = manifest.with_context(|| USAGE.to_string())?;
    Ok(parsed)
}

#[tokio::main]
async fn main() {
    if let Err(err) = run().await {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

async fn run() -> anyhow::Result<()> {
    let args = parse_args(std::env::args().skip(1))?;
    let mut builder = Host::builder(&args.manifest)
        .variables_from_env()
        .instance_reuse(args.reuse);
    for (name, value) in &args.variables {
        builder = builder.variable(name, value);
    }
    if let Some(dir) = &args.kv_dir {
        builder = builder.key_value(KvBackend::Dir(dir.clone()));
    }
    if let Some(dir) = &args.target_dir {
        builder = builder.target_dir(dir);
    }
    let host = builder.build()?;
    let addr = host.serve(args.listen).await?;
    println!("Serving http://{addr}");
    println!("Available Routes:");
    for trigger in &host.manifest().http_triggers {
        if let Some(route) = &trigger.route {
            println!("  {}: http://{addr}{route}", trigger.component);
        }
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> anyhow::Result<Args> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_all_options() {
        let a = args(&[
            "spin.toml",
            "--listen",
            "127.0.0.1:0",
            "--variable",
            "crm_api_url=http://x=y",
            "--variable",
            "token=t",
            "--kv-dir",
            "/tmp/kv",
            "--max-instance-reuse-count",
            "1",
        ])
        .expect("valid");
        assert_eq!(a.manifest, PathBuf::from("spin.toml"));
        assert_eq!(a.listen.port(), 0);
        assert_eq!(
            a.variables,
            vec![
                ("crm_api_url".to_string(), "http://x=y".to_string()),
                ("token".to_string(), "t".to_string())
            ]
        );
        assert_eq!(a.kv_dir, Some(PathBuf::from("/tmp/kv")));
        assert_eq!(a.reuse.max_requests, 1);
        assert_eq!(a.reuse.max_concurrent, 16);
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(args(&[]).is_err());
        assert!(args(&["a.toml", "b.toml"]).is_err());
        assert!(args(&["spin.toml", "--variable", "novalue"]).is_err());
        assert!(args(&["spin.toml", "--listen"]).is_err());
        assert!(args(&["spin.toml", "--bogus"]).is_err());
    }
}
