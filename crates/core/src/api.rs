//! The CRM's API as a delivery uses it: every call within the delivery's deadline and its own
//! timeout, a 429 waited out when its `Retry-After` fits the deadline, and calls that cannot be
//! batched run side by side up to a limit.

use std::time::Duration;

use futures::{StreamExt, stream};

use crate::{
    Error,
    ports::{Clock, CrmClient},
    writeback::CrmCall,
};

/// How far a delivery may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The whole delivery's budget, with margin under the CRM's own timeout.
    pub deadline: Duration,
    /// The longest one call may take.
    pub call_timeout: Duration,
    /// How many calls run at once.
    pub concurrency: usize,
}

impl Limits {
    /// The limits for a CRM that waits `crm_timeout` for an answer: the deadline leaves a fifth
    /// (at most 5 s) for answering and for the CRM's own overhead.
    pub fn within(crm_timeout: Duration) -> Limits {
        let margin = (crm_timeout / 5).min(Duration::from_secs(5));
        let deadline = crm_timeout - margin;
        Limits {
            deadline,
            call_timeout: deadline.min(Duration::from_secs(10)),
            concurrency: 8,
        }
    }
}

/// Calls below this much time left are not started: they could not finish.
const LEAST_CALL: Duration = Duration::from_millis(50);
/// How many times one call waits out a 429.
const RATE_LIMIT_TRIES: u32 = 3;

/// A CRM client bound to one delivery's limits.
pub struct Api<'a, C, K> {
    client: &'a C,
    clock: &'a K,
    limits: Limits,
}

impl<'a, C: CrmClient, K: Clock> Api<'a, C, K> {
    /// `client` within `limits`, timed by `clock` (started when the delivery arrived).
    pub fn new(client: &'a C, clock: &'a K, limits: Limits) -> Api<'a, C, K> {
        Api {
            client,
            clock,
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.limits.deadline.saturating_sub(self.clock.elapsed())
    }

    /// The error for work the deadline cut off.
    pub fn deadline_exceeded(&self) -> Error {
        Error::DeadlineExceeded {
            deadline_ms: u64::try_from(self.limits.deadline.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Send one call. A 429 is waited out when its `Retry-After` ends before the deadline (a few
    /// times at most); otherwise it, like any error, is returned.
    pub async fn send(&self, call: &CrmCall) -> Result<serde_json::Value, Error> {
        let mut tries = 0;
        loop {
            let remaining = self.remaining();
            if remaining < LEAST_CALL {
                return Err(self.deadline_exceeded());
            }
            let timeout = remaining.min(self.limits.call_timeout);
            match self.client.send(call, timeout).await {
                Err(Error::CrmRateLimited { retry_after_ms, .. })
                    if tries < RATE_LIMIT_TRIES
                        && Duration::from_millis(retry_after_ms) + LEAST_CALL
                            < self.remaining() =>
                {
                    tries += 1;
                    // Never loop tightly: at least a little wait, even for `Retry-After: 0`.
                    let wait = Duration::from_millis(retry_after_ms.max(100));
                    self.clock.sleep(wait).await;
                }
                answer => return answer,
            }
        }
    }

    /// Send independent calls side by side, at most [`Limits::concurrency`] at once; the answers
    /// in the calls' order.
    pub async fn send_all(&self, calls: &[CrmCall]) -> Vec<Result<serde_json::Value, Error>> {
        self.map(calls.iter(), |call| self.send(call)).await
    }

    /// Run `work` for every item side by side, at most [`Limits::concurrency`] at once; the
    /// results in the items' order.
    pub async fn map<I, T, F, Fut>(&self, items: I, work: F) -> Vec<T>
    where
        I: IntoIterator,
        F: Fn(I::Item) -> Fut,
        Fut: Future<Output = T>,
    {
        stream::iter(items)
            .map(work)
            .buffered(self.limits.concurrency.max(1))
            .collect()
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use futures::executor::block_on;

    use super::*;
    use crate::memory::StoppedClock;

    /// Answers 429 with `retry_after_ms` `times` times, then `{}`.
    struct Limited {
        retry_after_ms: u64,
        times: RefCell<u32>,
        calls: RefCell<u32>,
    }

    impl CrmClient for Limited {
        async fn send(&self, call: &CrmCall, _: Duration) -> Result<serde_json::Value, Error> {
            *self.calls.borrow_mut() += 1;
            let mut times = self.times.borrow_mut();
            if *times > 0 {
                *times -= 1;
                return Err(Error::CrmRateLimited {
                    call: call.to_string(),
                    retry_after_ms: self.retry_after_ms,
                });
            }
            Ok(serde_json::json!({}))
        }
    }

    fn limited(retry_after_ms: u64, times: u32) -> Limited {
        Limited {
            retry_after_ms,
            times: RefCell::new(times),
            calls: RefCell::new(0),
        }
    }

    #[test]
    fn a_rate_limit_that_fits_the_deadline_is_waited_out() {
        let (crm, clock) = (limited(1000, 1), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        assert!(block_on(api.send(&CrmCall::get("/x"))).is_ok());
        assert_eq!(*crm.calls.borrow(), 2);
        assert_eq!(clock.elapsed(), Duration::from_secs(1));
    }

    #[test]
    fn a_rate_limit_past_the_deadline_is_left_to_the_retry_without_waiting() {
        let (crm, clock) = (limited(10_000, 1), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        let err = block_on(api.send(&CrmCall::get("/x"))).unwrap_err();
        assert!(matches!(err, Error::CrmRateLimited { .. }) && err.is_transient());
        assert_eq!(*crm.calls.borrow(), 1);
        assert_eq!(clock.elapsed(), Duration::ZERO);
    }

    #[test]
    fn retry_after_zero_still_waits_and_gives_up_after_a_few_tries() {
        let (crm, clock) = (limited(0, 100), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        assert!(block_on(api.send(&CrmCall::get("/x"))).is_err());
        assert_eq!(*crm.calls.borrow(), RATE_LIMIT_TRIES + 1);
        assert!(clock.elapsed() >= Duration::from_millis(300));
    }

    #[test]
    fn no_call_starts_after_the_deadline() {
        let (crm, clock) = (limited(0, 0), StoppedClock::default());
        let api = Api::new(&crm, &clock, Limits::within(Duration::from_secs(5)));
        block_on(clock.sleep(Duration::from_secs(4)));
        let err = block_on(api.send(&CrmCall::get("/x"))).unwrap_err();
        assert!(matches!(err, Error::DeadlineExceeded { deadline_ms: 4000 }));
        assert_eq!(*crm.calls.borrow(), 0);
    }
}
