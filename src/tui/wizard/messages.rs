//! The wizard's answers from the run loop: a load, the catalog, a path completion, the end
//! of an apply. Each is dropped when the wizard has moved on since it was asked for.

use std::sync::Arc;

use super::{Cx, Out, SHEET_EXTENSIONS, Wizard, WizardData, WizardEffect, WizardStep, report_rows};
use crate::assign::matching::count;
use crate::assign::options::Catalog;
use crate::assign::report::ApplyReport;
use crate::tui::keys::WizardAction;
use crate::tui::model::table_id::WizardTable;
use crate::tui::toast::ToastLevel;

impl Wizard {
    /// A path completion arrived: from Tab (`load` is `None`), or from Enter on a
    /// directory (`load` is that load's generation). Dropped when the user typed on since.
    pub(super) fn completed(
        &mut self,
        typed: String,
        new: String,
        candidates: Vec<String>,
        load: Option<u64>,
    ) {
        let current = match load {
            Some(g) => self.step == WizardStep::Loading && self.generation == g,
            None => self.step == WizardStep::File && self.path.as_str() == typed,
        };
        if !current {
            return;
        }
        self.step = WizardStep::File;
        self.error = (load.is_none() && new == typed && candidates.is_empty()).then(|| {
            format!(
                "nothing to complete: no directory or spreadsheet (.{}) starts with \"{typed}\"",
                SHEET_EXTENSIONS.join(", .")
            )
        });
        self.path.set(new);
        self.completions = candidates;
    }

    /// A load finished (or failed).
    pub(super) fn loaded(
        &mut self,
        generation: u64,
        result: Result<Box<WizardData>, String>,
        cx: &mut Cx<'_>,
    ) {
        if generation != self.generation || self.step != WizardStep::Loading {
            return;
        }
        match result {
            Err(e) => {
                self.back_to_file();
                self.error = Some(e);
            }
            Ok(data) => {
                // A workbook of several sheets read for the first time without a sheet
                // asked for: offer the chooser, on the sheet `load` picked.
                let choose = self.sheet.is_none() && data.prepared.sheet.sheet_names.len() > 1;
                self.counts = count(&data.prepared.matches);
                self.sheet = Some(data.prepared.sheet.sheet.clone());
                self.sheet_cursor = data
                    .prepared
                    .sheet
                    .sheet_names
                    .iter()
                    .position(|s| *s == data.prepared.sheet.sheet)
                    .unwrap_or(0);
                self.step = if choose {
                    WizardStep::Sheet
                } else {
                    WizardStep::Validate
                };
                let issues = data.issues.clone();
                let review = data.review.clone();
                self.data = Some(Arc::from(data));
                self.set_table(WizardTable::Issues, issues, cx);
                self.set_table(WizardTable::Review, review, cx);
            }
        }
    }

    /// The catalog arrived (or could not be read). A chooser waiting for it fills in.
    pub(super) fn catalog_arrived(
        &mut self,
        r: Result<(Arc<Catalog>, Option<String>), String>,
        cx: &mut Cx<'_>,
    ) {
        self.catalog_loading = false;
        match r {
            Ok((c, note)) => {
                self.catalog = Some(c);
                if let Some(n) = note {
                    cx.toast(ToastLevel::Warn, n);
                }
                match self.step {
                    WizardStep::Subscription => self.enter_subscription(cx),
                    WizardStep::Region => self.enter_region(cx),
                    WizardStep::Plan => self.plan(cx),
                    _ => {}
                }
            }
            Err(e) => {
                // The loader knows no keys: the advice is added here, with the live one.
                let retry = cx.keymap.press(WizardAction::Reload, "retry");
                cx.toast(
                    ToastLevel::Error,
                    format!("{e}; check the database connection, then {retry}"),
                )
            }
        }
    }

    /// Ask for the catalog again when it is missing and not on its way.
    pub(super) fn want_catalog(&mut self, cx: &mut Cx<'_>) {
        if self.catalog.is_none() && !self.catalog_loading {
            self.catalog_loading = true;
            cx.effect(WizardEffect::Catalog);
        }
    }

    /// The apply ended: show the report (failures first) and reload the tabs, whose data
    /// the targeted resync has just refreshed.
    pub(super) fn apply_done(&mut self, result: Result<Arc<ApplyReport>, String>, cx: &mut Cx<'_>) {
        cx.out.push(Out::Reload);
        self.confirm = None;
        match result {
            Err(e) => {
                self.step = WizardStep::Plan;
                cx.toast(
                    ToastLevel::Error,
                    format!("the assignment could not run: {e}"),
                );
            }
            Ok(report) => {
                self.step = WizardStep::Report;
                let rows = report_rows(&report, self.catalog.as_deref());
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
                self.report = Some(report);
                self.tables
                    .reset(WizardTable::Report, Some("no calls were needed".into()));
                self.set_table(WizardTable::Report, rows, cx);
                cx.toast(level, msg);
            }
        }
    }
}
