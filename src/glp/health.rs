//! How GreenLake answered the last requests: a small window of outcomes the client keeps
//! and publishes, and what they say (ok, degraded, down, unknown).
//!
//! The breaker alone is a poor light: it counts whole calls, each with all its retries, so a
//! console stayed "API ok" through most of a minute of 503s before the breaker opened. The
//! window counts every request as it is answered, so the light turns as soon as requests do.
//! The times are wall-clock (`chrono`) so a front end can judge them against its own clock:
//! "down" needs the failing to have lasted, and old trouble is forgotten.
//!
//! The light says what requests said *recently*. "Down" needs failures that have lasted
//! [`DOWN_AFTER`] and are not merely awaiting a retry: while a retry is pending, only the
//! span of the failures seen counts (a 503 with a long backoff is degraded until the retry
//! fails too). When no request came for [`FORGET_AFTER`] after failures, nothing is known
//! about GreenLake now, and the light says so ([`Health::Idle`]) instead of counting an
//! outage that nobody is watching.

use std::collections::VecDeque;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::breaker::BreakerState;

/// Requests the window keeps (the newest ones).
pub const WINDOW: usize = 10;

/// Failing requests with no answer between them for this long mean GreenLake is down: a
/// shorter run of failures is what retries absorb while requests get through.
pub const DOWN_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(3);

/// Trouble older than this no longer makes the light "degraded" (an idle console forgets a
/// blip it had minutes ago).
pub const FORGET_AFTER: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// GreenLake answered (2xx, or a 4xx that is the caller's problem).
    Ok,
    /// 429: GreenLake answered, but asks to slow down.
    Throttled,
    /// A transient failure (5xx, unreachable, unreadable, sign-in failing) sent again.
    Retried,
    /// A transient failure that ended its call's retries.
    Failed,
}

impl RequestOutcome {
    /// A failure that points at GreenLake (a 429 is an answer, not a failure).
    pub fn failed(self) -> bool {
        matches!(self, RequestOutcome::Retried | RequestOutcome::Failed)
    }
}

/// One request's outcome and when it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub outcome: RequestOutcome,
}

/// The window as published: the newest [`WINDOW`] outcomes (oldest first) and since when
/// requests have been failing with no answer in between.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HealthSnapshot {
    pub samples: VecDeque<Sample>,
    /// The first failure after the last answer, while no answer has come since.
    pub failing_since: Option<DateTime<Utc>>,
}

/// What the light says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// No request answered or failed yet.
    Unknown,
    Ok,
    /// Requests get through, but `failed` of the last `of` failed and `throttled` were 429s.
    Degraded {
        failed: u32,
        throttled: u32,
        of: u32,
    },
    /// Requests have all failed since `since`, for at least [`DOWN_AFTER`], recently.
    Down {
        since: DateTime<Utc>,
    },
    /// The last requests failed, but none was sent for [`FORGET_AFTER`]: how GreenLake is
    /// now is unknown. `last` is when the last request failed.
    Idle {
        last: DateTime<Utc>,
    },
    /// The breaker is open: no request is sent until its probe.
    BreakerOpen,
    /// The breaker lets one probe through to see whether GreenLake is back.
    Probing,
}

impl HealthSnapshot {
    /// A window holding one answered request (what a console that has talked to GreenLake
    /// shows; fixtures use it).
    pub fn answered_at(at: DateTime<Utc>) -> HealthSnapshot {
        HealthSnapshot {
            samples: VecDeque::from([Sample {
                at,
                outcome: RequestOutcome::Ok,
            }]),
            failing_since: None,
        }
    }

    /// What the last requests and the breaker say as of `now`.
    pub fn assess(&self, breaker: BreakerState, now: DateTime<Utc>) -> Health {
        match breaker {
            BreakerState::Open => return Health::BreakerOpen,
            BreakerState::HalfOpen => return Health::Probing,
            BreakerState::Closed => {}
        }
        let Some(last) = self.samples.back() else {
            return Health::Unknown;
        };
        if let Some(since) = self.failing_since {
            if now - last.at >= FORGET_AFTER {
                return Health::Idle { last: last.at };
            }
            // A retried request has its retry pending: the failing has lasted until the
            // last failure seen, not until now.
            let until = match last.outcome {
                RequestOutcome::Retried => last.at,
                _ => now,
            };
            if until - since >= DOWN_AFTER {
                return Health::Down { since };
            }
        }
        let recent = self
            .samples
            .iter()
            .filter(|s| now - s.at < FORGET_AFTER)
            .collect::<Vec<_>>();
        let failed = recent.iter().filter(|s| s.outcome.failed()).count() as u32;
        let throttled = recent
            .iter()
            .filter(|s| s.outcome == RequestOutcome::Throttled)
            .count() as u32;
        if failed + throttled == 0 {
            return Health::Ok;
        }
        Health::Degraded {
            failed,
            throttled,
            of: recent.len() as u32,
        }
    }
}

/// The client's window: updated on every answered or failed request, published on a
/// `watch` for the engine (and through it the console's status bar).
#[derive(Debug)]
pub struct HealthWindow {
    state: Mutex<HealthSnapshot>,
    tx: watch::Sender<HealthSnapshot>,
}

impl Default for HealthWindow {
    fn default() -> Self {
        HealthWindow {
            state: Mutex::new(HealthSnapshot::default()),
            tx: watch::channel(HealthSnapshot::default()).0,
        }
    }
}

impl HealthWindow {
    fn update(&self, f: impl FnOnce(&mut HealthSnapshot)) {
        // Plain field writes: a poisoned lock still holds a consistent window.
        let mut g = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut g);
        self.tx.send_replace(g.clone());
    }

    /// A request ended this way, now.
    pub fn record(&self, outcome: RequestOutcome) {
        self.record_at(outcome, Utc::now());
    }

    fn record_at(&self, outcome: RequestOutcome, at: DateTime<Utc>) {
        self.update(|w| {
            w.samples.push_back(Sample { at, outcome });
            while w.samples.len() > WINDOW {
                w.samples.pop_front();
            }
            match outcome {
                RequestOutcome::Ok | RequestOutcome::Throttled => w.failing_since = None,
                RequestOutcome::Retried | RequestOutcome::Failed => {
                    w.failing_since.get_or_insert(at);
                }
            }
        });
    }

    /// The breaker closed after its probes got through: GreenLake is back, and the failures
    /// of the outage say nothing about now.
    pub fn recovered(&self) {
        self.update(|w| {
            w.samples.retain(|s| !s.outcome.failed());
            w.failing_since = None;
        });
    }

    pub fn watch(&self) -> watch::Receiver<HealthSnapshot> {
        self.tx.subscribe()
    }

    pub fn snapshot(&self) -> HealthSnapshot {
        self.tx.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap() + chrono::TimeDelta::seconds(secs)
    }

    #[test]
    fn failures_turn_degraded_at_once_and_down_once_they_last() {
        use RequestOutcome::*;
        let w = HealthWindow::default();
        let closed = BreakerState::Closed;
        assert_eq!(w.snapshot().assess(closed, t(0)), Health::Unknown);
        w.record_at(Ok, t(0));
        assert_eq!(w.snapshot().assess(closed, t(0)), Health::Ok);
        w.record_at(Retried, t(1));
        // The call gives up: no retry pending.
        w.record_at(Failed, t(2));
        let s = w.snapshot();
        assert_eq!(
            s.assess(closed, t(2)),
            Health::Degraded {
                failed: 2,
                throttled: 0,
                of: 3
            }
        );
        assert_eq!(s.assess(closed, t(4)), Health::Down { since: t(1) });
        // One answer ends "down"; the failures stay in the window, then are forgotten.
        w.record_at(Throttled, t(5));
        let s = w.snapshot();
        assert!(matches!(
            s.assess(closed, t(5)),
            Health::Degraded {
                failed: 2,
                throttled: 1,
                ..
            }
        ));
        assert_eq!(s.assess(closed, t(70)), Health::Ok);
        // The window keeps the newest WINDOW requests only.
        for i in 0..WINDOW as i64 {
            w.record_at(Ok, t(6 + i));
        }
        assert_eq!(w.snapshot().samples.len(), WINDOW);
        assert_eq!(w.snapshot().assess(closed, t(20)), Health::Ok);
        // The breaker's word comes first.
        assert_eq!(
            w.snapshot().assess(BreakerState::Open, t(20)),
            Health::BreakerOpen
        );
        assert_eq!(
            w.snapshot().assess(BreakerState::HalfOpen, t(20)),
            Health::Probing
        );
    }

    #[test]
    fn a_closed_breaker_forgets_the_outage() {
        let w = HealthWindow::default();
        for i in 0..5 {
            w.record_at(RequestOutcome::Failed, t(i));
        }
        w.record_at(RequestOutcome::Ok, t(70));
        w.recovered();
        let s = w.snapshot();
        assert_eq!(s.samples.len(), 1);
        assert_eq!(s.assess(BreakerState::Closed, t(71)), Health::Ok);
    }

    #[test]
    fn one_failed_call_on_an_idle_console_is_forgotten_not_down_forever() {
        use RequestOutcome::*;
        let w = HealthWindow::default();
        let closed = BreakerState::Closed;
        w.record_at(Ok, t(0));
        w.record_at(Retried, t(1));
        w.record_at(Failed, t(2));
        let s = w.snapshot();
        // The call gave up: no retry pending, so the failing counts on until now.
        assert_eq!(s.assess(closed, t(4)), Health::Down { since: t(1) });
        assert_eq!(s.assess(closed, t(61)), Health::Down { since: t(1) });
        // A minute with no request: what GreenLake does now is unknown.
        assert_eq!(s.assess(closed, t(62)), Health::Idle { last: t(2) });
        assert_eq!(s.assess(closed, t(3 * 3600)), Health::Idle { last: t(2) });
        // A new request counts again at once.
        w.record_at(Ok, t(3 * 3600));
        assert!(matches!(
            w.snapshot().assess(closed, t(3 * 3600)),
            Health::Ok
        ));
    }

    #[test]
    fn a_retry_pending_is_degraded_however_long_its_backoff() {
        use RequestOutcome::*;
        let w = HealthWindow::default();
        let closed = BreakerState::Closed;
        w.record_at(Ok, t(0));
        // One 503, its retry due in 8 s.
        w.record_at(Retried, t(1));
        let degraded = Health::Degraded {
            failed: 1,
            throttled: 0,
            of: 2,
        };
        assert_eq!(w.snapshot().assess(closed, t(5)), degraded);
        assert_eq!(w.snapshot().assess(closed, t(8)), degraded);
        // The retry fails too, 8 s after the first: the failing has lasted, down.
        w.record_at(Retried, t(9));
        assert_eq!(
            w.snapshot().assess(closed, t(9)),
            Health::Down { since: t(1) }
        );
        // The retry gets through instead: degraded, never down.
        let w = HealthWindow::default();
        w.record_at(Retried, t(1));
        w.record_at(Ok, t(9));
        assert!(matches!(
            w.snapshot().assess(closed, t(9)),
            Health::Degraded { failed: 1, .. }
        ));
        // A retry still pending after a minute of nothing: forgotten, not down.
        let w = HealthWindow::default();
        w.record_at(Retried, t(1));
        assert_eq!(
            w.snapshot().assess(closed, t(61)),
            Health::Idle { last: t(1) }
        );
    }
}
