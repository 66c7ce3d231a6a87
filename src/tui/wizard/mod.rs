//! The Assign tab's wizard: file → (sheet) → validate → review → subscription → application
//! and region → tags → plan → apply → report. A component in the gitui sense: it owns its
//! state and its lists, takes keys ([`Wizard::on_key`]) and messages ([`Wizard::on_msg`]),
//! and answers with [`Out`]s — its own effects ([`WizardEffect`]), toasts, and requests the
//! app carries out (filter a list again, reload the tabs, close). The app wraps the effects
//! as one `Effect::Wizard` and the messages as one `Loaded::Wizard`, so nothing here knows
//! the app, and reading the file, the database lookups, the catalog, the apply and the
//! report export all happen on the run loop's tasks while the screen goes on.
//!
//! All assignment logic is `crate::assign`'s; this module only orders the steps, keeps the
//! user's choices and turns results into display rows (computed once, off the key path for
//! the big ones, so a 5 000-row sheet scrolls like any other table).

mod actions;
mod choices;
pub mod data;
mod detail;
mod entry;
mod keys;
mod messages;
pub mod path;
pub mod progress;
pub mod row_detail;
pub mod rows;
pub mod step;
pub mod tables;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::keys::Keymap;
use super::line_edit::LineEdit;
use super::model::table::TableModel;
use super::model::table_id::WizardTable;
use super::toast::ToastLevel;
use crate::assign::apply::ApplyEvent;
use crate::assign::diff::Diff;
use crate::assign::matching::MatchCounts;
use crate::assign::options::{Catalog, WizardChoices};
use crate::assign::plan::{AppTarget, Plan};
use crate::assign::report::ApplyReport;
use crate::assign::session::Planned;
use crate::store::audit::NewRun;

pub use data::{WizardData, wizard_data};
pub use path::{SHEET_EXTENSIONS, complete_path, expand_tilde};
pub use progress::ApplyProgress;
pub use row_detail::{DetailLine, RowDetail};
pub use rows::{
    application_columns, issue_columns, issue_rows, plan_columns, report_columns, report_rows,
    review_columns, review_rows, subscription_columns,
};
pub use step::WizardStep;
use tables::WizardTables;

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

/// Work the wizard asks the run loop for; each answer comes back as a [`WizardMsg`].
#[derive(Debug, Clone)]
pub enum WizardEffect {
    /// Read a spreadsheet and match it; the answer is [`WizardMsg::Loaded`] with the same
    /// generation.
    Load {
        generation: u64,
        path: PathBuf,
        /// The path as typed (a directory is completed instead of read).
        typed: String,
        sheet: Option<String>,
    },
    /// Complete the typed path from the file system; the answer is
    /// [`WizardMsg::Completed`].
    Complete { typed: String },
    /// Read what the choices are made from (subscriptions, tags, the service catalog); the
    /// answer is [`WizardMsg::Catalog`]. Started when the wizard opens, so it is there by
    /// the time the user has typed the path.
    Catalog,
    /// Start applying a plan; events come back as [`WizardMsg::Event`], the end as
    /// [`WizardMsg::Done`].
    Apply {
        plan: Box<Plan>,
        run: Box<NewRun>,
        dry_run: bool,
    },
    /// Stop the running apply after the calls in flight.
    Cancel,
    /// Look these serials up and match them like a sheet's rows (the devices marked on the
    /// Devices tab); the answer is [`WizardMsg::Loaded`] with the same generation.
    LoadSerials {
        generation: u64,
        serials: Vec<String>,
    },
    /// Write the report (.xlsx or .json by the extension).
    Export {
        report: Arc<ApplyReport>,
        path: PathBuf,
    },
}

/// Answers to [`WizardEffect`]s.
#[derive(Debug, Clone)]
pub enum WizardMsg {
    /// A load finished (or failed).
    Loaded {
        generation: u64,
        result: Result<Box<WizardData>, String>,
    },
    /// The catalog, and a note when part of it could not be read.
    Catalog(Result<(Arc<Catalog>, Option<String>), String>),
    /// A path completion: from Tab (`load: None`) or Enter on a directory (that load).
    Completed {
        typed: String,
        new: String,
        candidates: Vec<String>,
        load: Option<u64>,
    },
    /// An event from the running apply.
    Event(ApplyEvent),
    /// The apply ended.
    Done(Result<Arc<ApplyReport>, String>),
}

/// What the wizard hands back to the app after a key or a message.
#[derive(Debug, Clone)]
pub enum Out {
    Effect(WizardEffect),
    Toast(ToastLevel, String),
    /// A list's rows changed while it is filtered: filter it again.
    Refilter(WizardTable),
    /// Reload every tab (an apply changed the inventory).
    Reload,
    /// Leave the wizard for the run list.
    Close,
    /// Show the full text of a row in the detail pane.
    Detail(RowDetail),
}

/// What the wizard reads from the app for one call, and where its answers go.
pub struct Cx<'a> {
    pub keymap: &'a Keymap,
    pub now: DateTime<Utc>,
    pub read_only: bool,
    /// For `~` in paths.
    pub home: Option<&'a Path>,
    /// Where reports are exported.
    pub reports_dir: &'a Path,
    out: Vec<Out>,
}

impl<'a> Cx<'a> {
    pub fn new(
        keymap: &'a Keymap,
        now: DateTime<Utc>,
        read_only: bool,
        home: Option<&'a Path>,
        reports_dir: &'a Path,
    ) -> Cx<'a> {
        Cx {
            keymap,
            now,
            read_only,
            home,
            reports_dir,
            out: Vec::new(),
        }
    }

    /// The answers, in the order they were given.
    pub fn into_out(self) -> Vec<Out> {
        self.out
    }

    fn effect(&mut self, e: WizardEffect) {
        self.out.push(Out::Effect(e));
    }

    fn toast(&mut self, level: ToastLevel, text: impl Into<String>) {
        self.out.push(Out::Toast(level, text.into()));
    }
}

/// The wizard's state. Private: it changes only through [`Wizard::on_key`],
/// [`Wizard::on_msg`] and [`Wizard::act`]; views and tests read it through the accessors.
#[derive(Debug, Clone, Default)]
pub struct Wizard {
    step: WizardStep,
    /// The path being typed (as typed: `~` is kept).
    path: LineEdit,
    /// Completion candidates shown under the path (names, dirs end in `/`).
    completions: Vec<String>,
    /// The sheet asked for (`None`: the first with a recognised header).
    sheet: Option<String>,
    /// Generation of the load in flight; older results are dropped.
    generation: u64,
    /// Why the last load failed (shown on the file step).
    error: Option<String>,
    data: Option<Arc<WizardData>>,
    /// What the choices are made from; `None` until the catalog task answers.
    catalog: Option<Arc<Catalog>>,
    /// The catalog task is running.
    catalog_loading: bool,
    counts: MatchCounts,
    sheet_cursor: usize,
    subscription: Choice<String>,
    application: Choice<AppTarget>,
    /// Subscriptions hidden for lack of seats (the chooser says how many).
    subs_short: usize,
    /// Tag changes in the order typed: `Some` sets, `None` removes.
    tags: Vec<(String, Option<String>)>,
    tag_input: LineEdit,
    tag_cursor: usize,
    tag_error: Option<String>,
    planned: Option<Arc<Planned>>,
    diff: Option<Arc<Diff>>,
    confirm: Option<Confirm>,
    progress: ApplyProgress,
    report: Option<Arc<ApplyReport>>,
    /// When the load in flight was asked for (a big file on a slow disk takes a while).
    loading_since: Option<DateTime<Utc>>,
    tables: WizardTables,
    /// The run this wizard undoes: its plan came from the audit, not from a sheet
    /// (`entry.rs`), so there is nothing to re-plan and no choice to go back to.
    undo: Option<i64>,
    /// The serials marked on the Devices tab when they are the input instead of a file.
    marked: Option<Arc<Vec<String>>>,
}

impl Wizard {
    /// A wizard on the file step; the catalog is asked for at once.
    pub fn open(cx: &mut Cx<'_>) -> Wizard {
        cx.effect(WizardEffect::Catalog);
        Wizard {
            catalog_loading: true,
            tables: WizardTables::new(cx.keymap),
            ..Wizard::default()
        }
    }

    /// Read `path` (and `sheet`) at once, as `glp-console assign FILE` asks.
    pub fn open_file(&mut self, path: &str, sheet: Option<String>, cx: &mut Cx<'_>) {
        self.path.set(path);
        self.sheet = sheet;
        self.load(cx);
    }

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

    /// A matched sheet is on one of the steps a sync can make stale (the review onwards,
    /// before anything was sent).
    pub fn matched_before_send(&self) -> bool {
        self.data.is_some()
            && matches!(
                self.step,
                WizardStep::Validate
                    | WizardStep::Review
                    | WizardStep::Subscription
                    | WizardStep::Region
                    | WizardStep::Tags
                    | WizardStep::Plan
            )
    }

    /// The choices as `crate::assign` wants them.
    pub fn choices(&self) -> WizardChoices {
        WizardChoices {
            application: self.application.value().cloned(),
            subscription_id: self.subscription.value().cloned(),
            tags: self.tags.iter().cloned().collect::<BTreeMap<_, _>>(),
        }
    }

    /// The list a step shows, if the current step is a list.
    pub fn current_table(&self) -> Option<WizardTable> {
        self.step.table()
    }

    pub fn table(&self, t: WizardTable) -> &TableModel {
        self.tables.get(t)
    }

    pub fn table_mut(&mut self, t: WizardTable) -> &mut TableModel {
        self.tables.get_mut(t)
    }

    // ---- what the views read ------------------------------------------------------------

    pub fn step(&self) -> WizardStep {
        self.step
    }
    pub fn path(&self) -> &str {
        self.path.as_str()
    }
    /// The path line with its cursor.
    pub fn path_line(&self) -> &LineEdit {
        &self.path
    }
    pub fn completions(&self) -> &Vec<String> {
        &self.completions
    }
    pub fn sheet(&self) -> &Option<String> {
        &self.sheet
    }
    pub fn generation(&self) -> u64 {
        self.generation
    }
    pub fn error(&self) -> &Option<String> {
        &self.error
    }
    pub fn data(&self) -> &Option<Arc<WizardData>> {
        &self.data
    }
    pub fn catalog(&self) -> &Option<Arc<Catalog>> {
        &self.catalog
    }
    pub fn catalog_loading(&self) -> bool {
        self.catalog_loading
    }
    pub fn counts(&self) -> &MatchCounts {
        &self.counts
    }
    pub fn sheet_cursor(&self) -> usize {
        self.sheet_cursor
    }
    pub fn subscription(&self) -> &Choice<String> {
        &self.subscription
    }
    pub fn application(&self) -> &Choice<AppTarget> {
        &self.application
    }
    pub fn subs_short(&self) -> usize {
        self.subs_short
    }
    pub fn tags(&self) -> &Vec<(String, Option<String>)> {
        &self.tags
    }
    pub fn tag_input(&self) -> &LineEdit {
        &self.tag_input
    }
    pub fn tag_cursor(&self) -> usize {
        self.tag_cursor
    }
    pub fn tag_error(&self) -> &Option<String> {
        &self.tag_error
    }
    pub fn planned(&self) -> &Option<Arc<Planned>> {
        &self.planned
    }
    pub fn diff(&self) -> &Option<Arc<Diff>> {
        &self.diff
    }
    pub fn confirm(&self) -> Option<Confirm> {
        self.confirm
    }
    pub fn progress(&self) -> &ApplyProgress {
        &self.progress
    }
    pub fn report(&self) -> &Option<Arc<ApplyReport>> {
        &self.report
    }
    pub fn loading_since(&self) -> Option<DateTime<Utc>> {
        self.loading_since
    }
    /// The run this wizard undoes, if it is an undo.
    pub fn undo_of(&self) -> Option<i64> {
        self.undo
    }

    /// An answer from the run loop.
    pub fn on_msg(&mut self, msg: WizardMsg, cx: &mut Cx<'_>) {
        match msg {
            WizardMsg::Loaded { generation, result } => self.loaded(generation, result, cx),
            WizardMsg::Catalog(r) => self.catalog_arrived(r, cx),
            WizardMsg::Completed {
                typed,
                new,
                candidates,
                load,
            } => self.completed(typed, new, candidates, load),
            WizardMsg::Event(ev) => self.progress.on_event(&ev),
            WizardMsg::Done(r) => self.apply_done(r, cx),
        }
    }

    /// Replace a list's rows; a filtered list is filtered again by the app.
    fn set_table(
        &mut self,
        t: WizardTable,
        data: crate::tui::model::table::TableData,
        cx: &mut Cx<'_>,
    ) {
        if self.tables.get_mut(t).set_data(data) {
            cx.out.push(Out::Refilter(t));
        }
    }
}

#[cfg(test)]
mod tests {
    //! The wizard on its own, without an app: keys and messages in, [`Out`]s out.

    use std::collections::BTreeMap;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn a_component_answers_with_its_own_outs() {
        let (keymap, _) = Keymap::new(&BTreeMap::new(), false);
        let now = chrono::DateTime::<Utc>::UNIX_EPOCH;
        let reports = PathBuf::from("/reports");
        let home = PathBuf::from("/home/u");
        let mut cx = Cx::new(&keymap, now, false, Some(&home), &reports);
        let mut w = Wizard::open(&mut cx);
        assert!(matches!(
            cx.into_out().as_slice(),
            [Out::Effect(WizardEffect::Catalog)]
        ));

        // Typing is the wizard's; Enter asks the loop to read the file, `~` expanded.
        let mut cx = Cx::new(&keymap, now, false, Some(&home), &reports);
        for c in "~/a.csv".chars() {
            assert!(w.on_key(key(KeyCode::Char(c)), &mut cx));
        }
        assert!(w.on_key(key(KeyCode::Enter), &mut cx));
        let out = cx.into_out();
        let [
            Out::Effect(WizardEffect::Load {
                generation, path, ..
            }),
        ] = out.as_slice()
        else {
            panic!("{out:?}");
        };
        assert_eq!(path, &home.join("a.csv"));
        assert_eq!(w.step(), WizardStep::Loading);

        // An answer for an older load is dropped; the current one's failure shows.
        let mut cx = Cx::new(&keymap, now, false, Some(&home), &reports);
        let stale = WizardMsg::Loaded {
            generation: generation - 1,
            result: Err("old".into()),
        };
        w.on_msg(stale, &mut cx);
        assert_eq!(w.step(), WizardStep::Loading);
        let current = WizardMsg::Loaded {
            generation: *generation,
            result: Err("no such file".into()),
        };
        w.on_msg(current, &mut cx);
        assert_eq!(w.step(), WizardStep::File);
        assert_eq!(w.error().as_deref(), Some("no such file"));

        // Esc on the file step asks the app to close the wizard.
        assert!(w.on_key(key(KeyCode::Esc), &mut cx));
        assert!(matches!(cx.into_out().as_slice(), [Out::Close]));
    }
}
