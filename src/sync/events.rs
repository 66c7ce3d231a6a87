//! Messages between the engine and its front ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use chrono::{DateTime, Utc};

use crate::glp::breaker::BreakerSnapshot;
use crate::glp::health::HealthSnapshot;
pub use crate::glp::patience::WaitReason;

/// "waiting for GreenLake (outage, retry in 12s)": the same words in the headless progress
/// line and the console's status bar.
pub fn waiting_text(reason: WaitReason, retry_in: Duration) -> String {
    // Round up: "retry in 0s" while still waiting reads as a hang.
    let secs = retry_in.as_millis().div_ceil(1000);
    format!(
        "waiting for GreenLake ({}, retry in {secs}s)",
        reason.label()
    )
}
pub use crate::domain::{
    Mode, Outcome, Resource, ResourceOutcome, ResourceSummary, Scope, SyncSummary, Trigger,
};

#[derive(Debug, Clone, PartialEq)]
pub enum SyncCommand {
    SyncNow {
        scope: Scope,
        mode: Mode,
        trigger: Trigger,
    },
    /// Fetch these devices again and store them, as a run of its own (`sync::refresh`):
    /// it waits for a running sync to end. Its events go out like a sync's, and its final
    /// event also to `reply`.
    Refresh {
        serials: Vec<String>,
        trigger: Trigger,
        reply: RefreshReply,
    },
    /// Stop the running sync after the page in flight; it is recorded as cancelled.
    Cancel,
    Shutdown,
}

/// Where a refresh's final event goes (once). A command is `Clone` and comparable for the
/// front ends' effect lists, so the one-shot sender sits behind a shared slot; two replies
/// are equal when they are the same slot.
#[derive(Debug, Clone)]
pub struct RefreshReply(Arc<Mutex<Option<oneshot::Sender<SyncEvent>>>>);

impl RefreshReply {
    /// A reply slot and the receiver of its event.
    pub fn new() -> (RefreshReply, oneshot::Receiver<SyncEvent>) {
        let (tx, rx) = oneshot::channel();
        (RefreshReply(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Send the final event (the first call only; a receiver that went away is fine).
    pub fn send(&self, ev: SyncEvent) {
        let tx = match self.0.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        if let Some(tx) = tx {
            let _ = tx.send(ev);
        }
    }
}

impl PartialEq for RefreshReply {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Why a sync could not run or stopped, classified for exit codes and UI wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// Credentials rejected or configuration unusable.
    Auth,
    /// The API is unreachable, failing, or the breaker is open.
    Api,
    /// Another process holds the workspace sync lock.
    Locked,
    Database,
    Cancelled,
    /// The run lost the workspace lock mid-way (its lock connection ended, or another sync
    /// took over): it stopped writing and reconciled nothing.
    LostLock,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncEvent {
    Started {
        run_id: i64,
        scope: Scope,
        mode: Mode,
        trigger: Trigger,
    },
    /// A page was fetched and stored.
    Page {
        resource: Resource,
        page: u64,
        pages_total: Option<u64>,
        items: u64,
        items_total: Option<u64>,
    },
    Retry {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    RateLimited {
        endpoint: String,
        wait: Duration,
    },
    Breaker(BreakerSnapshot),
    /// The run waits for GreenLake to come back (an outage, the breaker open, a failing
    /// token endpoint); the next try is in `retry_in`. Shown as [`waiting_text`].
    Waiting {
        reason: WaitReason,
        retry_in: Duration,
    },
    /// GreenLake answers again after the run waited `waited`.
    Resumed {
        waited: Duration,
    },
    /// A second sync was asked for while one runs: the running one goes on.
    AlreadyRunning,
    Finished(SyncSummary),
    Failed {
        kind: FailureKind,
        error: String,
        summary: Option<SyncSummary>,
        /// The run was a refresh of a few devices (after an assign), said here because a
        /// refresh failing before its run began has no summary to carry its mode: a front
        /// end must not take it for the sync failing.
        refresh: bool,
    },
}

/// Progress of the resource being fetched now.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Progress {
    pub resource: Option<Resource>,
    pub page: u64,
    pub pages_total: Option<u64>,
    pub items: u64,
    pub items_total: Option<u64>,
    /// Items per second over the last few seconds.
    pub rate: f64,
}

/// Latest engine state, for status bars.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EngineStatus {
    pub breaker: BreakerSnapshot,
    /// How the client's last requests went (the status bar's light).
    pub health: HealthSnapshot,
    /// Some while a sync runs.
    pub running: Option<Progress>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// True when the last attempt to reach the API failed: data shown may be stale.
    pub stale: bool,
}
