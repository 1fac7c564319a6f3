//! The core's [`Store`] over Spin's key-value store.

use std::cell::OnceCell;

use pipeline_guard_core::{Error, ports::Store};

/// The store labelled `default` in spin.toml's `key_value_stores`, opened on first use: most
/// deliveries (a redelivery, a gate decision) never touch it.
#[derive(Default)]
pub struct KvStore(OnceCell<spin_sdk::key_value::Store>);

impl KvStore {
    /// The `default` store, to be opened when first used.
    pub fn default_store() -> KvStore {
        KvStore::default()
    }

    async fn store(&self) -> Result<&spin_sdk::key_value::Store, Error> {
        if self.0.get().is_none() {
            let store = spin_sdk::key_value::Store::open_default()
                .await
                .map_err(|e| {
                    Error::Store(format!(
                        "cannot open the `default` store ({e:?}); add key_value_stores = [\"default\"] to the component"
                    ))
                })?;
            // Single-threaded: nobody set it since the check above.
            let _ = self.0.set(store);
        }
        self.0
            .get()
            .ok_or_else(|| Error::Store("the `default` store could not be kept".into()))
    }
}

impl Store for KvStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        self.store()
            .await?
            .get(key)
            .await
            .map_err(|e| Error::Store(format!("get {key:?}: {e:?}")))
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.store()
            .await?
            .set(key, value)
            .await
            .map_err(|e| Error::Store(format!("set {key:?}: {e:?}")))
    }
}
