//! Component instances and their reuse, the way Spin 4.1 runs WASI 0.3 HTTP
//! components: an instance takes up to `max_requests` requests in total and
//! `max_concurrent` at once, then retires; an idle instance is dropped after
//! `idle_timeout`. New instances are created as needed (Wasmtime's
//! `ProxyHandler` does the scheduling, as in Spin and `wasmtime serve`).

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::ensure;
use wasmtime::component::{GuestTaskId, ResourceTable};
use wasmtime::{ResourceLimiter, Store, StoreContextMut};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::WasiHttpCtx;
use wasmtime_wasi_http::handler::{
    HandlerState, Instance, Proxy, ShouldAccept, ViewFn, WorkerExpiration, WorkerState,
    WorkerStatus,
};
use wasmtime_wasi_http::p3::bindings::ServicePre;
use wasmtime_wasi_http::p3::{WasiHttpCtxView, WasiHttpView};

use crate::key_value::KvAccess;
use crate::outbound::OutboundPolicy;
use crate::sqlite::{SqliteAccess, SqliteInstance};
use crate::variables::ComponentVariables;

/// How instances are reused across requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceReuse {
    /// Requests one instance serves in total before it is retired (≥ 1).
    pub max_requests: usize,
    /// Requests one instance serves at the same time (≥ 1).
    pub max_concurrent: usize,
    /// How long an idle instance is kept for reuse.
    pub idle_timeout: Duration,
}

impl Default for InstanceReuse {
    /// Spin 4.1's defaults for WASI 0.3 components: 128 requests, 16 at
    /// once, 1 s idle.
    fn default() -> Self {
        Self {
            max_requests: 128,
            max_concurrent: 16,
            idle_timeout: Duration::from_secs(1),
        }
    }
}

impl InstanceReuse {
    /// A fresh instance for every request (Spin's
    /// `--max-instance-reuse-count 1`).
    pub fn fresh_per_request() -> Self {
        Self {
            max_requests: 1,
            max_concurrent: 1,
            ..Self::default()
        }
    }

    pub(crate) fn validate(&self) -> anyhow::Result<()> {
        ensure!(
            self.max_requests >= 1 && self.max_concurrent >= 1,
            "instance reuse counts must be at least 1: {self:?}"
        );
        Ok(())
    }
}

/// Counts of a component's instances and the requests they took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InstanceStats {
    /// Instances created so far. Like Spin (Wasmtime's `ProxyHandler`), the
    /// host starts a new instance whenever a request arrives and no instance
    /// is ready for it, so a burst on a cold or busy component creates
    /// several, some of which may end up taking few or no requests.
    pub instances: usize,
    /// Requests handed to instances so far.
    pub requests: usize,
    /// The most requests one instance has taken (1 means no reuse).
    pub max_requests_per_instance: usize,
}

/// Live counters behind [`InstanceStats`].
#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    instances: AtomicUsize,
    requests: AtomicUsize,
    max_per_instance: AtomicUsize,
    /// The [`MemoryPeak::peak`] of each instance dropped so far, in the order they were dropped.
    memory_peaks: Mutex<Vec<usize>>,
}

impl StatsCounters {
    pub(crate) fn snapshot(&self) -> InstanceStats {
        InstanceStats {
            instances: self.instances.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            max_requests_per_instance: self.max_per_instance.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn memory_peaks(&self) -> Vec<usize> {
        self.memory_peaks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Measures an instance's linear memory: a [`ResourceLimiter`] that allows every growth (as a
/// store without a limiter does: same default counts of instances, tables and memories) and
/// records the total size of the store's linear memories, and the largest it reached. Memories
/// never shrink, so the peak is the size when the instance is dropped; with
/// [`InstanceReuse::fresh_per_request`] it is one request's peak. Benchmarks read it with
/// [`crate::Host::memory_peaks`].
#[derive(Debug, Default)]
pub(crate) struct MemoryPeak {
    /// Bytes of linear memory the store holds now (every memory of every core instance).
    total: usize,
    /// The most `total` has been.
    peak: usize,
    /// The growth last allowed, taken back if it then fails.
    pending: usize,
}

impl ResourceLimiter for MemoryPeak {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.pending = desired.saturating_sub(current);
        self.total += self.pending;
        self.peak = self.peak.max(self.total);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.total -= std::mem::take(&mut self.pending);
        Ok(())
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// The data of one instance's store.
pub(crate) struct InstanceState {
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundPolicy,
    pub(crate) variables: ComponentVariables,
    pub(crate) kv: KvAccess,
    pub(crate) sqlite: SqliteInstance,
    /// The store's linear memory, measured ([`MemoryPeak`]).
    memory: MemoryPeak,
}

impl WasiView for InstanceState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for InstanceState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            hooks: &mut self.outbound,
            table: &mut self.table,
            ctx: &mut self.http,
        }
    }
}

fn http_view(state: &mut InstanceState) -> WasiHttpCtxView<'_> {
    state.http()
}

/// Everything needed to create instances of one component.
pub(crate) struct ComponentRuntime {
    pub(crate) id: String,
    pub(crate) pre: ServicePre<InstanceState>,
    pub(crate) environment: Vec<(String, String)>,
    pub(crate) outbound: OutboundPolicy,
    pub(crate) variables: ComponentVariables,
    pub(crate) kv: KvAccess,
    pub(crate) sqlite: SqliteAccess,
    pub(crate) reuse: InstanceReuse,
    pub(crate) stats: StatsCounters,
}

impl ComponentRuntime {
    fn new_state(&self) -> InstanceState {
        let mut wasi = WasiCtx::builder();
        wasi.inherit_stdio().envs(&self.environment);
        InstanceState {
            table: ResourceTable::new(),
            wasi: wasi.build(),
            http: WasiHttpCtx::new(),
            outbound: self.outbound.clone(),
            variables: self.variables.clone(),
            kv: self.kv.clone(),
            sqlite: SqliteInstance::new(self.sqlite.clone()),
            memory: MemoryPeak::default(),
        }
    }
}

/// The [`HandlerState`] of one component (shared by its `ProxyHandler`).
pub(crate) struct ComponentHandler(pub(crate) Arc<ComponentRuntime>);

impl HandlerState for ComponentHandler {
    type StoreData = InstanceState;
    type WorkerExpiration = IdleExpiration;
    type WorkerState = ReuseLimits;

    async fn instantiate(
        &self,
    ) -> wasmtime::Result<Instance<InstanceState, IdleExpiration, ReuseLimits>> {
        let runtime = &self.0;
        let mut store = Store::new(runtime.pre.engine(), runtime.new_state());
        store.limiter(|state| &mut state.memory);
        let service = runtime.pre.instantiate_async(&mut store).await?;
        runtime.stats.instances.fetch_add(1, Ordering::Relaxed);
        Ok(Instance {
            store,
            proxy: Proxy::P3(service),
            view: ViewFn::P3(http_view),
            expiration: IdleExpiration {
                idle_timeout: runtime.reuse.idle_timeout,
                sleep: Box::pin(tokio::time::sleep(Duration::MAX)),
            },
            state: ReuseLimits {
                runtime: runtime.clone(),
                served: AtomicUsize::new(0),
            },
        })
    }
}

/// Retires an instance once it has been idle for `idle_timeout`.
pub(crate) struct IdleExpiration {
    idle_timeout: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl WorkerExpiration for IdleExpiration {
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        state: WorkerStatus,
        start: Instant,
    ) -> Poll<()> {
        if state != WorkerStatus::Idle {
            return Poll::Pending;
        }
        let Some(deadline) = start.checked_add(self.idle_timeout) else {
            return Poll::Pending;
        };
        let deadline = tokio::time::Instant::from_std(deadline);
        if self.sleep.deadline() != deadline {
            self.sleep.as_mut().reset(deadline);
        }
        self.sleep.as_mut().poll(cx)
    }
}

/// Spin's rule: retire after `max_requests`, pause at `max_concurrent`.
fn should_accept(reuse: &InstanceReuse, concurrent: usize, total: usize) -> ShouldAccept {
    if total >= reuse.max_requests {
        ShouldAccept::Never
    } else if concurrent >= reuse.max_concurrent {
        ShouldAccept::No
    } else {
        ShouldAccept::Yes
    }
}

/// Applies [`InstanceReuse`] counts to one instance and keeps the stats.
pub(crate) struct ReuseLimits {
    runtime: Arc<ComponentRuntime>,
    /// Requests this instance has taken.
    served: AtomicUsize,
}

impl WorkerState for ReuseLimits {
    type StoreData = InstanceState;
    type RequestId = ();

    fn should_accept_request(&self, concurrent: usize, total: usize) -> ShouldAccept {
        should_accept(&self.runtime.reuse, concurrent, total)
    }

    fn on_request_start(
        &self,
        _: StoreContextMut<'_, InstanceState>,
        _: (),
        _: GuestTaskId,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + Sync + 'static>> {
        let served = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        let stats = &self.runtime.stats;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        stats.max_per_instance.fetch_max(served, Ordering::Relaxed);
        // No request timeout, as in Spin's default configuration.
        Box::pin(std::future::pending())
    }

    fn drop(&self, store: Store<InstanceState>, result: wasmtime::Result<()>) {
        // "worker panicked" is also what Wasmtime reports when the runtime
        // shuts down with the instance idle (e.g. at the end of a test).
        if let Err(err) = result
            && err.to_string() != "worker panicked"
        {
            eprintln!(
                "[test-host] an instance of component {:?} failed: {err:?}",
                self.runtime.id
            );
        }
        self.runtime
            .stats
            .memory_peaks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(store.data().memory.peak);
        drop(store);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_limits_follow_spin() {
        let reuse = InstanceReuse {
            max_requests: 3,
            max_concurrent: 2,
            idle_timeout: Duration::from_secs(1),
        };
        assert!(matches!(should_accept(&reuse, 0, 0), ShouldAccept::Yes));
        assert!(matches!(should_accept(&reuse, 2, 2), ShouldAccept::No));
        assert!(matches!(should_accept(&reuse, 0, 3), ShouldAccept::Never));
        assert_eq!(InstanceReuse::default().max_requests, 128);
        assert_eq!(InstanceReuse::default().max_concurrent, 16);
        assert!(InstanceReuse::fresh_per_request().validate().is_ok());
        let zero = InstanceReuse {
            max_requests: 0,
            ..InstanceReuse::default()
        };
        assert!(zero.validate().is_err());
    }
}
