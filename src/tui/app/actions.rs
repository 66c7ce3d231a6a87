//! What a normal-mode action does (from a key, the command line or a test).

use super::{App, Effect, InputMode, Tab, ToastLevel};
use crate::sync::events::{Mode as SyncMode, Scope, SyncCommand, Trigger};
use crate::tui::keys::Action;

impl App {
    /// Carry out an action (from a key, the command line or a test).
    pub fn act(&mut self, a: Action) {
        let page = self.page_height.get().max(1) as isize;
        if self.overview_act(a) {
            return;
        }
        match a {
            Action::Quit => self.quit(),
            Action::Help => {
                self.mode = InputMode::Help;
                self.help_scroll = 0;
            }
            Action::TabOverview => self.switch(Tab::Overview),
            Action::TabDevices => self.switch(Tab::Devices),
            Action::TabSubscriptions => self.switch(Tab::Subscriptions),
            Action::TabExpiring => self.switch(Tab::Expiring),
            Action::TabAssign => self.switch(Tab::Assign),
            Action::TabWorkspaces => self.go_workspaces(),
            Action::NextTab | Action::PrevTab => {
                let tabs = self.tabs();
                let at = tabs.iter().position(|t| *t == self.tab).unwrap_or(0);
                let step = if a == Action::NextTab {
                    1
                } else {
                    tabs.len() - 1
                };
                self.switch(tabs[(at + step) % tabs.len()]);
            }
            Action::Up => self.table_mut().move_by(-1),
            Action::Down => self.table_mut().move_by(1),
            Action::Top => self.table_mut().top(),
            Action::Bottom => self.table_mut().bottom(),
            Action::PageUp => self.table_mut().move_by(-page),
            Action::PageDown => self.table_mut().move_by(page),
            Action::HalfPageUp => self.table_mut().move_by(-(page / 2).max(1)),
            Action::HalfPageDown => self.table_mut().move_by((page / 2).max(1)),
            Action::Detail if self.tab == Tab::Workspaces => self.enter_workspace(),
            Action::Detail => self.open_detail(),
            Action::Back => {
                if self.table().filter_active() {
                    self.table_mut().clear_filter();
                } else if !self.undrill() {
                    self.leave_changes();
                }
            }
            Action::ScrollLeft => self.table_mut().scroll_columns(-1),
            Action::ScrollRight => self.table_mut().scroll_columns(1),
            Action::Drill => self.drill(),
            Action::Filter => {
                self.mode = InputMode::Filter;
                let f = self.table().filter.clone();
                self.input.set(f);
            }
            Action::Command => {
                self.mode = InputMode::Command;
                self.input.clear();
                self.completions.clear();
            }
            Action::SortNext | Action::SortPrev => self.sort_step(a == Action::SortNext),
            Action::SortReverse => {
                let (col, desc) = self.table().sort.unwrap_or((0, false));
                self.table_mut().sort_by(col, !desc);
            }
            Action::Columns => {
                self.mode = InputMode::Columns;
                self.columns_cursor = 0;
            }
            Action::CopyId => self.copy_id(),
            Action::CopyRow => self.copy_row(),
            Action::Sync | Action::SyncFull => self.sync_now(a == Action::SyncFull),
            Action::CancelSync => {
                if self.sync_off.is_some() {
                    self.refuse(a);
                } else if self.sync.running {
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
                if self.read_only || (self.tab == Tab::Assign && self.wizard.is_none()) {
                    self.wizard_new();
                }
            }
            Action::UndoRun => self.undo_run(),
            Action::Mark
            | Action::MarkAll
            | Action::MarkRange
            | Action::ClearMarks
            | Action::AssignMarked
            | Action::ExportMarked => self.mark_action(a),
        }
    }

    /// A write action pressed where it is off (read-only, no credentials): say why, rather
    /// than nothing or "unknown command". Short: a toast shows about 80 characters.
    pub(super) fn refuse(&mut self, a: Action) {
        let why = self.sync_off.clone().unwrap_or_else(|| "read-only".into());
        let text = match a {
            Action::AssignNew => {
                "read-only: no new assignments — restart without --read-only to assign".into()
            }
            Action::UndoRun => {
                "read-only: no undo — restart without --read-only to undo a run".into()
            }
            Action::AssignMarked => {
                "read-only: no assignments — restart without --read-only to assign".into()
            }
            Action::CancelSync => format!("{why}: no sync runs here"),
            _ if why.contains("credentials") => format!("{why}: no sync"),
            _ => format!("{why}: sync is off — restart without --read-only to sync"),
        };
        self.toast(ToastLevel::Warn, text);
    }

    pub(super) fn switch(&mut self, tab: Tab) {
        self.tab = tab;
    }

    /// Sort by the next (or previous) visible column.
    fn sort_step(&mut self, forward: bool) {
        let t = self.table();
        let vis = t.visible_columns();
        let cur = t.sort.map(|(c, _)| c);
        let pos = cur.and_then(|c| vis.iter().position(|v| *v == c));
        let next = match (pos, forward) {
            (None, true) => 0,
            (None, false) => vis.len().saturating_sub(1),
            (Some(p), true) => (p + 1) % vis.len().max(1),
            (Some(p), false) => (p + vis.len().max(1) - 1) % vis.len().max(1),
        };
        if let Some(col) = vis.get(next).copied() {
            self.table_mut().sort_by(col, false);
        }
    }

    fn copy_id(&mut self) {
        if let Some(r) = self.table().selected_row() {
            let v = r.cell(self.table().copy_col).to_string();
            if !v.is_empty() {
                self.effects.push(Effect::Copy(v.clone()));
                self.toast(ToastLevel::Info, format!("copied {v}"));
            }
        }
    }

    fn copy_row(&mut self) {
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

    /// `s` / `S`: an incremental (or full) sync of both resources.
    fn sync_now(&mut self, full: bool) {
        if self.sync_off.is_some() {
            self.refuse(Action::Sync);
            return;
        }
        if self.sync.running {
            self.toast(
                ToastLevel::Info,
                "a sync is already running — its progress is in the status bar",
            );
            return;
        }
        let mode = if full { SyncMode::Full } else { SyncMode::Auto };
        self.sync.pending = true;
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
}
