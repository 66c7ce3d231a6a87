//! The small input modes: typing a filter, the help overlay, the column chooser. Their
//! keys are bindings of the modes' table ([`ModalAction`](crate::tui::keys::ModalAction)); only the editing keys of the
//! filter line are fixed.

use crossterm::event::KeyEvent;

use super::messages::OnYes;
use super::{App, InputMode, ToastLevel};
use crate::tui::keys::WizardAction;
use crate::tui::keys::{Context, ModalAction as M};
use crate::tui::wizard::step::WizardStep;

/// Values Tab cycles through after `col:` (a column of serials has thousands).
const FILTER_VALUES: usize = 50;

impl App {
    pub(super) fn key_filter(&mut self, ev: KeyEvent) {
        if let Some(e) = self.keymap.edit(&ev) {
            if self.input.edit(e) {
                self.filter_changed();
            }
            return;
        }
        match self.keymap.modal(Context::Filter, &ev) {
            Some(M::FilterClear) => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.table_mut().clear_filter();
            }
            Some(M::FilterKeep) => self.mode = InputMode::Normal,
            Some(M::FilterDown) => self.table_mut().move_by(1),
            Some(M::FilterUp) => self.table_mut().move_by(-1),
            Some(M::FilterComplete) => {
                let options = self.filter_candidates();
                let before = self.input.as_str().to_string();
                self.input.complete(&options, false);
                if self.input.as_str() != before {
                    self.filter_changed();
                }
            }
            _ => {}
        }
    }

    /// What Tab offers for the word before the cursor on the filter line: column names
    /// (`type:`), or after `col:` the values of that column (those without spaces, which a
    /// term cannot hold), at most [`FILTER_VALUES`] of them.
    fn filter_candidates(&self) -> Vec<String> {
        let (head, _) = self.input.split();
        let word = head.rsplit(' ').next().unwrap_or("");
        let (sign, word) = match word.strip_prefix('!') {
            Some(w) => ("!", w),
            None => ("", word),
        };
        let t = self.table();
        let lower = word.to_lowercase();
        let Some((col, partial)) = word.split_once(':') else {
            return t
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace([' ', '/'], "_"))
                .filter(|n| n.starts_with(&lower))
                .map(|n| format!("{sign}{n}:"))
                .collect();
        };
        let Ok(c) = t.column_lookup(col) else {
            return Vec::new();
        };
        let p = partial.to_lowercase();
        let mut values: Vec<&str> = t
            .rows()
            .iter()
            .map(|r| r.cell(c))
            .filter(|v| !v.is_empty() && !v.contains(' ') && v.to_lowercase().starts_with(&p))
            .collect();
        values.sort_unstable();
        values.dedup();
        values
            .into_iter()
            .take(FILTER_VALUES)
            .map(|v| format!("{sign}{col}:{v}"))
            .collect()
    }

    pub(super) fn filter_changed(&mut self) {
        let q = self.input.as_str().trim().to_string();
        let t = self.active_table();
        if q.is_empty() {
            self.table_mut().clear_filter();
        } else {
            self.table_mut().filter = q;
            self.request_filter(t);
        }
    }

    /// The answer to the question in the footer: the wizard's yes and no keys, as every
    /// confirmation has.
    pub(super) fn key_ask(&mut self, ev: KeyEvent) {
        let answer = self.keymap.wizard.action(WizardStep::Confirm, &ev);
        match answer {
            Some(WizardAction::Yes) => {
                self.mode = InputMode::Normal;
                match self.ask.take() {
                    Some((_, OnYes::Effect(e))) => self.effects.push(e),
                    Some((_, OnYes::SaveView(name, view))) => self.store_view(&name, *view),
                    None => {}
                }
            }
            Some(WizardAction::No) => {
                match self.ask.take() {
                    Some((q, OnYes::Effect(_))) => {
                        let what = q.split(" exists").next().unwrap_or("").to_string();
                        self.toast(
                            ToastLevel::Info,
                            format!("not exported: {what} kept as it was"),
                        );
                    }
                    Some((_, OnYes::SaveView(name, _))) => self.toast(
                        ToastLevel::Info,
                        format!("not saved: view {name} kept as it was"),
                    ),
                    None => {}
                }
                self.mode = InputMode::Normal;
            }
            _ => {}
        }
    }

    pub(super) fn key_columns(&mut self, ev: KeyEvent) {
        let n = self.table().columns.len();
        match self.keymap.modal(Context::Columns, &ev) {
            Some(M::ColumnsClose) => {
                self.mode = InputMode::Normal;
                // The match line depends on the visible columns.
                let t = self.active_table();
                if self.table_by_id(t).filter_active() {
                    self.request_filter(t);
                }
            }
            Some(M::ColumnsDown) => {
                self.columns_cursor = (self.columns_cursor + 1).min(n.saturating_sub(1))
            }
            Some(M::ColumnsUp) => self.columns_cursor = self.columns_cursor.saturating_sub(1),
            Some(M::ColumnsToggle) => {
                let c = self.columns_cursor;
                self.table_mut().toggle_column(c);
            }
            _ => {}
        }
    }
}
