//! Messages between the engine and its front ends.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::glp::breaker::BreakerSnapshot;
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
pub use crate::store::inventory::Resource;

/// What to sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Devices,
    Subscriptions,
    /// Subscriptions first, then devices (device links name subscriptions).
    Both,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Devices => "devices",
            Scope::Subscriptions => "subscriptions",
            Scope::Both => "both",
        }
    }
    pub fn resources(self) -> &'static [Resource] {
        match self {
            Scope::Devices => &[Resource::Devices],
            Scope::Subscriptions => &[Resource::Subscriptions],
            Scope::Both => &[Resource::Subscriptions, Resource::Devices],
        }
    }
}

/// Full reads everything and reconciles removals; incremental reads what changed since the
/// last good run. `Auto` lets the engine choose (full on first run and on schedule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Incremental,
    Full,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Auto => "auto",
            Mode::Incremental => "incremental",
            Mode::Full => "full",
        }
    }
}

/// Who asked for the run (recorded in sync_history).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Tui,
    Cron,
    Assign,
    Demo,
    Cli,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Tui => "tui",
            Trigger::Cron => "cron",
            Trigger::Assign => "assign",
            Trigger::Demo => "demo",
            Trigger::Cli => "cli",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum SyncCommand {
    SyncNow {
        scope: Scope,
        mode: Mode,
        trigger: Trigger,
    },
    /// Stop the running sync after the page in flight; it is recorded as cancelled.
    Cancel,
    Shutdown,
}

/// Per-resource counters of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceSummary {
    pub resource: Option<Resource>,
    pub pages: u64,
    pub fetched: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub restored: u64,
    /// Items GLP sent that could not be used (no id, not an object) or not stored (the
    /// database refused the item itself, e.g. an id too long to index; logged by id). The
    /// rest was stored: the run still succeeds.
    pub skipped: u64,
    pub complete: bool,
    /// How this resource's phase ended (a run is `partial` when one failed and one did not).
    pub outcome: ResourceOutcome,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// Items stored with U+FFFD in place of NUL characters PostgreSQL cannot hold (logged
    /// by id).
    pub sanitised: u64,
}

/// How one resource's phase of a run ended (`sync_history_resources.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResourceOutcome {
    /// Not tried: the run stopped before it (cancel, lost lock, rejected credentials).
    #[default]
    NotRun,
    Succeeded,
    Failed,
    Cancelled,
}

impl ResourceOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceOutcome::NotRun => "not_run",
            ResourceOutcome::Succeeded => "succeeded",
            ResourceOutcome::Failed => "failed",
            ResourceOutcome::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> ResourceOutcome {
        match s {
            "succeeded" => ResourceOutcome::Succeeded,
            "failed" => ResourceOutcome::Failed,
            "cancelled" => ResourceOutcome::Cancelled,
            _ => ResourceOutcome::NotRun,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Partial,
    Failed,
    Cancelled,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncSummary {
    pub run_id: i64,
    pub scope: Scope,
    /// The mode actually used (never `Auto`).
    pub mode: Mode,
    pub outcome: Outcome,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub resources: Vec<ResourceSummary>,
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub breaker_trips: u64,
    pub error: Option<String>,
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
    /// Some while a sync runs.
    pub running: Option<Progress>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// True when the last attempt to reach the API failed: data shown may be stale.
    pub stale: bool,
}
