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

/// The characters the screen may send. A terminal whose locale is not UTF-8 shows each byte of
/// `…` or `│` as garbage (and a wrong width breaks the layout), so it gets ASCII stand-ins.
/// The views draw in Unicode; the output swaps the glyphs cell by cell as it writes them
/// (`tui::output`), so no view needs to know and every text — data included — is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Glyphs {
    Unicode,
    Ascii,
}

impl Glyphs {
    /// From this process's locale.
    pub fn from_env() -> Glyphs {
        Glyphs::from_locale(|k| std::env::var(k).ok())
    }

    /// As the C library picks the character set: the first non-empty of `LC_ALL`,
    /// `LC_CTYPE`, `LANG`; none, `C` or `POSIX` is ASCII; otherwise UTF-8 only when the
    /// codeset says so (`en_US.UTF-8`, `C.utf8`; plain `en_US` is Latin-1).
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Glyphs {
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .find_map(|k| var(k).filter(|v| !v.is_empty()));
        let utf8 = locale.is_some_and(|l| {
            let codeset = l.split_once('.').map_or("", |(_, c)| c);
            let codeset = codeset.split('@').next().unwrap_or("");
            codeset.replace('-', "").eq_ignore_ascii_case("utf8")
        });
        if utf8 { Glyphs::Unicode } else { Glyphs::Ascii }
    }
}

/// The ASCII stand-in for one cell's symbol, as many cells wide: `…` → `.`, box lines → `|`
/// `-` `+`, arrows and sort marks → `^ v < >`, status lights → `*` `o` `x` `!`, bars → `#`;
/// anything else → `?` per cell.
pub fn ascii_symbol(s: &str) -> String {
    if s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::new();
    for ch in s.chars() {
        if ch.is_ascii() {
            out.push(ch);
            continue;
        }
        let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if w == 0 {
            continue;
        }
        let c = match ch {
            '…' | '·' | '•' | '∙' => '.',
            '—' | '–' | '‐' | '─' | '━' | '┄' | '┈' | '╌' | '⎯' => '-',
            '│' | '┃' | '┆' | '┊' | '╎' | '║' | '▏' | '▕' => '|',
            '═' => '=',
            '┌' | '┐' | '└' | '┘' | '├' | '┤' | '┬' | '┴' | '┼' | '╭' | '╮' | '╰' | '╯' | '╔'
            | '╗' | '╚' | '╝' | '╠' | '╣' | '╦' | '╩' | '╬' | '┏' | '┓' | '┗' | '┛' => {
                '+'
            }
            '▲' | '△' | '↑' | '⇧' | '▴' => '^',
            '▼' | '▽' | '↓' | '⇩' | '▾' => 'v',
            '→' | '⇒' | '›' | '»' | '⟩' | '▶' | '▸' | '❯' => '>',
            '←' | '⇐' | '‹' | '«' | '⟨' | '◀' | '◂' | '❮' => '<',
            '●' | '◉' | '★' | '✱' => '*',
            '○' | '◐' | '◑' | '◯' => 'o',
            '✓' | '✔' => '+',
            '✖' | '✗' | '✘' | '×' => 'x',
            '⚠' | '❗' => '!',
            '⟳' | '↻' | '⟲' => '~',
            '⏸' => '=',
            '⊘' | '∅' => '0',
            'ℹ' => 'i',
            '≤' => '<',
            '≥' => '>',
            '“' | '”' | '„' => '"',
            '‘' | '’' | '‚' => '\'',
            '▁' => '_',
            '▂' => '.',
            '▃' => '-',
            '▄' => '=',
            '▅' => '+',
            '▆' => '*',
            '▇' => '%',
            '█' | '▉' | '▊' | '▋' | '▌' | '▍' | '▎' | '▐' | '■' => '#',
            '░' | '▒' | '▓' => '#',
            _ => '?',
        };
        out.push(c);
        for _ in 1..w {
            out.push(c);
        }
    }
    out
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
