//! What each wizard key does on each step, and the moves between steps.

use super::rows::application_rows;
use super::{Choice, Cx, Out, Wizard, WizardEffect, WizardStep, expand_tilde};
use crate::assign::plan::AppTarget;
use crate::tui::keys::WizardAction;
use crate::tui::model::table_id::WizardTable;
use crate::tui::toast::ToastLevel;

impl Wizard {
    /// Carry out a wizard action (keys, and tests).
    pub fn act(&mut self, a: WizardAction, cx: &mut Cx<'_>) {
        if a == WizardAction::Detail && self.confirm.is_none() {
            if let Some(d) = self.row_detail() {
                cx.out.push(Out::Detail(d));
            }
            return;
        }
        match self.key_step() {
            step @ (WizardStep::File
            | WizardStep::Loading
            | WizardStep::Sheet
            | WizardStep::Validate
            | WizardStep::Review) => self.act_reading(step, a, cx),
            step => self.act_choosing(step, a, cx),
        }
    }

    /// The steps up to the review: the file, its sheet, what is wrong with it.
    fn act_reading(&mut self, step: WizardStep, a: WizardAction, cx: &mut Cx<'_>) {
        match (step, a) {
            // Several entries fit and nothing was typed since: each Tab shows the next.
            (WizardStep::File, WizardAction::Complete) if !self.completions.is_empty() => {
                let options = self.completions.clone();
                self.path.complete(&options, true);
            }
            (WizardStep::File, WizardAction::Complete) => {
                // Reading a directory can hang on a network home: off the UI task.
                cx.effect(WizardEffect::Complete {
                    typed: self.path.to_string(),
                });
            }
            (WizardStep::File, WizardAction::Next) => self.load(cx),
            (WizardStep::File, WizardAction::Back) => self.close(cx),
            (WizardStep::Loading, WizardAction::Back) => {
                // The result of the load in flight is dropped by its generation.
                self.generation += 1;
                self.back_to_file();
            }
            (WizardStep::Sheet, WizardAction::Next) => {
                let name = self
                    .data
                    .as_ref()
                    .and_then(|d| d.prepared.sheet.sheet_names.get(self.sheet_cursor).cloned());
                if name.is_some()
                    && name == self.data.as_ref().map(|d| d.prepared.sheet.sheet.clone())
                {
                    self.step = WizardStep::Validate;
                } else {
                    self.sheet = name;
                    self.load(cx);
                }
            }
            (WizardStep::Sheet, WizardAction::Back) => self.goto(WizardStep::Validate, cx),
            (WizardStep::Validate | WizardStep::Review, WizardAction::Reload) => {
                // Seats and tags may have changed too (a sync, another run): read them again.
                if !self.catalog_loading {
                    self.catalog_loading = true;
                    cx.effect(WizardEffect::Catalog);
                }
                self.load(cx);
            }
            (WizardStep::Validate | WizardStep::Review, WizardAction::ChooseSheet) => {
                let several = self
                    .data
                    .as_ref()
                    .is_some_and(|d| d.prepared.sheet.sheet_names.len() > 1);
                if several {
                    self.goto(WizardStep::Sheet, cx);
                } else {
                    cx.toast(ToastLevel::Info, "this file has only one sheet");
                }
            }
            (WizardStep::Validate, WizardAction::Next) => {
                let valid = self.data.as_ref().map_or(0, |d| d.valid);
                if valid == 0 {
                    let reload = cx.keymap.press(WizardAction::Reload, "reload");
                    cx.toast(
                        ToastLevel::Error,
                        format!(
                            "no valid rows to continue with: fix the errors listed in the file, then {reload}"
                        ),
                    );
                } else {
                    self.goto(WizardStep::Review, cx);
                }
            }
            (WizardStep::Validate, WizardAction::Back) => self.back_to_file(),
            (WizardStep::Review, WizardAction::Next) => self.enter_subscription(cx),
            (WizardStep::Review, WizardAction::Back) => self.goto(WizardStep::Validate, cx),
            _ => {}
        }
    }

    /// The steps from the subscription chooser to the report.
    fn act_choosing(&mut self, step: WizardStep, a: WizardAction, cx: &mut Cx<'_>) {
        match (step, a) {
            (WizardStep::Subscription, WizardAction::Next) => self.choose_subscription(cx),
            (WizardStep::Subscription, WizardAction::Skip) => {
                self.subscription = Choice::Keep;
                self.enter_region(cx);
            }
            (WizardStep::Subscription, WizardAction::Back) => self.goto(WizardStep::Review, cx),
            (WizardStep::Region, WizardAction::Next) => self.choose_application(cx),
            (WizardStep::Region, WizardAction::Skip) => {
                self.application = Choice::Keep;
                self.goto(WizardStep::Tags, cx);
            }
            (WizardStep::Region, WizardAction::Back) => self.goto(WizardStep::Subscription, cx),
            (WizardStep::Tags, WizardAction::Complete) => self.complete_tag(),
            (WizardStep::Tags, WizardAction::Next) => self.tag_enter(cx),
            (WizardStep::Tags, WizardAction::RemoveTag) if self.tag_cursor < self.tags.len() => {
                self.tags.remove(self.tag_cursor);
                self.tag_cursor = self.tag_cursor.min(self.tags.len().saturating_sub(1));
            }
            (WizardStep::Tags, WizardAction::Back) => self.goto(WizardStep::Region, cx),
            (WizardStep::Plan, WizardAction::DryRun | WizardAction::Apply) => {
                self.ask_send(a == WizardAction::DryRun, cx)
            }
            // An undo has no choices to go back to.
            (WizardStep::Plan, WizardAction::Back) if self.undo.is_some() => self.close(cx),
            (WizardStep::Plan, WizardAction::Back) => self.goto(WizardStep::Tags, cx),
            (WizardStep::Confirm, WizardAction::Yes) => self.confirmed(cx),
            (WizardStep::Confirm, WizardAction::No) => self.confirm = None,
            (WizardStep::Applying, WizardAction::Back) => self.ask_cancel(),
            (WizardStep::Report, WizardAction::Back) => {
                // After a dry run the next thing is usually the real thing: back to the plan.
                if self.report.as_ref().is_some_and(|r| r.dry_run) {
                    self.goto(WizardStep::Plan, cx);
                } else {
                    self.close(cx);
                }
            }
            (WizardStep::Report, WizardAction::ExportXlsx | WizardAction::ExportJson) => {
                let Some(r) = self.report.clone() else {
                    return;
                };
                let ext = if a == WizardAction::ExportXlsx {
                    "xlsx"
                } else {
                    "json"
                };
                let path = cx.reports_dir.join(format!(
                    "assignment-run-{}{}.{ext}",
                    r.run_id,
                    if r.dry_run { "-dry-run" } else { "" }
                ));
                cx.effect(WizardEffect::Export { report: r, path });
            }
            _ => {}
        }
    }

    /// Enter on the subscription chooser.
    fn choose_subscription(&mut self, cx: &mut Cx<'_>) {
        let id = self
            .tables
            .get(WizardTable::Subscriptions)
            .selected_row()
            .map(|r| r.id.to_string());
        match id {
            Some(id) => {
                self.subscription = Choice::Set(id);
                self.enter_region(cx);
            }
            None if self.catalog.is_none() => cx.toast(
                ToastLevel::Info,
                "still reading the subscriptions; the list fills in a moment",
            ),
            None => {
                let skip = cx
                    .keymap
                    .press(WizardAction::Skip, "leave the subscriptions as they are");
                cx.toast(
                    ToastLevel::Warn,
                    format!("no subscription selected; {skip}"),
                )
            }
        }
    }

    /// Enter on the application and region chooser.
    fn choose_application(&mut self, cx: &mut Cx<'_>) {
        let id = self
            .tables
            .get(WizardTable::Applications)
            .selected_row()
            .map(|r| r.id.to_string());
        match id.as_deref().and_then(|i| i.split_once('|')) {
            Some((app, region)) => {
                self.application = Choice::Set(AppTarget {
                    application_id: app.to_string(),
                    region: region.to_string(),
                });
                self.goto(WizardStep::Tags, cx);
            }
            None if self.catalog.is_none() => cx.toast(
                ToastLevel::Info,
                "still reading the service catalog; the list fills in a moment",
            ),
            None => {
                let skip = cx.keymap.press(
                    WizardAction::Skip,
                    "leave applications and regions as they are",
                );
                cx.toast(ToastLevel::Warn, format!("no application selected; {skip}"))
            }
        }
    }

    /// Back on the file step, where the user types a path: a wizard that read the marked
    /// devices lets go of them (and of their pseudo sheet), or the typed file would be
    /// ignored for the marks and the path line would hold "N marked devices" to edit.
    pub(super) fn back_to_file(&mut self) {
        self.step = WizardStep::File;
        self.tag_error = None;
        if self.marked.take().is_some() {
            self.path.set(String::new());
            self.sheet = None;
        }
    }

    pub(super) fn goto(&mut self, step: WizardStep, cx: &mut Cx<'_>) {
        self.step = step;
        self.tag_error = None;
        if step == WizardStep::Plan {
            self.plan(cx);
        }
    }

    /// Read the typed path (and the chosen sheet).
    pub fn load(&mut self, cx: &mut Cx<'_>) {
        if let Some(serials) = self.marked.clone() {
            self.load_marked(serials, cx);
            return;
        }
        let typed = self.path.as_str().trim().to_string();
        if typed.is_empty() {
            self.error = Some(format!(
                "type the path of the spreadsheet (.xlsx, .xls, .ods, .csv); {} completes",
                cx.keymap.say(WizardAction::Complete)
            ));
            return;
        }
        let path = expand_tilde(&typed, cx.home);
        self.generation += 1;
        self.error = None;
        self.completions.clear();
        self.step = WizardStep::Loading;
        self.loading_since = Some(cx.now);
        cx.effect(WizardEffect::Load {
            generation: self.generation,
            path,
            typed,
            sheet: self.sheet.clone(),
        });
    }

    /// Leave the wizard for the run list (not while an apply runs: ask to cancel instead).
    pub fn close(&mut self, cx: &mut Cx<'_>) {
        if self.busy() {
            self.ask_cancel();
            return;
        }
        cx.out.push(Out::Close);
    }

    /// Fill the application chooser from the catalog.
    pub(super) fn enter_region(&mut self, cx: &mut Cx<'_>) {
        self.step = WizardStep::Region;
        let Some(catalog) = self.catalog.clone() else {
            self.want_catalog(cx);
            return;
        };
        let chosen = self
            .application
            .value()
            .map(|a| format!("{}|{}", a.application_id, a.region));
        self.set_table(
            WizardTable::Applications,
            application_rows(&catalog.applications),
            cx,
        );
        if let Some(id) = chosen {
            self.tables
                .get_mut(WizardTable::Applications)
                .select_id(&id);
        }
    }
}
