//! The running (or last) sync as the status bar shows it: what `App` holds. The app's
//! handlers that feed it from the engine's status and events are in `app/sync_view.rs`.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::store::inventory::Resource;
use crate::sync::events::{Mode as SyncMode, Scope, WaitReason};

/// Progress of one resource in the running sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceProgress {
    pub page: u64,
    pub pages_total: Option<u64>,
    pub items: u64,
    pub items_total: Option<u64>,
    pub done: bool,
}

/// The running (or last) sync as the status bar shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncView {
    pub running: bool,
    /// Asked for, not yet started (the engine's `Started` clears it).
    pub pending: bool,
    pub scope: Option<Scope>,
    pub mode: Option<SyncMode>,
    pub started: Option<DateTime<Utc>>,
    pub resources: BTreeMap<&'static str, ResourceProgress>,
    pub current: Option<Resource>,
    /// Items per second (from the engine's status, or measured from page events).
    pub rate: f64,
    /// One sample per second of `rate`, for the sparkline.
    pub history: VecDeque<u64>,
    pub(in crate::tui::app) items_mark: Option<(DateTime<Utc>, u64)>,
    /// While the run waits for GreenLake to come back: why, and when it tries next.
    pub waiting: Option<(WaitReason, DateTime<Utc>)>,
    /// Why the last sync failed, until a sync succeeds: a toast goes after a few seconds
    /// and the next run starting says nothing about whether the trouble is over.
    pub last_error: Option<String>,
}

impl SyncView {
    /// Once a second while a sync runs: one sparkline sample (a minute is kept).
    pub(in crate::tui::app) fn sample_rate(&mut self) {
        if self.running {
            let rate = self.rate.max(0.0) as u64;
            self.history.push_back(rate);
            if self.history.len() > 60 {
                self.history.pop_front();
            }
        }
    }
}
