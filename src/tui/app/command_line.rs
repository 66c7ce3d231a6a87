//! The `:` command line: typing with completion, and the commands.

use crossterm::event::KeyEvent;

use super::commands::{COMMANDS, Cmd, Command, lookup};
use super::{App, Effect, InputMode, Tab, ToastLevel};
use crate::sync::events::{Mode as SyncMode, Scope, SyncCommand, Trigger};
use crate::tui::keys::{Action, Context, ModalAction as M};
use crate::tui::wizard::path::expand_tilde;

impl App {
    pub(super) fn key_command(&mut self, ev: KeyEvent) {
        if let Some(e) = self.keymap.edit(&ev) {
            self.input.edit(e);
            self.completions = self.candidates();
            return;
        }
        match self.keymap.modal(Context::Command, &ev) {
            Some(M::CommandCancel) => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.completions.clear();
            }
            Some(M::CommandRun) => {
                self.mode = InputMode::Normal;
                let line = self.input.take();
                self.completions.clear();
                self.run_command(&line);
            }
            Some(M::CommandComplete) => {
                let options = self.candidates();
                self.input.complete(&options, false);
                self.completions = match self.input.cycling() {
                    Some((all, _)) => all.to_vec(),
                    None => self.candidates(),
                };
            }
            _ => {}
        }
    }

    /// The commands this console offers (read-only: none that write; one workspace: none
    /// about workspaces).
    pub(super) fn commands(&self) -> impl Iterator<Item = &'static Command> + '_ {
        COMMANDS
            .iter()
            .filter(|c| !(c.writes && self.read_only) && (!c.workspaces || self.ws.multi()))
    }

    /// Completions for the word being typed on the command line.
    pub fn candidates(&self) -> Vec<String> {
        let (head, _) = self.input.split();
        let input = head.trim_start();
        let mut words: Vec<&str> = input.split_whitespace().collect();
        let typing_new = input.ends_with(' ') || input.is_empty();
        let partial = if typing_new {
            ""
        } else {
            words.pop().unwrap_or("")
        };
        let column_names = || -> Vec<String> {
            self.table()
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace(' ', "_"))
                .collect()
        };
        let options: Vec<String> = match words.first().copied().map(|w| (w, lookup(w))) {
            None => self.commands().map(|c| c.name.to_string()).collect(),
            Some((_, Some(c))) => match c.cmd {
                Cmd::Sort if words.len() == 1 => column_names(),
                Cmd::Sort => vec!["asc".into(), "desc".into()],
                Cmd::Cols => column_names(),
                Cmd::Window | Cmd::Expiring => vec!["30".into(), "60".into(), "90".into()],
                Cmd::Sync => vec!["full".into(), "devices".into(), "subscriptions".into()],
                Cmd::Workspace if words.len() == 1 => self.workspace_candidates(),
                Cmd::View | Cmd::DelView | Cmd::Save if words.len() == 1 => {
                    self.views.names().map(String::from).collect()
                }
                Cmd::Export => vec![
                    format!("{}.csv", self.tab.title().to_lowercase()),
                    format!("{}.xlsx", self.tab.title().to_lowercase()),
                ],
                _ => Vec::new(),
            },
            Some((_, None)) => Vec::new(),
        };
        let p = partial.to_lowercase();
        options
            .into_iter()
            .filter(|o| {
                let o = o.to_lowercase();
                o.starts_with(&p) && o != p
            })
            .collect()
    }

    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(word) = words.first().copied() else {
            return;
        };
        let args = &words[1..];
        let Some(command) = lookup(word) else {
            let names: Vec<&str> = self.commands().map(|c| c.name).collect();
            self.toast(
                ToastLevel::Warn,
                format!(":{word}: unknown command (try {})", names.join(" ")),
            );
            return;
        };
        match command.cmd {
            Cmd::Quit => self.quit(),
            Cmd::Help => self.act(Action::Help),
            Cmd::Messages => self.open_messages(),
            Cmd::History => self.open_history(),
            Cmd::Devices => self.go_tab(Tab::Devices),
            Cmd::Subscriptions => self.go_tab(Tab::Subscriptions),
            Cmd::Assign => self.go_tab(Tab::Assign),
            Cmd::Expiring => {
                self.go_tab(Tab::Expiring);
                if !args.is_empty() {
                    self.command_window(args);
                }
            }
            Cmd::Sync if self.sync_off.is_some() => self.refuse(Action::Sync),
            Cmd::Sync => self.command_sync(args),
            Cmd::Sort => self.command_sort(args),
            Cmd::Cols => self.command_cols(args),
            Cmd::Window => self.command_window(args),
            Cmd::Filter => {
                self.input.set(args.join(" "));
                self.filter_changed();
                self.input.clear();
            }
            Cmd::Export => self.command_export(args),
            Cmd::Workspace => self.command_ws(args),
            Cmd::Save => self.command_save(args),
            Cmd::View => self.command_view(args),
            Cmd::DelView => self.command_delview(args),
        }
    }

    /// A jump to a tab, as its key does (the wizard keeps its place in the Assign tab).
    pub(super) fn go_tab(&mut self, tab: Tab) {
        let action = match tab {
            Tab::Devices => Action::TabDevices,
            Tab::Subscriptions => Action::TabSubscriptions,
            Tab::Expiring => Action::TabExpiring,
            Tab::Assign => Action::TabAssign,
            Tab::Workspaces => Action::TabWorkspaces,
        };
        self.act(action);
    }

    fn command_sort(&mut self, args: &[&str]) {
        let Some(name) = args.first() else {
            self.toast(
                ToastLevel::Warn,
                ":sort needs a column, e.g. :sort serial desc",
            );
            return;
        };
        match self.table().column_lookup(&name.replace('_', " ")) {
            Ok(c) => {
                let desc = args.get(1).is_some_and(|d| d.starts_with("desc"));
                self.table_mut().sort_by(c, desc);
            }
            Err(fits) if fits.is_empty() => self.toast(
                ToastLevel::Warn,
                format!(":sort {name}: no such column here"),
            ),
            Err(fits) => {
                let names: Vec<String> = fits
                    .iter()
                    .map(|f| f.to_lowercase().replace(' ', "_"))
                    .collect();
                self.toast(
                    ToastLevel::Warn,
                    format!(
                        ":sort {name}: which column? {} (nothing sorted)",
                        names.join(", ")
                    ),
                );
            }
        }
    }

    fn command_cols(&mut self, args: &[&str]) {
        if args.is_empty() {
            self.act(Action::Columns);
            return;
        }
        let wanted: Vec<usize> = args
            .iter()
            .flat_map(|a| a.split(','))
            .filter_map(|n| self.table().column_by_name(&n.replace('_', " ")))
            .collect();
        if wanted.is_empty() {
            self.toast(ToastLevel::Warn, ":cols: none of those columns exist here");
            return;
        }
        let t = self.active_table();
        for (i, c) in self.table_mut().columns.iter_mut().enumerate() {
            c.visible = wanted.contains(&i);
        }
        if self.table_by_id(t).filter_active() {
            self.request_filter(t);
        }
    }

    fn command_window(&mut self, args: &[&str]) {
        match args.first().and_then(|d| d.parse::<u32>().ok()) {
            Some(d) if (1..=3650).contains(&d) => {
                self.tab = Tab::Expiring;
                self.set_window(d);
            }
            _ => self.toast(
                ToastLevel::Warn,
                ":window needs a number of days, e.g. :window 30",
            ),
        }
    }

    /// `:sync [full] [devices|subscriptions]`.
    fn command_sync(&mut self, args: &[&str]) {
        if self.sync.running {
            self.toast(
                ToastLevel::Info,
                "a sync is already running — its progress is in the status bar",
            );
            return;
        }
        let mode = if args.contains(&"full") {
            SyncMode::Full
        } else {
            SyncMode::Auto
        };
        let scope = if args.contains(&"devices") {
            Scope::Devices
        } else if args.contains(&"subscriptions") {
            Scope::Subscriptions
        } else {
            Scope::Both
        };
        self.sync.pending = true;
        self.effects.push(Effect::Sync(SyncCommand::SyncNow {
            scope,
            mode,
            trigger: Trigger::Tui,
        }));
        self.toast(
            ToastLevel::Info,
            format!("{} sync of {} requested", mode.as_str(), scope.as_str()),
        );
    }

    /// `:export [PATH]`: the rows shown, in the columns shown, in the format the file's
    /// extension names; `~` is the home directory. An existing file is only replaced after
    /// a yes (the run loop checks, and asks through [`Loaded::ExportExists`]).
    fn command_export(&mut self, args: &[&str]) {
        let typed = match args {
            [] => format!("{}.csv", self.tab.title().to_lowercase()),
            // A path with spaces arrives in pieces.
            _ => args.join(" "),
        };
        let path = expand_tilde(&typed, self.home.as_deref())
            .display()
            .to_string();
        let t = self.table();
        let (header, rows) = t.export_cells(t.view_rows());
        self.effects.push(Effect::Export {
            path,
            header,
            rows,
            overwrite: false,
        });
    }
}
