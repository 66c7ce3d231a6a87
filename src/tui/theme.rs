//! Colour roles. The default uses the 16 ANSI colours on the terminal's own background, so it
//! looks right in any terminal over SSH; `mono` (or `NO_COLOR`) drops colour entirely. Meaning
//! never rests on colour alone: every role also has a modifier, a glyph or text.

use std::collections::BTreeMap;

use ratatui::style::{Color, Modifier, Style};

/// Styles by role. Built once at start from the config.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub base: Style,
    pub header: Style,
    pub selected: Style,
    pub dim: Style,
    pub accent: Style,
    pub ok: Style,
    pub warn: Style,
    pub error: Style,
    /// Fuzzy-filter matches inside cells.
    pub matched: Style,
    pub tab_active: Style,
    pub bar: Style,
}

/// The roles `[ui.colors]` may override.
pub const ROLES: &[&str] = &[
    "base",
    "header",
    "selected",
    "dim",
    "accent",
    "ok",
    "warn",
    "error",
    "matched",
    "tab_active",
    "bar",
];

impl Theme {
    /// The 16-colour default.
    pub fn default_theme() -> Theme {
        Theme {
            base: Style::default(),
            header: Style::default().add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            dim: Style::default().add_modifier(Modifier::DIM),
            accent: Style::default().fg(Color::Cyan),
            ok: Style::default().fg(Color::Green),
            warn: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD),
            error: Style::default().fg(Color::Red).add_modifier(Modifier::BOLD),
            matched: Style::default()
                .fg(Color::Yellow)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            tab_active: Style::default()
                .fg(Color::Cyan)
                .add_modifier(Modifier::BOLD | Modifier::REVERSED),
            bar: Style::default().fg(Color::Cyan),
        }
    }

    /// No colour at all: modifiers only.
    pub fn mono() -> Theme {
        Theme {
            base: Style::default(),
            header: Style::default().add_modifier(Modifier::BOLD),
            selected: Style::default().add_modifier(Modifier::REVERSED),
            dim: Style::default().add_modifier(Modifier::DIM),
            accent: Style::default().add_modifier(Modifier::BOLD),
            ok: Style::default(),
            warn: Style::default().add_modifier(Modifier::BOLD),
            error: Style::default().add_modifier(Modifier::BOLD),
            matched: Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            tab_active: Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            bar: Style::default(),
        }
    }

    /// The theme the config asks for. `no_color` (the `NO_COLOR` convention) wins over both
    /// the theme name and colour overrides. Returns warnings for unknown roles or colours.
    pub fn from_config(
        name: &str,
        colors: &BTreeMap<String, String>,
        no_color: bool,
    ) -> (Theme, Vec<String>) {
        if no_color || name == "mono" {
            return (Theme::mono(), Vec::new());
        }
        let mut t = Theme::default_theme();
        let mut warnings = Vec::new();
        for (role, value) in colors {
            let Some(color) = parse_color(value) else {
                warnings.push(format!(
                    "[ui.colors] {role} = {value:?}: not a colour (use a name like \"cyan\", \
                     \"bright-red\", an index 0-255 or \"#rrggbb\"); kept the default"
                ));
                continue;
            };
            let slot = match role.as_str() {
                "base" => &mut t.base,
                "header" => &mut t.header,
                "selected" => &mut t.selected,
                "dim" => &mut t.dim,
                "accent" => &mut t.accent,
                "ok" => &mut t.ok,
                "warn" => &mut t.warn,
                "error" => &mut t.error,
                "matched" => &mut t.matched,
                "tab_active" => &mut t.tab_active,
                "bar" => &mut t.bar,
                _ => {
                    warnings.push(format!(
                        "[ui.colors] {role}: unknown role (known: {})",
                        ROLES.join(", ")
                    ));
                    continue;
                }
            };
            *slot = slot.fg(color);
        }
        (t, warnings)
    }
}

/// Is `NO_COLOR` set to a non-empty value (<https://no-color.org>)?
pub fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

fn parse_color(s: &str) -> Option<Color> {
    let s = s.trim().to_ascii_lowercase().replace(['_', ' '], "-");
    if let Ok(i) = s.parse::<u8>() {
        return Some(Color::Indexed(i));
    }
    if let Some(hex) = s.strip_prefix('#')
        && hex.len() == 6
        && let Ok(v) = u32::from_str_radix(hex, 16)
    {
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    Some(match s.as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" | "white" => Color::Gray,
        "dark-gray" | "dark-grey" | "bright-black" => Color::DarkGray,
        "bright-red" | "light-red" => Color::LightRed,
        "bright-green" | "light-green" => Color::LightGreen,
        "bright-yellow" | "light-yellow" => Color::LightYellow,
        "bright-blue" | "light-blue" => Color::LightBlue,
        "bright-magenta" | "light-magenta" => Color::LightMagenta,
        "bright-cyan" | "light-cyan" => Color::LightCyan,
        "bright-white" => Color::White,
        _ => return None,
    })
}
