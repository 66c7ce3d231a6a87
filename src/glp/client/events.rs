//! What a client tells its users while requests run: events as they happen, and counters
//! the engine diffs per run.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::glp::breaker::BreakerSnapshot;
use crate::glp::patience::WaitReason;

/// Something the UI or engine may want to show while requests run.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A transient failure; the request is sent again after `delay`.
    Retry {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// A 429 (or an exhausted window): the endpoint waits `wait` before its next request.
    RateLimited {
        endpoint: String,
        wait: Duration,
    },
    BreakerChanged(BreakerSnapshot),
    /// Calls wait for GreenLake to come back (a patience is set); the next try is in
    /// `retry_in`.
    Waiting {
        reason: WaitReason,
        retry_in: Duration,
    },
    /// A call got through after calls had waited `waited`.
    Resumed {
        waited: Duration,
    },
}

/// Monotonic counters since the client was built (the engine diffs them per run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// HTTP requests sent to the API (token requests not included).
    pub requests: u64,
    /// Re-sends after a transient failure (not after 429s).
    pub retries: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Times the breaker opened.
    pub breaker_trips: u64,
    /// Token requests sent.
    pub token_fetches: u64,
}

#[derive(Debug, Default)]
pub(super) struct AtomicCounters {
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
}
