//! The small input modes: typing a filter, the help overlay, the column chooser.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::App;

/// What the keyboard is talking to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputMode {
    Normal,
    Filter,
    Command,
    Help,
    Detail,
    Columns,
}

impl App {
    pub(super) fn key_filter(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.table_mut().clear_filter();
            }
            KeyCode::Enter => {
                self.mode = InputMode::Normal;
            }
            KeyCode::Backspace => {
                self.input.pop();
                self.filter_changed();
            }
            KeyCode::Char('u') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.clear();
                self.filter_changed();
            }
            KeyCode::Down | KeyCode::Up => {
                self.table_mut()
                    .move_by(if ev.code == KeyCode::Down { 1 } else { -1 });
            }
            KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                self.input.push(c);
                self.filter_changed();
            }
            _ => {}
        }
    }

    pub(super) fn filter_changed(&mut self) {
        let q = self.input.trim().to_string();
        let t = self.active_table();
        if q.is_empty() {
            self.table_mut().clear_filter();
        } else {
            self.table_mut().filter = q;
            self.request_filter(t);
        }
    }

    pub(super) fn key_help(&mut self, ev: KeyEvent) {
        match ev.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter => {
                self.mode = InputMode::Normal
            }
            KeyCode::Down | KeyCode::Char('j') => self.help_scroll += 1,
            KeyCode::Up | KeyCode::Char('k') => {
                self.help_scroll = self.help_scroll.saturating_sub(1)
            }
            _ => {}
        }
    }

    pub(super) fn key_columns(&mut self, ev: KeyEvent) {
        let n = self.table().columns.len();
        match ev.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') | KeyCode::Char('c') => {
                self.mode = InputMode::Normal;
                // The match line depends on the visible columns.
                let t = self.active_table();
                if self.table_by_id(t).filter_active() {
                    self.request_filter(t);
                }
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.columns_cursor = (self.columns_cursor + 1).min(n.saturating_sub(1))
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.columns_cursor = self.columns_cursor.saturating_sub(1)
            }
            KeyCode::Char(' ') | KeyCode::Char('x') => {
                let c = self.columns_cursor;
                self.table_mut().toggle_column(c);
            }
            _ => {}
        }
    }
}
