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
        (
            Keymap {
                by_key,
                by_action,
                read_only,
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
        ACTIONS
            .iter()
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
