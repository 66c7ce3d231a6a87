//! Circuit breaker state shared with the UI. The breaker logic lives here too (see the API
//! client issue); these types are what the TUI and the engine observe via a `watch` channel.

use std::time::Duration;

/// closed → open after N consecutive failures → half-open after a cool-down (one probe) →
/// closed after M probe successes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreakerState {
    #[default]
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// Text for status lines (never colour alone).
    pub fn label(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "half-open",
        }
    }
}

/// What the UI shows about the breaker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BreakerSnapshot {
    pub state: BreakerState,
    /// Consecutive failures counted so far.
    pub failures: u32,
    /// While open: how long until a probe is allowed (as of `taken`).
    pub retry_in: Option<Duration>,
    /// Times the breaker opened since the process started.
    pub trips: u32,
}
