//! Keys while the wizard is on screen: the fixed editing keys on the typing steps, then the
//! wizard's own bindings for the step (the cursor of the sheet and tag lists among them).
//! Keys it does not take fall through to the app (movement, `/`, tabs, help work as
//! everywhere).

use crossterm::event::KeyEvent;

use super::{Cx, Wizard, WizardStep};
use crate::assign::validate_input;
use crate::tui::keys::{Action, Edit, WizardAction};

impl Wizard {
    /// A key while the wizard is on screen. Returns false when the key is not the
    /// wizard's.
    pub fn on_key(&mut self, ev: KeyEvent, cx: &mut Cx<'_>) -> bool {
        let step = self.key_step();
        // Text steps take the editing keys first (characters, Backspace, clear line).
        if step.is_text()
            && let Some(e) = cx.keymap.edit(&ev)
        {
            self.edit(e);
            return true;
        }
        let Some(a) = cx.keymap.wizard.action(step, &ev) else {
            // Outside the lists only the keys above mean something; swallow the rest so a
            // stray `s` or `q` does not act behind the wizard's back — except tabs and help.
            return !(step.table().is_some()
                || matches!(
                    cx.keymap.action(&ev),
                    Some(Action::Help)
                        | Some(Action::TabOverview)
                        | Some(Action::TabDevices)
                        | Some(Action::TabSubscriptions)
                        | Some(Action::TabExpiring)
                        | Some(Action::TabAssign)
                        | Some(Action::NextTab)
                        | Some(Action::PrevTab)
                ));
        };
        match a {
            WizardAction::CursorUp => self.move_cursor(-1),
            WizardAction::CursorDown => self.move_cursor(1),
            // Back on a filtered list clears the filter first, as in the other tables.
            WizardAction::Back
                if step
                    .table()
                    .is_some_and(|t| self.tables.get(t).filter_active()) =>
            {
                if let Some(t) = step.table() {
                    self.tables.get_mut(t).clear_filter();
                }
            }
            _ => self.act(a, cx),
        }
        true
    }

    /// An editing key on the path or tag line. A change there makes the shown
    /// candidates and errors stale; a cursor move alone keeps them.
    fn edit(&mut self, e: Edit) {
        if self.step == WizardStep::File {
            if self.path.edit(e) {
                self.completions.clear();
                self.error = None;
            }
        } else if self.tag_input.edit(e) {
            self.tag_error = validate_input::tag_typing_problem(self.tag_input.as_str());
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
