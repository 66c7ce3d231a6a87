//! All UI state and the pure functions that change it. Keys, engine events, loaded data and
//! ticks go in; the state changes and [`Effect`]s come out for the run loop to carry out.
//! Nothing here touches the terminal, the database or the clock, so tests drive it directly.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::{FilterJob, FilterResult};
use super::keymap::{Action, Keymap};
use super::model::rows::{self, MonthBucket};
use super::model::table::{TableData, TableModel};
use super::theme::Theme;
use super::wizard::{self, Wizard, WizardData};
use crate::assign::apply::ApplyEvent;
use crate::assign::options::Catalog;
use crate::assign::plan::Plan;
use crate::assign::report::ApplyReport;
use crate::config::UiConfig;
use crate::glp::breaker::{BreakerSnapshot, BreakerState};
use crate::store::audit::NewRun;
use crate::store::inventory::Resource;
use crate::store::views::{Detail, SubscriptionRecord};
use crate::sync::events::{
    EngineStatus, Mode as SyncMode, Outcome, Scope, SyncCommand, SyncEvent, Trigger, WaitReason,
};

/// The four tabs, in key order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Devices,
    Subscriptions,
    Expiring,
    Assign,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Devices, Tab::Subscriptions, Tab::Expiring, Tab::Assign];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Devices => "Devices",
            Tab::Subscriptions => "Subscriptions",
            Tab::Expiring => "Expiring",
            Tab::Assign => "Assign",
        }
    }
    fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Table slots (also the filter worker's table ids).
pub const T_DEVICES: usize = 0;
pub const T_SUBSCRIPTIONS: usize = 1;
pub const T_EXPIRING: usize = 2;
pub const T_EXPIRED: usize = 3;
pub const T_ASSIGN: usize = 4;
/// The assignment wizard's lists (see [`super::wizard`]).
pub const T_W_ISSUES: usize = 5;
pub const T_W_REVIEW: usize = 6;
pub const T_W_SUBS: usize = 7;
pub const T_W_APPS: usize = 8;
pub const T_W_PLAN: usize = 9;
pub const T_W_REPORT: usize = 10;

/// What the keyboard is talking to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputMode {
    Normal,
    Filter,
    Command,
    Help,
    Detail,
    Columns,
}

/// Work the run loop carries out for the app.
#[derive(Debug, Clone)]
pub enum Effect {
    Sync(SyncCommand),
    /// Reload every tab from the database (start, and after a sync lands).
    Reload,
    LoadDetail {
        table: usize,
        id: String,
    },
    Filter(FilterJob),
    /// Write this text to the clipboard (OSC 52).
    Copy(String),
    Export {
        path: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// Read a spreadsheet and match it; the answer is [`Loaded::Wizard`] with the same
    /// generation.
    WizardLoad {
        generation: u64,
        path: PathBuf,
        /// The path as typed (a directory is completed instead of read).
        typed: String,
        sheet: Option<String>,
    },
    /// Complete the typed path from the file system; the answer is
    /// [`Loaded::WizardCompleted`].
    WizardComplete {
        typed: String,
    },
    /// Read what the choices are made from (subscriptions, tags, the service catalog); the
    /// answer is [`Loaded::WizardCatalog`]. Started when the wizard opens, so it is there by
    /// the time the user has typed the path.
    WizardCatalog,
    /// Start applying a plan; events come back as [`Loaded::WizardEvent`], the end as
    /// [`Loaded::WizardDone`].
    WizardApply {
        plan: Box<Plan>,
        run: Box<NewRun>,
        dry_run: bool,
    },
    /// Stop the running apply after the calls in flight.
    WizardCancel,
    /// Write the report (.xlsx or .json by the extension).
    WizardExport {
        report: Arc<ApplyReport>,
        path: PathBuf,
    },
    Quit,
}

/// Data arriving from the loader task.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// The first screenful of devices and the full count, shown while the rest loads.
    DevicesHead {
        data: TableData,
        total: usize,
    },
    Devices(TableData),
    Subscriptions {
        records: Arc<Vec<SubscriptionRecord>>,
        table: TableData,
    },
    Covered(rows::Covered),
    Assign(TableData),
    LastGoodSync(Option<DateTime<Utc>>),
    Detail {
        table: usize,
        id: String,
        detail: Option<Detail>,
    },
    Failed(String),
    Exported(Result<String, String>),
    Wizard {
        generation: u64,
        result: Result<Box<WizardData>, String>,
    },
    WizardCatalog(Result<(Arc<Catalog>, Option<String>), String>),
    /// A path completion: from Tab (`load: None`) or Enter on a directory (that load).
    WizardCompleted {
        typed: String,
        new: String,
        candidates: Vec<String>,
        load: Option<u64>,
    },
    WizardEvent(ApplyEvent),
    WizardDone(Result<Arc<ApplyReport>, String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub text: String,
    pub level: ToastLevel,
    pub until: DateTime<Utc>,
}

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
    pub scope: Option<Scope>,
    pub mode: Option<SyncMode>,
    pub started: Option<DateTime<Utc>>,
    pub resources: BTreeMap<&'static str, ResourceProgress>,
    pub current: Option<Resource>,
    /// Items per second (from the engine's status, or measured from page events).
    pub rate: f64,
    /// One sample per second of `rate`, for the sparkline.
    pub history: VecDeque<u64>,
    items_mark: Option<(DateTime<Utc>, u64)>,
    /// While the run waits for GreenLake to come back: why, and when it tries next.
    pub waiting: Option<(WaitReason, DateTime<Utc>)>,
}

/// The detail pane's content.
#[derive(Debug, Clone, PartialEq)]
pub struct DetailView {
    pub title: String,
    pub lines: Vec<(DetailStyle, String)>,
    pub scroll: usize,
    pub copy: String,
    pub loading: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailStyle {
    Heading,
    Field,
    Text,
    Json,
}

/// The whole UI state.
pub struct App {
    pub tab: Tab,
    pub tables: Vec<TableModel>,
    pub keymap: Keymap,
    pub theme: Theme,
    pub read_only: bool,
    pub now: DateTime<Utc>,
    pub mode: InputMode,
    /// Text of the filter or command line being typed.
    pub input: String,
    pub completions: Vec<String>,
    pub help_scroll: usize,
    pub detail: Option<DetailView>,
    pub columns_cursor: usize,
    pub toasts: Vec<Toast>,
    pub status: EngineStatus,
    /// When the breaker snapshot arrived (its `retry_in` counts from then).
    pub breaker_at: DateTime<Utc>,
    pub sync: SyncView,
    pub last_good: Option<DateTime<Utc>>,
    pub window_days: u32,
    pub focus_expired: bool,
    pub subscriptions: Arc<Vec<SubscriptionRecord>>,
    pub covered: rows::Covered,
    pub chart: Vec<MonthBucket>,
    pub effects: Vec<Effect>,
    pub generation: u64,
    /// Set whenever something visible changed; the loop redraws and clears it.
    pub dirty: bool,
    pub quit: bool,
    pub load_error: Option<String>,
    /// Per-frame visible table height, learned while drawing (for paging).
    pub page_height: usize,
    pub matcher: nucleo_matcher::Matcher,
    /// The assignment wizard, while it is open in the Assign tab.
    pub wizard: Option<Wizard>,
    /// For `~` in the wizard's paths.
    pub home: Option<PathBuf>,
    /// Where the wizard writes exported reports.
    pub reports_dir: PathBuf,
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

impl App {
    /// A fresh app. `warnings` (config problems) are shown as toasts.
    pub fn new(ui: &UiConfig, read_only: bool, no_color: bool, now: DateTime<Utc>) -> App {
        let (keymap, mut warnings) = Keymap::new(&ui.keys, read_only);
        let (theme, w2) = Theme::from_config(&ui.theme, &ui.colors, no_color);
        warnings.extend(w2);
        let window = match ui.expiring_days {
            0..=30 => 30,
            31..=60 => 60,
            _ => 90,
        };
        let mut app = App {
            tab: Tab::Devices,
            tables: vec![
                TableModel::new(
                    rows::device_columns(),
                    rows::DEVICE_COPY,
                    Some(rows::DEVICE_BREAKDOWN),
                ),
                TableModel::new(
                    rows::subscription_columns(),
                    rows::SUBSCRIPTION_COPY,
                    Some(rows::SUBSCRIPTION_BREAKDOWN),
                ),
                TableModel::new(rows::expiring_columns(), 0, Some(3)),
                TableModel::new(rows::expiring_columns(), 0, Some(3)),
                TableModel::new(rows::assign_columns(), 0, Some(3)),
                TableModel::new(wizard::issue_columns(), 4, Some(0)),
                TableModel::new(wizard::review_columns(), 1, Some(2)),
                TableModel::new(wizard::subscription_columns(), 0, None),
                TableModel::new(wizard::application_columns(), 3, None),
                TableModel::new(wizard::plan_columns(), 1, None),
                TableModel::new(wizard::report_columns(), 2, None),
            ],
            keymap,
            theme,
            read_only,
            now,
            mode: InputMode::Normal,
            input: String::new(),
            completions: Vec::new(),
            help_scroll: 0,
            detail: None,
            columns_cursor: 0,
            toasts: Vec::new(),
            status: EngineStatus::default(),
            breaker_at: now,
            sync: SyncView::default(),
            last_good: None,
            window_days: window,
            focus_expired: false,
            subscriptions: Arc::new(Vec::new()),
            covered: rows::Covered::default(),
            chart: rows::month_buckets(&[], now),
            effects: vec![Effect::Reload],
            generation: 0,
            dirty: true,
            quit: false,
            load_error: None,
            page_height: 20,
            matcher: nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT),
            wizard: None,
            home: None,
            reports_dir: PathBuf::from("."),
        };
        for w in warnings {
            app.toast(ToastLevel::Warn, w);
        }
        app
    }

    /// Take the effects queued since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        let secs = match level {
            ToastLevel::Info => 4,
            ToastLevel::Warn => 8,
            ToastLevel::Error => 12,
        };
        self.toasts.push(Toast {
            text: text.into(),
            level,
            until: self.now + chrono::Duration::seconds(secs),
        });
        if self.toasts.len() > 4 {
            self.toasts.remove(0);
        }
        self.dirty = true;
    }

    /// The table the cursor is in.
    pub fn active_table(&self) -> usize {
        match self.tab {
            Tab::Devices => T_DEVICES,
            Tab::Subscriptions => T_SUBSCRIPTIONS,
            Tab::Expiring if self.focus_expired => T_EXPIRED,
            Tab::Expiring => T_EXPIRING,
            Tab::Assign => self
                .wizard
                .as_ref()
                .and_then(|w| w.step.table())
                .unwrap_or(T_ASSIGN),
        }
    }

    /// Is the wizard what the Assign tab shows right now?
    pub fn wizard_on_screen(&self) -> bool {
        self.tab == Tab::Assign && self.wizard.is_some()
    }

    pub fn table(&self) -> &TableModel {
        &self.tables[self.active_table()]
    }
    fn table_mut(&mut self) -> &mut TableModel {
        let t = self.active_table();
        &mut self.tables[t]
    }

    /// Clock tick (about once a second): expire toasts, sample the sync rate, move countdowns.
    pub fn on_tick(&mut self, now: DateTime<Utc>) {
        let second_changed = now.timestamp() != self.now.timestamp();
        self.now = now;
        let before = self.toasts.len();
        self.toasts.retain(|t| t.until > now);
        if self.toasts.len() != before {
            self.dirty = true;
        }
        if second_changed {
            if self.sync.running {
                let rate = self.sync.rate.max(0.0) as u64;
                self.sync.history.push_back(rate);
                if self.sync.history.len() > 60 {
                    self.sync.history.pop_front();
                }
            }
            // Ages, countdowns and the clock change every second.
            self.dirty = true;
        }
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
            } => {
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
            SyncEvent::Retry {
                attempt,
                delay,
                reason,
            } => {
                self.toast(
                    ToastLevel::Warn,
                    format!("retry {attempt} in {}s: {reason}", delay.as_secs()),
                );
            }
            SyncEvent::RateLimited { endpoint, wait } => {
                self.toast(
                    ToastLevel::Info,
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
            SyncEvent::Finished(summary) => {
                self.sync.running = false;
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
                if self.wizard.as_ref().is_some_and(|w| {
                    w.data.is_some()
                        && matches!(
                            w.step,
                            wizard::WizardStep::Validate
                                | wizard::WizardStep::Review
                                | wizard::WizardStep::Subscription
                                | wizard::WizardStep::Region
                                | wizard::WizardStep::Tags
                                | wizard::WizardStep::Plan
                        )
                }) {
                    self.toast(
                        ToastLevel::Info,
                        "the inventory changed: go back to the review and press r to match the sheet again",
                    );
                }
                if summary.outcome == Outcome::Succeeded {
                    self.last_good = Some(self.now.max(self.last_good.unwrap_or(self.now)));
                    self.status.stale = false;
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
            SyncEvent::Failed {
                kind,
                error,
                summary,
            } => {
                self.sync.running = false;
                self.sync.waiting = None;
                self.status.stale = true;
                self.toast(
                    ToastLevel::Error,
                    format!("sync failed ({kind:?}): {error}"),
                );
                if summary.is_some() {
                    // Pages already stored are worth showing.
                    self.effects.push(Effect::Reload);
                }
            }
        }
    }

    /// Data from the loader.
    pub fn on_loaded(&mut self, l: Loaded) {
        self.dirty = true;
        match l {
            Loaded::DevicesHead { data, total } => {
                if self.tables[T_DEVICES].set_head(data, total) {
                    self.request_filter(T_DEVICES);
                }
            }
            Loaded::Devices(d) => self.set_table(T_DEVICES, d),
            Loaded::Subscriptions { records, table } => {
                self.set_table(T_SUBSCRIPTIONS, table);
                self.subscriptions = records;
                self.rebuild_expiring();
            }
            Loaded::Covered(c) => self.covered = c,
            Loaded::Assign(d) => self.set_table(T_ASSIGN, d),
            Loaded::LastGoodSync(t) => {
                if t > self.last_good {
                    self.last_good = t;
                }
            }
            Loaded::Detail { table, id, detail } => self.fill_detail(table, &id, detail),
            Loaded::Failed(e) => {
                self.load_error = Some(e.clone());
                self.toast(
                    ToastLevel::Error,
                    format!("loading from the database failed: {e}"),
                );
            }
            Loaded::Exported(Ok(msg)) => self.toast(ToastLevel::Info, msg),
            Loaded::Exported(Err(e)) => self.toast(ToastLevel::Error, e),
            Loaded::Wizard { generation, result } => self.wizard_loaded(generation, result),
            Loaded::WizardCatalog(r) => self.wizard_catalog(r),
            Loaded::WizardCompleted {
                typed,
                new,
                candidates,
                load,
            } => self.wizard_completed(typed, new, candidates, load),
            Loaded::WizardEvent(ev) => self.wizard_apply_event(ev),
            Loaded::WizardDone(r) => self.wizard_apply_done(r),
        }
    }

    /// A filter result from the worker (stale ones are dropped by the table).
    pub fn on_filter(&mut self, r: FilterResult) {
        if let Some(t) = self.tables.get_mut(r.table)
            && t.apply_filter(r.generation, r.mask, r.breakdown)
        {
            self.dirty = true;
        }
    }

    pub(crate) fn set_table(&mut self, t: usize, data: TableData) {
        if self.tables[t].set_data(data) {
            self.request_filter(t);
        }
    }

    fn rebuild_expiring(&mut self) {
        let now = self.now;
        let subs = self.subscriptions.clone();
        self.set_table(
            T_EXPIRING,
            rows::expiring_rows(&subs, now, self.window_days),
        );
        self.set_table(T_EXPIRED, rows::expired_rows(&subs, now));
        self.chart = rows::month_buckets(&subs, now);
    }

    fn request_filter(&mut self, t: usize) {
        self.generation += 1;
        let table = &mut self.tables[t];
        table.awaited = self.generation;
        if table.filter.is_empty() {
            return;
        }
        self.effects.push(Effect::Filter(FilterJob {
            table: t,
            generation: self.generation,
            query: table.filter.clone(),
            rows: table.rows().clone(),
            visible: table.visible_columns(),
            breakdown_col: table.breakdown_col,
        }));
    }

    /// A key press. Ctrl-C always quits, whatever the mode or keymap.
    pub fn handle_key(&mut self, ev: KeyEvent) {
        if ev.kind == crossterm::event::KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if ev.modifiers.contains(KeyModifiers::CONTROL) && ev.code == KeyCode::Char('c') {
            // A running assignment is asked to stop first, never dropped mid-call.
            if !self.wizard_ctrl_c() {
                self.quit();
            }
            return;
        }
        match self.mode {
            InputMode::Filter => self.key_filter(ev),
            InputMode::Command => self.key_command(ev),
            InputMode::Help => self.key_help(ev),
            InputMode::Detail => self.key_detail(ev),
            InputMode::Columns => self.key_columns(ev),
            InputMode::Normal => {
                if self.wizard_on_screen() && self.wizard_key(ev) {
                    return;
                }
                if let Some(a) = self.keymap.action(&ev) {
                    if self.wizard_on_screen() && matches!(a, Action::Quit | Action::Detail) {
                        // The wizard's own keys cover these (Esc/q back, Enter next).
                        return;
                    }
                    self.act(a);
                }
            }
        }
    }

    fn quit(&mut self) {
        if self.wizard.as_ref().is_some_and(|w| w.busy()) {
            self.tab = Tab::Assign;
            self.toast(
                ToastLevel::Warn,
                "an assignment is running: cancel it first (Esc), then quit",
            );
            return;
        }
        if !self.quit {
            self.quit = true;
            self.effects.push(Effect::Quit);
        }
    }

    /// Carry out an action (from a key, the command line or a test).
    pub fn act(&mut self, a: Action) {
        let page = self.page_height.max(1) as isize;
        match a {
            Action::Quit => self.quit(),
            Action::Help => {
                self.mode = InputMode::Help;
                self.help_scroll = 0;
            }
            Action::TabDevices => self.switch(Tab::Devices),
            Action::TabSubscriptions => self.switch(Tab::Subscriptions),
            Action::TabExpiring => self.switch(Tab::Expiring),
            Action::TabAssign => self.switch(Tab::Assign),
            Action::NextTab => self.switch(Tab::ALL[(self.tab.index() + 1) % 4]),
            Action::PrevTab => self.switch(Tab::ALL[(self.tab.index() + 3) % 4]),
            Action::Up => self.table_mut().move_by(-1),
            Action::Down => self.table_mut().move_by(1),
            Action::Top => self.table_mut().top(),
            Action::Bottom => self.table_mut().bottom(),
            Action::PageUp => self.table_mut().move_by(-page),
            Action::PageDown => self.table_mut().move_by(page),
            Action::HalfPageUp => self.table_mut().move_by(-(page / 2).max(1)),
            Action::HalfPageDown => self.table_mut().move_by((page / 2).max(1)),
            Action::Detail => self.open_detail(),
            Action::Back => {
                if self.table().filter_active() {
                    self.table_mut().clear_filter();
                }
            }
            Action::Filter => {
                self.mode = InputMode::Filter;
                self.input = self.table().filter.clone();
            }
            Action::Command => {
                self.mode = InputMode::Command;
                self.input.clear();
                self.completions.clear();
            }
            Action::SortNext | Action::SortPrev => {
                let t = self.table();
                let vis = t.visible_columns();
                let cur = t.sort.map(|(c, _)| c);
                let pos = cur.and_then(|c| vis.iter().position(|v| *v == c));
                let next = match (pos, a == Action::SortNext) {
                    (None, true) => 0,
                    (None, false) => vis.len().saturating_sub(1),
                    (Some(p), true) => (p + 1) % vis.len().max(1),
                    (Some(p), false) => (p + vis.len().max(1) - 1) % vis.len().max(1),
                };
                if let Some(col) = vis.get(next).copied() {
                    self.table_mut().sort_by(col, false);
                }
            }
            Action::SortReverse => {
                let (col, desc) = self.table().sort.unwrap_or((0, false));
                self.table_mut().sort_by(col, !desc);
            }
            Action::Columns => {
                self.mode = InputMode::Columns;
                self.columns_cursor = 0;
            }
            Action::CopyId => {
                if let Some(r) = self.table().selected_row() {
                    let v = r.cell(self.table().copy_col).to_string();
                    if !v.is_empty() {
                        self.effects.push(Effect::Copy(v.clone()));
                        self.toast(ToastLevel::Info, format!("copied {v}"));
                    }
                }
            }
            Action::CopyRow => {
                let t = self.table();
                if let Some(r) = t.selected_row() {
                    let line = t
                        .visible_columns()
                        .iter()
                        .map(|c| r.cell(*c))
                        .collect::<Vec<_>>()
                        .join("\t");
                    self.effects.push(Effect::Copy(line));
                    self.toast(ToastLevel::Info, "copied the row (tab separated)");
                }
            }
            Action::Sync | Action::SyncFull => {
                if self.read_only {
                    return;
                }
                if self.sync.running {
                    self.toast(
                        ToastLevel::Info,
                        "a sync is already running — its progress is in the status bar",
                    );
                    return;
                }
                let mode = if a == Action::SyncFull {
                    SyncMode::Full
                } else {
                    SyncMode::Auto
                };
                self.effects.push(Effect::Sync(SyncCommand::SyncNow {
                    scope: Scope::Both,
                    mode,
                    trigger: Trigger::Tui,
                }));
                self.toast(
                    ToastLevel::Info,
                    format!(
                        "{} sync requested",
                        if mode == SyncMode::Full {
                            "full"
                        } else {
                            "incremental"
                        }
                    ),
                );
            }
            Action::CancelSync => {
                if !self.read_only && self.sync.running {
                    self.effects.push(Effect::Sync(SyncCommand::Cancel));
                    self.toast(
                        ToastLevel::Warn,
                        "cancelling the sync after the page in flight",
                    );
                }
            }
            Action::Window => {
                if self.tab == Tab::Expiring {
                    let next = match self.window_days {
                        30 => 60,
                        60 => 90,
                        _ => 30,
                    };
                    self.set_window(next);
                }
            }
            Action::FocusExpired => {
                if self.tab == Tab::Expiring {
                    self.focus_expired = !self.focus_expired;
                }
            }
            Action::AssignNew => {
                if self.tab == Tab::Assign && self.wizard.is_none() {
                    self.wizard_new();
                }
            }
        }
    }

    fn switch(&mut self, tab: Tab) {
        self.tab = tab;
    }

    /// Change the Expiring window (30/60/90 days, or any 1..=3650 from `:window`).
    pub fn set_window(&mut self, days: u32) {
        self.window_days = days;
        let now = self.now;
        let subs = self.subscriptions.clone();
        self.set_table(T_EXPIRING, rows::expiring_rows(&subs, now, days));
    }

    fn key_filter(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.table_mut().clear_filter();
            }
            KeyCode::Enter => {
                self.mode = InputMode::Normal;
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.filter_changed();
            }
            KeyCode::Char('u') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear();
                self.filter_changed();
            }
            KeyCode::Down | KeyCode::Up => {
                self.table_mut()
                    .move_by(if ev.code == KeyCode::Down { 1 } else { -1 });
            }
            KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
                self.filter_changed();
            }
            _ => {}
        }
    }

    fn filter_changed(&mut self) {
        let q = self.input.trim().to_string();
        let t = self.active_table();
        if q.is_empty() {
            self.tables[t].clear_filter();
        } else {
            self.tables[t].filter = q;
            self.request_filter(t);
        }
    }

    fn key_help(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                self.mode = InputMode::Normal
            }
            KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
            KeyCode::Up | KeyCode::Char('k') => {
                self.help_scroll = self.help_scroll.saturating_sub(1)
            }
            _ => {}
        }
    }

    fn key_columns(&mut self, ev: KeyEvent) {
        let n = self.table().columns.len();
        match ev.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('c') => {
                self.mode = InputMode::Normal;
                // The match line depends on the visible columns.
                let t = self.active_table();
                if self.tables[t].filter_active() {
                    self.request_filter(t);
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.columns_cursor = (self.columns_cursor + 1).min(n.saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.columns_cursor = self.columns_cursor.saturating_sub(1)
            }
            KeyCode::Char(' ') | KeyCode::Char('x') => {
                let c = self.columns_cursor;
                self.table_mut().toggle_column(c);
            }
            _ => {}
        }
    }

    fn open_detail(&mut self) {
        let t = self.active_table();
        let Some(row) = self.tables[t].selected_row() else {
            return;
        };
        let id = row.id.to_string();
        let copy = row.cell(self.tables[t].copy_col).to_string();
        let mut lines = Vec::new();
        let table = &self.tables[t];
        for (c, col) in table.columns.iter().enumerate() {
            lines.push((
                DetailStyle::Field,
                format!("{:<14}{}", col.name, row.cell(c)),
            ));
        }
        self.detail = Some(DetailView {
            title: format!("{} {}", self.tab.title().trim_end_matches('s'), copy),
            lines,
            scroll: 0,
            copy,
            loading: t != T_ASSIGN,
        });
        self.mode = InputMode::Detail;
        if t != T_ASSIGN {
            self.effects.push(Effect::LoadDetail { table: t, id });
        }
    }

    fn fill_detail(&mut self, table: usize, id: &str, detail: Option<Detail>) {
        let current = self.tables[self.active_table()]
            .selected_row()
            .map(|r| r.id.to_string());
        let Some(view) = self.detail.as_mut() else {
            return;
        };
        if current.as_deref() != Some(id) {
            return;
        }
        view.loading = false;
        let Some(d) = detail else {
            view.lines.push((
                DetailStyle::Heading,
                "This record is no longer in the database.".into(),
            ));
            return;
        };
        // Every field GLP sent, flattened.
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((DetailStyle::Heading, "All fields".into()));
        flatten("", &d.raw, &mut view.lines);
        let heading = if table == T_DEVICES {
            "Subscriptions"
        } else {
            "Devices covered"
        };
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((
            DetailStyle::Heading,
            format!("{heading} ({})", d.links_total),
        ));
        for l in &d.links {
            let end = l
                .end_time
                .map(|t| format!(" ends {}", rows::fmt_date(Some(t))))
                .unwrap_or_default();
            view.lines.push((
                DetailStyle::Text,
                format!("  {:<20} {}{}", l.name, l.info, end),
            ));
        }
        if (d.links.len() as i64) < d.links_total {
            view.lines.push((
                DetailStyle::Text,
                format!("  … and {} more", d.links_total - d.links.len() as i64),
            ));
        }
        view.lines.push((DetailStyle::Heading, String::new()));
        view.lines.push((DetailStyle::Heading, "Raw JSON".into()));
        let pretty = serde_json::to_string_pretty(&d.raw).unwrap_or_default();
        for l in pretty.lines() {
            view.lines.push((DetailStyle::Json, l.to_string()));
        }
    }

    fn key_detail(&mut self, ev: KeyEvent) {
        let page = self.page_height.max(1);
        let Some(d) = self.detail.as_mut() else {
            self.mode = InputMode::Normal;
            return;
        };
        let max = d.lines.len().saturating_sub(1);
        match self.keymap.action(&ev) {
            Some(Action::Back) | Some(Action::Quit) | Some(Action::Detail) => {
                self.detail = None;
                self.mode = InputMode::Normal;
            }
            Some(Action::Down) => d.scroll = (d.scroll + 1).min(max),
            Some(Action::Up) => d.scroll = d.scroll.saturating_sub(1),
            Some(Action::PageDown) | Some(Action::HalfPageDown) => {
                d.scroll = (d.scroll + page / 2).min(max)
            }
            Some(Action::PageUp) | Some(Action::HalfPageUp) => {
                d.scroll = d.scroll.saturating_sub(page / 2)
            }
            Some(Action::Top) => d.scroll = 0,
            Some(Action::Bottom) => d.scroll = max,
            Some(Action::CopyId) => {
                let v = d.copy.clone();
                self.effects.push(Effect::Copy(v.clone()));
                self.toast(ToastLevel::Info, format!("copied {v}"));
            }
            _ => {}
        }
    }

    // ---- command line --------------------------------------------------------------------

    fn key_command(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.completions.clear();
            }
            KeyCode::Enter => {
                self.mode = InputMode::Normal;
                let line = std::mem::take(&mut self.input);
                self.completions.clear();
                self.run_command(&line);
            }
            KeyCode::Tab => self.complete(),
            KeyCode::Backspace => {
                self.input.pop();
                self.completions = self.candidates();
            }
            KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
                self.completions = self.candidates();
            }
            _ => {}
        }
    }

    fn commands(&self) -> Vec<&'static str> {
        let mut c = vec![
            "sort", "cols", "export", "window", "filter", "help", "q", "quit",
        ];
        if !self.read_only {
            c.insert(0, "sync");
        }
        c
    }

    /// Completions for the word being typed on the command line.
    pub fn candidates(&self) -> Vec<String> {
        let input = self.input.trim_start();
        let mut words: Vec<&str> = input.split_whitespace().collect();
        let typing_new = input.ends_with(' ') || input.is_empty();
        let partial = if typing_new {
            ""
        } else {
            words.pop().unwrap_or("")
        };
        let options: Vec<String> = match words.first().copied() {
            None => self.commands().iter().map(|s| s.to_string()).collect(),
            Some("sort") if words.len() == 1 => self
                .table()
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace(' ', "_"))
                .collect(),
            Some("sort") => vec!["asc".into(), "desc".into()],
            Some("cols") => self
                .table()
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace(' ', "_"))
                .collect(),
            Some("window") => vec!["30".into(), "60".into(), "90".into()],
            Some("sync") => vec!["full".into(), "devices".into(), "subscriptions".into()],
            Some("export") => vec![format!("{}.csv", self.tab.title().to_lowercase())],
            _ => Vec::new(),
        };
        let p = partial.to_lowercase();
        options
            .into_iter()
            .filter(|o| o.starts_with(&p) && o != &p)
            .collect()
    }

    fn complete(&mut self) {
        let c = self.candidates();
        if c.is_empty() {
            return;
        }
        // Longest common prefix of the candidates.
        let mut prefix = c[0].clone();
        for o in &c[1..] {
            while !o.starts_with(&prefix) {
                prefix.pop();
            }
        }
        let typing_new = self.input.ends_with(' ') || self.input.is_empty();
        if !typing_new {
            while self.input.chars().last().is_some_and(|ch| ch != ' ') {
                self.input.pop();
            }
        }
        self.input.push_str(&prefix);
        if c.len() == 1 {
            self.input.push(' ');
        }
        self.completions = self.candidates();
    }

    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(cmd) = words.first().copied() else {
            return;
        };
        let args = &words[1..];
        match cmd {
            "q" | "quit" | "q!" => self.quit(),
            "help" => self.act(Action::Help),
            "sync" if !self.read_only => {
                if self.sync.running {
                    self.toast(
                        ToastLevel::Info,
                        "a sync is already running — its progress is in the status bar",
                    );
                    return;
                }
                let mode = if args.contains(&"full") {
                    SyncMode::Full
                } else {
                    SyncMode::Auto
                };
                let scope = if args.contains(&"devices") {
                    Scope::Devices
                } else if args.contains(&"subscriptions") {
                    Scope::Subscriptions
                } else {
                    Scope::Both
                };
                self.effects.push(Effect::Sync(SyncCommand::SyncNow {
                    scope,
                    mode,
                    trigger: Trigger::Tui,
                }));
                self.toast(
                    ToastLevel::Info,
                    format!("{} sync of {} requested", mode.as_str(), scope.as_str()),
                );
            }
            "sort" => {
                let Some(name) = args.first() else {
                    self.toast(
                        ToastLevel::Warn,
                        ":sort needs a column, e.g. :sort serial desc",
                    );
                    return;
                };
                match self.table().column_by_name(&name.replace('_', " ")) {
                    Some(c) => {
                        let desc = args.get(1).is_some_and(|d| d.starts_with("desc"));
                        self.table_mut().sort_by(c, desc);
                    }
                    None => self.toast(
                        ToastLevel::Warn,
                        format!(":sort {name}: no such column here"),
                    ),
                }
            }
            "cols" => {
                if args.is_empty() {
                    self.act(Action::Columns);
                    return;
                }
                let wanted: Vec<usize> = args
                    .iter()
                    .flat_map(|a| a.split(','))
                    .filter_map(|n| self.table().column_by_name(&n.replace('_', " ")))
                    .collect();
                if wanted.is_empty() {
                    self.toast(ToastLevel::Warn, ":cols: none of those columns exist here");
                    return;
                }
                let t = self.active_table();
                for (i, c) in self.tables[t].columns.iter_mut().enumerate() {
                    c.visible = wanted.contains(&i);
                }
                if self.tables[t].filter_active() {
                    self.request_filter(t);
                }
            }
            "window" => match args.first().and_then(|d| d.parse::<u32>().ok()) {
                Some(d) if (1..=3650).contains(&d) => {
                    self.tab = Tab::Expiring;
                    self.set_window(d);
                }
                _ => self.toast(
                    ToastLevel::Warn,
                    ":window needs a number of days, e.g. :window 30",
                ),
            },
            "filter" => {
                self.input = args.join(" ");
                self.filter_changed();
                self.input.clear();
            }
            "export" => {
                let path = args
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| format!("{}.csv", self.tab.title().to_lowercase()));
                let t = self.table();
                let vis = t.visible_columns();
                let header = vis.iter().map(|c| t.columns[*c].name.to_string()).collect();
                let rows = t
                    .view_rows()
                    .map(|r| vis.iter().map(|c| r.cell(*c).to_string()).collect())
                    .collect();
                self.effects.push(Effect::Export { path, header, rows });
            }
            other => self.toast(
                ToastLevel::Warn,
                format!(
                    ":{other}: unknown command (try {})",
                    self.commands().join(" ")
                ),
            ),
        }
    }

    /// How long until the breaker allows a probe, counted down from when the snapshot came.
    pub fn breaker_retry_secs(&self) -> Option<i64> {
        let r = self.status.breaker.retry_in?;
        let elapsed = (self.now - self.breaker_at).num_seconds().max(0);
        Some((r.as_secs() as i64 - elapsed).max(0))
    }

    pub fn breaker(&self) -> &BreakerSnapshot {
        &self.status.breaker
    }

    /// Simulate typing (tests and benchmarks).
    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.handle_key(key(c));
        }
    }
}

/// Flatten JSON into `path  value` lines (objects by key, arrays by index).
fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(DetailStyle, String)>) {
    use serde_json::Value;
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&p, v, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for (i, v) in a.iter().enumerate() {
                flatten(&format!("{prefix}[{i}]"), v, out);
            }
        }
        Value::String(s) => out.push((DetailStyle::Field, format!("  {prefix:<28} {s}"))),
        other => out.push((DetailStyle::Field, format!("  {prefix:<28} {other}"))),
    }
}
