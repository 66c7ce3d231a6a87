//! The `:` commands as data: what the command line dispatches on, completes and what help
//! lists — one table, so help can never miss a command or name one that is gone.

/// What a `:` command does (the dispatch in `command_line.rs` matches on this).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Devices,
    Subscriptions,
    Expiring,
    Assign,
    Sync,
    Sort,
    Cols,
    Filter,
    Window,
    Export,
    Messages,
    History,
    Workspace,
    Save,
    View,
    DelView,
    Help,
    Quit,
}

/// One `:` command: its name, other spellings, arguments and what help says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command {
    pub cmd: Cmd,
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub args: &'static str,
    pub help: &'static str,
    /// Changes GreenLake: not offered in read-only mode.
    pub writes: bool,
    /// Only where the database holds several workspaces (offered and listed only there).
    pub workspaces: bool,
}

const fn c(cmd: Cmd, name: &'static str, args: &'static str, help: &'static str) -> Command {
    Command {
        cmd,
        name,
        aliases: &[],
        args,
        help,
        writes: false,
        workspaces: false,
    }
}

impl Command {
    const fn or(mut self, aliases: &'static [&'static str]) -> Command {
        self.aliases = aliases;
        self
    }
    const fn writes(mut self) -> Command {
        self.writes = true;
        self
    }
    const fn workspaces(mut self) -> Command {
        self.workspaces = true;
        self
    }
    /// `:sort COLUMN [asc|desc]` as help shows it.
    pub fn usage(&self) -> String {
        if self.args.is_empty() {
            format!(":{}", self.name)
        } else {
            format!(":{} {}", self.name, self.args)
        }
    }
}

/// Every `:` command, in the order help lists them.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    c(Cmd::Devices, "devices", "", "go to the Devices tab").or(&["dev"]),
    c(Cmd::Subscriptions, "subs", "", "go to the Subscriptions tab").or(&["subscriptions"]),
    c(Cmd::Expiring, "expiring", "[DAYS]", "go to the Expiring tab (with a window of DAYS)").or(&["exp"]),
    c(Cmd::Assign, "assign", "", "go to the Assign tab (past runs, the wizard)"),
    c(Cmd::Sync, "sync", "[full] [devices|subscriptions]", "sync now").writes(),
    c(Cmd::Sort, "sort", "COLUMN [asc|desc]", "sort by a column"),
    c(Cmd::Cols, "cols", "[COLUMN…]", "show only these columns (none: the chooser)"),
    c(Cmd::Filter, "filter", "TEXT", "filter the rows, as / does"),
    c(Cmd::Window, "window", "DAYS", "Expiring window in days (1–3650)"),
    c(Cmd::Export, "export", "[PATH.csv|PATH.xlsx]", "write the rows shown (~ is home; asks before overwriting)"),
    c(Cmd::Messages, "messages", "", "every message shown so far").or(&["msgs"]),
    c(Cmd::History, "history", "", "the sync runs, as `glp-console status` lists them"),
    c(Cmd::Workspace, "ws", "[NAME|all]", "show one workspace (its name completes) or all of them; none: the Workspaces tab").or(&["workspace"]).workspaces(),
    c(Cmd::Save, "save", "NAME", "keep this tab's filter, sort and columns as a view (asks before replacing one)"),
    c(Cmd::View, "view", "[NAME]", "apply a saved view (its name completes); none: list them"),
    c(Cmd::DelView, "delview", "NAME", "forget a saved view"),
    c(Cmd::Help, "help", "", "this help"),
    c(Cmd::Quit, "quit", "", "quit").or(&["q", "q!"]),
];

/// The command a typed word names (its name or an alias).
pub fn lookup(word: &str) -> Option<&'static Command> {
    COMMANDS
        .iter()
        .find(|c| c.name == word || c.aliases.contains(&word))
}
