//! Ways into the wizard other than a spreadsheet: the undo of a recorded run (straight to
//! the plan, whose confirm, apply and report are the same as any plan's) and the devices
//! marked on the Devices tab (read like a sheet of serials, then the review as usual).

use std::sync::Arc;

use super::rows::plan_rows;
use super::{Cx, Wizard, WizardEffect, WizardStep};
use crate::assign::apply::UndoPlan;
use crate::assign::diff::diff;
use crate::assign::options::Catalog;
use crate::assign::session::Planned;
use crate::tui::model::table_id::WizardTable;
use crate::tui::toast::ToastLevel;

impl Wizard {
    /// A wizard on the plan step with the undo of a run, planned by the same code as
    /// `assign --undo`.
    pub fn for_undo(undo: UndoPlan, cx: &mut Cx<'_>) -> Wizard {
        let mut w = Wizard::open(cx);
        w.undo = Some(undo.run_id);
        w.planned = Some(Arc::new(Planned {
            issues: Vec::new(),
            plan: undo.plan,
        }));
        w.step = WizardStep::Plan;
        w.show_undo_plan(cx);
        if let Some(warning) = undo.warning {
            cx.toast(ToastLevel::Warn, warning);
        }
        w
    }

    /// A wizard reading the marked devices as its input (no file to choose).
    pub fn for_serials(serials: Vec<String>, cx: &mut Cx<'_>) -> Wizard {
        let mut w = Wizard::open(cx);
        w.path.set(format!("{} marked devices", serials.len()));
        w.marked = Some(Arc::new(serials));
        w.load(cx);
        w
    }

    /// The undo's plan rows (again when the catalog arrives: it names the applications).
    /// The plan itself never changes: it came from the audit, not from choices.
    pub(super) fn show_undo_plan(&mut self, cx: &mut Cx<'_>) {
        let Some(planned) = self.planned.clone() else {
            return;
        };
        let d = diff(&planned.plan);
        let none = Catalog::default();
        let rows = plan_rows(&planned, &d, self.catalog.as_deref().unwrap_or(&none));
        self.diff = Some(Arc::new(d));
        self.tables.reset(
            WizardTable::Plan,
            Some("nothing to undo: every device of the run is already as it was before".into()),
        );
        self.set_table(WizardTable::Plan, rows, cx);
    }

    /// Read the marked devices again (the wizard's load and reload for them).
    pub(super) fn load_marked(&mut self, serials: Arc<Vec<String>>, cx: &mut Cx<'_>) {
        self.generation += 1;
        self.error = None;
        self.step = WizardStep::Loading;
        self.loading_since = Some(cx.now);
        cx.effect(WizardEffect::LoadSerials {
            generation: self.generation,
            serials: serials.to_vec(),
        });
    }
}
