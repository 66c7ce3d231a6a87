//! The help: its lines (every key from the live keymap, every `:` command from the table the
//! command line dispatches on), and its keys — scroll clamped to the end, top and bottom,
//! and `/` to find a word. The view wraps the lines to the pane's width.

use crossterm::event::KeyEvent;

use super::parts::HelpLine;
use super::{App, InputMode};
use crate::tui::keys::{Action, Context, ModalAction as M};
use crate::tui::line_edit::LineEdit;

fn push_entry(lines: &mut Vec<HelpLine>, heading: &mut String, g: &str, k: &str, d: &str) {
    if heading != g {
        if !lines.is_empty() {
            lines.push(HelpLine::blank());
        }
        lines.push(HelpLine::heading(g));
        *heading = g.to_string();
    }
    lines.push(HelpLine {
        heading: false,
        key: k.to_string(),
        text: d.to_string(),
    });
}

impl App {
    /// The help's lines: normal mode by group, the `:` commands, the wizard, the modes,
    /// and the fixed keys.
    pub fn help_lines(&self) -> Vec<HelpLine> {
        let keys = self.keymap();
        let mut lines = Vec::new();
        // First, not last: the help is longer than most screens, and this says why keys the
        // user may expect are missing below.
        if self.read_only() {
            lines.push(HelpLine::heading(
                "Read-only mode: sync, new assignments and other write actions are off",
            ));
        }
        let mut heading = String::new();
        // One workspace: no Workspaces tab, nor `:ws`, so help is what it always was.
        let skip: &[Action] = if self.ws.multi() {
            &[]
        } else {
            &[Action::TabWorkspaces]
        };
        for (g, k, d) in keys.help_entries_except(skip) {
            push_entry(&mut lines, &mut heading, g, &k, d);
        }
        let commands = format!(
            "Commands ({} then the command, {} runs it)",
            keys.say(Action::Command),
            keys.say(M::CommandRun)
        );
        for c in self.commands() {
            let mut d = c.help.to_string();
            if !c.aliases.is_empty() {
                let other: Vec<String> = c.aliases.iter().map(|a| format!(":{a}")).collect();
                d = format!("{d} (also {})", other.join(" "));
            }
            push_entry(&mut lines, &mut heading, &commands, &c.usage(), &d);
        }
        self.help_saved_views(&mut lines, &mut heading);
        // Read-only never opens the wizard: its keys would be noise.
        if !self.read_only() {
            let wizard = format!(
                "Assign wizard ({} in the Assign tab)",
                keys.say(Action::AssignNew)
            );
            for (k, d) in keys.wizard.help_entries() {
                push_entry(&mut lines, &mut heading, &wizard, &k, d);
            }
        }
        for (g, k, d) in keys.modal_help_entries() {
            push_entry(&mut lines, &mut heading, g, &k, d);
        }
        for (k, d) in keys.fixed_entries() {
            push_entry(
                &mut lines,
                &mut heading,
                "Always (and on every line being typed)",
                &k,
                d,
            );
        }
        lines
    }

    /// The saved views by name, with where they are kept (a `:view` away).
    fn help_saved_views(&self, lines: &mut Vec<HelpLine>, heading: &mut String) {
        let cmd = self.keymap().say(Action::Command);
        let at = self
            .views
            .path()
            .map(|p| format!(", kept in {}", p.display()))
            .unwrap_or_default();
        let g = format!("Saved views ({cmd}view NAME applies one{at})");
        if self.views.is_empty() {
            let none = "none yet: save this tab's filter, sort and columns under a name";
            push_entry(lines, heading, &g, &format!("{cmd}save NAME"), none);
        }
        for (name, v) in self.views.iter() {
            push_entry(lines, heading, &g, name, &v.summary());
        }
    }

    /// The help's find line while it is typed.
    pub fn help_find(&self) -> Option<&LineEdit> {
        self.help_find.as_ref()
    }
    /// The word the help last found (its lines are marked).
    pub fn help_word(&self) -> &str {
        &self.help_word
    }
    /// Learned while drawing: how many lines the help pane shows.
    pub fn set_help_page(&self, lines: usize) {
        self.help_page.set(lines.max(1));
    }

    pub(super) fn key_help(&mut self, ev: KeyEvent) {
        if self.help_find.is_some() {
            self.key_help_find(ev);
            return;
        }
        let page = self.help_page.get();
        let last = self.help_lines().len().saturating_sub(page);
        let at = self.help_scroll.min(last);
        self.help_scroll = match self.keymap.modal(Context::Help, &ev) {
            Some(M::HelpClose) => {
                self.mode = InputMode::Normal;
                at
            }
            Some(M::HelpDown) => at + 1,
            Some(M::HelpUp) => at.saturating_sub(1),
            Some(M::HelpPageDown) => at + page / 2,
            Some(M::HelpPageUp) => at.saturating_sub(page / 2),
            Some(M::HelpTop) => 0,
            Some(M::HelpBottom) => last,
            Some(M::HelpFind) => {
                self.help_find = Some(LineEdit::default());
                at
            }
            Some(M::HelpFindNext) => self.help_next(at + 1).unwrap_or(at),
            _ => at,
        }
        .min(last);
    }

    /// Typing the word to find: the filter line's keys keep or cancel it.
    fn key_help_find(&mut self, ev: KeyEvent) {
        let Some(line) = self.help_find.as_mut() else {
            return;
        };
        if let Some(e) = self.keymap.edit(&ev) {
            line.edit(e);
            return;
        }
        match self.keymap.modal(Context::Filter, &ev) {
            Some(M::FilterKeep) => {
                self.help_word = line.as_str().trim().to_lowercase();
                self.help_find = None;
                let last = self.help_lines().len().saturating_sub(self.help_page.get());
                match self.help_next(0) {
                    Some(n) => self.help_scroll = n.min(last),
                    None if !self.help_word.is_empty() => {
                        let w = std::mem::take(&mut self.help_word);
                        self.toast(
                            super::ToastLevel::Info,
                            format!("help: no line has \"{w}\""),
                        );
                    }
                    None => {}
                }
            }
            Some(M::FilterClear) => self.help_find = None,
            _ => {}
        }
    }

    /// The first line at or after `from` holding the word found (from the top when none).
    fn help_next(&self, from: usize) -> Option<usize> {
        if self.help_word.is_empty() {
            return None;
        }
        let lines = self.help_lines();
        let hit = |l: &HelpLine| l.plain().to_lowercase().contains(&self.help_word);
        lines
            .iter()
            .skip(from)
            .position(hit)
            .map(|p| p + from)
            .or_else(|| lines.iter().position(hit))
    }
}
