//! A running sync watches its lock: split from the engine, which starts this beside each run.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::fence::RunFence;

/// How often a running sync asks whether its lock connection still holds the lock, besides
/// the check before every page commit: a run waiting out an outage notices a lost lock (and
/// stops) within this, and the connection never sits idle long enough for
/// `idle_session_timeout` to end it.
const LOCK_WATCH_EVERY: Duration = Duration::from_secs(5);

/// Check the lock every [`LOCK_WATCH_EVERY`] until `done`; a failed check marks the fence
/// lost, which stops the run.
pub(super) async fn watch_lock(fence: Arc<RunFence>, done: CancellationToken) {
    let mut tick = tokio::time::interval(LOCK_WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = fence.lost() => return,
            _ = tick.tick() => {
                if let Err(e) = fence.check().await {
                    tracing::error!(run_id = fence.run_id(), error = %e, "sync run lost its workspace lock");
                    return;
                }
            }
        }
    }
}
