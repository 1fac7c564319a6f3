//! In-memory stand-ins for the outside world: a [`Store`] and a recording [`CrmClient`].
//!
//! Used by the fixture tests, and by anything that runs the pipeline off the edge (a dry run of
//! a playbook against exported records).

use std::{cell::RefCell, collections::BTreeMap};

use crate::{
    Error,
    pipeline::{CrmClient, Store},
    writeback::CrmCall,
};

/// A key-value store in memory.
#[derive(Debug, Default)]
pub struct MemoryStore(RefCell<BTreeMap<String, Vec<u8>>>);

impl MemoryStore {
    /// Every key and value.
    pub fn entries(&self) -> BTreeMap<String, Vec<u8>> {
        self.0.borrow().clone()
    }
}

impl Store for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        Ok(self.0.borrow().get(key).cloned())
    }

    async fn set(&self, key: &str, value: &[u8]) -> Result<(), Error> {
        self.0.borrow_mut().insert(key.to_owned(), value.to_vec());
        Ok(())
    }
}

/// A CRM that records every call and accepts it, answering with a canned JSON body for its
/// path (`{}` by default), or refuses all while [`RecordingCrm::fail`] is set.
#[derive(Debug, Default)]
pub struct RecordingCrm {
    calls: RefCell<Vec<CrmCall>>,
    failing: RefCell<Option<String>>,
    answers: RefCell<Vec<(String, String, serde_json::Value)>>,
}

impl RecordingCrm {
    /// The calls accepted so far, in order.
    pub fn calls(&self) -> Vec<CrmCall> {
        self.calls.borrow().clone()
    }

    /// Answer calls with `method` whose path starts with `path_prefix` with `body`; the most
    /// recently added answer that matches wins.
    pub fn answer(&self, method: &str, path_prefix: &str, body: serde_json::Value) {
        self.answers
            .borrow_mut()
            .push((method.to_owned(), path_prefix.to_owned(), body));
    }

    /// Refuse every call with `reason` (`None` to accept again).
    pub fn fail(&self, reason: Option<&str>) {
        *self.failing.borrow_mut() = reason.map(str::to_owned);
    }
}

impl CrmClient for RecordingCrm {
    async fn send(&self, call: &CrmCall) -> Result<serde_json::Value, Error> {
        if let Some(reason) = self.failing.borrow().clone() {
            return Err(Error::CrmUnavailable {
                call: call.to_string(),
                reason,
            });
        }
        self.calls.borrow_mut().push(call.clone());
        let answers = self.answers.borrow();
        let answer = answers.iter().rev().find(|(method, prefix, _)| {
            *method == call.method && call.path.starts_with(prefix.as_str())
        });
        Ok(answer.map_or_else(|| serde_json::json!({}), |(_, _, body)| body.clone()))
    }
}
