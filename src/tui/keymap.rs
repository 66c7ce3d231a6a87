//! Actions and the keys bound to them: one table that the key handler, the help overlay and
//! the footer hints all read, so they can never drift apart. `[ui.keys]` in the config
//! rebinds (`sync = "F5"`, several keys separated by spaces) or unbinds (`sync = ""`); a key
//! claimed by two actions is reported, and the override wins.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can do in normal mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    Help,
    TabDevices,
    TabSubscriptions,
    TabExpiring,
    TabAssign,
    NextTab,
    PrevTab,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    Detail,
    Back,
    Filter,
    Command,
    SortNext,
    SortPrev,
    SortReverse,
    Columns,
    CopyId,
    CopyRow,
    Sync,
    SyncFull,
    CancelSync,
    Window,
    FocusExpired,
    /// Assign tab: start the assignment wizard.
    AssignNew,
}

/// One action's entry in the table.
pub struct ActionInfo {
    pub action: Action,
    /// The name used in `[ui.keys]`.
    pub name: &'static str,
    /// What help shows.
    pub description: &'static str,
    /// Short label for the footer; `None` keeps it out of the footer.
    pub hint: Option<&'static str>,
    pub defaults: &'static [&'static str],
    /// Writes somewhere (the database or GreenLake): hidden with `--read-only`.
    pub writes: bool,
    pub group: &'static str,
}

macro_rules! info {
    ($a:ident, $name:literal, $group:literal, $desc:literal, $hint:expr, [$($k:literal),*], $w:literal) => {
        ActionInfo { action: Action::$a, name: $name, group: $group, description: $desc,
                     hint: $hint, defaults: &[$($k),*], writes: $w }
    };
}

/// The default keymap (k9s / lazygit / gitui conventions, design.md §5).
pub const ACTIONS: &[ActionInfo] = &[
    info!(
        Quit,
        "quit",
        "General",
        "quit (at top level)",
        Some("quit"),
        ["q"],
        false
    ),
    info!(
        Help,
        "help",
        "General",
        "show or hide this help",
        Some("help"),
        ["?"],
        false
    ),
    info!(
        Command,
        "command",
        "General",
        "command line (:sync :sort :cols :export :window :q)",
        Some("cmd"),
        [":"],
        false
    ),
    info!(
        TabDevices,
        "tab_devices",
        "Tabs",
        "Devices tab",
        None,
        ["1"],
        false
    ),
    info!(
        TabSubscriptions,
        "tab_subscriptions",
        "Tabs",
        "Subscriptions tab",
        None,
        ["2"],
        false
    ),
    info!(
        TabExpiring,
        "tab_expiring",
        "Tabs",
        "Expiring tab",
        None,
        ["3"],
        false
    ),
    info!(
        TabAssign,
        "tab_assign",
        "Tabs",
        "Assign tab (past runs)",
        None,
        ["4"],
        false
    ),
    info!(
        NextTab,
        "next_tab",
        "Tabs",
        "next tab",
        None,
        ["tab"],
        false
    ),
    info!(
        PrevTab,
        "prev_tab",
        "Tabs",
        "previous tab",
        None,
        ["backtab"],
        false
    ),
    info!(Up, "up", "Move", "up one row", None, ["k", "up"], false),
    info!(
        Down,
        "down",
        "Move",
        "down one row",
        None,
        ["j", "down"],
        false
    ),
    info!(Top, "top", "Move", "first row", None, ["g", "home"], false),
    info!(
        Bottom,
        "bottom",
        "Move",
        "last row",
        None,
        ["G", "end"],
        false
    ),
    info!(
        PageUp,
        "page_up",
        "Move",
        "page up",
        None,
        ["pageup"],
        false
    ),
    info!(
        PageDown,
        "page_down",
        "Move",
        "page down",
        None,
        ["pagedown"],
        false
    ),
    info!(
        HalfPageUp,
        "half_page_up",
        "Move",
        "half a page up",
        None,
        ["ctrl-u"],
        false
    ),
    info!(
        HalfPageDown,
        "half_page_down",
        "Move",
        "half a page down",
        None,
        ["ctrl-d"],
        false
    ),
    info!(
        Detail,
        "detail",
        "Table",
        "detail of the selected row",
        Some("detail"),
        ["enter"],
        false
    ),
    info!(
        Back,
        "back",
        "Table",
        "close pane / clear filter",
        None,
        ["esc"],
        false
    ),
    info!(
        Filter,
        "filter",
        "Table",
        "fuzzy filter the visible columns",
        Some("filter"),
        ["/"],
        false
    ),
    info!(
        SortNext,
        "sort_next",
        "Table",
        "sort by the next column",
        Some("sort"),
        ["o"],
        false
    ),
    info!(
        SortPrev,
        "sort_prev",
        "Table",
        "sort by the previous column",
        None,
        ["O"],
        false
    ),
    info!(
        SortReverse,
        "sort_reverse",
        "Table",
        "reverse the sort order",
        None,
        ["r"],
        false
    ),
    info!(
        Columns,
        "columns",
        "Table",
        "show or hide columns",
        Some("cols"),
        ["c"],
        false
    ),
    info!(
        CopyId,
        "copy_id",
        "Table",
        "copy serial / key (OSC 52)",
        Some("copy"),
        ["y"],
        false
    ),
    info!(
        CopyRow,
        "copy_row",
        "Table",
        "copy the whole row",
        None,
        ["Y"],
        false
    ),
    info!(
        Window,
        "window",
        "Expiring",
        "expiring window 30 / 60 / 90 days",
        Some("window"),
        ["w"],
        false
    ),
    info!(
        FocusExpired,
        "focus_expired",
        "Expiring",
        "switch between expiring and expired lists",
        None,
        ["x"],
        false
    ),
    info!(
        AssignNew,
        "assign_new",
        "Assign",
        "new assignment from a spreadsheet (wizard)",
        Some("new assignment"),
        ["n"],
        false
    ),
    info!(
        Sync,
        "sync",
        "Sync",
        "sync now (incremental)",
        Some("sync"),
        ["s"],
        true
    ),
    info!(
        SyncFull,
        "sync_full",
        "Sync",
        "full sync (reconciles removals)",
        None,
        ["S"],
        true
    ),
    info!(
        CancelSync,
        "cancel_sync",
        "Sync",
        "cancel the running sync",
        None,
        ["ctrl-x"],
        true
    ),
];

/// A key with its modifiers, comparable and printable the way help shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// The subset of key codes that can be bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
    Insert,
}

impl Key {
    /// The bindable key of a terminal event (shift is folded into the character).
    pub fn from_event(ev: &KeyEvent) -> Option<Key> {
        let code = match ev.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            _ => return None,
        };
        Some(Key {
            code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parse `q`, `G`, `?`, `ctrl-d`, `alt-x`, `F5`, `enter`, `esc`, `tab`, `backtab`,
    /// `space`, `pageup`, … (case-insensitive names; single characters are literal).
    pub fn parse(s: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s.trim();
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 2 && (lower.starts_with("ctrl-") || lower.starts_with("c-")) {
                ctrl = true;
                rest = &rest[rest.find('-').map_or(0, |i| i + 1)..];
            } else if rest.chars().count() > 2
                && (lower.starts_with("alt-") || lower.starts_with("m-"))
            {
                alt = true;
                rest = &rest[rest.find('-').map_or(0, |i| i + 1)..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCodeOrd::Enter,
                "esc" | "escape" => KeyCodeOrd::Esc,
                "tab" => KeyCodeOrd::Tab,
                "backtab" | "shift-tab" => KeyCodeOrd::BackTab,
                "backspace" => KeyCodeOrd::Backspace,
                "space" => KeyCodeOrd::Char(' '),
                "up" => KeyCodeOrd::Up,
                "down" => KeyCodeOrd::Down,
                "left" => KeyCodeOrd::Left,
                "right" => KeyCodeOrd::Right,
                "home" => KeyCodeOrd::Home,
                "end" => KeyCodeOrd::End,
                "pageup" | "pgup" => KeyCodeOrd::PageUp,
                "pagedown" | "pgdn" => KeyCodeOrd::PageDown,
                "delete" | "del" => KeyCodeOrd::Delete,
                "insert" | "ins" => KeyCodeOrd::Insert,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
                }
                _ => {
                    return Err(format!(
                        "{s:?} is not a key (examples: q, G, ctrl-d, F5, enter, space)"
                    ));
                }
            },
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("Space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::Enter => f.write_str("Enter"),
            KeyCodeOrd::Esc => f.write_str("Esc"),
            KeyCodeOrd::Tab => f.write_str("Tab"),
            KeyCodeOrd::BackTab => f.write_str("Shift-Tab"),
            KeyCodeOrd::Backspace => f.write_str("Backspace"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::Home => f.write_str("Home"),
            KeyCodeOrd::End => f.write_str("End"),
            KeyCodeOrd::PageUp => f.write_str("PgUp"),
            KeyCodeOrd::PageDown => f.write_str("PgDn"),
            KeyCodeOrd::Delete => f.write_str("Del"),
            KeyCodeOrd::Insert => f.write_str("Ins"),
        }
    }
}

/// The live keymap.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: BTreeMap<Key, Action>,
    by_action: BTreeMap<Action, Vec<Key>>,
    read_only: bool,
    /// The assignment wizard's own bindings.
    pub wizard: WizardKeys,
}

impl Keymap {
    /// Defaults plus `[ui.keys]` overrides. Returns the warnings to show (bad names, bad
    /// keys, conflicts).
    pub fn new(overrides: &BTreeMap<String, String>, read_only: bool) -> (Keymap, Vec<String>) {
        let mut warnings = Vec::new();
        let mut by_action: BTreeMap<Action, Vec<Key>> = BTreeMap::new();
        for a in ACTIONS {
            if read_only && a.writes {
                continue;
            }
            let keys = a
                .defaults
                .iter()
                .filter_map(|k| Key::parse(k).ok())
                .collect();
            by_action.insert(a.action, keys);
        }
        let mut overridden = Vec::new();
        for (name, value) in overrides {
            let Some(info) = ACTIONS.iter().find(|a| a.name == name) else {
                if WIZARD_ACTIONS.iter().any(|a| a.name == name) {
                    continue;
                }
                warnings.push(format!(
                    "[ui.keys] {name}: no such action (see `?` in the console for the names)"
                ));
                continue;
            };
            if read_only && info.writes {
                continue;
            }
            let mut keys = Vec::new();
            for part in value.split_whitespace() {
                match Key::parse(part) {
                    Ok(k) => keys.push(k),
                    Err(e) => warnings.push(format!("[ui.keys] {name}: {e}")),
                }
            }
            by_action.insert(info.action, keys);
            overridden.push(info.action);
        }
        // Resolve conflicts: an overridden action keeps its key; otherwise the first wins.
        let mut by_key: BTreeMap<Key, Action> = BTreeMap::new();
        let order: Vec<Action> = overridden
            .iter()
            .copied()
            .chain(
                ACTIONS
                    .iter()
                    .map(|a| a.action)
                    .filter(|a| !overridden.contains(a)),
            )
            .collect();
        for action in order {
            let Some(keys) = by_action.get(&action).cloned() else {
                continue;
            };
            let mut kept = Vec::new();
            for k in keys {
                if let Some(other) = by_key.get(&k) {
                    warnings.push(format!(
                        "[ui.keys] {} is bound to both {} and {}; {} keeps it",
                        k,
                        name_of(*other),
                        name_of(action),
                        name_of(*other)
                    ));
                } else {
                    by_key.insert(k, action);
                    kept.push(k);
                }
            }
            by_action.insert(action, kept);
        }
        let wizard = WizardKeys::new(overrides, &mut warnings);
        (
            Keymap {
                by_key,
                by_action,
                read_only,
                wizard,
            },
            warnings,
        )
    }

    /// The action bound to a key event, if any.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        let key = Key::from_event(ev)?;
        if let Some(a) = self.by_key.get(&key) {
            return Some(*a);
        }
        // Terminals differ on whether Shift-G arrives with SHIFT set: fold it.
        None
    }

    pub fn keys(&self, action: Action) -> &[Key] {
        self.by_action
            .get(&action)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// "k/↑" — what help and hints print for an action; empty when unbound.
    pub fn label(&self, action: Action) -> String {
        self.keys(action)
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Is the action available (bound, and not hidden by read-only mode)?
    pub fn is_bound(&self, action: Action) -> bool {
        !self.keys(action).is_empty()
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Footer hints: `(key, label)` for every hinted, bound action, in table order.
    pub fn hints(&self) -> Vec<(String, &'static str)> {
        self.hints_for(None)
    }

    /// Footer hints for a tab: the actions of that tab's own group (e.g. "Assign") come
    /// first, and other tabs' own actions are left out (they do nothing here).
    pub fn hints_for(&self, tab_group: Option<&str>) -> Vec<(String, &'static str)> {
        let own = |a: &&ActionInfo| tab_group.is_some_and(|g| a.group == g);
        let tab_only = |a: &&ActionInfo| a.group == "Assign";
        ACTIONS
            .iter()
            .filter(own)
            .chain(ACTIONS.iter().filter(|a| !own(a) && !tab_only(a)))
            .filter_map(|a| {
                let hint = a.hint?;
                let k = self.keys(a.action).first()?;
                Some((k.to_string(), hint))
            })
            .collect()
    }

    /// Help lines grouped: `(group, key label, description)` for every bound action.
    pub fn help_entries(&self) -> Vec<(&'static str, String, &'static str)> {
        ACTIONS
            .iter()
            .filter(|a| self.is_bound(a.action))
            .map(|a| (a.group, self.label(a.action), a.description))
            .collect()
    }
}

/// The config name of an action.
pub fn name_of(action: Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|a| a.action == action)
        .map_or("?", |a| a.name)
}

// ---- the assignment wizard ------------------------------------------------------------------

/// What a key does inside the Assign tab's wizard. Looked up before the normal keymap, and
/// only for the actions of the step on screen, so `a`, `d` or `r` can mean something in
/// one step without taking the key away from the rest of the console. Movement (`j/k`,
/// PgUp/PgDn, `g/G`) and `/` filter keep their normal bindings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WizardAction {
    Complete,
    Next,
    Back,
    Reload,
    ChooseSheet,
    Skip,
    RemoveTag,
    DryRun,
    Apply,
    Yes,
    No,
    ExportXlsx,
    ExportJson,
}

/// One wizard action's entry: like [`ActionInfo`], plus the steps it works in.
pub struct WizardActionInfo {
    pub action: WizardAction,
    /// The name used in `[ui.keys]` (all start with `wizard_`).
    pub name: &'static str,
    pub description: &'static str,
    pub hint: &'static str,
    pub defaults: &'static [&'static str],
    pub steps: &'static [WizardStep],
}

use super::wizard::step::WizardStep as W;
pub use super::wizard::step::WizardStep;

/// Steps where a list is on screen (movement and `/` filter apply).
const LISTS: &[W] = &[
    W::Validate,
    W::Review,
    W::Subscription,
    W::Region,
    W::Plan,
    W::Report,
];

/// The wizard's keys (design.md §5 conventions: Enter goes on, Esc/q go back).
pub const WIZARD_ACTIONS: &[WizardActionInfo] = &[
    WizardActionInfo {
        action: WizardAction::Complete,
        name: "wizard_complete",
        description: "complete the path (or tag key); shows the candidates when several fit",
        hint: "complete",
        defaults: &["tab"],
        steps: &[W::File, W::Tags],
    },
    WizardActionInfo {
        action: WizardAction::Next,
        name: "wizard_next",
        description: "continue / choose the selected line (tags: add the typed change, or continue when empty)",
        hint: "next",
        defaults: &["enter"],
        steps: &[
            W::File,
            W::Sheet,
            W::Validate,
            W::Review,
            W::Subscription,
            W::Region,
            W::Tags,
        ],
    },
    WizardActionInfo {
        action: WizardAction::Back,
        name: "wizard_back",
        description: "back one step (first step and report: back to the run list); while applying: cancel",
        hint: "back",
        defaults: &["esc", "q"],
        steps: &[
            W::File,
            W::Loading,
            W::Sheet,
            W::Validate,
            W::Review,
            W::Subscription,
            W::Region,
            W::Tags,
            W::Plan,
            W::Applying,
            W::Report,
        ],
    },
    WizardActionInfo {
        action: WizardAction::Reload,
        name: "wizard_reload",
        description: "read the file again (after fixing it in the spreadsheet)",
        hint: "reload",
        defaults: &["r"],
        steps: &[W::Validate, W::Review],
    },
    WizardActionInfo {
        action: WizardAction::ChooseSheet,
        name: "wizard_sheet",
        description: "read another sheet of the workbook",
        hint: "sheet",
        defaults: &["t"],
        steps: &[W::Validate, W::Review],
    },
    WizardActionInfo {
        action: WizardAction::Skip,
        name: "wizard_skip",
        description: "leave as is: change nothing for this choice",
        hint: "leave as is",
        defaults: &["-"],
        steps: &[W::Subscription, W::Region],
    },
    WizardActionInfo {
        action: WizardAction::RemoveTag,
        name: "wizard_remove_tag",
        description: "drop the selected tag change",
        hint: "drop change",
        defaults: &["delete"],
        steps: &[W::Tags],
    },
    WizardActionInfo {
        action: WizardAction::DryRun,
        name: "wizard_dry_run",
        description: "dry run: GreenLake validates every call and changes nothing (asks first)",
        hint: "dry run",
        defaults: &["d"],
        steps: &[W::Plan],
    },
    WizardActionInfo {
        action: WizardAction::Apply,
        name: "wizard_apply",
        description: "apply the plan in GreenLake (asks first)",
        hint: "apply",
        defaults: &["a"],
        steps: &[W::Plan],
    },
    WizardActionInfo {
        action: WizardAction::Yes,
        name: "wizard_yes",
        description: "confirm the question on screen",
        hint: "yes",
        defaults: &["y"],
        steps: &[W::Confirm],
    },
    WizardActionInfo {
        action: WizardAction::No,
        name: "wizard_no",
        description: "answer no to the question on screen",
        hint: "no",
        defaults: &["n", "esc"],
        steps: &[W::Confirm],
    },
    WizardActionInfo {
        action: WizardAction::ExportXlsx,
        name: "wizard_export_xlsx",
        description: "write the report as .xlsx (path shown in a message)",
        hint: "export .xlsx",
        defaults: &["e"],
        steps: &[W::Report],
    },
    WizardActionInfo {
        action: WizardAction::ExportJson,
        name: "wizard_export_json",
        description: "write the report as .json",
        hint: "export .json",
        defaults: &["E"],
        steps: &[W::Report],
    },
];

/// The wizard's live bindings (defaults plus `[ui.keys] wizard_*` overrides).
#[derive(Debug, Clone, Default)]
pub struct WizardKeys {
    keys: BTreeMap<WizardAction, Vec<Key>>,
}

impl WizardKeys {
    /// Defaults, then overrides; a key given to two actions of the same step is reported
    /// and kept by the first one in table order.
    pub fn new(overrides: &BTreeMap<String, String>, warnings: &mut Vec<String>) -> WizardKeys {
        let mut keys: BTreeMap<WizardAction, Vec<Key>> = BTreeMap::new();
        for a in WIZARD_ACTIONS {
            let mut ks: Vec<Key> = a
                .defaults
                .iter()
                .filter_map(|k| Key::parse(k).ok())
                .collect();
            if let Some(v) = overrides.get(a.name) {
                ks.clear();
                for part in v.split_whitespace() {
                    match Key::parse(part) {
                        Ok(k) => ks.push(k),
                        Err(e) => warnings.push(format!("[ui.keys] {}: {e}", a.name)),
                    }
                }
            }
            keys.insert(a.action, ks);
        }
        for (i, a) in WIZARD_ACTIONS.iter().enumerate() {
            for b in &WIZARD_ACTIONS[i + 1..] {
                if !a.steps.iter().any(|s| b.steps.contains(s)) {
                    continue;
                }
                let taken: Vec<Key> = keys.get(&a.action).cloned().unwrap_or_default();
                if let Some(kb) = keys.get_mut(&b.action) {
                    kb.retain(|k| {
                        let clash = taken.contains(k);
                        if clash {
                            warnings.push(format!(
                                "[ui.keys] {k} is bound to both {} and {}; {} keeps it",
                                a.name, b.name, a.name
                            ));
                        }
                        !clash
                    });
                }
            }
        }
        WizardKeys { keys }
    }

    /// The action a key does in `step`, if any.
    pub fn action(&self, step: WizardStep, ev: &KeyEvent) -> Option<WizardAction> {
        let key = Key::from_event(ev)?;
        WIZARD_ACTIONS
            .iter()
            .filter(|a| a.steps.contains(&step))
            .find(|a| self.keys(a.action).contains(&key))
            .map(|a| a.action)
    }

    /// The keys bound to a wizard action (empty when unbound).
    pub fn keys(&self, action: WizardAction) -> &[Key] {
        self.keys.get(&action).map(Vec::as_slice).unwrap_or(&[])
    }

    /// "Esc/q" — what hints and help print for an action.
    pub fn label(&self, action: WizardAction) -> String {
        self.keys(action)
            .iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Footer hints for `step`: `(key, label)` in table order.
    pub fn hints(&self, step: WizardStep) -> Vec<(String, &'static str)> {
        WIZARD_ACTIONS
            .iter()
            .filter(|a| a.steps.contains(&step))
            .filter_map(|a| {
                // Esc means something else at the ends of the wizard: say what.
                let hint = match (a.action, step) {
                    (WizardAction::Back, WizardStep::File) => "close",
                    (WizardAction::Back, WizardStep::Applying) => "cancel",
                    (WizardAction::Back, WizardStep::Report) => "run list",
                    _ => a.hint,
                };
                Some((self.keys(a.action).first()?.to_string(), hint))
            })
            .collect()
    }

    /// Help lines: `(key label, description)` for every bound wizard action.
    pub fn help_entries(&self) -> Vec<(String, &'static str)> {
        WIZARD_ACTIONS
            .iter()
            .filter(|a| !self.keys(a.action).is_empty())
            .map(|a| (self.label(a.action), a.description))
            .collect()
    }
}

/// Is `step` one where a list is on screen (movement keys and `/` filter apply)?
pub fn wizard_step_has_list(step: WizardStep) -> bool {
    LISTS.contains(&step)
}
