//! Data from the loader tasks.

use super::messages::OnYes;
use super::{App, Effect, InputMode, Loaded, TableId, ToastLevel};
use crate::tui::keys::Action;
use crate::tui::wizard::WizardMsg;

impl App {
    /// Data from the loader.
    pub fn on_loaded(&mut self, l: Loaded) {
        self.dirty = true;
        let table_load = matches!(
            l,
            Loaded::DevicesHead { .. }
                | Loaded::DeviceCounts { .. }
                | Loaded::Devices(_)
                | Loaded::Subscriptions { .. }
                | Loaded::ScopedSubscriptions { .. }
                | Loaded::Covered(_)
                | Loaded::Assign(_)
                | Loaded::LastGoodSync(_)
                | Loaded::Overview(_)
        );
        if table_load && !self.load_is_current() {
            // Read for the scope shown before `:ws` changed it: the reload asked for then
            // brings the new scope's.
            return;
        }
        match l {
            Loaded::Workspaces {
                scope,
                list,
                figures,
            } => self.workspaces_loaded(scope, list, figures),
            Loaded::ScopedSubscriptions {
                records,
                names,
                table,
            } => self.scoped_subscriptions_loaded(records, names, table),
            Loaded::DevicesHead { data } => {
                if self
                    .table_mut_opt(TableId::Devices)
                    .is_some_and(|t| t.set_head(data))
                {
                    self.request_filter(TableId::Devices);
                }
            }
            Loaded::DeviceCounts { breakdown, total } => {
                if let Some(t) = self.table_mut_opt(TableId::Devices) {
                    t.set_head_counts(breakdown, total);
                }
            }
            Loaded::Devices(d) => self.set_table(TableId::Devices, d),
            Loaded::Subscriptions { records, table } => {
                self.set_table(TableId::Subscriptions, table);
                self.subscriptions = records;
                self.rebuild_expiring();
            }
            Loaded::Covered(c) => self.covered = c,
            Loaded::Assign(d) => self.set_table(TableId::Assign, d),
            Loaded::LastGoodSync(t) => {
                if t > self.last_good {
                    self.last_good = t;
                }
            }
            Loaded::Detail {
                table,
                id,
                detail,
                history,
            } => self.fill_detail(table, &id, detail, history),
            Loaded::Failed(e) => {
                self.load_error = Some(e.clone());
                self.toast(
                    ToastLevel::Error,
                    format!("loading from the database failed: {e}"),
                );
            }
            Loaded::Exported(Ok(msg)) => self.toast(ToastLevel::Info, msg),
            Loaded::Exported(Err(e)) => self.toast(ToastLevel::Error, e),
            Loaded::UndoPlanned(r) => self.undo_planned(None, r),
            Loaded::UndoPlannedIn { workspace, result } => {
                self.undo_planned(Some(workspace), result)
            }
            Loaded::RunDetail { run_id, result } => self.run_detail_loaded(run_id, result),
            Loaded::History(r) => self.history_loaded(r),
            Loaded::Overview(f) => self.overview_loaded(f),
            Loaded::Jump { jump, ids } => self.jump_loaded(jump, ids),
            Loaded::Changes { scope, data } => self.changes_loaded(&scope, *data),
            Loaded::ExportExists { path, header, rows } => {
                // Asked only over the tables: a question taking the keys of a line being
                // typed or of a pane would answer itself with the next key.
                if self.mode == InputMode::Normal {
                    let question = format!("{path} exists: replace it?");
                    let again = Effect::Export {
                        path,
                        header,
                        rows,
                        overwrite: true,
                    };
                    self.ask = Some((question, OnYes::Effect(again)));
                    self.mode = InputMode::Ask;
                } else {
                    let again = self.keymap.say(Action::Command);
                    self.toast(
                        ToastLevel::Warn,
                        format!("{path} exists and was kept: {again}export again to replace it"),
                    );
                }
            }
            Loaded::Wizard(msg) => {
                if self.wizard.is_none() && matches!(msg, WizardMsg::Done(_)) {
                    // The tabs show what the apply changed even with the wizard gone.
                    self.effects.push(Effect::Reload);
                }
                self.with_wizard(|w, cx| w.on_msg(msg, cx));
            }
        }
    }
}
