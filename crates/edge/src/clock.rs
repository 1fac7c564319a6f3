//! The core's [`Clock`] on Spin: the monotonic clock for elapsed time, `wasi:clocks` 0.3 for
//! waiting.

use std::time::{Duration, Instant};

use pipeline_guard_core::ports::Clock;

/// A delivery's clock, started when the request arrived.
pub struct SpinClock(Instant);

impl SpinClock {
    /// A clock started now.
    pub fn start() -> SpinClock {
        SpinClock(Instant::now())
    }
}

impl Clock for SpinClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }

    async fn sleep(&self, duration: Duration) {
        spin_sdk::time::sleep(duration).await;
    }
}
