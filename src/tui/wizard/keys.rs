//! Keys while the wizard is on screen: text on the typing steps, the cursor of the sheet
//! and tag lists, then the wizard's own bindings. Keys it does not take fall through to the
//! app (movement, `/`, tabs, help work as everywhere).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{Cx, Wizard, WizardStep};
use crate::tui::keymap::{Action, WizardAction, wizard_step_has_list};

impl Wizard {
    /// A key while the wizard is on screen. Returns false when the key is not the
    /// wizard's.
    pub fn on_key(&mut self, ev: KeyEvent, cx: &mut Cx<'_>) -> bool {
        let step = self.key_step();
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        // Text steps take printable characters first.
        if let KeyCode::Char(c) = ev.code
            && !ctrl
            && step.is_text()
        {
            self.type_char(c);
            return true;
        }
        if ev.code == KeyCode::Backspace && step.is_text() {
            self.backspace();
            return true;
        }
        if ctrl && ev.code == KeyCode::Char('u') && step.is_text() {
            if step == WizardStep::File {
                self.path.clear();
                self.completions.clear();
            } else {
                self.tag_input.clear();
            }
            return true;
        }
        if (step == WizardStep::Sheet || step == WizardStep::Tags) && self.cursor_key(&ev, cx) {
            return true;
        }
        let Some(a) = cx.keymap.wizard.action(step, &ev) else {
            // Outside the lists only the keys above mean something; swallow the rest so a
            // stray `s` or `q` does not act behind the wizard's back — except tabs and help.
            return !(wizard_step_has_list(step)
                || matches!(
                    cx.keymap.action(&ev),
                    Some(Action::Help)
                        | Some(Action::TabDevices)
                        | Some(Action::TabSubscriptions)
                        | Some(Action::TabExpiring)
                        | Some(Action::TabAssign)
                        | Some(Action::NextTab)
                        | Some(Action::PrevTab)
                ));
        };
        // Esc on a filtered list clears the filter first, as in the other tables.
        if a == WizardAction::Back
            && let Some(t) = step.table()
            && self.tables.get(t).filter_active()
        {
            self.tables.get_mut(t).clear_filter();
            return true;
        }
        self.act(a, cx);
        true
    }

    /// Up and down on the sheet chooser and the tag list.
    fn cursor_key(&mut self, ev: &KeyEvent, cx: &Cx<'_>) -> bool {
        match cx.keymap.action(ev) {
            Some(Action::Up) => {
                self.move_cursor(-1);
                return true;
            }
            Some(Action::Down) => {
                self.move_cursor(1);
                return true;
            }
            _ => {}
        }
        if matches!(ev.code, KeyCode::Up | KeyCode::Down) {
            self.move_cursor(if ev.code == KeyCode::Up { -1 } else { 1 });
            return true;
        }
        false
    }

    fn type_char(&mut self, c: char) {
        if self.step == WizardStep::File {
            self.path.push(c);
            self.completions.clear();
            self.error = None;
        } else {
            self.tag_input.push(c);
            self.tag_error = None;
        }
    }

    fn backspace(&mut self) {
        if self.step == WizardStep::File {
            self.path.pop();
            self.completions.clear();
        } else {
            self.tag_input.pop();
            self.tag_error = None;
        }
    }

    fn move_cursor(&mut self, d: isize) {
        let (cur, n) = match self.step {
            WizardStep::Sheet => (
                &mut self.sheet_cursor,
                self.data
                    .as_ref()
                    .map_or(0, |d| d.prepared.sheet.sheet_names.len()),
            ),
            _ => (&mut self.tag_cursor, self.tags.len()),
        };
        let next = (*cur as isize + d).clamp(0, n.saturating_sub(1) as isize);
        *cur = next as usize;
    }
}
