//! The default bindings of every context and the names of the keys: the one file that
//! spells keys (the test in `tui/key_texts.rs` allows no other). Everything a user reads
//! about a key — footers, help, toasts, prompts — is built from these through the live
//! [`Keymap`](super::Keymap), so `[ui.keys]` can change any of them.
//!
//! Conventions (design.md §5, after k9s, lazygit and gitui): `j/k` and the arrows move, Enter
//! goes on, Esc goes back, `/` filters, `:` opens the command line, `?` shows help.

use super::actions::{Action as A, Context, Edit, ModalAction as M, WizardAction as WA};
use super::code::KeyCodeOrd as K;
use super::info::{Hint, Info};
use crate::tui::wizard::step::WizardStep as W;

// ---- keys and their names ---------------------------------------------------------------

/// Keys with a name: how the console prints them, then how `[ui.keys]` may spell them
/// (case-insensitive). Single characters are written as themselves.
pub const NAMED_KEYS: &[(K, &str, &[&str])] = &[
    (K::Enter, "Enter", &["enter", "return"]),
    (K::Esc, "Esc", &["esc", "escape"]),
    (K::Tab, "Tab", &["tab"]),
    (K::BackTab, "Shift-Tab", &["backtab", "shift-tab"]),
    (K::Backspace, "Backspace", &["backspace"]),
    (K::Char(' '), "Space", &["space"]),
    (K::Up, "↑", &["up"]),
    (K::Down, "↓", &["down"]),
    (K::Left, "←", &["left"]),
    (K::Right, "→", &["right"]),
    (K::Home, "Home", &["home"]),
    (K::End, "End", &["end"]),
    (K::PageUp, "PgUp", &["pageup", "pgup"]),
    (K::PageDown, "PgDn", &["pagedown", "pgdn"]),
    (K::Delete, "Del", &["delete", "del"]),
    (K::Insert, "Ins", &["insert", "ins"]),
];

/// The modifiers: printed prefix, and the prefixes `[ui.keys]` accepts.
pub const CTRL: (&str, &[&str]) = ("Ctrl-", &["ctrl-", "c-"]);
pub const ALT: (&str, &[&str]) = ("Alt-", &["alt-", "m-"]);

/// Quits from anywhere whatever `[ui.keys]` says (while an assignment runs it asks to cancel
/// first), so a broken keymap can never lock the user in.
pub const ALWAYS_QUIT: &str = "ctrl-c";
/// The fixed editing keys of every line being typed (the filter and command lines, the
/// wizard's path and tag lines), readline's: they type nothing, so no binding needs them.
pub const EDIT_KEYS: &[(&str, Edit, &str)] = &[
    (
        "backspace",
        Edit::Backspace,
        "delete the character before the cursor",
    ),
    (
        "ctrl-u",
        Edit::ClearLine,
        "delete from the start of the line to the cursor",
    ),
    (
        "ctrl-w",
        Edit::DeleteWord,
        "delete the word before the cursor",
    ),
    ("ctrl-a", Edit::Home, "cursor to the start of the line"),
    ("home", Edit::Home, "cursor to the start of the line"),
    ("ctrl-e", Edit::End, "cursor to the end of the line"),
    ("end", Edit::End, "cursor to the end of the line"),
    ("left", Edit::Left, "cursor one character left"),
    ("right", Edit::Right, "cursor one character right"),
];

/// Suspends the console to the shell (`fg` brings it back), as in every terminal program.
pub const SUSPEND: &str = "ctrl-z";

/// The fixed keys as help lists them under "Always" (the editing keys follow them).
pub const FIXED: &[(&str, &str)] = &[
    (
        ALWAYS_QUIT,
        "quit from anywhere (while an assignment runs: cancel it first)",
    ),
    (
        SUSPEND,
        "suspend to the shell; `fg` brings the console back",
    ),
];

// ---- normal mode -----------------------------------------------------------------------

const fn n(action: A, name: &'static str, group: &'static str, desc: &'static str) -> Info<A> {
    Info::new(action, name, group, desc, &[Context::Normal])
}

/// Normal mode: the tables, the tabs, sync. In this order in help and the footer.
#[rustfmt::skip]
pub const ACTIONS: &[Info<A>] = &[
    n(A::Quit, "quit", "General", "quit (at top level)").hint("quit").keys(&["q"]),
    n(A::Help, "help", "General", "show or hide this help").hint("help").keys(&["?"]),
    n(A::Command, "command", "General", "command line (the commands are listed below)").hint("cmd").keys(&[":"]),
    n(A::TabOverview, "tab_overview", "Tabs", "Overview tab (counts: Enter opens the rows behind one)").keys(&["0"]),
    n(A::TabDevices, "tab_devices", "Tabs", "Devices tab").keys(&["1"]),
    n(A::TabSubscriptions, "tab_subscriptions", "Tabs", "Subscriptions tab").keys(&["2"]),
    n(A::TabExpiring, "tab_expiring", "Tabs", "Expiring tab").keys(&["3"]),
    n(A::TabAssign, "tab_assign", "Tabs", "Assign tab (past runs)").keys(&["4"]),
    n(A::TabWorkspaces, "tab_workspaces", "Tabs", "Workspaces tab (several workspaces: Enter shows one)").keys(&["5"]),
    n(A::NextTab, "next_tab", "Tabs", "next tab").keys(&["tab"]),
    n(A::PrevTab, "prev_tab", "Tabs", "previous tab").keys(&["backtab"]),
    n(A::Up, "up", "Move", "up one row").keys(&["k", "up"]),
    n(A::Down, "down", "Move", "down one row").keys(&["j", "down"]),
    n(A::Top, "top", "Move", "first row").keys(&["g", "home"]),
    n(A::Bottom, "bottom", "Move", "last row").keys(&["G", "end"]),
    n(A::PageUp, "page_up", "Move", "page up").keys(&["pageup"]),
    n(A::PageDown, "page_down", "Move", "page down").keys(&["pagedown"]),
    n(A::HalfPageUp, "half_page_up", "Move", "half a page up").keys(&["ctrl-u"]),
    n(A::HalfPageDown, "half_page_down", "Move", "half a page down").keys(&["ctrl-d"]),
    n(A::Detail, "detail", "Table", "detail of the selected row").hint("detail").keys(&["enter"]),
    n(A::Back, "back", "Table", "close pane / clear filter / leave a drill-down").keys(&["esc"]),
    n(A::Filter, "filter", "Table", "filter (fuzzy; ^ $ ' ! per cell; col:value; tag:k=v)").hint("filter").keys(&["/"]),
    n(A::SortNext, "sort_next", "Table", "sort by the next column").hint("sort").keys(&["o"]),
    n(A::SortPrev, "sort_prev", "Table", "sort by the previous column").keys(&["O"]),
    n(A::SortReverse, "sort_reverse", "Table", "reverse the sort order").keys(&["r"]),
    n(A::Columns, "columns", "Table", "show or hide columns").hint("cols").keys(&["c"]),
    n(A::CopyId, "copy_id", "Table", "copy serial / key (OSC 52)").hint("copy").keys(&["y"]),
    n(A::CopyRow, "copy_row", "Table", "copy the whole row").keys(&["Y"]),
    n(A::ScrollLeft, "scroll_left", "Table", "scroll the columns left (when they do not all fit)").keys(&["h", "left"]),
    n(A::ScrollRight, "scroll_right", "Table", "scroll the columns right").keys(&["l", "right"]),
    n(A::Drill, "drill", "Table", "drill down: a subscription's devices, a device's subscriptions").keys(&["d"]),
    n(A::Window, "window", "Expiring", "expiring window 30 / 60 / 90 days").hint("window").keys(&["w"]),
    n(A::FocusExpired, "focus_expired", "Expiring", "switch between expiring and expired lists").keys(&["x"]),
    n(A::AssignNew, "assign_new", "Assign", "new assignment from a spreadsheet (wizard)").hint("new assignment").keys(&["n"]).writes(),
    n(A::UndoRun, "undo_run", "Assign", "undo the selected run (plan, confirm, apply)").hint("undo").keys(&["u"]).writes(),
    n(A::Mark, "mark", "Devices", "mark or unmark the device (then down)").keys(&["space"]),
    n(A::MarkAll, "mark_all", "Devices", "mark every device shown (the filter's matches)").keys(&["*"]),
    n(A::MarkRange, "mark_range", "Devices", "mark from the last marked device to this one").keys(&["V"]),
    n(A::ClearMarks, "clear_marks", "Devices", "unmark every device").keys(&["M"]),
    n(A::AssignMarked, "assign_marked", "Devices", "assign the marked devices (wizard, no spreadsheet)").keys(&["a"]).writes(),
    n(A::ExportMarked, "export_marked", "Devices", "export the marked devices (marked-devices.csv)").keys(&["E"]),
    n(A::Sync, "sync", "Sync", "sync now (incremental)").hint("sync").keys(&["s"]).writes(),
    n(A::SyncFull, "sync_full", "Sync", "full sync (reconciles removals)").keys(&["S"]).writes(),
    n(A::CancelSync, "cancel_sync", "Sync", "cancel the running sync").keys(&["ctrl-x"]).writes(),
];

// ---- the assignment wizard ----------------------------------------------------------------

const FILE: Context = Context::Wizard(W::File);
const LOADING: Context = Context::Wizard(W::Loading);
const SHEET: Context = Context::Wizard(W::Sheet);
const VALIDATE: Context = Context::Wizard(W::Validate);
const REVIEW: Context = Context::Wizard(W::Review);
const SUBSCRIPTION: Context = Context::Wizard(W::Subscription);
const REGION: Context = Context::Wizard(W::Region);
const TAGS: Context = Context::Wizard(W::Tags);
const PLAN: Context = Context::Wizard(W::Plan);
const CONFIRM: Context = Context::Wizard(W::Confirm);
const APPLYING: Context = Context::Wizard(W::Applying);
const REPORT: Context = Context::Wizard(W::Report);

const fn w(
    action: WA,
    name: &'static str,
    desc: &'static str,
    steps: &'static [Context],
) -> Info<WA> {
    Info::new(action, name, "Assign wizard", desc, steps)
}

/// The wizard's keys, looked up before normal mode and only for the step on screen, so `a`,
/// `d` or `r` can mean something in one step without taking the key from the rest of the
/// console. A clash inside a step keeps the first action of this table (Enter must keep
/// going on), so the cursor keys come first, as they did when they were matched by hand.
#[rustfmt::skip]
pub const WIZARD_ACTIONS: &[Info<WA>] = &[
    w(WA::CursorUp, "wizard_up", "cursor up in the sheet and tag lists", &[SHEET, TAGS]).like(&[A::Up]).keys(&["up"]),
    w(WA::CursorDown, "wizard_down", "cursor down in the sheet and tag lists", &[SHEET, TAGS]).like(&[A::Down]).keys(&["down"]),
    w(WA::Complete, "wizard_complete", "complete the path (or tag key); shows the candidates when several fit", &[FILE, TAGS])
        .hint("complete").keys(&["tab"]),
    w(WA::Next, "wizard_next", "continue / choose the selected line (tags: add the typed change, or continue when empty)",
        &[FILE, SHEET, VALIDATE, REVIEW, SUBSCRIPTION, REGION, TAGS]).hint("next").keys(&["enter"]),
    w(WA::Back, "wizard_back", "back one step (first step and report: back to the run list); while applying: cancel",
        &[FILE, LOADING, SHEET, VALIDATE, REVIEW, SUBSCRIPTION, REGION, TAGS, PLAN, APPLYING, REPORT])
        .hint("back").keys(&["esc", "q"]),
    w(WA::Reload, "wizard_reload", "read the file again (after fixing it in the spreadsheet)", &[VALIDATE, REVIEW])
        .hint("reload").keys(&["r"]),
    w(WA::ChooseSheet, "wizard_sheet", "read another sheet of the workbook", &[VALIDATE, REVIEW]).hint("sheet").keys(&["t"]),
    w(WA::Detail, "wizard_detail", "the selected row in full (every field, the whole message); Enter too where it does not go on",
        &[VALIDATE, REVIEW, PLAN, REPORT]).hint("view").keys(&["v"]),
    w(WA::Skip, "wizard_skip", "leave as is: change nothing for this choice", &[SUBSCRIPTION, REGION])
        .hint("leave as is").keys(&["-"]),
    w(WA::RemoveTag, "wizard_remove_tag", "drop the selected tag change", &[TAGS]).hint("drop change").keys(&["delete"]),
    w(WA::DryRun, "wizard_dry_run", "dry run: GreenLake validates every call and changes nothing (asks first)", &[PLAN])
        .hint("dry run").keys(&["d"]).writes(),
    w(WA::Apply, "wizard_apply", "apply the plan in GreenLake (asks first)", &[PLAN]).hint("apply").keys(&["a"]).writes(),
    w(WA::Yes, "wizard_yes", "confirm the question on screen", &[CONFIRM]).hint("yes").keys(&["y"]),
    w(WA::No, "wizard_no", "answer no to the question on screen", &[CONFIRM]).hint("no").keys(&["n", "esc"]),
    w(WA::ExportXlsx, "wizard_export_xlsx", "write the report as .xlsx (path shown in a message)", &[REPORT])
        .hint("export .xlsx").keys(&["e"]),
    w(WA::ExportJson, "wizard_export_json", "write the report as .json", &[REPORT]).hint("export .json").keys(&["E"]),
];

// ---- the modes: filter and command lines, help, detail pane, column chooser ---------------------

const fn m(
    action: M,
    name: &'static str,
    group: &'static str,
    desc: &'static str,
    context: &'static [Context],
) -> Info<M> {
    Info::new(action, name, group, desc, context)
}

const FILTER: &[Context] = &[Context::Filter];
const COMMAND: &[Context] = &[Context::Command];
const HELP: &[Context] = &[Context::Help];
const PANE: &[Context] = &[Context::Pane];
const COLUMNS: &[Context] = &[Context::Columns];

/// The keys of the modes. Characters are typed on the filter and command lines, so their
/// actions sit on keys that type nothing. The help, the pane and the chooser follow the
/// table's keys (`like`): rebinding `down` moves in all of them.
#[rustfmt::skip]
pub const MODAL_ACTIONS: &[Info<M>] = &[
    m(M::FilterKeep, "filter_keep", "Filter line", "keep the filter and go back to the rows", FILTER).keys(&["enter"]),
    m(M::FilterClear, "filter_clear", "Filter line", "clear the filter and go back", FILTER).keys(&["esc"]),
    m(M::FilterUp, "filter_up", "Filter line", "move up the rows while typing", FILTER).keys(&["up"]),
    m(M::FilterDown, "filter_down", "Filter line", "move down the rows while typing", FILTER).keys(&["down"]),
    m(M::FilterComplete, "filter_complete", "Filter line", "complete a column name (type:) or a value (type:sw…); again: the next", FILTER).keys(&["tab"]),
    m(M::CommandRun, "command_run", "Command line", "run the command typed", COMMAND).keys(&["enter"]),
    m(M::CommandCancel, "command_cancel", "Command line", "leave the command line", COMMAND).keys(&["esc"]),
    m(M::CommandComplete, "command_complete", "Command line", "complete the word typed", COMMAND).keys(&["tab"]),
    m(M::PaneClose, "pane_close", "Detail pane", "close the pane", PANE).like(&[A::Back, A::Quit, A::Detail]),
    m(M::PaneDown, "pane_down", "Detail pane", "scroll down a line", PANE).like(&[A::Down]),
    m(M::PaneUp, "pane_up", "Detail pane", "scroll up a line", PANE).like(&[A::Up]),
    m(M::PanePageDown, "pane_page_down", "Detail pane", "scroll down half a page", PANE).like(&[A::PageDown, A::HalfPageDown]),
    m(M::PanePageUp, "pane_page_up", "Detail pane", "scroll up half a page", PANE).like(&[A::PageUp, A::HalfPageUp]),
    m(M::PaneTop, "pane_top", "Detail pane", "to the top", PANE).like(&[A::Top]),
    m(M::PaneBottom, "pane_bottom", "Detail pane", "to the bottom", PANE).like(&[A::Bottom]),
    m(M::PaneCopy, "pane_copy", "Detail pane", "copy serial / key (OSC 52)", PANE).like(&[A::CopyId]),
    m(M::RunUndo, "run_undo", "Detail pane", "a run's detail: undo the run", PANE).like(&[A::UndoRun]),
    m(M::RunExportXlsx, "run_export_xlsx", "Detail pane", "a run's detail: export its report as .xlsx", PANE).keys(&["e"]),
    m(M::RunExportJson, "run_export_json", "Detail pane", "a run's detail: export its report as .json", PANE).keys(&["E"]),
    m(M::ColumnsToggle, "columns_toggle", "Column chooser", "show or hide the column under the cursor", COLUMNS)
        .keys(&["space", "x"]),
    m(M::ColumnsDown, "columns_down", "Column chooser", "next column", COLUMNS).like(&[A::Down]),
    m(M::ColumnsUp, "columns_up", "Column chooser", "previous column", COLUMNS).like(&[A::Up]),
    m(M::ColumnsClose, "columns_close", "Column chooser", "done", COLUMNS).like(&[A::Back, A::Detail, A::Quit, A::Columns]),
    m(M::HelpClose, "help_close", "Help", "close this help", HELP).like(&[A::Back, A::Help, A::Quit, A::Detail]),
    m(M::HelpDown, "help_down", "Help", "scroll down", HELP).like(&[A::Down]),
    m(M::HelpUp, "help_up", "Help", "scroll up", HELP).like(&[A::Up]),
    m(M::HelpPageDown, "help_page_down", "Help", "scroll down a page", HELP).like(&[A::PageDown, A::HalfPageDown]),
    m(M::HelpPageUp, "help_page_up", "Help", "scroll up a page", HELP).like(&[A::PageUp, A::HalfPageUp]),
    m(M::HelpTop, "help_top", "Help", "to the top", HELP).like(&[A::Top]),
    m(M::HelpBottom, "help_bottom", "Help", "to the bottom", HELP).like(&[A::Bottom]),
    m(M::HelpFind, "help_find", "Help", "find a word in the help", HELP).like(&[A::Filter]),
    m(M::HelpFindNext, "help_find_next", "Help", "next line with the word found", HELP).keys(&["n"]),
];

const fn h(actions: &'static [M], keys: usize, join: &'static str, label: &'static str) -> Hint {
    Hint {
        actions,
        keys,
        join,
        label,
    }
}

/// What each mode's footer says: the first `keys` keys of each action, then the label.
#[rustfmt::skip]
pub const FOOTERS: &[(Context, &[Hint])] = &[
    (Context::Filter, &[
        h(&[M::FilterKeep], 1, "/", "keep"),
        h(&[M::FilterClear], 1, "/", "clear"),
        h(&[M::FilterUp, M::FilterDown], 1, "", "move"),
    ]),
    (Context::Pane, &[
        h(&[M::PaneClose], 1, "/", "close"),
        h(&[M::PaneDown, M::PaneUp], 1, "/", "scroll"),
        h(&[M::PanePageUp, M::PanePageDown], 1, "/", ""),
        h(&[M::PaneCopy], 1, "/", "copy"),
    ]),
    (Context::Columns, &[
        h(&[M::ColumnsToggle], 1, "/", "toggle column"),
        h(&[M::ColumnsDown, M::ColumnsUp], 1, "/", "move"),
        h(&[M::ColumnsClose], 1, "/", "done"),
    ]),
    (Context::Help, &[
        h(&[M::HelpClose], 2, "/", "close help"),
        h(&[M::HelpDown, M::HelpUp], 1, "/", "scroll"),
        h(&[M::HelpTop, M::HelpBottom], 1, "/", "top/bottom"),
        h(&[M::HelpFind], 1, "/", "find"),
    ]),
];
