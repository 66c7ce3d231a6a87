//! The `:` command line: typing with completion, and the commands.

use crossterm::event::KeyEvent;

use super::{App, Effect, InputMode, Tab, ToastLevel};
use crate::sync::events::{Mode as SyncMode, Scope, SyncCommand, Trigger};
use crate::tui::keys::{Action, Context, Edit, ModalAction as M};

impl App {
    pub(super) fn key_command(&mut self, ev: KeyEvent) {
        match self.keymap.edit(&ev) {
            Some(Edit::Type(c)) => {
                self.input.push(c);
                self.completions = self.candidates();
                return;
            }
            Some(Edit::Backspace) => {
                self.input.pop();
                self.completions = self.candidates();
                return;
            }
            // The command line never had a clear-line key; it stays a no-op there.
            Some(Edit::ClearLine) => return,
            None => {}
        }
        match self.keymap.modal(Context::Command, &ev) {
            Some(M::CommandCancel) => {
                self.mode = InputMode::Normal;
                self.input.clear();
                self.completions.clear();
            }
            Some(M::CommandRun) => {
                self.mode = InputMode::Normal;
                let line = std::mem::take(&mut self.input);
                self.completions.clear();
                self.run_command(&line);
            }
            Some(M::CommandComplete) => self.complete(),
            _ => {}
        }
    }

    fn commands(&self) -> Vec<&'static str> {
        let mut c = vec![
            "sort", "cols", "export", "window", "filter", "messages", "history", "help", "q",
            "quit",
        ];
        if !self.read_only {
            c.insert(0, "sync");
        }
        c
    }

    /// Completions for the word being typed on the command line.
    pub fn candidates(&self) -> Vec<String> {
        let input = self.input.trim_start();
        let mut words: Vec<&str> = input.split_whitespace().collect();
        let typing_new = input.ends_with(' ') || input.is_empty();
        let partial = if typing_new {
            ""
        } else {
            words.pop().unwrap_or("")
        };
        let options: Vec<String> = match words.first().copied() {
            None => self.commands().iter().map(|s| s.to_string()).collect(),
            Some("sort") if words.len() == 1 => self
                .table()
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace(' ', "_"))
                .collect(),
            Some("sort") => vec!["asc".into(), "desc".into()],
            Some("cols") => self
                .table()
                .columns
                .iter()
                .map(|c| c.name.to_lowercase().replace(' ', "_"))
                .collect(),
            Some("window") => vec!["30".into(), "60".into(), "90".into()],
            Some("sync") => vec!["full".into(), "devices".into(), "subscriptions".into()],
            Some("export") => vec![format!("{}.csv", self.tab.title().to_lowercase())],
            _ => Vec::new(),
        };
        let p = partial.to_lowercase();
        options
            .into_iter()
            .filter(|o| o.starts_with(&p) && o != &p)
            .collect()
    }

    fn complete(&mut self) {
        let c = self.candidates();
        if c.is_empty() {
            return;
        }
        // Longest common prefix of the candidates.
        let mut prefix = c[0].clone();
        for o in &c[1..] {
            while !o.starts_with(&prefix) {
                prefix.pop();
            }
        }
        let typing_new = self.input.ends_with(' ') || self.input.is_empty();
        if !typing_new {
            while self.input.chars().last().is_some_and(|ch| ch != ' ') {
                self.input.pop();
            }
        }
        self.input.push_str(&prefix);
        if c.len() == 1 {
            self.input.push(' ');
        }
        self.completions = self.candidates();
    }

    /// Run a `:` command.
    pub fn run_command(&mut self, line: &str) {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(cmd) = words.first().copied() else {
            return;
        };
        let args = &words[1..];
        match cmd {
            "q" | "quit" | "q!" => self.quit(),
            "help" => self.act(Action::Help),
            "messages" | "msgs" => self.open_messages(),
            "history" => self.open_history(),
            "sync" if self.sync_off.is_some() => self.refuse(Action::Sync),
            "sync" => self.command_sync(args),
            "sort" => {
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
            "cols" => {
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
            "window" => match args.first().and_then(|d| d.parse::<u32>().ok()) {
                Some(d) if (1..=3650).contains(&d) => {
                    self.tab = Tab::Expiring;
                    self.set_window(d);
                }
                _ => self.toast(
                    ToastLevel::Warn,
                    ":window needs a number of days, e.g. :window 30",
                ),
            },
            "filter" => {
                self.input = args.join(" ");
                self.filter_changed();
                self.input.clear();
            }
            "export" => self.command_export(args),
            other => self.toast(
                ToastLevel::Warn,
                format!(
                    ":{other}: unknown command (try {})",
                    self.commands().join(" ")
                ),
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

    /// `:export [PATH]`: the rows shown, in the columns shown.
    fn command_export(&mut self, args: &[&str]) {
        let path = args
            .first()
            .map(|s| s.to_string())
            .unwrap_or_else(|| format!("{}.csv", self.tab.title().to_lowercase()));
        let t = self.table();
        let vis = t.visible_columns();
        let header = vis.iter().map(|c| t.columns[*c].name.to_string()).collect();
        let rows = t
            .view_rows()
            .map(|r| vis.iter().map(|c| r.cell(*c).to_string()).collect())
            .collect();
        self.effects.push(Effect::Export { path, header, rows });
    }
}
