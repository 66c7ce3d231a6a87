//! The Assign tab's runs and the sync history: a run's detail (its devices, its calls with
//! their outcomes, its errors — read from the audit), its report exported again, its undo
//! (planned by the same code as `assign --undo`, then the wizard's plan → confirm → apply →
//! report), and `:history`, the sync runs as `glp-console status` lists them.

use crossterm::event::KeyEvent;

use super::{App, DetailStyle, DetailView, Effect, InputMode, Tab, TableId, ToastLevel};
use crate::assign::apply::UndoPlan;
use crate::assign::recorded::RecordedRun;
use crate::domain::WorkspaceId;
use crate::headless::reports::runs_table;
use crate::store::history::RunRecord;
use crate::tui::keys::{Action, Context, ModalAction as M};
use crate::tui::run_loaders::HISTORY_RUNS;
use crate::tui::wizard::Wizard;

impl App {
    /// The run under the cursor of the run list (the Assign tab with the wizard closed).
    fn selected_run(&self) -> Option<i64> {
        if self.tab != Tab::Assign || self.wizard.is_some() {
            return None;
        }
        self.tables
            .get(TableId::Assign)
            .selected_row()
            .and_then(|r| r.id.parse().ok())
    }

    /// `u`: plan the undo of the run whose detail is open, or of the selected run.
    pub(super) fn undo_run(&mut self) {
        let Some(run_id) = self.run_detail.or_else(|| self.selected_run()) else {
            let tab = self.keymap.say(Action::TabAssign);
            self.toast(
                ToastLevel::Info,
                format!("undo works on an assignment run: pick one in the Assign tab ({tab})"),
            );
            return;
        };
        if self.read_only {
            self.refuse(Action::UndoRun);
            return;
        }
        self.effects.push(Effect::PlanUndo { run_id });
        self.toast(
            ToastLevel::Info,
            format!("planning the undo of run {run_id}: reading its devices again…"),
        );
    }

    /// The undo plan arrived: open it in the wizard (nothing to send: say so instead), in
    /// `workspace` when the run's workspace was read (a console over several).
    pub(super) fn undo_planned(
        &mut self,
        workspace: Option<WorkspaceId>,
        r: Result<Box<UndoPlan>, String>,
    ) {
        let undo = match r {
            Err(e) => {
                self.toast(ToastLevel::Error, format!("cannot undo: {e}"));
                return;
            }
            Ok(u) => u,
        };
        if undo.plan.is_empty() {
            let notes = if undo.plan.notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", undo.plan.notes.join("; "))
            };
            self.toast(
                ToastLevel::Info,
                format!(
                    "nothing to undo: every device of run {} is as it was before{notes}",
                    undo.run_id
                ),
            );
            return;
        }
        self.detail = None;
        self.run_detail = None;
        if self.mode == InputMode::Detail {
            self.mode = InputMode::Normal;
        }
        self.wizard_start_in(workspace, |cx| Wizard::for_undo(*undo, cx));
    }

    /// Enter on the run list: the row's fields at once, the calls and devices once read.
    pub(super) fn want_run_detail(&mut self, id: &str) {
        match id.parse::<i64>() {
            Ok(run_id) => {
                self.run_detail = Some(run_id);
                self.effects.push(Effect::LoadRunDetail { run_id });
            }
            Err(_) => {
                if let Some(d) = self.detail.as_mut() {
                    d.loading = false;
                }
            }
        }
    }

    /// A run's calls and devices arrived (dropped when another detail is open by now).
    pub(super) fn run_detail_loaded(
        &mut self,
        run_id: i64,
        result: Result<Option<Box<RecordedRun>>, String>,
    ) {
        if self.run_detail != Some(run_id) {
            return;
        }
        let export = format!(
            "{} export its report (.xlsx) · {} (.json)",
            self.keymap.label(M::RunExportXlsx),
            self.keymap.label(M::RunExportJson)
        );
        // Read-only hides the undo key, and a dry run changed nothing to undo: the line
        // offers only what works.
        let undoable = matches!(&result, Ok(Some(r)) if !r.dry_run());
        let hint = match self.keymap.first(M::RunUndo) {
            Some(k) if !self.read_only && undoable => format!("{k} undo this run · {export}"),
            _ => export,
        };
        // Enter, Esc, Enter on the same run asks twice: only the first answer fills it.
        let Some(view) = self.detail.as_mut().filter(|v| v.loading) else {
            return;
        };
        view.loading = false;
        match result {
            Err(e) => view.lines.push((
                DetailStyle::Heading,
                format!("reading the run from the database failed: {e}"),
            )),
            Ok(None) => view.lines.push((
                DetailStyle::Heading,
                "This run is no longer in the database.".into(),
            )),
            Ok(Some(r)) => {
                view.lines.push((DetailStyle::Heading, String::new()));
                view.lines.push((DetailStyle::Heading, hint));
                run_lines(&r, &mut view.lines);
            }
        }
    }

    /// The run detail's own keys (undo, export); true when the key was one of them.
    pub(super) fn run_detail_key(&mut self, ev: &KeyEvent) -> bool {
        let Some(run_id) = self.run_detail else {
            return false;
        };
        let ext = match self.keymap.modal(Context::Pane, ev) {
            Some(M::RunUndo) => {
                self.undo_run();
                return true;
            }
            Some(M::RunExportXlsx) => "xlsx",
            Some(M::RunExportJson) => "json",
            _ => return false,
        };
        let path = self
            .reports_dir
            .join(format!("assignment-run-{run_id}-again.{ext}"));
        self.effects.push(Effect::ExportRun { run_id, path });
        true
    }

    /// `:history`: the sync runs, as `glp-console status` lists them.
    pub(super) fn open_history(&mut self) {
        self.run_detail = None;
        self.detail = Some(DetailView {
            title: "Sync history".into(),
            lines: vec![(DetailStyle::Text, "reading sync_history…".into())],
            scroll: 0,
            copy: String::new(),
            loading: true,
        });
        self.mode = InputMode::Detail;
        self.effects.push(Effect::LoadHistory);
    }

    /// The sync runs arrived.
    pub(super) fn history_loaded(&mut self, r: Result<Vec<RunRecord>, String>) {
        let Some(view) = self.detail.as_mut() else {
            return;
        };
        if view.title != "Sync history" || !view.loading {
            return;
        }
        view.loading = false;
        match r {
            Err(e) => {
                view.lines = vec![(
                    DetailStyle::Heading,
                    format!("reading the sync history failed: {e}"),
                )]
            }
            Ok(runs) => {
                let text = runs_table(&runs);
                view.title = history_title(runs.len());
                view.lines = text
                    .lines()
                    .enumerate()
                    .map(|(i, l)| {
                        let style = if i == 0 {
                            DetailStyle::Heading
                        } else {
                            DetailStyle::Text
                        };
                        (style, l.to_string())
                    })
                    .collect();
                if runs.is_empty() {
                    view.lines
                        .push((DetailStyle::Text, "no sync has run yet".into()));
                }
                view.copy = text;
            }
        }
    }
}

/// The history pane's title. The query stops at [`HISTORY_RUNS`]: a full page says it
/// shows the latest ones, not that there are exactly that many.
fn history_title(n: usize) -> String {
    if i64::try_from(n).is_ok_and(|n| n >= HISTORY_RUNS) {
        format!("Sync history: latest {n} runs, newest first")
    } else {
        format!("Sync history: {n} runs, newest first")
    }
}

/// A recorded run as lines: its errors first (what a user opens it for), then every call
/// with its outcome, then every device.
fn run_lines(r: &RecordedRun, out: &mut Vec<(DetailStyle, String)>) {
    let report = r.report();
    let c = &report.counts;
    out.push((DetailStyle::Heading, String::new()));
    out.push((
        DetailStyle::Field,
        format!(
            "{} calls: {} succeeded, {} failed, {} skipped · {} devices: {} succeeded, {} failed, {} unchanged",
            c.operations,
            c.operations_succeeded,
            c.operations_failed,
            c.operations_skipped,
            c.devices,
            c.devices_succeeded,
            c.devices_failed,
            c.devices_unchanged
        ),
    ));
    if let Some(u) = r.run.undo_of {
        out.push((DetailStyle::Field, format!("undoes run {u}")));
    }
    let errors: Vec<String> = r
        .operations
        .iter()
        .filter_map(|o| o.error.as_ref().map(|e| format!("call #{}: {e}", o.seq)))
        .chain(
            r.devices
                .iter()
                .filter_map(|d| d.error.as_ref().map(|e| format!("{}: {e}", d.serial))),
        )
        .collect();
    out.push((DetailStyle::Heading, String::new()));
    out.push((DetailStyle::Heading, format!("Errors ({})", errors.len())));
    for e in errors {
        out.push((DetailStyle::Text, format!("  {e}")));
    }
    out.push((DetailStyle::Heading, String::new()));
    out.push((
        DetailStyle::Heading,
        format!("Calls ({})", r.operations.len()),
    ));
    for o in &r.operations {
        let http = o
            .http_status
            .map(|h| format!(" HTTP {h}"))
            .unwrap_or_default();
        out.push((
            DetailStyle::Text,
            format!(
                "  #{:<3} {:<12} {} devices  {}{http}",
                o.seq,
                o.kind,
                o.serials.len(),
                o.status
            ),
        ));
    }
    out.push((DetailStyle::Heading, String::new()));
    out.push((
        DetailStyle::Heading,
        format!("Devices ({})", r.devices.len()),
    ));
    for d in &r.devices {
        out.push((
            DetailStyle::Text,
            format!("  {:<20} {}", d.serial, d.outcome),
        ));
    }
}
