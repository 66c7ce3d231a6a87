//! A key with its modifiers: read from a terminal event, parsed from `[ui.keys]`, printed
//! the way help and hints show it. The names themselves are data in `defaults.rs`.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use super::code::KeyCodeOrd;
use super::defaults::{ALT, CTRL, NAMED_KEYS};

/// A key with its modifiers, comparable and printable the way help shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
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
            let long = rest.chars().count() > 2;
            if long && CTRL.1.iter().any(|p| lower.starts_with(p)) {
                ctrl = true;
            } else if long && ALT.1.iter().any(|p| lower.starts_with(p)) {
                alt = true;
            } else {
                break;
            }
            rest = &rest[rest.find('-').map_or(0, |i| i + 1)..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
            _ => named(rest).ok_or_else(|| {
                format!("{s:?} is not a key (examples: q, G, ctrl-d, F5, enter, space)")
            })?,
        };
        Ok(Key { code, ctrl, alt })
    }

    /// A character that types itself on a line being edited (no Ctrl: Alt-characters are
    /// typed too, as the lines always did).
    pub fn types_text(&self) -> bool {
        matches!(self.code, KeyCodeOrd::Char(_)) && !self.ctrl
    }
}

/// A key by its `[ui.keys]` name (`enter`, `pgup`, `f5`).
fn named(name: &str) -> Option<KeyCodeOrd> {
    let lower = name.to_ascii_lowercase();
    if let Some((code, _, _)) = NAMED_KEYS
        .iter()
        .find(|(_, _, names)| names.contains(&lower.as_str()))
    {
        return Some(*code);
    }
    let n: u8 = lower.strip_prefix('f')?.parse().ok()?;
    (1..=24).contains(&n).then_some(KeyCodeOrd::F(n))
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str(CTRL.0)?;
        }
        if self.alt {
            f.write_str(ALT.0)?;
        }
        if let Some((_, shown, _)) = NAMED_KEYS.iter().find(|(c, _, _)| *c == self.code) {
            return f.write_str(shown);
        }
        match self.code {
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            // Every other code has a row in NAMED_KEYS; print its debug name rather than fail.
            other => write!(f, "{other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        for (s, shown) in [
            ("q", "q"),
            ("G", "G"),
            ("ctrl-d", "Ctrl-d"),
            ("C-D", "Ctrl-d"),
            ("alt-x", "Alt-x"),
            ("F5", "F5"),
            ("enter", "Enter"),
            ("Return", "Enter"),
            ("space", "Space"),
            ("pgup", "PgUp"),
            ("shift-tab", "Shift-Tab"),
            ("-", "-"),
        ] {
            assert_eq!(
                Key::parse(s).map(|k| k.to_string()),
                Ok(shown.into()),
                "{s}"
            );
        }
        for bad in ["hyper-q", "f25", "f0", "ctrl-nonsense", ""] {
            assert!(Key::parse(bad).is_err(), "{bad}");
        }
    }
}
