//! The core's [`Store`] over Spin's key-value store.

use pipeline_guard_core::{Error, ports::Store};

/// The store labelled `default` in spin.toml's `key_value_stores`.
pub struct KvStore(spin_sdk::key_value::Store);

impl KvStore {
    /// Open the `default` store.
    pub async fn open_default() -> Result<KvStore, Error> {
        spin_sdk::key_value::Store::open_default()
            .await
            .map(KvStore)
            .map_err(|e| {
                Error::Store(format!(
                    "cannot open the `default` store ({e:?}); add key_value_stores = [\"default\"] to the component"
                ))
            })
    }
}

impl Store for KvStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.0
            .get(key)
            .await
            .map_err(|e| Error::Store(format!("get {key:?}: {e:?}")))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.0
            .set(key, value)
            .await
            .map_err(|e| Error::Store(format!("set {key:?}: {e:?}")))
    }
}
