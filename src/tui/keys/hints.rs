//! What the footers and the help overlay say, from the live bindings.

use crossterm::event::KeyEvent;

use super::defaults::{ACTIONS, EDIT_KEYS, FIXED, FOOTERS};
use super::{Bindings, Context, Key, Keymap, WizardAction};
use crate::tui::wizard::step::WizardStep;

impl Keymap {
    /// Footer hints: `(key, label)` for every hinted, bound action, in table order.
    pub fn hints(&self) -> Vec<(String, &'static str)> {
        self.hints_for(None)
    }

    /// Footer hints for a tab: the actions of that tab's own group (e.g. "Assign") come
    /// first, and other tabs' own actions are left out (they do nothing here).
    pub fn hints_for(&self, tab_group: Option<&str>) -> Vec<(String, &'static str)> {
        let own = |a: &&super::Info<super::Action>| tab_group.is_some_and(|g| a.group == g);
        let tab_only = |a: &&super::Info<super::Action>| a.group == "Assign";
        ACTIONS
            .iter()
            .filter(own)
            .chain(ACTIONS.iter().filter(|a| !own(a) && !tab_only(a)))
            .filter_map(|a| Some((self.first(a.action)?, a.hint?)))
            .collect()
    }

    /// A mode's footer: "Enter keep · Esc clear · ↑↓ move" with the live keys; a hint whose
    /// actions are all unbound is left out.
    pub fn footer(&self, context: Context) -> String {
        let hints = FOOTERS
            .iter()
            .find(|(s, _)| *s == context)
            .map_or(&[][..], |(_, h)| h);
        let mut parts = Vec::new();
        for h in hints {
            let keys: Vec<String> = h
                .actions
                .iter()
                .flat_map(|a| self.modal.keys(*a).iter().take(h.keys))
                .map(|k| k.to_string())
                .collect();
            if keys.is_empty() {
                continue;
            }
            let join = if keys.iter().all(|k| k.chars().count() == 1) {
                h.join
            } else {
                "/"
            };
            let keys = keys.join(join);
            parts.push(if h.label.is_empty() {
                keys
            } else {
                format!("{keys} {}", h.label)
            });
        }
        parts.join(" · ")
    }

    /// The modes' help lines: `(group, keys, description)`.
    pub fn modal_help_entries(&self) -> Vec<(&'static str, String, &'static str)> {
        self.modal.entries()
    }

    /// The keys no `[ui.keys]` changes, as help lists them: `(key, description)`.
    pub fn fixed_entries(&self) -> Vec<(String, &'static str)> {
        let edits = EDIT_KEYS.iter().map(|(k, _, d)| (*k, *d));
        FIXED
            .iter()
            .copied()
            .chain(edits)
            .filter_map(|(k, d)| Some((Key::parse(k).ok()?.to_string(), d)))
            .collect()
    }

    /// The key that quits from anywhere, as texts name it.
    pub fn always_quit_label(&self) -> String {
        self.always_quit.map(|k| k.to_string()).unwrap_or_default()
    }
}

impl Bindings<WizardAction> {
    /// The action a key does in `step`, if any.
    pub fn action(&self, step: WizardStep, ev: &KeyEvent) -> Option<WizardAction> {
        self.action_in(Context::Wizard(step), ev)
    }

    /// Footer hints for `step`: `(key, label)` in table order.
    pub fn hints(&self, step: WizardStep) -> Vec<(String, &'static str)> {
        self.infos_in(Context::Wizard(step))
            .filter_map(|i| {
                // Back means something else at the ends of the wizard: say what.
                let hint = match (i.action, step) {
                    (WizardAction::Back, WizardStep::File) => "close",
                    (WizardAction::Back, WizardStep::Applying) => "cancel",
                    (WizardAction::Back, WizardStep::Report) => "run list",
                    // Enter does it there too, and at 80 columns help would fall off.
                    (WizardAction::Detail, WizardStep::Report) => return None,
                    _ => i.hint?,
                };
                Some((self.first(i.action)?, hint))
            })
            .collect()
    }

    /// Help lines: `(key label, description)` for every bound wizard action.
    pub fn help_entries(&self) -> Vec<(String, &'static str)> {
        self.entries()
            .into_iter()
            .map(|(_, keys, desc)| (keys, desc))
            .collect()
    }
}
