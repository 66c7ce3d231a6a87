//! How long calls wait for GreenLake to come back.
//!
//! A call's own retries cover blips (a few seconds). An outage is longer: GreenLake answers
//! 503 with `Retry-After`, the token endpoint fails, the breaker opens. While a patience is
//! set (the sync engine sets one per resource phase) a call that failed that way waits and
//! tries again instead of failing, until GreenLake has been gone for the whole patience.
//!
//! The clock is shared by every call of the client: it starts when the first call begins to
//! wait and stops when any call gets through, so concurrent page fetches waiting out the same
//! outage spend the patience once, not once each.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Why calls are waiting (shown as "waiting for GreenLake (<label>, retry in Ns)").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitReason {
    /// 5xx, unreachable, unreadable answers, or the breaker open after them.
    Outage,
    /// The token endpoint fails or a fresh token is refused, credentials not in question.
    SignIn,
    /// 429s beyond a call's own budget.
    RateLimited,
}

impl WaitReason {
    pub fn label(self) -> &'static str {
        match self {
            WaitReason::Outage => "outage",
            WaitReason::SignIn => "sign-in failing",
            WaitReason::RateLimited => "rate limited",
        }
    }
}

/// What a call that just failed may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No patience is set: fail as before.
    Impatient,
    /// Wait this long (the wanted delay, cut to what is left of the patience), then try again.
    Wait(Duration),
    /// GreenLake has been gone for the whole patience.
    Exhausted {
        waited: Duration,
        patience: Duration,
    },
}

#[derive(Debug, Default)]
struct State {
    budget: Option<Duration>,
    since: Option<Instant>,
}

/// The shared outage clock of one client.
#[derive(Debug, Default)]
pub struct Patience {
    state: Mutex<State>,
}

impl Patience {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Two plain fields; a poisoned lock still holds consistent values.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Set (or clear) the patience; the clock starts again.
    pub fn set(&self, budget: Option<Duration>) {
        let mut g = self.lock();
        g.budget = budget;
        g.since = None;
    }

    /// A call sent at `sent` got through. Returns how long calls had been waiting, if they
    /// were. An answer to a request sent before the trouble began says nothing about now,
    /// and leaves the clock running.
    pub fn recovered(&self, sent: Instant) -> Option<Duration> {
        let mut g = self.lock();
        match g.since {
            Some(t) if t <= sent => {
                g.since = None;
                Some(t.elapsed())
            }
            _ => None,
        }
    }

    /// A call met a transient failure and retries within its own budget: the outage clock
    /// starts now if it is not running (the patience counts from the first failure, not
    /// from when a call's retries ran out). Returns whether a patience is set.
    pub fn trouble(&self) -> bool {
        let mut g = self.lock();
        if g.budget.is_none() {
            return false;
        }
        if g.since.is_none() {
            g.since = Some(Instant::now());
        }
        true
    }

    /// Whether calls are waiting for GreenLake now.
    pub fn waiting(&self) -> bool {
        self.lock().since.is_some()
    }

    /// A call failed transiently and would like to try again after `want`.
    pub fn allow(&self, want: Duration) -> Verdict {
        let mut g = self.lock();
        let Some(budget) = g.budget else {
            return Verdict::Impatient;
        };
        let now = Instant::now();
        let since = *g.since.get_or_insert(now);
        let waited = now.saturating_duration_since(since);
        if waited >= budget {
            return Verdict::Exhausted {
                waited,
                patience: budget,
            };
        }
        Verdict::Wait(want.min(budget - waited))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_clock_for_all_calls_reset_by_a_success() {
        let p = Patience::default();
        assert_eq!(p.allow(Duration::from_secs(5)), Verdict::Impatient);
        p.set(Some(Duration::from_secs(12)));
        assert_eq!(
            p.allow(Duration::from_secs(5)),
            Verdict::Wait(Duration::from_secs(5))
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        // A second call joining the same outage shares the clock.
        assert_eq!(
            p.allow(Duration::from_secs(30)),
            Verdict::Wait(Duration::from_secs(7))
        );
        tokio::time::advance(Duration::from_secs(7)).await;
        assert_eq!(
            p.allow(Duration::from_secs(1)),
            Verdict::Exhausted {
                waited: Duration::from_secs(12),
                patience: Duration::from_secs(12)
            }
        );
        // An answer to a request sent before the trouble began does not end it.
        assert_eq!(p.recovered(Instant::now() - Duration::from_secs(13)), None);
        assert_eq!(p.recovered(Instant::now()), Some(Duration::from_secs(12)));
        assert!(!p.waiting());
        assert_eq!(
            p.allow(Duration::from_secs(30)),
            Verdict::Wait(Duration::from_secs(12))
        );
        // The clock starts at the first failure a call's own retries handle.
        p.set(Some(Duration::from_secs(12)));
        assert!(p.trouble());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(
            p.allow(Duration::from_secs(30)),
            Verdict::Wait(Duration::from_secs(2))
        );
        // Zero patience: give up at once.
        p.set(Some(Duration::ZERO));
        assert!(matches!(
            p.allow(Duration::from_secs(1)),
            Verdict::Exhausted { .. }
        ));
    }
}
