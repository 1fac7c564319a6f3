//! Fuzz targets for every parser a request reaches: the generic JSON webhook, HubSpot batches and
//! workflow bodies, Pipedrive v2, Salesforce SOAP and Flow JSON, the signature and credential
//! headers, the playbook TOML, and a call's transcript in each format (WebVTT, Gong JSON, plain
//! text). Each is
//! seeded from the real payloads in `fixtures/` and driven by bolero: under `cargo test` (stable,
//! so in CI) with its random engine for a bounded time per target (`PIPELINE_GUARD_FUZZ_SECONDS`,
//! 6 by default, about a minute in all); `cargo bolero test fuzz_generic_webhook` runs the same target
//! coverage-guided with libFuzzer on nightly. A parser may refuse an input, never panic. Every
//! crash found becomes a fixture.

use std::{path::Path, time::Duration};

use bolero::{TypeGenerator, check};
use pipeline_guard_core::{
    conversation::Format,
    crm::generic::signature::{SignedRequest, verify_generic},
    crm::{generic, hubspot, pipedrive, salesforce},
    playbook::Playbook,
    signature::credentials,
};
use time::macros::datetime;

/// How an input is made from the seeds: a seed, edited.
#[derive(Debug, TypeGenerator)]
struct Mutation {
    seed: u16,
    edits: Vec<Edit>,
}

/// One edit of the bytes.
#[derive(Debug, TypeGenerator)]
enum Edit {
    Set {
        at: u32,
        byte: u8,
    },
    Truncate {
        at: u32,
    },
    Insert {
        at: u32,
        bytes: Vec<u8>,
    },
    Remove {
        at: u32,
        len: u8,
    },
    /// Copy a run of another seed in: splices shapes the parser knows into unexpected places.
    Splice {
        seed: u16,
        from: u32,
        len: u16,
        at: u32,
    },
    /// Repeat a run: deep nesting, long lists.
    Repeat {
        at: u32,
        len: u8,
        times: u8,
    },
}

impl Mutation {
    /// The input this mutation makes of `seeds`.
    fn apply(&self, seeds: &[Vec<u8>]) -> Vec<u8> {
        let pick = |i: u16| &seeds[usize::from(i) % seeds.len()];
        let mut bytes = pick(self.seed).clone();
        for edit in self.edits.iter().take(16) {
            let at = |i: u32, len: usize| (i as usize) % (len + 1);
            match edit {
                Edit::Set { at: i, byte } if !bytes.is_empty() => {
                    let i = (*i as usize) % bytes.len();
                    bytes[i] = *byte;
                }
                Edit::Set { .. } => {}
                Edit::Truncate { at: i } => bytes.truncate(at(*i, bytes.len())),
                Edit::Insert { at: i, bytes: new } => {
                    let i = at(*i, bytes.len());
                    bytes.splice(i..i, new.iter().copied().take(64));
                }
                Edit::Remove { at: i, len } => {
                    let i = at(*i, bytes.len());
                    let end = (i + usize::from(*len)).min(bytes.len());
                    bytes.drain(i..end);
                }
                Edit::Splice {
                    seed,
                    from,
                    len,
                    at: i,
                } => {
                    let other = pick(*seed);
                    let from = at(*from, other.len());
                    let end = (from + usize::from(*len)).min(other.len());
                    let i = at(*i, bytes.len());
                    bytes.splice(i..i, other[from..end].iter().copied());
                }
                Edit::Repeat { at: i, len, times } => {
                    let i = at(*i, bytes.len());
                    let end = (i + usize::from(*len)).min(bytes.len());
                    let run = bytes[i..end].to_vec();
                    for _ in 0..(*times).min(32) {
                        bytes.splice(end..end, run.iter().copied());
                    }
                }
            }
            bytes.truncate(256 * 1024);
        }
        bytes
    }
}

/// The fixtures of `dir` ending in one of `extensions` (expected files left out).
fn seeds(dir: &str, extensions: &[&str]) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(dir);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("dir entry").path())
        .filter(|p| {
            let name = p.to_string_lossy();
            !name.ends_with(".expected.json") && extensions.iter().any(|ext| name.ends_with(ext))
        })
        .collect();
    paths.sort();
    let seeds: Vec<Vec<u8>> = paths
        .iter()
        .map(|p| std::fs::read(p).expect("seed"))
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", dir.display());
    seeds
}

fn test_time() -> Duration {
    let seconds = std::env::var("PIPELINE_GUARD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    Duration::from_secs(seconds)
}

/// Every seed as it is, then mutated ones for [`test_time`]: `target` must not panic.
fn fuzz(seeds: Vec<Vec<u8>>, target: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    for seed in &seeds {
        target(seed);
    }
    let runs = std::sync::atomic::AtomicUsize::new(0);
    check!()
        .with_type::<Mutation>()
        .with_test_time(test_time())
        .for_each(|mutation| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            target(&mutation.apply(&seeds));
        });
    let runs = runs.into_inner();
    println!("{runs} mutated inputs");
    assert!(runs >= 100, "only {runs} mutated inputs ran");
}

#[test]
fn fuzz_generic_webhook() {
    fuzz(seeds("generic", &[".json"]), |body| {
        let _ = generic::parse(body);
    });
}

#[test]
fn fuzz_hubspot_webhooks_api_batch() {
    fuzz(seeds("hubspot", &[".json"]), |body| {
        let _ = hubspot::parse(body);
    });
}

#[test]
fn fuzz_hubspot_workflow_body() {
    fuzz(seeds("hubspot", &[".json"]), |body| {
        let _ = hubspot::workflow::parse(body, None);
        let _ = hubspot::workflow::parse(body, Some("deal"));
    });
}

#[test]
fn fuzz_pipedrive_webhook() {
    fuzz(seeds("pipedrive", &[".json"]), |body| {
        let _ = pipedrive::parse(body);
    });
}

#[test]
fn fuzz_salesforce_outbound_message() {
    let now = datetime!(2026-11-21 12:00 UTC);
    fuzz(seeds("salesforce", &[".xml"]), |body| {
        let _ = salesforce::parse(body, now);
    });
}

#[test]
fn fuzz_salesforce_flow_callout() {
    let now = datetime!(2026-11-21 12:00 UTC);
    fuzz(seeds("salesforce", &[".json"]), |body| {
        let _ = salesforce::parse_callout(body, now);
    });
}

#[test]
fn fuzz_playbook_toml() {
    let mut all = seeds("playbooks", &[".toml"]);
    all.extend(seeds("scoring", &[".toml"]));
    fuzz(all, |source| {
        let _ = Playbook::from_toml(&String::from_utf8_lossy(source));
    });
}

#[test]
fn fuzz_webvtt_transcript() {
    fuzz(seeds("calls", &[".vtt"]), |source| {
        let _ = Format::Webvtt.parse(source);
    });
}

#[test]
fn fuzz_gong_transcript() {
    fuzz(seeds("calls", &[".json"]), |source| {
        let _ = Format::Gong.parse(source);
    });
}

#[test]
fn fuzz_text_transcript() {
    fuzz(seeds("calls", &[".txt"]), |source| {
        let _ = Format::Text.parse(source);
    });
}

/// Header values as a client may send them: the seeds' bytes, split into pieces.
#[derive(Debug, TypeGenerator)]
struct Headers {
    mutation: Mutation,
    cuts: [u16; 4],
}

#[test]
fn fuzz_signature_and_credential_headers() {
    let now = datetime!(2026-11-21 12:00 UTC);
    let seeds = vec![
        b"sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".to_vec(),
        b"1763726400".to_vec(),
        b"1763726400000".to_vec(),
        b"Basic cGlwZWRyaXZlOnE4VCF4MnZMcjkjbVo0".to_vec(),
        b"Bearer admin-secret".to_vec(),
        b"v2".to_vec(),
        b"nH5ts3ZCtiJ6CQJ3wdqOBfzZ2gbu+BSHFXUUN2+VmvI=".to_vec(),
        "http://pipeline-guard.test/score-lead/generic?x=1#y"
            .as_bytes()
            .to_vec(),
    ];
    let target = |input: &Headers| {
        let bytes = input.mutation.apply(&seeds);
        let text = String::from_utf8_lossy(&bytes);
        let mut at: Vec<usize> = input
            .cuts
            .iter()
            .map(|c| usize::from(*c) % (text.len() + 1))
            .filter(|i| text.is_char_boundary(*i))
            .collect();
        at.sort_unstable();
        let mut parts = Vec::new();
        let mut from = 0;
        for i in at {
            parts.push(&text[from..i]);
            from = i;
        }
        parts.push(&text[from..]);
        let part = |i: usize| parts.get(i).copied().unwrap_or("");
        let request = SignedRequest {
            method: part(0),
            path: generic::signature::path_of(part(1)),
            body: part(2).as_bytes(),
        };
        let _ = verify_generic("s", Some(part(3)), Some(part(4)), request, now);
        let (method, url, body) = (part(0), part(1), part(2).as_bytes());
        let _ = hubspot::signature::verify_v3(
            "s",
            method,
            url,
            body,
            Some(part(3)),
            Some(part(4)),
            now,
        );
        let _ =
            hubspot::signature::verify_v1_v2("s", Some(part(3)), method, url, body, Some(part(4)));
        let _ = hubspot::signature::v3_uri(url);
        let _ = credentials::verify_basic(Some(part(0)), "u", "p");
        let _ = credentials::verify_bearer(Some(part(1)), "t");
    };
    let runs = std::sync::atomic::AtomicUsize::new(0);
    check!()
        .with_type::<Headers>()
        .with_test_time(test_time())
        .for_each(|input| {
            runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            target(input);
        });
    assert!(runs.into_inner() >= 100);
}
