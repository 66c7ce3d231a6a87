//! Retry policy: exponential backoff with full jitter, bounded by attempts and total time.
//!
//! Full jitter (a uniform delay in `[0, min(max, base·2^n)]`) spreads retries of many
//! concurrent page fetches so they do not hit a recovering GreenLake in lock-step.

use std::time::Duration;

use rand::Rng;

use crate::config::RetryConfig;

/// The ceiling of the backoff window before retry number `retry` (1-based).
pub fn ceiling(cfg: &RetryConfig, retry: u32) -> Duration {
    let exp = retry.saturating_sub(1).min(30);
    cfg.base_delay
        .saturating_mul(1u32 << exp)
        .min(cfg.max_delay)
}

/// A full-jitter delay before retry number `retry` (1-based).
pub fn backoff(cfg: &RetryConfig, retry: u32) -> Duration {
    let cap = ceiling(cfg, retry);
    if cap.is_zero() {
        return cap;
    }
    let f: f64 = rand::rng().random_range(0.0..=1.0);
    cap.mul_f64(f)
}

/// The pause before round `round` (1-based) of a call waiting out an outage when the server
/// gave no `Retry-After`: the backoff ceiling with "equal jitter" (half fixed, half random),
/// so waiting calls neither hammer GreenLake nor try again in lock-step.
pub fn patient_delay(cfg: &RetryConfig, round: u32) -> Duration {
    let cap = ceiling(cfg, round);
    let f: f64 = rand::rng().random_range(0.5..=1.0);
    cap.mul_f64(f)
}

/// Whether another attempt fits: attempts left and the delay ends inside the total budget.
pub fn may_retry(
    cfg: &RetryConfig,
    attempts_made: u32,
    elapsed: Duration,
    delay: Duration,
) -> bool {
    attempts_made < cfg.max_attempts.max(1) && elapsed + delay <= cfg.max_total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetryConfig {
        RetryConfig {
            max_attempts: 5,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_total: Duration::from_secs(60),
        }
    }

    #[test]
    fn ceiling_doubles_and_caps() {
        let c = cfg();
        let v: Vec<_> = (1..=7).map(|n| ceiling(&c, n).as_millis()).collect();
        assert_eq!(v, vec![500, 1000, 2000, 4000, 8000, 8000, 8000]);
        assert_eq!(ceiling(&c, 1000), Duration::from_secs(8));
    }

    #[test]
    fn jitter_stays_in_window_and_varies() {
        let c = cfg();
        let ds: Vec<_> = (0..200).map(|_| backoff(&c, 3)).collect();
        assert!(ds.iter().all(|d| *d <= Duration::from_secs(2)));
        let min = ds.iter().min().copied().unwrap_or_default();
        let max = ds.iter().max().copied().unwrap_or_default();
        assert!(
            max - min > Duration::from_millis(500),
            "no spread: {min:?}..{max:?}"
        );
    }

    #[test]
    fn budget() {
        let c = cfg();
        assert!(may_retry(&c, 1, Duration::ZERO, Duration::from_secs(1)));
        assert!(!may_retry(&c, 5, Duration::ZERO, Duration::ZERO));
        assert!(!may_retry(
            &c,
            1,
            Duration::from_secs(59),
            Duration::from_secs(2)
        ));
    }
}
