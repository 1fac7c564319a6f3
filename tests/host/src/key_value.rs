//! The `spin:key-value/key-value@3.0.0` host, with the semantics of Spin's
//! key-value factor:
//! - `open(label)` fails with `access-denied` when `label` is not in the
//!   component's `key_value_stores` (whether or not such a store exists);
//!   a component listing a label that no store defines is refused at start-up
//!   (Spin: "unknown key_value_stores label"), so `no-such-store` is only
//!   returned for a store handle that is no longer valid;
//! - data is shared by every component and instance of the application.

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::{Accessor, FutureReader, HasData, Resource, ResourceTable, StreamReader};

use crate::bindings::key_value::{self, Error};
use crate::kv_store::{KvStore, KvStores};

/// What a guest's `store` resource refers to.
#[derive(Debug)]
pub struct StoreHandle {
    store: Arc<KvStore>,
}

/// The key-value state of one instance: its component's grants and the
/// application's stores.
#[derive(Debug, Clone)]
pub(crate) struct KvAccess {
    allowed: Arc<BTreeSet<String>>,
    stores: Arc<KvStores>,
}

impl KvAccess {
    pub(crate) fn new(allowed: Arc<BTreeSet<String>>, stores: Arc<KvStores>) -> Self {
        Self { allowed, stores }
    }

    fn open(&self, label: &str) -> Result<StoreHandle, Error> {
        if !self.allowed.contains(label) {
            return Err(Error::AccessDenied);
        }
        let store = self.stores.get(label).ok_or(Error::NoSuchStore)?;
        Ok(StoreHandle {
            store: store.clone(),
        })
    }
}

/// The view of the store data the key-value host works with.
pub(crate) struct KvView<'a> {
    pub(crate) access: &'a KvAccess,
    pub(crate) table: &'a mut ResourceTable,
}

/// [`HasData`] marker for the key-value host.
pub(crate) struct HasKeyValue;

impl HasData for HasKeyValue {
    type Data<'a> = KvView<'a>;
}

impl key_value::Host for KvView<'_> {}

impl key_value::HostStore for KvView<'_> {
    fn drop(&mut self, rep: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(rep)?;
        Ok(())
    }
}

/// Looks up the store behind a guest handle.
/// Looks up the store behind a guest handle, for one counted operation.
fn store_of<T>(
    accessor: &Accessor<T, HasKeyValue>,
    handle: &Resource<StoreHandle>,
) -> Result<Arc<KvStore>, Error> {
    let store = accessor.with(|mut access| {
        access
            .get()
            .table
            .get(handle)
            .map(|h| h.store.clone())
            .map_err(|_| Error::NoSuchStore)
    })?;
    store.count_operation();
    Ok(store)
}

fn other(err: anyhow::Error) -> Error {
    Error::Other(format!("{err:#}"))
}

impl<T> key_value::HostStoreWithStore<T> for HasKeyValue {
    async fn open(
        accessor: &Accessor<T, Self>,
        label: String,
    ) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        accessor.with(|mut access| {
            let view = access.get();
            match view.access.open(&label) {
                Ok(handle) => Ok(Ok(view.table.push(handle)?)),
                Err(err) => Ok(Err(err)),
            }
        })
    }

    async fn get(
        accessor: &Accessor<T, Self>,
        handle: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(store_of(accessor, &handle).map(|s| s.get(&key)))
    }

    async fn set(
        accessor: &Accessor<T, Self>,
        handle: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(store_of(accessor, &handle).and_then(|s| s.set(&key, value).map_err(other)))
    }

    async fn delete(
        accessor: &Accessor<T, Self>,
        handle: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(store_of(accessor, &handle).and_then(|s| s.delete(&key).map_err(other)))
    }

    async fn exists(
        accessor: &Accessor<T, Self>,
        handle: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(store_of(accessor, &handle).map(|s| s.exists(&key)))
    }

    async fn get_keys(
        accessor: &Accessor<T, Self>,
        handle: Resource<StoreHandle>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), Error>>)> {
        let (keys, result) = match store_of(accessor, &handle) {
            Ok(store) => (store.keys(), Ok(())),
            Err(err) => (Vec::new(), Err(err)),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let result = FutureReader::new(
                &mut access,
                std::future::ready(Ok::<_, wasmtime::Error>(result)),
            )?;
            Ok((keys, result))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv_store::KvBackend;

    #[test]
    fn open_checks_grants_before_existence() {
        let stores = Arc::new(KvStores::open(["default"], &KvBackend::InMemory).expect("opens"));
        let access = KvAccess::new(Arc::new(BTreeSet::from(["default".to_string()])), stores);
        assert!(access.open("default").is_ok());
        assert!(matches!(access.open("other"), Err(Error::AccessDenied)));
        let no_grant = KvAccess::new(Arc::default(), access.stores.clone());
        assert!(matches!(no_grant.open("default"), Err(Error::AccessDenied)));
    }
}
