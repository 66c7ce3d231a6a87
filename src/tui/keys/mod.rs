//! Keys are data, everywhere: one binding type ([`Bindings`]) over one table per context —
//! normal mode ([`Action`]), the wizard's steps ([`WizardAction`]) and the modes that take
//! the keyboard (filter and command lines, help, detail pane, column chooser:
//! [`ModalAction`]). The key handlers, the footers, the help overlay and every text that
//! names a key read the live [`Keymap`], so a rebinding in `[ui.keys]` never leaves a stale
//! "press s" behind. `[ui.keys]` rebinds (`sync = "F5"`, several keys separated by spaces)
//! or unbinds (`sync = ""`); an unknown name, an unparsable key and a key claimed twice in
//! one context are reported.
//!
//! The defaults and the key names are in `defaults.rs`, the one file allowed to spell keys.

mod actions;
mod bindings;
mod code;
mod defaults;
mod hints;
mod info;
mod key;

use std::collections::BTreeMap;

use crossterm::event::KeyEvent;

pub use actions::{Action, Context, Edit, ModalAction, WizardAction};
pub use bindings::{Bindings, Clash, Overrides};
pub use code::KeyCodeOrd;
pub use defaults::{ACTIONS, MODAL_ACTIONS, WIZARD_ACTIONS};
pub use info::{Hint, Info};
pub use key::Key;

/// The live keymap of every context.
#[derive(Debug, Clone)]
pub struct Keymap {
    normal: Bindings<Action>,
    /// The assignment wizard's bindings (per step).
    pub wizard: Bindings<WizardAction>,
    /// The modes' bindings (per mode).
    pub modal: Bindings<ModalAction>,
    read_only: bool,
    always_quit: Option<Key>,
    suspend: Option<Key>,
    edits: Vec<(Key, Edit)>,
}

/// The action enums, each with its table in the keymap: lets `label`, `say` and `press`
/// take any of them.
pub trait Bound: Copy + Ord + 'static {
    fn of(km: &Keymap) -> &Bindings<Self>;
}

impl Bound for Action {
    fn of(km: &Keymap) -> &Bindings<Action> {
        &km.normal
    }
}

impl Bound for WizardAction {
    fn of(km: &Keymap) -> &Bindings<WizardAction> {
        &km.wizard
    }
}

impl Bound for ModalAction {
    fn of(km: &Keymap) -> &Bindings<ModalAction> {
        &km.modal
    }
}

impl Keymap {
    /// Defaults plus `[ui.keys]` overrides. Returns the warnings to show (bad names, bad
    /// keys, conflicts). Normal mode first: the modes follow its live keys.
    pub fn new(overrides: &BTreeMap<String, String>, read_only: bool) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let first = Overrides {
            keys: overrides,
            read_only,
            normal: None,
        };
        let normal = Bindings::resolve(ACTIONS, Clash::OverrideWins, &first, &mut warnings);
        let rest = Overrides {
            normal: Some(&normal),
            ..first
        };
        let wizard = Bindings::resolve(WIZARD_ACTIONS, Clash::TableOrder, &rest, &mut warnings);
        let modal = Bindings::resolve(MODAL_ACTIONS, Clash::OverrideWins, &rest, &mut warnings);
        let see = match normal.first(Action::Help) {
            Some(k) => format!("see `{k}` in the console for the names"),
            None => "the console's help lists the names".to_string(),
        };
        let unknown: Vec<String> = overrides
            .keys()
            .filter(|n| !(normal.knows(n) || wizard.knows(n) || modal.knows(n)))
            .map(|n| format!("[ui.keys] {n}: no such action ({see})"))
            .collect();
        warnings.splice(0..0, unknown);
        let fixed = |k: &str| Key::parse(k).ok();
        let km = Keymap {
            normal,
            wizard,
            modal,
            read_only,
            always_quit: fixed(defaults::ALWAYS_QUIT),
            suspend: fixed(defaults::SUSPEND),
            edits: defaults::EDIT_KEYS
                .iter()
                .filter_map(|(k, e, _)| Some((fixed(k)?, *e)))
                .collect(),
        };
        (km, warnings)
    }

    /// The normal-mode action bound to a key event, if any.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        self.normal.action_in(Context::Normal, ev)
    }

    /// The write action a key would do in normal mode if not for `--read-only`.
    pub fn refused(&self, ev: &KeyEvent) -> Option<Action> {
        self.normal.refused_in(Context::Normal, ev)
    }

    /// The action a key does in one of the modes.
    pub fn modal(&self, context: Context, ev: &KeyEvent) -> Option<ModalAction> {
        self.modal.action_in(context, ev)
    }

    /// The key that quits from anywhere (not rebindable).
    pub fn is_always_quit(&self, ev: &KeyEvent) -> bool {
        Key::from_event(ev).is_some_and(|k| Some(k) == self.always_quit)
    }

    /// The key that suspends the console to the shell (not rebindable).
    pub fn is_suspend(&self, ev: &KeyEvent) -> bool {
        Key::from_event(ev).is_some_and(|k| Some(k) == self.suspend)
    }

    /// The fixed editing key an event is, if any.
    pub fn edit(&self, ev: &KeyEvent) -> Option<Edit> {
        let key = Key::from_event(ev)?;
        match key.code {
            KeyCodeOrd::Char(c) if key.types_text() => Some(Edit::Type(c)),
            _ => self.edits.iter().find(|(k, _)| *k == key).map(|(_, e)| *e),
        }
    }

    /// The keys bound to an action of any table (empty when unbound).
    pub fn keys<A: Bound>(&self, action: A) -> &[Key] {
        A::of(self).keys(action)
    }

    /// "k/↑" — what help and hints print for an action; empty when unbound.
    pub fn label<A: Bound>(&self, action: A) -> String {
        A::of(self).label(action)
    }

    /// The first key of an action, as a hint prints it.
    pub fn first<A: Bound>(&self, action: A) -> Option<String> {
        A::of(self).first(action)
    }

    /// The key to name in a text ("s", "F5"), or that the action is unbound.
    pub fn say<A: Bound>(&self, action: A) -> String {
        A::of(self).say(action)
    }

    /// "press F5 to sync", or how to get a key for it. `what` follows "to".
    pub fn press<A: Bound>(&self, action: A, what: &str) -> String {
        A::of(self).press(action, what)
    }

    /// Is the action available (bound, and not hidden by read-only mode)?
    pub fn is_bound<A: Bound>(&self, action: A) -> bool {
        A::of(self).is_bound(action)
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Help lines grouped: `(group, key label, description)` for every bound action.
    pub fn help_entries(&self) -> Vec<(&'static str, String, &'static str)> {
        self.normal.entries()
    }

    /// [`Keymap::help_entries`] without the actions in `skip` (those this console has off:
    /// the Workspaces tab of a one-workspace database).
    pub fn help_entries_except(
        &self,
        skip: &[Action],
    ) -> Vec<(&'static str, String, &'static str)> {
        self.normal.entries_except(skip)
    }
}

#[cfg(test)]
mod tests;
