//! Every relative link in README.md and docs/ resolves: the file (or folder) exists and, for a
//! `#anchor` into a markdown file, a heading of that file has that slug, as GitHub makes it.
//! Markdown is read with pulldown-cmark; links to other sites are not followed.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// README.md and every markdown file under docs/, relative to `root`.
fn doc_files(root: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = fs::read_dir(root.join(dir)) else {
            return;
        };
        for entry in entries.flatten() {
            let rel = dir.join(entry.file_name());
            if entry.path().is_dir() {
                walk(root, &rel, out);
            } else if rel.extension().is_some_and(|e| e == "md") {
                out.push(rel);
            }
        }
    }
    let mut files = vec![PathBuf::from("README.md")];
    walk(root, Path::new("docs"), &mut files);
    files.sort();
    files
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// GitHub's heading anchor: lower case, letters, digits, `-` and `_` kept, each space a `-`,
/// everything else dropped; a repeated heading gets `-1`, `-2`, ….
fn slug(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors a markdown text's headings make.
fn anchors(markdown: &str) -> HashSet<String> {
    let mut anchors = HashSet::new();
    let mut heading: Option<String> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(text) | Event::Code(text) => {
                if let Some(heading) = heading.as_mut() {
                    heading.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap_or_default());
                let mut anchor = base.clone();
                let mut n = 0;
                while anchors.contains(&anchor) {
                    n += 1;
                    anchor = format!("{base}-{n}");
                }
                anchors.insert(anchor);
            }
            _ => {}
        }
    }
    anchors
}

/// The link and image destinations of a markdown text, in order.
fn links(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, options())
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.into_string())
            }
            _ => None,
        })
        .collect()
}

fn is_external(dest: &str) -> bool {
    let scheme = dest.split_once(':').map(|(s, _)| s);
    scheme.is_some_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// `%20` and the like, as a browser reads them in a path.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every broken relative link of `files` (relative to `root`), one line each: the file, the
/// link, and what is missing.
fn broken_links(root: &Path, files: &[PathBuf]) -> Vec<String> {
    let mut broken = Vec::new();
    for file in files {
        let text = match fs::read_to_string(root.join(file)) {
            Ok(text) => text,
            Err(e) => {
                broken.push(format!("{}: cannot be read: {e}", file.display()));
                continue;
            }
        };
        for dest in links(&text) {
            if is_external(&dest) {
                continue;
            }
            let (path, fragment) = match dest.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (dest.as_str(), None),
            };
            let path = path.split_once('?').map_or(path, |(p, _)| p);
            let target = if path.is_empty() {
                file.clone()
            } else if let Some(from_root) = path.strip_prefix('/') {
                PathBuf::from(percent_decode(from_root))
            } else {
                file.parent()
                    .unwrap_or(Path::new(""))
                    .join(percent_decode(path))
            };
            let on_disk = root.join(&target);
            if !on_disk.exists() {
                broken.push(format!(
                    "{}: link `{dest}`: {} does not exist",
                    file.display(),
                    target.display()
                ));
                continue;
            }
            let Some(fragment) = fragment.filter(|f| !f.is_empty()) else {
                continue;
            };
            if on_disk.extension().is_none_or(|e| e != "md") {
                continue;
            }
            let target_text = fs::read_to_string(&on_disk).unwrap_or_default();
            let fragment = percent_decode(fragment);
            if !anchors(&target_text).contains(&fragment) {
                broken.push(format!(
                    "{}: link `{dest}`: {} has no heading with anchor `#{fragment}`",
                    file.display(),
                    target.display()
                ));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_readme_and_docs_resolves() {
    let root = repo_root();
    let files = doc_files(&root);
    assert!(files.len() > 1, "no markdown found under docs/: {files:?}");
    let broken = broken_links(&root, &files);
    assert!(
        broken.is_empty(),
        "{} broken link(s) in README.md and docs/:\n{}",
        broken.len(),
        broken.join("\n")
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(slug("Run it"), "run-it");
    assert_eq!(
        slug("For BDRs: why was my handoff blocked, and what do I do?"),
        "for-bdrs-why-was-my-handoff-blocked-and-what-do-i-do"
    );
    assert_eq!(slug("The `[staleness]` keys"), "the-staleness-keys");
    assert_eq!(
        slug("Portfolio hygiene — and pauses"),
        "portfolio-hygiene--and-pauses"
    );
    assert_eq!(slug("snake_case and 2 cores"), "snake_case-and-2-cores");
    let found = anchors("# Setup\n\n## Setup\n\n### `spin up`, on a VM\n");
    let expected: HashSet<String> = ["setup", "setup-1", "spin-up-on-a-vm"]
        .map(String::from)
        .into();
    assert_eq!(found, expected);
}

#[test]
fn a_broken_link_is_named_with_its_file_and_what_is_missing() {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("docs_links_fixture");
    let _ = fs::remove_dir_all(&root);
    fs::create_dir_all(root.join("docs")).unwrap();
    fs::write(
        root.join("README.md"),
        "# Title\n\n[ok](docs/a.md#the-part) [self](#title) [web](https://example.com/x#y)\n\
         [gone](docs/missing.md) [bad anchor](docs/a.md#nowhere) [here](#nothing)\n",
    )
    .unwrap();
    fs::write(
        root.join("docs/a.md"),
        "# A\n\n## The part\n\n[up](../README.md#title)\n",
    )
    .unwrap();
    let broken = broken_links(&root, &doc_files(&root));
    assert_eq!(
        broken,
        [
            "README.md: link `docs/missing.md`: docs/missing.md does not exist",
            "README.md: link `docs/a.md#nowhere`: docs/a.md has no heading with anchor `#nowhere`",
            "README.md: link `#nothing`: README.md has no heading with anchor `#nothing`",
        ]
    );
}
