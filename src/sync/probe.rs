//! The breaker's probe, sent by the engine itself when the cool-down ends.
//!
//! The breaker only moves from open to half-open when a call asks for a permit. A console
//! whose sync had given up asked for none, so its status bar said "breaker OPEN · retry in
//! 0s" for minutes after GreenLake was back. This task asks instead: once the cool-down is
//! over it sends the probe (one small request), and while the breaker stays half-open it
//! probes again until the breaker closes or opens once more. A call of a running sync may be
//! the probe instead; then this one waits for its word.

use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use crate::glp::breaker::BreakerState;
use crate::glp::client::Client;

/// How long to wait before asking again when another call is the probe.
const PROBE_GAP: Duration = Duration::from_secs(1);

/// Probe whenever the breaker is due one, for as long as the client lives (the engine
/// aborts this task when it shuts down).
pub(super) async fn when_due(client: Client) {
    let mut breaker = client.breaker();
    // Half-open: when the next probe may go (after a success at once, for the next one the
    // breaker wants; after a probe that said nothing, a cool-down later).
    let mut not_before = Instant::now();
    loop {
        breaker.borrow_and_update();
        let snap = client.breaker_snapshot();
        let now = Instant::now();
        let due = match snap.state {
            BreakerState::Closed => None,
            BreakerState::Open => Some(now + snap.retry_in.unwrap_or_default()),
            BreakerState::HalfOpen => Some(not_before.max(now)),
        };
        let Some(at) = due else {
            if breaker.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            changed = breaker.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = sleep_until(at) => {
                if client.breaker_snapshot().state == BreakerState::Closed {
                    // Another call's probe closed it meanwhile: nothing to ask.
                    continue;
                }
                let answer = client.probe().await;
                match &answer {
                    Some(Ok(())) => tracing::info!("breaker probe: GreenLake answered"),
                    Some(Err(e)) => tracing::info!(error = %e, "breaker probe failed"),
                    None => tracing::debug!("breaker probe not sent: another call is the probe"),
                }
                not_before = Instant::now()
                    + match answer {
                        Some(Ok(())) => Duration::ZERO,
                        None => PROBE_GAP,
                        Some(Err(_)) => client.config().breaker.cooldown,
                    };
            }
        }
    }
}
