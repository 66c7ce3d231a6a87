//! All UI state and the pure functions that change it. Keys, engine events, loaded data and
//! ticks go in; the state changes and [`Effect`]s come out for the run loop to carry out.
//! Nothing here touches the terminal, the database or the clock, so tests drive it directly.
//!
//! Split by responsibility: `tables` (the tables by [`TableId`]), `sync_view` (engine
//! status and events), `actions` (what a normal-mode key does), `modes` (filter, help
//! and column keys), `command_line` (`:`), `detail` (the detail pane), `loaded` (data
//! from the loader) and `wizard_host` (the wizard component's place in the app). The
//! fields are private: views read them through the accessors below.

mod actions;
mod changes;
mod command_line;
pub mod commands;
mod detail;
mod drill;
mod help;
mod loaded;
mod marking;
mod messages;
mod modes;
mod overview;
mod parts;
mod runs;
mod saved;
mod sync_view;
mod tables;
mod wizard_host;
mod workspaces;

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::filter::FilterResult;
use super::keys::{Action, Keymap, WizardAction};
use super::line_edit::LineEdit;
use super::model::marks::Marks;
use super::model::rows::{self, MonthBucket};
use super::saved_views::ViewsFile;
use super::theme::Theme;
use super::wizard::Wizard;
use crate::config::UiConfig;
use crate::domain::WorkspaceId;
use crate::glp::breaker::BreakerSnapshot;
use crate::store::views::SubscriptionRecord;
use crate::sync::events::EngineStatus;

pub use super::model::table_id::{TableId, WizardTable};
pub use super::toast::{Toast, ToastLevel};
pub use messages::{Effect, Loaded};
use parts::Tables;
pub use parts::{
    ChangesView, DetailStyle, DetailView, HelpLine, InputMode, OverviewCaps, OverviewItem,
    OverviewPanel, OverviewView, ResourceProgress, Scratch, SyncView, WorkspacesView,
    overview_items,
};

/// The tabs, in key order: the overview (`0`, the pulse first), four, and Workspaces when
/// the database holds several.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Devices,
    Subscriptions,
    Expiring,
    Assign,
    Workspaces,
    /// `:changes`: entered by the command, left with Esc; no tab key cycles to it.
    Changes,
}

impl Tab {
    /// The tabs of a database with one workspace.
    pub const ALL: [Tab; 5] = [
        Tab::Overview,
        Tab::Devices,
        Tab::Subscriptions,
        Tab::Expiring,
        Tab::Assign,
    ];
    /// The tabs of a database with several.
    pub const MULTI: [Tab; 6] = [
        Tab::Overview,
        Tab::Devices,
        Tab::Subscriptions,
        Tab::Expiring,
        Tab::Assign,
        Tab::Workspaces,
    ];
    pub fn title(self) -> &'static str {
        match self {
            Tab::Overview => "Overview",
            Tab::Devices => "Devices",
            Tab::Subscriptions => "Subscriptions",
            Tab::Expiring => "Expiring",
            Tab::Assign => "Assign",
            Tab::Workspaces => "Workspaces",
            Tab::Changes => "Changes",
        }
    }
}

/// The whole UI state.
pub struct App {
    tab: Tab,
    tables: Tables,
    keymap: Keymap,
    theme: Theme,
    read_only: bool,
    /// Why this console cannot sync ("read-only", no credentials), shown in
    /// the status bar and in every refusal.
    sync_off: Option<String>,
    now: DateTime<Utc>,
    mode: InputMode,
    /// Text of the filter or command line being typed.
    input: LineEdit,
    completions: Vec<String>,
    help_scroll: usize,
    /// The help's find line while it is typed, and the word last found.
    help_find: Option<LineEdit>,
    help_word: String,
    /// Lines the help pane shows, learned while drawing (for paging and the scroll's end).
    help_page: Cell<usize>,
    /// The tab a drill-down started from (Esc goes back there).
    drill_from: Option<Tab>,
    /// Asked of the user, awaiting y/n: what yes does.
    ask: Option<(String, messages::OnYes)>,
    detail: Option<DetailView>,
    columns_cursor: usize,
    toasts: super::toast::Toasts,
    status: EngineStatus,
    /// When the breaker snapshot arrived (its `retry_in` counts from then).
    breaker_at: DateTime<Utc>,
    sync: SyncView,
    last_good: Option<DateTime<Utc>>,
    window_days: u32,
    focus_expired: bool,
    subscriptions: Arc<Vec<SubscriptionRecord>>,
    covered: rows::Covered,
    chart: Vec<MonthBucket>,
    effects: Vec<Effect>,
    generation: u64,
    /// Set whenever something visible changed; the loop redraws and clears it.
    dirty: bool,
    quit: bool,
    load_error: Option<String>,
    /// Per-frame visible table height, learned while drawing (for paging); a `Cell`
    /// because views draw from `&App`.
    page_height: Cell<usize>,
    /// Highlights the filter's matches in the rows drawn (scratch space, so a `RefCell`).
    matcher: RefCell<nucleo_matcher::Matcher>,
    /// The assignment wizard, while it is open in the Assign tab.
    wizard: Option<Wizard>,
    /// For `~` in the wizard's paths.
    home: Option<PathBuf>,
    /// Where the wizard writes exported reports.
    reports_dir: PathBuf,
    /// The devices marked on the Devices tab.
    marks: Marks,
    /// The assignment run whose detail is open (its undo and export keys act on it).
    run_detail: Option<i64>,
    /// The workspaces, the scope shown and each one's live sync state.
    ws: WorkspacesView,
    /// The open wizard's workspace (`App::wizard_start_in`).
    wizard_ws: Option<WorkspaceId>,
    /// The workspace the console's own store speaks for, in a console over several.
    primary_ws: Option<WorkspaceId>,
    /// The saved views (`:save`, `:view`) and their file.
    views: ViewsFile,
    /// The overview tab's figures and cursor.
    overview: OverviewView,
    /// The Changes view (`:changes`).
    changes: ChangesView,
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
            tables: Tables::default(),
            keymap,
            theme,
            read_only,
            sync_off: read_only.then(|| "read-only".to_string()),
            now,
            mode: InputMode::Normal,
            input: LineEdit::default(),
            completions: Vec::new(),
            help_scroll: 0,
            help_find: None,
            help_word: String::new(),
            help_page: Cell::new(20),
            drill_from: None,
            ask: None,
            detail: None,
            columns_cursor: 0,
            toasts: Default::default(),
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
            page_height: Cell::new(20),
            matcher: RefCell::new(nucleo_matcher::Matcher::new(
                nucleo_matcher::Config::DEFAULT,
            )),
            wizard: None,
            home: None,
            reports_dir: PathBuf::from("."),
            marks: Marks::default(),
            run_detail: None,
            ws: WorkspacesView::default(),
            wizard_ws: None,
            primary_ws: None,
            views: ViewsFile::default(),
            overview: OverviewView::default(),
            changes: ChangesView::default(),
        };
        for w in warnings {
            app.toast(ToastLevel::Warn, w);
        }
        app.set_assign_empty_text();
        app
    }

    /// What the empty run list says (its tables are made again when workspaces appear).
    fn set_assign_empty_text(&mut self) {
        let start = self
            .keymap
            .press(Action::AssignNew, "start a new assignment");
        self.tables.get_mut(TableId::Assign).empty_text = Some(format!(
            "no assignment runs yet — {start}: a spreadsheet of serials gets a \
             subscription, region and tags in GreenLake (dry run first); runs are listed here"
        ));
    }

    /// Take the effects queued since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Queue an effect from outside (the run loop's second reload, tests).
    pub fn push_effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    pub fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        self.toasts.push(level, text.into(), self.now);
        self.dirty = true;
    }

    /// A toast that replaces the one on screen about the same thing (`key`).
    pub fn toast_keyed(&mut self, level: ToastLevel, key: &'static str, text: impl Into<String>) {
        self.toasts
            .push_keyed(level, Some(key), text.into(), self.now);
        self.dirty = true;
    }

    /// Dismiss every toast.
    pub fn clear_toasts(&mut self) {
        self.toasts.clear();
        self.dirty = true;
    }

    /// Clock tick (about once a second): expire toasts, sample the sync rate, move countdowns.
    pub fn on_tick(&mut self, now: DateTime<Utc>) {
        let second_changed = now.timestamp() != self.now.timestamp();
        self.now = now;
        if self.toasts.expire(now) {
            self.dirty = true;
        }
        self.workspaces_tick();
        if second_changed {
            self.sync.sample_rate();
            // Ages, countdowns and the clock change every second.
            self.dirty = true;
        }
    }

    /// A filter result from the worker (stale ones are dropped by the table).
    pub fn on_filter(&mut self, r: FilterResult) {
        if let Some(t) = self.table_mut_opt(r.table)
            && t.apply_filter(r.generation, r.mask, r.breakdown)
        {
            self.dirty = true;
        }
    }

    /// A key press. The always-quit key (`ALWAYS_QUIT` in the key table) quits whatever the
    /// mode or keymap.
    pub fn handle_key(&mut self, ev: KeyEvent) {
        if ev.kind == crossterm::event::KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if self.keymap.is_always_quit(&ev) {
            // A running assignment is asked to stop first, never dropped mid-call.
            if !self.wizard_ctrl_c() {
                self.quit();
            }
            return;
        }
        if self.keymap.is_suspend(&ev) {
            self.effects.push(Effect::Suspend);
            return;
        }
        match self.mode {
            InputMode::Ask => self.key_ask(ev),
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
                    if self.wizard_on_screen() && a == Action::Detail {
                        // Enter where the wizard does not take it (the plan, the report):
                        // the row in full, as on every other list.
                        self.wizard_act(WizardAction::Detail);
                        return;
                    }
                    if self.wizard_on_screen() && a == Action::Quit {
                        // The wizard's own back covers it.
                        return;
                    }
                    self.act(a);
                } else if let Some(a) = self.keymap.refused(&ev) {
                    self.refuse(a);
                }
            }
        }
    }

    fn quit(&mut self) {
        if self.wizard.as_ref().is_some_and(|w| w.busy()) {
            self.tab = Tab::Assign;
            let cancel = self.keymap.say(WizardAction::Back);
            self.toast(
                ToastLevel::Warn,
                format!("an assignment is running: cancel it first ({cancel}), then quit"),
            );
            return;
        }
        if !self.quit {
            self.quit = true;
            self.effects.push(Effect::Quit);
        }
    }

    /// Simulate typing (tests and benchmarks).
    pub fn type_str(&mut self, s: &str) {
        for c in s.chars() {
            self.handle_key(key(c));
        }
    }

    // ---- what the views and the run loop read ----------------------------------------

    pub fn tab(&self) -> Tab {
        self.tab
    }
    /// The tabs shown, in key order (Workspaces only when the database holds several).
    pub fn tabs(&self) -> &'static [Tab] {
        if self.ws.multi() {
            &Tab::MULTI
        } else {
            &Tab::ALL
        }
    }
    /// The overview tab's figures and cursor (the view records its size there).
    pub fn overview(&self) -> &OverviewView {
        &self.overview
    }
    /// The workspaces, the scope shown and their live sync state.
    pub fn workspaces(&self) -> &WorkspacesView {
        &self.ws
    }
    /// The Changes view's state.
    pub fn changes(&self) -> &ChangesView {
        &self.changes
    }
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }
    pub fn theme(&self) -> &Theme {
        &self.theme
    }
    pub fn read_only(&self) -> bool {
        self.read_only
    }
    /// Why sync is off, if it is.
    pub fn sync_off(&self) -> Option<&str> {
        self.sync_off.as_deref()
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
    pub fn mode(&self) -> InputMode {
        self.mode
    }
    /// The filter or command line being typed.
    pub fn input(&self) -> &str {
        self.input.as_str()
    }
    /// The filter or command line with its cursor.
    pub fn input_line(&self) -> &LineEdit {
        &self.input
    }
    pub fn completions(&self) -> &[String] {
        &self.completions
    }
    /// The yes/no question asked, if one is.
    pub fn question(&self) -> Option<&str> {
        self.ask.as_ref().map(|(q, _)| q.as_str())
    }
    pub fn help_scroll(&self) -> usize {
        self.help_scroll
    }
    pub fn detail(&self) -> Option<&DetailView> {
        self.detail.as_ref()
    }
    pub fn columns_cursor(&self) -> usize {
        self.columns_cursor
    }
    pub fn toasts(&self) -> &[Toast] {
        self.toasts.as_slice()
    }
    pub fn status(&self) -> &EngineStatus {
        &self.status
    }
    pub fn sync(&self) -> &SyncView {
        &self.sync
    }
    pub fn last_good(&self) -> Option<DateTime<Utc>> {
        self.last_good
    }
    pub fn window_days(&self) -> u32 {
        self.window_days
    }
    pub fn focus_expired(&self) -> bool {
        self.focus_expired
    }
    pub fn covered(&self) -> &rows::Covered {
        &self.covered
    }
    pub fn chart(&self) -> &[MonthBucket] {
        &self.chart
    }
    /// Why the last database load failed, if it did.
    pub fn load_error(&self) -> Option<&str> {
        self.load_error.as_deref()
    }
    pub fn page_height(&self) -> usize {
        self.page_height.get()
    }
    /// The assignment wizard, while it is open.
    pub fn wizard(&self) -> Option<&Wizard> {
        self.wizard.as_ref()
    }
    pub fn home(&self) -> Option<&Path> {
        self.home.as_deref()
    }
    pub fn reports_dir(&self) -> &Path {
        &self.reports_dir
    }
    /// The devices marked on the Devices tab.
    pub fn marks(&self) -> &Marks {
        &self.marks
    }
    /// The assignment run whose detail is open.
    pub fn run_detail(&self) -> Option<i64> {
        self.run_detail
    }
    /// Something visible changed since the last frame.
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }
    /// The user asked to quit (and nothing holds the app open).
    pub fn quitting(&self) -> bool {
        self.quit
    }

    pub fn breaker(&self) -> &BreakerSnapshot {
        &self.status.breaker
    }

    // ---- what the run loop and tests set -----------------------------------------------

    /// Something outside the state changed what is on screen (a resize).
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }
    /// A frame was drawn.
    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }
    /// Learned while drawing: how many rows a page has.
    pub fn set_page_height(&self, rows: usize) {
        self.page_height.set(rows);
    }
    /// Sync is off for this reason (more than read-only: no credentials).
    pub fn set_sync_off(&mut self, reason: impl Into<String>) {
        self.sync_off = Some(reason.into());
        self.dirty = true;
    }
    /// A sync was asked for before the console opened (the demo's, an empty database's):
    /// the empty tables say it is on its way until the engine reports it.
    pub fn sync_requested(&mut self) {
        self.sync.pending = true;
        self.dirty = true;
    }
    /// A sync is asked for, running, or reported running by the engine.
    pub fn syncing(&self) -> bool {
        self.sync.running || self.sync.pending || self.status.running.is_some()
    }
    pub fn set_home(&mut self, home: Option<PathBuf>) {
        self.home = home;
    }
    pub fn set_reports_dir(&mut self, dir: PathBuf) {
        self.reports_dir = dir;
    }
    /// Mark the data shown as stale or fresh (as the engine's status would).
    pub fn set_stale(&mut self, stale: bool) {
        self.status.stale = stale;
        self.dirty = true;
    }
}
