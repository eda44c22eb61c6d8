//! Request counts per method and route pattern
//! (`GET /wc/v3/products/{id}`), for tests and benchmarks.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Counters, safe to share.
#[derive(Debug, Default)]
pub struct Stats {
    counts: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// Count one request.
    pub fn record(&self, method: &str, pattern: &str) {
        *self
            .counts
            .lock()
            .expect("stats lock")
            .entry(format!("{method} {pattern}"))
            .or_default() += 1;
    }

    /// All counts, keyed `"METHOD /route/pattern"`.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.counts.lock().expect("stats lock").clone()
    }

    /// Forget all counts.
    pub fn reset(&self) {
        self.counts.lock().expect("stats lock").clear();
    }
}
