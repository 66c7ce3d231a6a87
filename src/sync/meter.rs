//! The items-per-second figure of the status bar.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Items/s over the last few seconds, for the status bar.
pub(super) struct RateMeter {
    window: VecDeque<(Instant, u64)>,
}

impl RateMeter {
    pub(super) fn new() -> Self {
        RateMeter {
            window: VecDeque::new(),
        }
    }

    pub(super) fn record(&mut self, items_total: u64) -> f64 {
        let now = Instant::now();
        self.window.push_back((now, items_total));
        while self
            .window
            .front()
            .is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(5))
            && self.window.len() > 2
        {
            self.window.pop_front();
        }
        match (self.window.front(), self.window.back()) {
            (Some((t0, n0)), Some((t1, n1))) if t1 > t0 => {
                n1.saturating_sub(*n0) as f64 / t1.duration_since(*t0).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}
