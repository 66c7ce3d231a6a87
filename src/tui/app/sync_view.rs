//! The app's handlers that feed the sync view (`parts::SyncView`, what the status bar shows)
//! from the engine's status and events.

use super::{App, Effect, ResourceProgress, SyncView, ToastLevel};
use crate::glp::breaker::BreakerState;
use crate::glp::health::Health;
use crate::store::inventory::Resource;
use crate::sync::events::FailureKind;
use crate::sync::events::{EngineStatus, Outcome, SyncEvent, SyncSummary};
use crate::tui::keys::WizardAction;
use crate::tui::model::rows;

impl App {
    /// What the status bar's light says now: the breaker's state, else the client's last
    /// requests as of the app's clock (so "down" and the forgetting of old trouble move
    /// with the ticks, not only when a request ends).
    pub fn health(&self) -> Health {
        self.status
            .health
            .assess(self.status.breaker.state, self.now)
    }

    /// How long until the breaker allows a probe, counted down from when the snapshot came
    /// (rounded up: "retry in 0s" while still waiting reads as a hang).
    pub fn breaker_retry_secs(&self) -> Option<i64> {
        let r = self.status.breaker.retry_in?;
        let elapsed = (self.now - self.breaker_at).num_milliseconds().max(0);
        let left = (r.as_millis() as i64 - elapsed).max(0);
        Some((left + 999) / 1000)
    }

    /// Newest engine status from the `watch` channel.
    pub fn on_status(&mut self, status: EngineStatus) {
        if status.breaker != self.status.breaker {
            self.breaker_at = self.now;
        }
        if let Some(p) = &status.running
            && p.rate > 0.0
        {
            self.sync.rate = p.rate;
        }
        if status.last_success.is_some() {
            self.last_good = status.last_success.max(self.last_good);
        }
        self.status = status;
        self.dirty = true;
    }

    /// An event from the engine.
    pub fn on_sync_event(&mut self, ev: SyncEvent) {
        self.dirty = true;
        match ev {
            SyncEvent::Started { scope, mode, .. } => {
                self.sync = SyncView {
                    running: true,
                    scope: Some(scope),
                    mode: Some(mode),
                    started: Some(self.now),
                    history: std::mem::take(&mut self.sync.history),
                    last_error: self.sync.last_error.take(),
                    ..SyncView::default()
                };
                for r in scope.resources() {
                    self.sync
                        .resources
                        .insert(r.as_str(), ResourceProgress::default());
                }
            }
            SyncEvent::Page {
                resource,
                page,
                pages_total,
                items,
                items_total,
            } => self.sync_page(resource, page, pages_total, items, items_total),
            SyncEvent::Retry {
                attempt,
                delay,
                reason,
            } => {
                self.toast_keyed(
                    ToastLevel::Warn,
                    "retry",
                    format!("retry {attempt} in {}s: {reason}", delay.as_secs()),
                );
            }
            SyncEvent::RateLimited { endpoint, wait } => {
                self.toast_keyed(
                    ToastLevel::Info,
                    "rate limit",
                    format!("rate limited on {endpoint}: waiting {}s", wait.as_secs()),
                );
            }
            SyncEvent::Breaker(snap) => {
                let opened = snap.state == BreakerState::Open
                    && self.status.breaker.state != BreakerState::Open;
                self.status.breaker = snap;
                self.breaker_at = self.now;
                if opened {
                    self.toast(
                        ToastLevel::Error,
                        "GreenLake API unreachable: circuit breaker OPEN — showing the last good data",
                    );
                }
            }
            SyncEvent::Waiting { reason, retry_in } => {
                let at = self.now
                    + chrono::Duration::from_std(retry_in).unwrap_or(chrono::Duration::zero());
                self.sync.waiting = Some((reason, at));
            }
            SyncEvent::Resumed { waited } => {
                if self.sync.waiting.take().is_some() {
                    self.toast(
                        ToastLevel::Info,
                        format!(
                            "GreenLake answers again after {}s: the sync goes on",
                            waited.as_secs()
                        ),
                    );
                }
            }
            SyncEvent::AlreadyRunning => {
                self.toast(
                    ToastLevel::Info,
                    "a sync is already running — its progress is in the status bar",
                );
            }
            SyncEvent::Finished(summary) => self.sync_finished(&summary),
            SyncEvent::Failed {
                kind,
                error,
                summary,
                refresh,
            } => {
                self.sync.running = false;
                self.sync.pending = false;
                self.sync.waiting = None;
                self.status.stale = true;
                // A refresh of a few devices neither sets nor clears the sync's error,
                // even when it failed before its run began (no summary).
                if kind != FailureKind::Cancelled && !refresh {
                    self.sync.last_error = Some(error.replace(['\n', '\r'], " "));
                }
                self.toast(
                    ToastLevel::Error,
                    format!(
                        "{} failed ({kind:?}): {error}",
                        if refresh { "refresh" } else { "sync" }
                    ),
                );
                if summary.is_some() {
                    // Pages already stored are worth showing.
                    self.effects.push(Effect::Reload);
                }
            }
        }
    }

    /// A page landed: move the resource's progress, measure the rate if the engine does not.
    fn sync_page(
        &mut self,
        resource: Resource,
        page: u64,
        pages_total: Option<u64>,
        items: u64,
        items_total: Option<u64>,
    ) {
        self.sync.running = true;
        self.sync.waiting = None;
        if let Some(prev) = self.sync.current
            && prev != resource
            && let Some(p) = self.sync.resources.get_mut(prev.as_str())
        {
            p.done = true;
        }
        self.sync.current = Some(resource);
        let e = self.sync.resources.entry(resource.as_str()).or_default();
        e.page = page;
        e.pages_total = pages_total;
        e.items = items;
        e.items_total = items_total;
        // Measure the rate when the engine's status does not carry one.
        let total: u64 = self.sync.resources.values().map(|p| p.items).sum();
        match self.sync.items_mark {
            Some((t, n)) if (self.now - t).num_milliseconds() >= 1000 => {
                let secs = (self.now - t).num_milliseconds() as f64 / 1000.0;
                let measured = total.saturating_sub(n) as f64 / secs;
                if self.status.running.as_ref().is_none_or(|p| p.rate <= 0.0) {
                    self.sync.rate = measured;
                }
                self.sync.items_mark = Some((self.now, total));
            }
            None => self.sync.items_mark = Some((self.now, total)),
            _ => {}
        }
    }

    /// The run ended: counts in a toast, the tabs reloaded.
    fn sync_finished(&mut self, summary: &SyncSummary) {
        self.sync.running = false;
        self.sync.pending = false;
        self.sync.waiting = None;
        for p in self.sync.resources.values_mut() {
            p.done = true;
        }
        let counts: Vec<String> = summary
            .resources
            .iter()
            .filter_map(|r| {
                let res = r.resource?;
                Some(format!(
                    "{} {} fetched, +{} ~{} -{}",
                    res.as_str(),
                    rows::fmt_int(r.fetched as i64),
                    r.inserted,
                    r.updated,
                    r.removed
                ))
            })
            .collect();
        let level = match summary.outcome {
            Outcome::Succeeded => ToastLevel::Info,
            Outcome::Partial | Outcome::Cancelled => ToastLevel::Warn,
            Outcome::Failed => ToastLevel::Error,
        };
        if self
            .wizard
            .as_ref()
            .is_some_and(|w| w.matched_before_send())
        {
            let again = self
                .keymap
                .press(WizardAction::Reload, "match the sheet again");
            self.toast(
                ToastLevel::Info,
                format!("the inventory changed: go back to the review and {again}"),
            );
        }
        // A refresh of a few assigned devices is no fresh inventory: the store ignores it for
        // the last good sync too, so the status bar must not claim one.
        if summary.outcome == Outcome::Succeeded && summary.mode != crate::domain::Mode::Refresh {
            self.last_good = Some(self.now.max(self.last_good.unwrap_or(self.now)));
            self.status.stale = false;
            self.sync.last_error = None;
        }
        self.toast(
            level,
            format!(
                "sync {} ({} {}s): {}",
                summary.outcome.as_str(),
                summary.mode.as_str(),
                summary.duration.as_secs(),
                counts.join("; ")
            ),
        );
        self.effects.push(Effect::Reload);
    }
}
