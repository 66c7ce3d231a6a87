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

// --- the breaker itself ------------------------------------------------------------------------

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::config::BreakerConfig;

#[derive(Debug)]
struct Inner {
    state: BreakerState,
    failures: u32,
    successes: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
    trips: u32,
}

/// Closed/open/half-open breaker shared by all requests of one client.
///
/// It counts *calls* (a request with all its retries), not attempts: random 5xx that retries
/// absorb must not trip it, but calls that keep failing after their retries mean GreenLake is
/// down, and then new calls fail fast instead of queueing behind minutes of backoff. While
/// half-open exactly one probe (a single attempt, no retries) is let through.
#[derive(Debug, Clone)]
pub struct Breaker {
    cfg: BreakerConfig,
    inner: Arc<Mutex<Inner>>,
    tx: Arc<watch::Sender<BreakerSnapshot>>,
}

/// Permission to send one call. Record its outcome with [`Permit::success`] /
/// [`Permit::failure`]; dropping it unrecorded (cancelled, or an outcome that says nothing
/// about GreenLake's health) frees the probe slot without changing the state.
#[derive(Debug)]
pub struct Permit {
    breaker: Breaker,
    probe: bool,
    done: bool,
}

/// Why a call may not be sent now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected {
    /// `None` while a half-open probe is in flight.
    pub retry_in: Option<Duration>,
    pub failures: u32,
}

/// What a state change means for the counters (so the client can count trips).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    None,
    Opened,
    HalfOpened,
    Closed,
}

fn lock(m: &Mutex<Inner>) -> std::sync::MutexGuard<'_, Inner> {
    // A panic while holding this lock cannot leave Inner inconsistent (plain field writes),
    // so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Breaker {
    pub fn new(cfg: &BreakerConfig) -> Breaker {
        let (tx, _rx) = watch::channel(BreakerSnapshot::default());
        Breaker {
            cfg: cfg.clone(),
            inner: Arc::new(Mutex::new(Inner {
                state: BreakerState::Closed,
                failures: 0,
                successes: 0,
                opened_at: None,
                probe_in_flight: false,
                trips: 0,
            })),
            tx: Arc::new(tx),
        }
    }

    /// Live state for the TUI: every transition and failure count change is published.
    pub fn watch(&self) -> watch::Receiver<BreakerSnapshot> {
        self.tx.subscribe()
    }

    /// The current state (recomputing `retry_in` as of now).
    pub fn snapshot(&self) -> BreakerSnapshot {
        let g = lock(&self.inner);
        self.snap(&g)
    }

    fn snap(&self, g: &Inner) -> BreakerSnapshot {
        BreakerSnapshot {
            state: g.state,
            failures: g.failures,
            retry_in: match (g.state, g.opened_at) {
                (BreakerState::Open, Some(t)) => {
                    Some((t + self.cfg.cooldown).saturating_duration_since(Instant::now()))
                }
                _ => None,
            },
            trips: g.trips,
        }
    }

    fn publish(&self, g: &Inner) {
        let s = self.snap(g);
        self.tx.send_if_modified(|cur| {
            if *cur != s {
                *cur = s;
                true
            } else {
                false
            }
        });
    }

    /// Ask to send a call. Open → `Err` with the time left; after the cool-down the first
    /// caller becomes the half-open probe and the others are rejected until it reports.
    pub fn acquire(&self) -> Result<(Permit, Transition), Rejected> {
        let mut g = lock(&self.inner);
        let mut tr = Transition::None;
        if g.state == BreakerState::Open {
            let opened = g.opened_at.unwrap_or_else(Instant::now);
            let until = opened + self.cfg.cooldown;
            let now = Instant::now();
            if now < until {
                return Err(Rejected {
                    retry_in: Some(until - now),
                    failures: g.failures,
                });
            }
            g.state = BreakerState::HalfOpen;
            g.successes = 0;
            g.probe_in_flight = false;
            tr = Transition::HalfOpened;
        }
        let probe = match g.state {
            BreakerState::Closed => false,
            BreakerState::HalfOpen => {
                if g.probe_in_flight {
                    return Err(Rejected {
                        retry_in: None,
                        failures: g.failures,
                    });
                }
                g.probe_in_flight = true;
                true
            }
            BreakerState::Open => false, // handled above
        };
        if tr != Transition::None {
            self.publish(&g);
        }
        Ok((
            Permit {
                breaker: self.clone(),
                probe,
                done: false,
            },
            tr,
        ))
    }

    fn on_success(&self, probe: bool) -> Transition {
        let mut g = lock(&self.inner);
        let mut tr = Transition::None;
        match g.state {
            BreakerState::Closed => g.failures = 0,
            BreakerState::HalfOpen if probe => {
                g.probe_in_flight = false;
                g.successes += 1;
                if g.successes >= self.cfg.success_threshold.max(1) {
                    g.state = BreakerState::Closed;
                    g.failures = 0;
                    g.successes = 0;
                    g.opened_at = None;
                    tr = Transition::Closed;
                }
            }
            // A call admitted while closed that finishes after the breaker opened says
            // little about now; ignore it.
            _ => {}
        }
        self.publish(&g);
        tr
    }

    fn on_failure(&self, probe: bool) -> Transition {
        let mut g = lock(&self.inner);
        let mut tr = Transition::None;
        match g.state {
            BreakerState::Closed => {
                g.failures += 1;
                if g.failures >= self.cfg.failure_threshold.max(1) {
                    g.state = BreakerState::Open;
                    g.opened_at = Some(Instant::now());
                    g.trips += 1;
                    tr = Transition::Opened;
                }
            }
            BreakerState::HalfOpen if probe => {
                g.probe_in_flight = false;
                g.failures += 1;
                g.successes = 0;
                g.state = BreakerState::Open;
                g.opened_at = Some(Instant::now());
                g.trips += 1;
                tr = Transition::Opened;
            }
            _ => {}
        }
        self.publish(&g);
        tr
    }

    fn on_neutral(&self, probe: bool) {
        if probe {
            let mut g = lock(&self.inner);
            g.probe_in_flight = false;
        }
    }
}

impl Permit {
    /// True when this call is the half-open probe (send it once, no retries).
    pub fn is_probe(&self) -> bool {
        self.probe
    }
    /// GreenLake answered (2xx, or a 4xx that is the caller's problem).
    pub fn success(mut self) -> Transition {
        self.done = true;
        self.breaker.on_success(self.probe)
    }
    /// The call failed for a reason that points at GreenLake (5xx, unreachable, malformed).
    pub fn failure(mut self) -> Transition {
        self.done = true;
        self.breaker.on_failure(self.probe)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.done {
            self.breaker.on_neutral(self.probe);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_threshold: 3,
            cooldown: Duration::from_secs(60),
            success_threshold: 2,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn full_cycle_with_one_probe() {
        let b = Breaker::new(&cfg());
        let rx = b.watch();
        for _ in 0..2 {
            assert_eq!(b.acquire().unwrap().0.failure(), Transition::None);
        }
        // A success resets the consecutive count.
        b.acquire().unwrap().0.success();
        assert_eq!(b.snapshot().failures, 0);
        for _ in 0..2 {
            b.acquire().unwrap().0.failure();
        }
        assert_eq!(b.acquire().unwrap().0.failure(), Transition::Opened);
        assert_eq!(rx.borrow().state, BreakerState::Open);
        assert_eq!(rx.borrow().trips, 1);
        let rej = b.acquire().unwrap_err();
        assert_eq!(rej.retry_in, Some(Duration::from_secs(60)));

        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(
            b.acquire().unwrap_err().retry_in,
            Some(Duration::from_secs(1))
        );
        tokio::time::advance(Duration::from_secs(1)).await;

        let (probe, tr) = b.acquire().unwrap();
        assert!(probe.is_probe());
        assert_eq!(tr, Transition::HalfOpened);
        // Exactly one probe in flight.
        assert_eq!(b.acquire().unwrap_err().retry_in, None);
        assert_eq!(probe.success(), Transition::None);
        assert_eq!(b.snapshot().state, BreakerState::HalfOpen);
        let (probe2, _) = b.acquire().unwrap();
        assert!(probe2.is_probe());
        assert_eq!(probe2.success(), Transition::Closed);
        assert_eq!(rx.borrow().state, BreakerState::Closed);
        assert!(!b.acquire().unwrap().0.is_probe());
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_reopens_and_dropped_probe_frees_slot() {
        let b = Breaker::new(&cfg());
        for _ in 0..3 {
            b.acquire().unwrap().0.failure();
        }
        tokio::time::advance(Duration::from_secs(60)).await;
        let (p, _) = b.acquire().unwrap();
        drop(p); // cancelled: slot freed, still half-open
        let (p, _) = b.acquire().unwrap();
        assert!(p.is_probe());
        assert_eq!(p.failure(), Transition::Opened);
        let s = b.snapshot();
        assert_eq!((s.state, s.trips), (BreakerState::Open, 2));
        assert_eq!(s.retry_in, Some(Duration::from_secs(60)));
    }
}
