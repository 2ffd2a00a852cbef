//! The request counters `/metrics` reports. They live apart from the endpoints that read them, so the
//! shared state can hold them without importing the operations module, which itself needs the state.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route, status) → count.
    pub(crate) requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    pub(crate) duration_us_total: AtomicU64,
    pub(crate) requests_total: AtomicU64,
}
