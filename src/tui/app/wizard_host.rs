//! The wizard component's place in the app: it gets the keys while it is on screen and its
//! messages, and what it answers ([`Out`]) becomes effects, toasts and filter requests here.

use crossterm::event::KeyEvent;

use crate::domain::WorkspaceId;
use crate::store::views::ViewScope;

use super::{App, Effect, InputMode, Tab, TableId, ToastLevel};
use crate::tui::keys::WizardAction;
use crate::tui::wizard::{Cx, Out, Wizard};

impl App {
    /// Run `f` on the open wizard with what it may read, then carry out its answers.
    /// `None` when the wizard is closed.
    pub(super) fn with_wizard<R>(
        &mut self,
        f: impl FnOnce(&mut Wizard, &mut Cx<'_>) -> R,
    ) -> Option<R> {
        let wizard = self.wizard.as_mut()?;
        let mut cx = Cx::new(
            &self.keymap,
            self.now,
            self.read_only,
            self.home.as_deref(),
            &self.reports_dir,
        );
        let r = f(wizard, &mut cx);
        let out = cx.into_out();
        self.dirty = true;
        self.wizard_out(out);
        Some(r)
    }

    fn wizard_out(&mut self, out: Vec<Out>) {
        for o in out {
            match o {
                Out::Effect(e) => self.effects.push(Effect::Wizard(e)),
                Out::Toast(level, text) => self.toast(level, text),
                Out::Refilter(t) => self.request_filter(TableId::Wizard(t)),
                Out::Reload => self.effects.push(Effect::Reload),
                Out::Detail(d) => self.open_row_detail(d),
                Out::Close => {
                    self.wizard = None;
                    self.wizard_ws = None;
                    if self.mode == InputMode::Filter {
                        self.mode = InputMode::Normal;
                    }
                }
            }
        }
    }

    /// The workspace the open wizard reads and writes (`None`: the console's own, in a
    /// console over one workspace).
    pub fn wizard_workspace(&self) -> Option<&WorkspaceId> {
        self.wizard.as_ref().and(self.wizard_ws.as_ref())
    }

    /// The wizard's heading names its workspace in a console over several.
    pub fn wizard_workspace_name(&self) -> Option<String> {
        let ws = self.wizard_workspace().filter(|_| self.ws.multi())?;
        Some(self.ws.name_of(ws))
    }

    /// The workspace the wizard runs in when all workspaces are shown (a console over
    /// several; the one its own store speaks for).
    pub fn set_primary_workspace(&mut self, ws: WorkspaceId) {
        self.primary_ws = Some(ws);
    }

    /// Is the wizard what the Assign tab shows right now?
    pub fn wizard_on_screen(&self) -> bool {
        self.tab == Tab::Assign && self.wizard.is_some()
    }

    /// Open the wizard on the file step (`n` in the Assign tab).
    pub fn wizard_new(&mut self) {
        if self.read_only {
            self.refuse(crate::tui::keys::Action::AssignNew);
            return;
        }
        self.wizard_start(Wizard::open);
    }

    /// Open the wizard `make` builds (on the file step, on an undo plan, on the marked
    /// devices) in the Assign tab — never over an open one: a running apply keeps its
    /// progress, and half-made choices or an unexported report are not thrown away
    /// unasked. The open wizard is shown instead, with how to close it.
    pub(super) fn wizard_start(&mut self, make: impl FnOnce(&mut Cx<'_>) -> Wizard) {
        self.wizard_start_in(None, make);
    }

    /// [`App::wizard_start`] in `ws`; `None`: the workspace shown (`:ws NAME`), or the
    /// primary when all are shown. Fixed until the wizard closes, so a `:ws` meanwhile does
    /// not move a half-made run to another workspace.
    pub(super) fn wizard_start_in(
        &mut self,
        ws: Option<WorkspaceId>,
        make: impl FnOnce(&mut Cx<'_>) -> Wizard,
    ) {
        if let Some(w) = &self.wizard {
            let text = if w.busy() {
                "an assignment is running — its progress is on screen".to_string()
            } else {
                let back = self.keymap.say(WizardAction::Back);
                format!(
                    "an assignment is open: finish or close it first ({back} steps back to the run list)"
                )
            };
            self.tab = Tab::Assign;
            self.toast(ToastLevel::Info, text);
            return;
        }
        self.tab = Tab::Assign;
        self.wizard_ws = ws.or_else(|| match &self.ws.scope {
            ViewScope::One(id) => Some(id.clone()),
            _ => self.primary_ws.clone(),
        });
        let mut cx = Cx::new(
            &self.keymap,
            self.now,
            self.read_only,
            self.home.as_deref(),
            &self.reports_dir,
        );
        self.wizard = Some(make(&mut cx));
        let out = cx.into_out();
        self.wizard_out(out);
        self.dirty = true;
    }

    /// Open the wizard already reading `path` (`glp-console assign FILE`).
    pub fn wizard_open(&mut self, path: &str, sheet: Option<String>) {
        self.wizard_new();
        self.with_wizard(|w, cx| w.open_file(path, sheet, cx));
    }

    /// A key for the wizard on screen; false when it is not the wizard's.
    pub(super) fn wizard_key(&mut self, ev: KeyEvent) -> bool {
        self.with_wizard(|w, cx| w.on_key(ev, cx)).unwrap_or(false)
    }

    /// Carry out a wizard action (tests).
    pub fn wizard_act(&mut self, a: crate::tui::keys::WizardAction) {
        self.with_wizard(|w, cx| w.act(a, cx));
    }

    /// Ctrl-C while an apply runs: the question is asked where the run is shown, instead of
    /// quitting and leaving the run half-recorded. Returns true when it was handled.
    pub(super) fn wizard_ctrl_c(&mut self) -> bool {
        if !self.wizard.as_ref().is_some_and(Wizard::busy) {
            return false;
        }
        self.tab = Tab::Assign;
        self.mode = InputMode::Normal;
        self.with_wizard(|w, cx| w.on_ctrl_c(cx));
        true
    }
}
