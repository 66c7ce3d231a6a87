//! The Assign tab's wizard: file → (sheet) → validate → review → subscription → application
//! and region → tags → plan → apply → report. State and pure key handling only, like the
//! rest of [`super::app`]: reading the file, the database lookups, the catalog, the apply
//! and the report export are [`Effect`]s the run loop carries out on tasks, and their
//! results come back as [`super::app::Loaded`] messages, so the screen never waits for them.
//!
//! All assignment logic is `crate::assign`'s; this module only orders the steps, keeps the
//! user's choices and turns results into display rows (computed once, off the key path for
//! the big ones, so a 5 000-row sheet scrolls like any other table).

pub mod path;
pub mod rows;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{
    App, Effect, InputMode, T_W_APPS, T_W_ISSUES, T_W_PLAN, T_W_REPORT, T_W_REVIEW, T_W_SUBS, Tab,
    ToastLevel,
};
use super::keymap::{Action, WizardAction};
use super::model::rows::{fmt_date, fmt_int};
use super::model::table::{Mark, Row, TableData, TableModel};
use crate::assign::apply::ApplyEvent;
use crate::assign::diff::{Diff, diff};
use crate::assign::load::TAG_REMOVE;
use crate::assign::matching::{MatchCounts, count};
use crate::assign::options::{Catalog, WizardChoices, subscription_choices, tag_choices};
use crate::assign::plan::{AppTarget, Phase};
use crate::assign::report::{ApplyReport, OpStatus};
use crate::assign::session::{Planned, Prepared, new_run, parse_tag_edit, plan_for_valid};

pub use path::{SHEET_EXTENSIONS, complete_path, expand_tilde};
pub use rows::{
    application_columns, issue_columns, issue_rows, plan_columns, report_columns, report_rows,
    review_columns, review_rows, subscription_columns,
};
use rows::{application_rows, plan_rows};

/// The wizard's steps, in order. `Confirm` is the question dialog over the plan or the
/// progress screen; it is a step only for the key table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum WizardStep {
    #[default]
    File,
    Loading,
    Sheet,
    Validate,
    Review,
    Subscription,
    Region,
    Tags,
    Plan,
    Confirm,
    Applying,
    Report,
}

impl WizardStep {
    /// The breadcrumb's steps (Loading, Sheet and Confirm are not stops of their own).
    pub const CRUMBS: [WizardStep; 9] = [
        WizardStep::File,
        WizardStep::Validate,
        WizardStep::Review,
        WizardStep::Subscription,
        WizardStep::Region,
        WizardStep::Tags,
        WizardStep::Plan,
        WizardStep::Applying,
        WizardStep::Report,
    ];

    /// The step's name in the breadcrumb.
    pub fn title(self) -> &'static str {
        match self {
            WizardStep::File => "File",
            WizardStep::Loading => "Reading",
            WizardStep::Sheet => "Sheet",
            WizardStep::Validate => "Validate",
            WizardStep::Review => "Review",
            WizardStep::Subscription => "Subscription",
            WizardStep::Region => "Application",
            WizardStep::Tags => "Tags",
            WizardStep::Plan => "Plan",
            WizardStep::Confirm => "Confirm",
            WizardStep::Applying => "Apply",
            WizardStep::Report => "Report",
        }
    }

    /// The table slot a step shows, if it is a list.
    pub fn table(self) -> Option<usize> {
        match self {
            WizardStep::Validate => Some(T_W_ISSUES),
            WizardStep::Review => Some(T_W_REVIEW),
            WizardStep::Subscription => Some(T_W_SUBS),
            WizardStep::Region => Some(T_W_APPS),
            WizardStep::Plan => Some(T_W_PLAN),
            WizardStep::Report => Some(T_W_REPORT),
            _ => None,
        }
    }
}

/// One wizard-wide choice: not made yet, "leave as is", or a value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Choice<T> {
    #[default]
    Unset,
    Keep,
    Set(T),
}

impl<T> Choice<T> {
    fn value(&self) -> Option<&T> {
        match self {
            Choice::Set(v) => Some(v),
            _ => None,
        }
    }
}

/// The question on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// Send the plan (or validate it with a dry run).
    Send { dry_run: bool },
    /// Stop the running apply after the calls in flight.
    Cancel,
}

/// Progress of the running apply, from its [`ApplyEvent`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyProgress {
    pub run_id: Option<i64>,
    pub dry_run: bool,
    /// Calls (batches of ≤ 25 devices) in the plan, and how many reached their end.
    pub calls: usize,
    pub done: usize,
    pub calls_failed: usize,
    pub devices: usize,
    pub devices_ok: usize,
    pub devices_failed: usize,
    pub phase: Option<Phase>,
    pub phase_calls: usize,
    /// What is happening now, as a line of text.
    pub current: String,
    /// The latest results, newest last.
    pub log: VecDeque<String>,
    pub cancelling: bool,
    /// When the apply was started (for the elapsed time and the estimate).
    pub started: Option<DateTime<Utc>>,
    pub resyncing: bool,
    /// Serials per call (from the plan), to count devices when their calls end.
    per_call: HashMap<usize, Vec<String>>,
    /// Calls still open per serial.
    open: HashMap<String, usize>,
    failed: std::collections::HashSet<String>,
    /// Devices a call reported as failed without naming them.
    failed_unnamed: usize,
}

impl ApplyProgress {
    /// Progress for `plan`, before the first event.
    pub fn for_plan(plan: &crate::assign::plan::Plan, dry_run: bool) -> ApplyProgress {
        let mut p = ApplyProgress {
            dry_run,
            calls: plan.steps.len(),
            devices: plan.devices.len(),
            current: "starting…".into(),
            ..ApplyProgress::default()
        };
        for (i, s) in plan.steps.iter().enumerate() {
            p.per_call.insert(i, s.serials.clone());
            for serial in &s.serials {
                *p.open.entry(serial.clone()).or_default() += 1;
            }
        }
        p
    }

    fn recount(&mut self) {
        self.devices_failed = (self.failed.len() + self.failed_unnamed).min(self.devices.max(1));
        self.devices_ok = self
            .open
            .iter()
            .filter(|(s, n)| **n == 0 && !self.failed.contains(*s))
            .count()
            .saturating_sub(self.failed_unnamed);
    }

    fn push_log(&mut self, line: String) {
        self.log.push_back(line);
        while self.log.len() > 50 {
            self.log.pop_front();
        }
    }

    /// Fold one event in.
    pub fn on_event(&mut self, ev: &ApplyEvent) {
        match ev {
            ApplyEvent::Started {
                run_id,
                calls,
                devices,
            } => {
                self.run_id = Some(*run_id);
                self.calls = *calls;
                self.devices = *devices;
                self.current = format!("run {run_id} started: {calls} calls for {devices} devices");
            }
            ApplyEvent::PhaseStarted { phase, calls } => {
                self.phase = Some(*phase);
                self.phase_calls = *calls;
                self.current = format!("{}: sending {calls} calls", phase.as_str());
            }
            ApplyEvent::Sent {
                seq,
                phase,
                devices,
                accepted,
            } => {
                self.current = format!(
                    "{}: call #{seq} for {devices} device{} {}",
                    phase.as_str(),
                    if *devices == 1 { "" } else { "s" },
                    if *accepted {
                        "accepted, waiting for GreenLake"
                    } else {
                        "refused"
                    }
                );
            }
            ApplyEvent::OperationDone {
                seq,
                phase,
                status,
                failed_devices,
                error,
                done,
                total,
            } => {
                self.done = *done;
                self.calls = *total;
                let serials = self.per_call.get(seq).cloned().unwrap_or_default();
                for s in &serials {
                    if let Some(n) = self.open.get_mut(s) {
                        *n = n.saturating_sub(1);
                    }
                }
                match status {
                    OpStatus::Succeeded => self.failed_unnamed += failed_devices,
                    _ => {
                        self.calls_failed += 1;
                        self.failed.extend(serials);
                    }
                }
                self.recount();
                self.push_log(format!(
                    "#{seq} {} {}{}",
                    phase.as_str(),
                    status.as_str(),
                    error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
                ));
            }
            ApplyEvent::PhaseFinished { phase } => {
                self.current = format!("{} done", phase.as_str());
            }
            ApplyEvent::Cancelling => {
                self.cancelling = true;
                self.current = "cancelling: waiting for the calls already sent".into();
            }
            ApplyEvent::Resyncing { devices } => {
                self.resyncing = true;
                self.current = format!("fetching the {devices} touched devices again");
            }
            ApplyEvent::Finished { status, .. } => {
                self.current = format!("finished: {}", status.as_str());
            }
        }
    }
}

/// What the loader task hands back: the matched sheet and its display rows.
#[derive(Debug, Clone)]
pub struct WizardData {
    pub prepared: Prepared,
    pub issues: TableData,
    pub review: TableData,
    /// Rows that go on to the plan (no error in the sheet or in matching).
    pub valid: usize,
    /// Errors and warnings among the sheet's and the matching issues.
    pub errors: usize,
    pub warnings: usize,
    /// Time from the request to the result (shown on the review).
    pub elapsed_ms: u128,
}

/// The wizard's state.
#[derive(Debug, Clone, Default)]
pub struct Wizard {
    pub step: WizardStep,
    /// The path being typed (as typed: `~` is kept).
    pub path: String,
    /// Completion candidates shown under the path (names, dirs end in `/`).
    pub completions: Vec<String>,
    /// The sheet asked for (`None`: the first with a recognised header).
    pub sheet: Option<String>,
    /// Generation of the load in flight; older results are dropped.
    pub generation: u64,
    /// Why the last load failed (shown on the file step).
    pub error: Option<String>,
    pub data: Option<Arc<WizardData>>,
    /// What the choices are made from; `None` until the catalog task answers.
    pub catalog: Option<Arc<Catalog>>,
    /// The catalog task is running.
    pub catalog_loading: bool,
    pub counts: MatchCounts,
    pub sheet_cursor: usize,
    pub subscription: Choice<String>,
    pub application: Choice<AppTarget>,
    /// Subscriptions hidden for lack of seats (the chooser says how many).
    pub subs_short: usize,
    /// Tag changes in the order typed: `Some` sets, `None` removes.
    pub tags: Vec<(String, Option<String>)>,
    pub tag_input: String,
    pub tag_cursor: usize,
    pub tag_error: Option<String>,
    pub planned: Option<Arc<Planned>>,
    pub diff: Option<Arc<Diff>>,
    pub confirm: Option<Confirm>,
    pub progress: ApplyProgress,
    pub report: Option<Arc<ApplyReport>>,
    /// When the load in flight was asked for (a big file on a slow disk takes a while).
    pub loading_since: Option<DateTime<Utc>>,
}

impl Wizard {
    /// The step whose keys apply (the dialog's while one is open).
    pub fn key_step(&self) -> WizardStep {
        if self.confirm.is_some() {
            WizardStep::Confirm
        } else {
            self.step
        }
    }

    /// An apply is running: quitting or leaving would orphan it.
    pub fn busy(&self) -> bool {
        self.step == WizardStep::Applying
    }

    /// The choices as `crate::assign` wants them.
    pub fn choices(&self) -> WizardChoices {
        WizardChoices {
            application: self.application.value().cloned(),
            subscription_id: self.subscription.value().cloned(),
            tags: self.tags.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }
}

// ---- the wizard's part of the App -------------------------------------------------------

impl App {
    /// Open the wizard on the file step (`n` in the Assign tab).
    pub fn wizard_new(&mut self) {
        if self.wizard.as_ref().is_some_and(Wizard::busy) {
            self.toast(
                ToastLevel::Info,
                "an assignment is running — its progress is on screen",
            );
            return;
        }
        self.tab = Tab::Assign;
        self.wizard = Some(Wizard {
            catalog_loading: true,
            ..Wizard::default()
        });
        self.effects.push(Effect::WizardCatalog);
        for (t, cols) in [
            (T_W_ISSUES, issue_columns()),
            (T_W_REVIEW, review_columns()),
            (T_W_SUBS, subscription_columns()),
            (T_W_APPS, application_columns()),
            (T_W_PLAN, plan_columns()),
            (T_W_REPORT, report_columns()),
        ] {
            let breakdown = match t {
                T_W_ISSUES => Some(0),
                T_W_REVIEW => Some(2),
                _ => None,
            };
            // What `y` copies: the message, the serial, the key, the application id.
            let copy = match t {
                T_W_ISSUES => 4,
                T_W_SUBS => 0,
                T_W_APPS => 3,
                T_W_REPORT => 2,
                _ => 1,
            };
            self.tables[t] = TableModel::new(cols, copy, breakdown);
            self.tables[t].empty_text = Some(match t {
                T_W_ISSUES => "✓ nothing to fix",
                T_W_SUBS => {
                    "no subscription fits these devices (compatible, started, enough seats) — press - to leave as is"
                }
                T_W_APPS => {
                    "no application is provisioned in this workspace — press - to leave as is"
                }
                T_W_PLAN => "nothing to send",
                _ => "no rows",
            });
        }
        self.dirty = true;
    }

    /// Open the wizard already reading `path` (`glp-console assign FILE`).
    pub fn wizard_open(&mut self, path: &str, sheet: Option<String>) {
        self.wizard_new();
        if let Some(w) = self.wizard.as_mut() {
            w.path = path.to_string();
            w.sheet = sheet;
        }
        self.wizard_load();
    }

    fn wizard_load(&mut self) {
        let home = self.home.clone();
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let typed = w.path.trim().to_string();
        if typed.is_empty() {
            w.error = Some(
                "type the path of the spreadsheet (.xlsx, .xls, .ods, .csv); Tab completes".into(),
            );
            return;
        }
        let path = expand_tilde(&typed, home.as_deref());
        w.generation += 1;
        w.error = None;
        w.completions.clear();
        w.step = WizardStep::Loading;
        w.loading_since = Some(self.now);
        self.effects.push(Effect::WizardLoad {
            generation: w.generation,
            path,
            typed,
            sheet: w.sheet.clone(),
        });
    }

    /// A path completion arrived: from Tab (`load` is `None`), or from Enter on a
    /// directory (`load` is that load's generation). Dropped when the user typed on since.
    pub fn wizard_completed(
        &mut self,
        typed: String,
        new: String,
        candidates: Vec<String>,
        load: Option<u64>,
    ) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let current = match load {
            Some(g) => w.step == WizardStep::Loading && w.generation == g,
            None => w.step == WizardStep::File && w.path == typed,
        };
        if !current {
            return;
        }
        w.step = WizardStep::File;
        w.error = (load.is_none() && new == typed && candidates.is_empty()).then(|| {
            format!(
                "nothing to complete: no directory or spreadsheet (.{}) starts with \"{typed}\"",
                SHEET_EXTENSIONS.join(", .")
            )
        });
        w.path = new;
        w.completions = candidates;
        self.dirty = true;
    }

    /// A load finished (or failed).
    pub fn wizard_loaded(&mut self, generation: u64, result: Result<Box<WizardData>, String>) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        if generation != w.generation || w.step != WizardStep::Loading {
            return;
        }
        match result {
            Err(e) => {
                w.step = WizardStep::File;
                w.error = Some(e);
            }
            Ok(data) => {
                // A workbook of several sheets read for the first time without a sheet
                // asked for: offer the chooser, on the sheet `load` picked.
                let choose = w.sheet.is_none() && data.prepared.sheet.sheet_names.len() > 1;
                w.counts = count(&data.prepared.matches);
                w.sheet = Some(data.prepared.sheet.sheet.clone());
                w.sheet_cursor = data
                    .prepared
                    .sheet
                    .sheet_names
                    .iter()
                    .position(|s| *s == data.prepared.sheet.sheet)
                    .unwrap_or(0);
                w.step = if choose {
                    WizardStep::Sheet
                } else {
                    WizardStep::Validate
                };
                let issues = data.issues.clone();
                let review = data.review.clone();
                w.data = Some(Arc::from(data));
                self.set_table(T_W_ISSUES, issues);
                self.set_table(T_W_REVIEW, review);
            }
        }
        self.dirty = true;
    }

    /// The catalog arrived (or could not be read). A chooser waiting for it fills in.
    pub fn wizard_catalog(&mut self, r: Result<(Arc<Catalog>, Option<String>), String>) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        w.catalog_loading = false;
        match r {
            Ok((c, note)) => {
                w.catalog = Some(c);
                let step = w.step;
                if let Some(n) = note {
                    self.toast(ToastLevel::Warn, n);
                }
                match step {
                    WizardStep::Subscription => self.wizard_enter_subscription(),
                    WizardStep::Region => self.wizard_enter_region(),
                    WizardStep::Plan => self.wizard_plan(),
                    _ => {}
                }
            }
            Err(e) => self.toast(ToastLevel::Error, e),
        }
        self.dirty = true;
    }

    /// Ask for the catalog again when it is missing and not on its way.
    fn wizard_want_catalog(&mut self) {
        if let Some(w) = self.wizard.as_mut()
            && w.catalog.is_none()
            && !w.catalog_loading
        {
            w.catalog_loading = true;
            self.effects.push(Effect::WizardCatalog);
        }
    }

    /// An event from the running apply.
    pub fn wizard_apply_event(&mut self, ev: ApplyEvent) {
        if let Some(w) = self.wizard.as_mut() {
            w.progress.on_event(&ev);
            self.dirty = true;
        }
    }

    /// The apply ended: show the report (failures first) and reload the tabs, whose data
    /// the targeted resync has just refreshed.
    pub fn wizard_apply_done(&mut self, result: Result<Arc<ApplyReport>, String>) {
        self.effects.push(Effect::Reload);
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        w.confirm = None;
        match result {
            Err(e) => {
                w.step = WizardStep::Plan;
                self.toast(
                    ToastLevel::Error,
                    format!("the assignment could not run: {e}"),
                );
            }
            Ok(report) => {
                w.step = WizardStep::Report;
                let rows = report_rows(&report, w.catalog.as_deref());
                let c = &report.counts;
                let level = if c.operations_failed + c.devices_failed > 0 {
                    ToastLevel::Warn
                } else {
                    ToastLevel::Info
                };
                let msg = format!(
                    "run {} {}: {} of {} devices succeeded, {} failed",
                    report.run_id,
                    report.status.as_str(),
                    c.devices_succeeded,
                    c.devices,
                    c.devices_failed
                );
                w.report = Some(report);
                self.tables[T_W_REPORT] = TableModel::new(report_columns(), 2, None);
                self.tables[T_W_REPORT].empty_text = Some("no calls were needed");
                self.set_table(T_W_REPORT, rows);
                self.toast(level, msg);
            }
        }
        self.dirty = true;
    }

    /// A key while the wizard is on screen. Returns false when the key is not the
    /// wizard's (movement, `/`, tabs, help then work as everywhere).
    pub fn wizard_key(&mut self, ev: KeyEvent) -> bool {
        let Some(w) = self.wizard.as_ref() else {
            return false;
        };
        let step = w.key_step();
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        // Text steps take printable characters first.
        if let KeyCode::Char(c) = ev.code
            && !ctrl
            && matches!(step, WizardStep::File | WizardStep::Tags)
        {
            self.wizard_type(c);
            return true;
        }
        if ev.code == KeyCode::Backspace && matches!(step, WizardStep::File | WizardStep::Tags) {
            self.wizard_backspace();
            return true;
        }
        if ctrl
            && ev.code == KeyCode::Char('u')
            && matches!(step, WizardStep::File | WizardStep::Tags)
        {
            if let Some(w) = self.wizard.as_mut() {
                if step == WizardStep::File {
                    w.path.clear();
                    w.completions.clear();
                } else {
                    w.tag_input.clear();
                }
            }
            return true;
        }
        if step == WizardStep::Sheet || step == WizardStep::Tags {
            match self.keymap.action(&ev) {
                Some(Action::Up) => {
                    self.wizard_cursor(-1);
                    return true;
                }
                Some(Action::Down) => {
                    self.wizard_cursor(1);
                    return true;
                }
                _ => {}
            }
            if matches!(ev.code, KeyCode::Up | KeyCode::Down) {
                self.wizard_cursor(if ev.code == KeyCode::Up { -1 } else { 1 });
                return true;
            }
        }
        let Some(a) = self.keymap.wizard.action(step, &ev) else {
            // Outside the lists only the keys above mean something; swallow the rest so a
            // stray `s` or `q` does not act behind the wizard's back — except tabs and help.
            return !(super::keymap::wizard_step_has_list(step)
                || matches!(
                    self.keymap.action(&ev),
                    Some(Action::Help)
                        | Some(Action::TabDevices)
                        | Some(Action::TabSubscriptions)
                        | Some(Action::TabExpiring)
                        | Some(Action::TabAssign)
                        | Some(Action::NextTab)
                        | Some(Action::PrevTab)
                ));
        };
        // Esc on a filtered list clears the filter first, as in the other tables.
        if a == WizardAction::Back
            && let Some(t) = step.table()
            && self.tables[t].filter_active()
        {
            self.tables[t].clear_filter();
            return true;
        }
        self.wizard_act(a);
        true
    }

    fn wizard_type(&mut self, c: char) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        if w.step == WizardStep::File {
            w.path.push(c);
            w.completions.clear();
            w.error = None;
        } else {
            w.tag_input.push(c);
            w.tag_error = None;
        }
    }

    fn wizard_backspace(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        if w.step == WizardStep::File {
            w.path.pop();
            w.completions.clear();
        } else {
            w.tag_input.pop();
            w.tag_error = None;
        }
    }

    fn wizard_cursor(&mut self, d: isize) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let (cur, n) = match w.step {
            WizardStep::Sheet => (
                &mut w.sheet_cursor,
                w.data
                    .as_ref()
                    .map_or(0, |d| d.prepared.sheet.sheet_names.len()),
            ),
            _ => (&mut w.tag_cursor, w.tags.len()),
        };
        let next = (*cur as isize + d).clamp(0, n.saturating_sub(1) as isize);
        *cur = next as usize;
    }

    /// Carry out a wizard action (keys, and tests).
    pub fn wizard_act(&mut self, a: WizardAction) {
        let Some(w) = self.wizard.as_ref() else {
            return;
        };
        let step = w.key_step();
        self.dirty = true;
        match (step, a) {
            (WizardStep::File, WizardAction::Complete) => {
                // Reading a directory can hang on a network home: off the UI task.
                let typed = self
                    .wizard
                    .as_ref()
                    .map(|w| w.path.clone())
                    .unwrap_or_default();
                self.effects.push(Effect::WizardComplete { typed });
            }
            (WizardStep::File, WizardAction::Next) => self.wizard_load(),
            (WizardStep::File, WizardAction::Back) => self.wizard_close(),
            (WizardStep::Loading, WizardAction::Back) => {
                if let Some(w) = self.wizard.as_mut() {
                    // The result of the load in flight is dropped by its generation.
                    w.generation += 1;
                    w.step = WizardStep::File;
                }
            }
            (WizardStep::Sheet, WizardAction::Next) => {
                let Some(w) = self.wizard.as_mut() else {
                    return;
                };
                let name = w
                    .data
                    .as_ref()
                    .and_then(|d| d.prepared.sheet.sheet_names.get(w.sheet_cursor).cloned());
                if name.is_some() && name == w.data.as_ref().map(|d| d.prepared.sheet.sheet.clone())
                {
                    w.step = WizardStep::Validate;
                } else {
                    w.sheet = name;
                    self.wizard_load();
                }
            }
            (WizardStep::Sheet, WizardAction::Back) => self.wizard_goto(WizardStep::Validate),
            (WizardStep::Validate | WizardStep::Review, WizardAction::Reload) => {
                // Seats and tags may have changed too (a sync, another run): read them again.
                if let Some(w) = self.wizard.as_mut()
                    && !w.catalog_loading
                {
                    w.catalog_loading = true;
                    self.effects.push(Effect::WizardCatalog);
                }
                self.wizard_load();
            }
            (WizardStep::Validate | WizardStep::Review, WizardAction::ChooseSheet) => {
                let several = self
                    .wizard
                    .as_ref()
                    .and_then(|w| w.data.as_ref())
                    .is_some_and(|d| d.prepared.sheet.sheet_names.len() > 1);
                if several {
                    self.wizard_goto(WizardStep::Sheet);
                } else {
                    self.toast(ToastLevel::Info, "this file has only one sheet");
                }
            }
            (WizardStep::Validate, WizardAction::Next) => {
                let valid = self
                    .wizard
                    .as_ref()
                    .and_then(|w| w.data.as_ref())
                    .map_or(0, |d| d.valid);
                if valid == 0 {
                    self.toast(
                        ToastLevel::Error,
                        "no valid rows to continue with: fix the errors listed in the file, then press r to reload",
                    );
                } else {
                    self.wizard_goto(WizardStep::Review);
                }
            }
            (WizardStep::Validate, WizardAction::Back) => self.wizard_goto(WizardStep::File),
            (WizardStep::Review, WizardAction::Next) => self.wizard_enter_subscription(),
            (WizardStep::Review, WizardAction::Back) => self.wizard_goto(WizardStep::Validate),
            (WizardStep::Subscription, WizardAction::Next) => {
                let id = self.tables[T_W_SUBS]
                    .selected_row()
                    .map(|r| r.id.to_string());
                match id {
                    Some(id) => {
                        if let Some(w) = self.wizard.as_mut() {
                            w.subscription = Choice::Set(id);
                        }
                        self.wizard_enter_region();
                    }
                    None if self.wizard.as_ref().is_some_and(|w| w.catalog.is_none()) => self
                        .toast(
                            ToastLevel::Info,
                            "still reading the subscriptions; the list fills in a moment",
                        ),
                    None => self.toast(
                        ToastLevel::Warn,
                        "no subscription selected; press - to leave the subscriptions as they are",
                    ),
                }
            }
            (WizardStep::Subscription, WizardAction::Skip) => {
                if let Some(w) = self.wizard.as_mut() {
                    w.subscription = Choice::Keep;
                }
                self.wizard_enter_region();
            }
            (WizardStep::Subscription, WizardAction::Back) => self.wizard_goto(WizardStep::Review),
            (WizardStep::Region, WizardAction::Next) => {
                let id = self.tables[T_W_APPS]
                    .selected_row()
                    .map(|r| r.id.to_string());
                match id.as_deref().and_then(|i| i.split_once('|')) {
                    Some((app, region)) => {
                        let t = AppTarget {
                            application_id: app.to_string(),
                            region: region.to_string(),
                        };
                        if let Some(w) = self.wizard.as_mut() {
                            w.application = Choice::Set(t);
                        }
                        self.wizard_goto(WizardStep::Tags);
                    }
                    None if self.wizard.as_ref().is_some_and(|w| w.catalog.is_none()) => self
                        .toast(
                            ToastLevel::Info,
                            "still reading the service catalog; the list fills in a moment",
                        ),
                    None => self.toast(
                        ToastLevel::Warn,
                        "no application selected; press - to leave applications and regions as they are",
                    ),
                }
            }
            (WizardStep::Region, WizardAction::Skip) => {
                if let Some(w) = self.wizard.as_mut() {
                    w.application = Choice::Keep;
                }
                self.wizard_goto(WizardStep::Tags);
            }
            (WizardStep::Region, WizardAction::Back) => self.wizard_goto(WizardStep::Subscription),
            (WizardStep::Tags, WizardAction::Complete) => self.wizard_complete_tag(),
            (WizardStep::Tags, WizardAction::Next) => self.wizard_tag_enter(),
            (WizardStep::Tags, WizardAction::RemoveTag) => {
                if let Some(w) = self.wizard.as_mut()
                    && w.tag_cursor < w.tags.len()
                {
                    w.tags.remove(w.tag_cursor);
                    w.tag_cursor = w.tag_cursor.min(w.tags.len().saturating_sub(1));
                }
            }
            (WizardStep::Tags, WizardAction::Back) => self.wizard_goto(WizardStep::Region),
            (WizardStep::Plan, WizardAction::DryRun | WizardAction::Apply) => {
                self.wizard_ask_send(a == WizardAction::DryRun)
            }
            (WizardStep::Plan, WizardAction::Back) => self.wizard_goto(WizardStep::Tags),
            (WizardStep::Confirm, WizardAction::Yes) => self.wizard_confirmed(),
            (WizardStep::Confirm, WizardAction::No) => {
                if let Some(w) = self.wizard.as_mut() {
                    w.confirm = None;
                }
            }
            (WizardStep::Applying, WizardAction::Back) => self.wizard_ask_cancel(),
            (WizardStep::Report, WizardAction::Back) => {
                // After a dry run the next thing is usually the real thing: back to the plan.
                let dry = self
                    .wizard
                    .as_ref()
                    .and_then(|w| w.report.as_ref())
                    .is_some_and(|r| r.dry_run);
                if dry {
                    self.wizard_goto(WizardStep::Plan);
                } else {
                    self.wizard_close();
                }
            }
            (WizardStep::Report, WizardAction::ExportXlsx | WizardAction::ExportJson) => {
                let Some(r) = self.wizard.as_ref().and_then(|w| w.report.clone()) else {
                    return;
                };
                let ext = if a == WizardAction::ExportXlsx {
                    "xlsx"
                } else {
                    "json"
                };
                let path = self.reports_dir.join(format!(
                    "assignment-run-{}{}.{ext}",
                    r.run_id,
                    if r.dry_run { "-dry-run" } else { "" }
                ));
                self.effects.push(Effect::WizardExport { report: r, path });
            }
            _ => {}
        }
    }

    fn wizard_goto(&mut self, step: WizardStep) {
        if let Some(w) = self.wizard.as_mut() {
            w.step = step;
            w.tag_error = None;
        }
        if step == WizardStep::Plan {
            self.wizard_plan();
        }
        self.dirty = true;
    }

    /// Leave the wizard for the run list (not while an apply runs).
    pub fn wizard_close(&mut self) {
        if self.wizard.as_ref().is_some_and(Wizard::busy) {
            self.wizard_ask_cancel();
            return;
        }
        self.wizard = None;
        if self.mode == InputMode::Filter {
            self.mode = InputMode::Normal;
        }
        self.dirty = true;
    }

    fn wizard_enter_subscription(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        w.step = WizardStep::Subscription;
        let (Some(data), Some(catalog)) = (w.data.clone(), w.catalog.clone()) else {
            // Filled in when the catalog arrives.
            self.wizard_want_catalog();
            return;
        };
        let all = subscription_choices(&catalog, &data.prepared.valid_matches(), self.now);
        let (ok, short): (Vec<_>, Vec<_>) = all.into_iter().partition(|s| s.enough);
        w.subs_short = short.len();
        let rows: Vec<Row> = ok
            .iter()
            .map(|s| {
                Row::from_cells(
                    s.id.as_str(),
                    [
                        s.key.as_str(),
                        s.subscription_type.as_str(),
                        s.tier.as_deref().unwrap_or(""),
                        &fmt_date(s.end_time),
                        &s.available.map(fmt_int).unwrap_or_else(|| "?".into()),
                        &fmt_int(s.needed as i64),
                    ],
                    Mark::Normal,
                )
            })
            .collect();
        let chosen = w.subscription.value().cloned();
        self.set_table(
            T_W_SUBS,
            TableData {
                rows,
                breakdown: Vec::new(),
            },
        );
        if let Some(id) = chosen {
            self.tables[T_W_SUBS].select_id(&id);
        }
    }

    fn wizard_enter_region(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        w.step = WizardStep::Region;
        let Some(catalog) = w.catalog.clone() else {
            self.wizard_want_catalog();
            return;
        };
        let chosen = w
            .application
            .value()
            .map(|a| format!("{}|{}", a.application_id, a.region));
        self.set_table(T_W_APPS, application_rows(&catalog.applications));
        if let Some(id) = chosen {
            self.tables[T_W_APPS].select_id(&id);
        }
    }

    fn wizard_complete_tag(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let Some(catalog) = w.catalog.clone() else {
            return;
        };
        let (sign, rest) = match w.tag_input.strip_prefix('-') {
            Some(r) => ("-", r.to_string()),
            None => ("", w.tag_input.clone()),
        };
        if rest.contains('=') {
            // Complete the value from those in use for this key.
            let (k, v) = rest.split_once('=').unwrap_or((&rest, ""));
            let values: Vec<String> = tag_choices(&catalog)
                .into_iter()
                .filter(|t| t.key.eq_ignore_ascii_case(k))
                .flat_map(|t| t.values.into_iter().map(|(v, _)| v))
                .filter(|x| x.starts_with(v))
                .collect();
            if let [one] = values.as_slice() {
                w.tag_input = format!("{k}={one}");
            }
            return;
        }
        let keys: Vec<String> = tag_choices(&catalog)
            .into_iter()
            .map(|t| t.key)
            .filter(|k| k.to_lowercase().starts_with(&rest.to_lowercase()))
            .collect();
        if let [one] = keys.as_slice() {
            w.tag_input = if sign.is_empty() {
                format!("{one}=")
            } else {
                format!("-{one}")
            };
        } else if !keys.is_empty() {
            w.tag_error = Some(format!("keys in use: {}", keys.join(" ")));
        }
    }

    fn wizard_tag_enter(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let input = w.tag_input.trim().to_string();
        if input.is_empty() {
            self.wizard_goto(WizardStep::Plan);
            return;
        }
        let parsed = if input.eq_ignore_ascii_case(TAG_REMOVE) {
            Err(format!(
                "\"{TAG_REMOVE}\" is for sheet cells; here write -KEY to remove a tag"
            ))
        } else {
            parse_tag_edit(&input)
        };
        match parsed {
            Ok((k, v)) => {
                w.tags.retain(|(x, _)| !x.eq_ignore_ascii_case(&k));
                w.tags.push((k, v));
                w.tag_cursor = w.tags.len() - 1;
                w.tag_input.clear();
                w.tag_error = None;
            }
            Err(e) => w.tag_error = Some(e),
        }
    }

    /// Resolve the choices and plan (cheap: no I/O), and show the diff.
    fn wizard_plan(&mut self) {
        let now = self.now;
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        // Never keep a plan made for other choices.
        w.planned = None;
        w.diff = None;
        let (Some(data), Some(catalog)) = (w.data.clone(), w.catalog.clone()) else {
            self.tables[T_W_PLAN] = TableModel::new(plan_columns(), 1, None);
            self.wizard_want_catalog();
            return;
        };
        let planned = plan_for_valid(&data.prepared, &catalog, &w.choices(), now);
        let d = diff(&planned.plan);
        let rows = plan_rows(&planned, &d, &catalog);
        w.planned = Some(Arc::new(planned));
        w.diff = Some(Arc::new(d));
        self.tables[T_W_PLAN] = TableModel::new(plan_columns(), 1, None);
        self.tables[T_W_PLAN].empty_text =
            Some("nothing to send: every device is already as asked");
        self.set_table(T_W_PLAN, rows);
    }

    fn wizard_ask_send(&mut self, dry_run: bool) {
        if self.read_only {
            self.toast(
                ToastLevel::Error,
                "read-only mode (--read-only): the plan can be reviewed but not sent; restart without --read-only to apply",
            );
            return;
        }
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        let Some(planned) = w.planned.clone() else {
            self.toast(
                ToastLevel::Info,
                "the plan is not ready: the subscriptions and the catalog are still being read",
            );
            self.wizard_want_catalog();
            return;
        };
        if let Some(b) = planned.blocking() {
            let msg = format!("cannot send: {}", b.message);
            self.toast(ToastLevel::Error, msg);
            return;
        }
        if planned.plan.is_empty() {
            self.toast(
                ToastLevel::Info,
                "nothing to send: every device is already as asked",
            );
            return;
        }
        w.confirm = Some(Confirm::Send { dry_run });
    }

    fn wizard_ask_cancel(&mut self) {
        if let Some(w) = self.wizard.as_mut()
            && w.step == WizardStep::Applying
            && !w.progress.cancelling
        {
            w.confirm = Some(Confirm::Cancel);
            self.dirty = true;
        }
    }

    /// Ctrl-C while an apply runs: ask to cancel (a second Ctrl-C confirms) instead of
    /// quitting and leaving the run half-recorded. Returns true when it was handled.
    pub fn wizard_ctrl_c(&mut self) -> bool {
        let Some(w) = self.wizard.as_ref() else {
            return false;
        };
        if !w.busy() {
            return false;
        }
        // The question is asked where the run is shown.
        self.tab = Tab::Assign;
        if self.mode != InputMode::Normal {
            self.mode = InputMode::Normal;
        }
        let Some(w) = self.wizard.as_ref() else {
            return false;
        };
        if w.confirm == Some(Confirm::Cancel) {
            self.wizard_confirmed();
        } else if !w.progress.cancelling {
            self.wizard_ask_cancel();
        }
        true
    }

    fn wizard_confirmed(&mut self) {
        let Some(w) = self.wizard.as_mut() else {
            return;
        };
        match w.confirm.take() {
            Some(Confirm::Send { dry_run }) => {
                if self.read_only {
                    return;
                }
                let (Some(data), Some(planned)) = (w.data.clone(), w.planned.clone()) else {
                    return;
                };
                let run = new_run(&data.prepared, &w.choices(), dry_run);
                w.progress = ApplyProgress::for_plan(&planned.plan, dry_run);
                w.progress.started = Some(self.now);
                w.step = WizardStep::Applying;
                self.effects.push(Effect::WizardApply {
                    plan: Box::new(planned.plan.clone()),
                    run: Box::new(run),
                    dry_run,
                });
            }
            Some(Confirm::Cancel) => {
                w.progress.cancelling = true;
                w.progress.current = "cancelling: waiting for the calls already sent".into();
                self.effects.push(Effect::WizardCancel);
                self.toast(
                    ToastLevel::Warn,
                    "cancelling the assignment after the calls in flight",
                );
            }
            None => {}
        }
    }
}

/// Build the loader's result (display rows included) from a prepared sheet; runs on the
/// loader task, not the UI task.
pub fn wizard_data(
    prepared: Prepared,
    known: Option<&Catalog>,
    started: DateTime<Utc>,
    now: DateTime<Utc>,
) -> WizardData {
    let cat = known;
    let issues = issue_rows(&prepared.issues());
    let review = review_rows(&prepared.matches, cat);
    let valid = prepared.valid_matches().len();
    let all = prepared.issues();
    let errors = all.iter().filter(|i| i.is_error()).count();
    WizardData {
        valid,
        errors,
        warnings: all.len() - errors,
        prepared,
        issues,
        review,
        elapsed_ms: (now - started).num_milliseconds().max(0) as u128,
    }
}
