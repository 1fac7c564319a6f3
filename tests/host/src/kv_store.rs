//! Key-value data: the stores that all components and instances of an
//! application share, in memory or in files that outlive the [`crate::Host`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context as _, ensure};

/// Where key-value data lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KvBackend {
    /// In memory, for the lifetime of the [`crate::Host`] (the default).
    #[default]
    InMemory,
    /// One file per store label (`<dir>/<label>.kv.json`), rewritten on every
    /// change, so that a new `Host` over the same directory sees the data, as
    /// Spin's default SQLite store does across `spin up` runs. Use one `Host`
    /// per directory at a time.
    Dir(PathBuf),
}

/// One store: a map from key to bytes.
#[derive(Debug)]
pub(crate) struct KvStore {
    data: Mutex<BTreeMap<String, Vec<u8>>>,
    file: Option<PathBuf>,
    /// Operations guests have made on it, for benchmarks.
    operations: std::sync::atomic::AtomicUsize,
}

impl KvStore {
    /// Opens the store `label` in `backend`, reading its file if it exists.
    pub(crate) fn open(label: &str, backend: &KvBackend) -> anyhow::Result<Self> {
        let file = match backend {
            KvBackend::InMemory => None,
            KvBackend::Dir(dir) => {
                ensure!(
                    !label.is_empty()
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "key-value store label {label:?} cannot be used as a file name"
                );
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create key-value dir {}", dir.display()))?;
                Some(dir.join(format!("{label}.kv.json")))
            }
        };
        let data = match &file {
            Some(path) if path.exists() => read_file(path)?,
            _ => BTreeMap::new(),
        };
        Ok(Self {
            data: Mutex::new(data),
            file,
            operations: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// Count one guest operation.
    pub(crate) fn count_operation(&self) {
        self.operations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many operations guests have made.
    pub(crate) fn operations(&self) -> usize {
        self.operations.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.data
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value of `key`, if any.
    pub(crate) fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.lock().get(key).cloned()
    }

    /// Whether `key` has a value.
    pub(crate) fn exists(&self, key: &str) -> bool {
        self.lock().contains_key(key)
    }

    /// Sets `key` to `value`, then persists.
    pub(crate) fn set(&self, key: &str, value: Vec<u8>) -> anyhow::Result<()> {
        let mut data = self.lock();
        data.insert(key.to_string(), value);
        self.persist(&data)
    }

    /// Removes `key` (no error if it had no value), then persists.
    pub(crate) fn delete(&self, key: &str) -> anyhow::Result<()> {
        let mut data = self.lock();
        if data.remove(key).is_some() {
            self.persist(&data)?;
        }
        Ok(())
    }

    /// All keys, sorted.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// A copy of all entries.
    pub(crate) fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        self.lock().clone()
    }

    fn persist(&self, data: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<()> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let text = serde_json::to_vec(data)?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))
    }
}

fn read_file(path: &Path) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let text = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a key-value file", path.display()))
}

/// The stores defined for an application, by label.
#[derive(Debug, Default)]
pub(crate) struct KvStores {
    stores: BTreeMap<String, Arc<KvStore>>,
}

impl KvStores {
    /// Opens every label in `labels` in `backend`.
    pub(crate) fn open<'a>(
        labels: impl IntoIterator<Item = &'a str>,
        backend: &KvBackend,
    ) -> anyhow::Result<Self> {
        let mut stores = BTreeMap::new();
        for label in labels {
            stores.insert(label.to_string(), Arc::new(KvStore::open(label, backend)?));
        }
        Ok(Self { stores })
    }

    /// The store with `label`, if defined.
    pub(crate) fn get(&self, label: &str) -> Option<&Arc<KvStore>> {
        self.stores.get(label)
    }

    /// Whether `label` is defined.
    pub(crate) fn is_defined(&self, label: &str) -> bool {
        self.stores.contains_key(label)
    }

    /// How many operations guests have made, over every store.
    pub(crate) fn operations(&self) -> usize {
        self.stores.values().map(|store| store.operations()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_basics() {
        let s = KvStore::open("default", &KvBackend::InMemory).expect("opens");
        assert_eq!(s.get("a"), None);
        s.set("b", b"2".to_vec()).expect("set");
        s.set("a", b"1".to_vec()).expect("set");
        assert!(s.exists("a"));
        assert_eq!(s.keys(), ["a", "b"]);
        s.delete("a").expect("delete");
        s.delete("missing")
            .expect("delete of a missing key is fine");
        assert_eq!(
            s.snapshot(),
            BTreeMap::from([("b".to_string(), b"2".to_vec())])
        );
    }

    #[test]
    fn file_store_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = KvBackend::Dir(dir.path().join("kv"));
        {
            let s = KvStore::open("default", &backend).expect("opens");
            s.set("lead:1", vec![0, 159, 255]).expect("set");
            s.set("gone", b"x".to_vec()).expect("set");
            s.delete("gone").expect("delete");
        }
        let reopened = KvStore::open("default", &backend).expect("reopens");
        assert_eq!(
            reopened.snapshot(),
            BTreeMap::from([("lead:1".to_string(), vec![0, 159, 255])])
        );
        let other = KvStore::open("other", &backend).expect("opens");
        assert!(other.keys().is_empty());
        assert!(KvStore::open("../evil", &backend).is_err());
    }
}
