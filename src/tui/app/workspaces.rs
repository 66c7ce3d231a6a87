//! The app's handlers for workspaces (`parts::WorkspacesView`): the stored list arriving with
//! each reload, the scope (`:ws NAME`, `:ws all`, Enter on the Workspaces tab), and the
//! engine's events of each workspace's sync.
//!
//! A database with one workspace never gets here beyond the list's arrival: it keeps the
//! console it always had (no Workspaces tab, no Workspace column, no `:ws`).

use std::sync::Arc;

use super::parts::Tables;
use super::{App, Effect, Tab, TableId, ToastLevel};
use crate::domain::WorkspaceId;
use crate::glp::breaker::BreakerState;
use crate::store::views::{SubscriptionRecord, ViewScope};
use crate::store::workspaces::WorkspaceOverview;
use crate::sync::events::{EngineStatus, FailureKind, Outcome, SyncEvent};
use crate::sync::fleet::WorkspaceEvent;
use crate::tui::keys::Action;
use crate::tui::model::rows::{self, WsLayout};
use crate::tui::model::table::TableData;
use crate::tui::model::workspaces::{self, WorkspaceLive};

impl App {
    /// The scope a reload reads: the one shown (the loader makes it [`ViewScope::Single`]
    /// when the database holds one workspace).
    pub fn reload_scope(&self) -> ViewScope {
        self.ws.scope.clone()
    }

    /// How the Expiring lists show workspaces now.
    pub(super) fn ws_layout(&self) -> WsLayout {
        match (&self.ws.scope, self.ws.multi()) {
            (_, false) | (ViewScope::Single, _) => WsLayout::None,
            (ViewScope::All, true) => WsLayout::Grouped,
            (ViewScope::One(_), true) => WsLayout::Column,
        }
    }

    /// The workspace names of the subscriptions, when the tables show a Workspace column.
    pub(super) fn sub_names(&self) -> Option<Arc<Vec<Box<str>>>> {
        (self.ws.multi() && self.ws.sub_names.len() == self.subscriptions.len())
            .then(|| self.ws.sub_names.clone())
    }

    /// The stored workspaces, first in every reload; `scope` is what the reload's tables
    /// are read for. The first list of more than one workspace gives every inventory table
    /// its Workspace column and the console its Workspaces tab.
    pub(super) fn workspaces_loaded(
        &mut self,
        scope: ViewScope,
        list: Arc<Vec<WorkspaceOverview>>,
        figures: bool,
    ) {
        let was = self.ws.multi();
        self.ws.list = if figures {
            list
        } else {
            // Not counted yet: the last figures stand until the new ones come.
            let mut list = Arc::unwrap_or_clone(list);
            for o in &mut list {
                if let Some(old) = self.ws.list.iter().find(|p| p.ws.id == o.ws.id) {
                    *o = WorkspaceOverview {
                        ws: o.ws.clone(),
                        ..old.clone()
                    };
                }
            }
            Arc::new(list)
        };
        let multi = self.ws.multi();
        if multi != was {
            self.tables = Tables::new(multi);
            self.set_assign_empty_text();
            self.ws.scope = if multi {
                ViewScope::All
            } else {
                ViewScope::Single
            };
        }
        if let ViewScope::One(id) = &self.ws.scope
            && !self.ws.list.iter().any(|o| o.ws.id == *id)
        {
            self.toast(
                ToastLevel::Warn,
                format!("workspace {id} is no longer in the database: showing all workspaces"),
            );
            self.ws.scope = ViewScope::All;
        }
        if !multi && self.tab == Tab::Workspaces {
            self.tab = Tab::Devices;
        }
        self.ws.loading = Some(scope);
        self.tables.set_expiring_layout(self.ws_layout());
        self.rebuild_workspace_rows();
    }

    /// A table load is for the scope shown (not one a reload read before `:ws` changed it).
    pub(super) fn load_is_current(&self) -> bool {
        self.ws.loading.as_ref().is_none_or(|l| *l == self.ws.scope)
    }

    /// The subscriptions of a database with several workspaces, with each one's workspace.
    pub(super) fn scoped_subscriptions_loaded(
        &mut self,
        records: Arc<Vec<SubscriptionRecord>>,
        names: Arc<Vec<Box<str>>>,
        table: TableData,
    ) {
        self.set_table(TableId::Subscriptions, table);
        self.subscriptions = records;
        self.ws.sub_names = names;
        self.rebuild_expiring();
    }

    /// The Workspaces tab's rows from the list and the live state.
    pub(super) fn rebuild_workspace_rows(&mut self) {
        self.ws.rows_stale = false;
        let data = workspaces::workspace_rows(&self.ws.list, &self.ws.live);
        self.set_table(TableId::Workspaces, data);
    }

    /// The Workspaces tab's key: refused with the reason in a one-workspace console.
    pub(super) fn go_workspaces(&mut self) {
        if self.ws.multi() {
            self.switch(Tab::Workspaces);
        } else {
            self.toast(
                ToastLevel::Info,
                "this database holds one workspace: there is no Workspaces tab",
            );
        }
    }

    /// Enter on the Workspaces tab: show that workspace, from its devices.
    pub(super) fn enter_workspace(&mut self) {
        let Some(id) = self
            .table()
            .selected_row()
            .and_then(|r| WorkspaceId::parse(&r.id))
        else {
            return;
        };
        self.set_scope(ViewScope::One(id));
        self.switch(Tab::Devices);
    }

    /// Show `scope` in every tab: the tables are read again for it.
    pub fn set_scope(&mut self, scope: ViewScope) {
        if !self.ws.multi() || scope == self.ws.scope {
            return;
        }
        self.ws.scope = scope;
        // The first screenful of the new scope replaces the rows of the old one.
        self.tables.get_mut(TableId::Devices).loaded = false;
        self.tables.set_expiring_layout(self.ws_layout());
        self.effects.push(Effect::Reload);
        self.dirty = true;
    }

    /// `:ws` (the Workspaces tab), `:ws all`, `:ws NAME`.
    pub(super) fn command_ws(&mut self, args: &[&str]) {
        if !self.ws.multi() {
            self.toast(
                ToastLevel::Info,
                ":ws: this database holds one workspace (nothing to switch to)",
            );
            return;
        }
        if args.is_empty() {
            self.switch(Tab::Workspaces);
            return;
        }
        let typed = args.join(" ");
        if typed.eq_ignore_ascii_case("all") {
            self.set_scope(ViewScope::All);
            return;
        }
        match workspaces::find(&self.ws.list, &typed) {
            Ok(o) => {
                let id = o.ws.id.clone();
                self.set_scope(ViewScope::One(id));
            }
            Err(fits) if fits.is_empty() => {
                let again = self.keymap.say(Action::TabWorkspaces);
                self.toast(
                    ToastLevel::Warn,
                    format!(
                        ":ws {typed}: no such workspace (the Workspaces tab, {again}, lists them)"
                    ),
                );
            }
            Err(fits) => {
                let names: Vec<String> = fits.iter().take(5).map(|n| workspaces::slug(n)).collect();
                self.toast(
                    ToastLevel::Warn,
                    format!(
                        ":ws {typed}: which one? {} (nothing switched)",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    /// What Tab completes after `:ws`: `all`, then the names as `:ws` takes them.
    pub(super) fn workspace_candidates(&self) -> Vec<String> {
        std::iter::once("all".to_string())
            .chain(self.ws.list.iter().map(|o| workspaces::slug(&o.ws.name)))
            .collect()
    }

    /// An event of a fleet (one engine per workspace), as [`App::on_workspace_event`].
    pub fn on_fleet_event(&mut self, ev: WorkspaceEvent) {
        self.on_workspace_event(ev.workspace, ev.event);
    }

    /// An event of one workspace's sync. A console over one workspace shows it as it always
    /// did; over several, each workspace's progress, breaker and outcome go to its row of
    /// the Workspaces tab and the status bar's summary, and only failures are toasted (with
    /// the workspace's name, one toast replacing the last: 200 tenants must not flood).
    pub fn on_workspace_event(&mut self, workspace: WorkspaceId, ev: SyncEvent) {
        if !self.ws.multi() {
            self.on_sync_event(ev);
            return;
        }
        self.dirty = true;
        self.ws.rows_stale = true;
        let name = self.ws.name_of(&workspace);
        let now = self.now;
        let in_scope = match &self.ws.scope {
            ViewScope::One(id) => *id == workspace,
            _ => true,
        };
        let mut toast = None;
        let mut reload = false;
        let live = self.ws.live.entry(workspace).or_default();
        match ev {
            SyncEvent::Started { .. } => {
                *live = WorkspaceLive {
                    running: true,
                    breaker: live.breaker,
                    error: live.error.take(),
                    last_good: live.last_good,
                    outcome: live.outcome.take(),
                    ..WorkspaceLive::default()
                };
            }
            SyncEvent::Page {
                resource,
                page,
                pages_total,
                items,
                items_total,
            } => {
                live.running = true;
                live.waiting = None;
                live.resource = Some(resource);
                (live.page, live.pages_total) = (page, pages_total);
                (live.items, live.items_total) = (items, items_total);
            }
            SyncEvent::Breaker(snap) => {
                let opened = snap.state == BreakerState::Open && live.breaker != BreakerState::Open;
                live.breaker = snap.state;
                if opened {
                    let text = format!("{name}: GreenLake unreachable, circuit breaker OPEN");
                    toast = Some(("workspace breaker", text));
                }
            }
            SyncEvent::Waiting { reason, .. } => live.waiting = Some(reason),
            SyncEvent::Resumed { .. } => live.waiting = None,
            SyncEvent::Retry { .. } | SyncEvent::RateLimited { .. } | SyncEvent::AlreadyRunning => {
            }
            SyncEvent::Finished(summary) => {
                live.running = false;
                live.waiting = None;
                live.outcome = Some((summary.outcome.as_str().to_string(), now));
                if summary.outcome == Outcome::Succeeded
                    && summary.mode != crate::domain::Mode::Refresh
                {
                    live.last_good = Some(now);
                    live.error = None;
                }
                reload = in_scope;
            }
            SyncEvent::Failed {
                kind,
                error,
                summary,
                refresh,
            } => {
                live.running = false;
                live.waiting = None;
                if kind != FailureKind::Cancelled && !refresh {
                    live.outcome = Some(("failed".to_string(), now));
                    live.error = Some(error.replace(['\n', '\r'], " "));
                }
                let text = format!("{name}: sync failed ({kind:?}): {error}");
                toast = Some(("workspace failed", text));
                // Pages already stored are worth showing.
                reload = summary.is_some() && in_scope;
            }
        }
        if let Some((key, text)) = toast {
            self.toast_keyed(ToastLevel::Error, key, text);
        }
        if reload {
            self.effects.push(Effect::Reload);
        }
        self.sync.pending = false;
        self.sync.running = self.ws.live.values().any(|l| l.running);
    }

    /// The newest status of one workspace's engine (a fleet keeps a `watch` per member):
    /// its breaker and, while it runs, its progress. A one-workspace console takes it as
    /// the engine's status.
    pub fn on_workspace_status(&mut self, workspace: WorkspaceId, status: EngineStatus) {
        if !self.ws.multi() {
            self.on_status(status);
            return;
        }
        let live = self.ws.live.entry(workspace).or_default();
        live.breaker = status.breaker.state;
        // The engine's watch is the truth about whether a run is going: it arrives on its own
        // channel, so an event and a status may cross, and only following the newest status
        // both ways settles (a console once showed "1 syncing" for a finished workspace).
        live.running = status.running.is_some();
        if let Some(p) = &status.running
            && p.resource.is_some()
        {
            live.resource = p.resource;
            (live.page, live.pages_total) = (p.page, p.pages_total);
            (live.items, live.items_total) = (p.items, p.items_total);
        }
        self.ws.rows_stale = true;
        self.dirty = true;
    }

    /// The tick: the Workspaces tab's rows catch up with the events of the last moment.
    pub(super) fn workspaces_tick(&mut self) {
        if self.ws.rows_stale {
            self.rebuild_workspace_rows();
            self.dirty = true;
        }
    }

    /// The Expiring lists of the subscriptions shown, with their workspaces as the scope
    /// says (grouped by workspace when all are shown).
    pub(super) fn expiring_data(&self, days: u32) -> (TableData, TableData) {
        let names = self.sub_names();
        let names = names.as_deref().map(Vec::as_slice);
        let layout = if names.is_some() {
            self.ws_layout()
        } else {
            WsLayout::None
        };
        let subs = &self.subscriptions;
        (
            rows::expiring_rows_in(subs, names, layout, self.now, days),
            rows::expired_rows_in(subs, names, layout, self.now),
        )
    }
}
