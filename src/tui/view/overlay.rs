//! Panes drawn over the table: help (generated from the live keymap), the detail pane, the
//! column picker and toasts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear};

use super::table::put;
use crate::tui::app::{App, DetailStyle, ToastLevel};
use crate::tui::keys::Action;

fn boxed(frame: &mut Frame, area: Rect, title: &str, app: &App) -> Rect {
    frame.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "))
        .border_style(app.theme().accent);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// One help line under its heading (the heading first when it changes).
fn push_entry(lines: &mut Vec<(bool, String)>, heading: &mut String, g: &str, k: &str, d: &str) {
    if heading != g {
        if !lines.is_empty() {
            lines.push((false, String::new()));
        }
        lines.push((true, g.to_string()));
        *heading = g.to_string();
    }
    lines.push((false, format!("  {k:<14} {d}")));
}

/// The help's lines, `(heading?, text)`: normal mode by group, the wizard, the modes, and
/// the fixed keys — every key from the live keymap.
fn help_lines(app: &App) -> Vec<(bool, String)> {
    let keys = app.keymap();
    let mut lines = Vec::new();
    let mut heading = String::new();
    for (g, k, d) in keys.help_entries() {
        // Read-only: the command line has no `:sync` either.
        let d = if app.read_only() {
            d.replace(":sync ", "")
        } else {
            d.to_string()
        };
        push_entry(&mut lines, &mut heading, g, &k, &d);
    }
    // Read-only never opens the wizard: its keys would be noise.
    if !app.read_only() {
        let wizard = format!(
            "Assign wizard ({} in the Assign tab)",
            keys.say(Action::AssignNew)
        );
        for (k, d) in keys.wizard.help_entries() {
            push_entry(&mut lines, &mut heading, &wizard, &k, d);
        }
    }
    for (g, k, d) in keys.modal_help_entries() {
        push_entry(&mut lines, &mut heading, g, &k, d);
    }
    for (k, d) in keys.fixed_entries() {
        push_entry(&mut lines, &mut heading, "Always", &k, d);
    }
    if app.read_only() {
        lines.push((false, String::new()));
        lines.push((
            true,
            "Read-only mode: sync, new assignments and other write actions are off".into(),
        ));
    }
    lines
}

pub fn draw_help(frame: &mut Frame, area: Rect, app: &App) {
    let lines = help_lines(app);
    let rect = centered(area, 72, area.height);
    let inner = boxed(frame, rect, "Help — keys from the live keymap", app);
    let buf = frame.buffer_mut();
    let max_scroll = lines.len().saturating_sub(inner.height as usize);
    let scroll = app.help_scroll().min(max_scroll);
    for (i, (heading, text)) in lines
        .iter()
        .skip(scroll)
        .take(inner.height as usize)
        .enumerate()
    {
        let style = if *heading {
            app.theme().header
        } else {
            app.theme().base
        };
        put(
            buf,
            inner.x + 1,
            inner.y + i as u16,
            text,
            inner.width.saturating_sub(1),
            style,
        );
    }
}

pub fn draw_detail(frame: &mut Frame, area: Rect, app: &App) {
    let Some(d) = &app.detail() else { return };
    let rect = if area.width >= 120 {
        Rect {
            x: area.x + area.width / 3,
            width: area.width - area.width / 3,
            ..area
        }
    } else {
        area
    };
    let title = if d.loading {
        format!("{} (loading…)", d.title)
    } else {
        d.title.clone()
    };
    let inner = boxed(frame, rect, &title, app);
    let buf = frame.buffer_mut();
    let width = inner.width.saturating_sub(1);
    let mut row = 0u16;
    for (style, text) in d.lines.iter().skip(d.scroll) {
        if row >= inner.height {
            break;
        }
        let st = match style {
            DetailStyle::Heading => app.theme().header,
            DetailStyle::Field | DetailStyle::Text => app.theme().base,
            DetailStyle::Json => app.theme().dim,
        };
        // Text (messages, notes) is wrapped, so its whole reason can be read; fields and
        // JSON keep one line each, aligned.
        let pieces = if *style == DetailStyle::Text {
            wrap_chars(text, usize::from(width.max(1)))
        } else {
            vec![text.clone()]
        };
        for piece in pieces {
            if row >= inner.height {
                break;
            }
            put(buf, inner.x + 1, inner.y + row, &piece, width, st);
            row += 1;
        }
    }
    if d.lines.len() > inner.height as usize {
        let pos = format!(" {}/{} ", d.scroll + 1, d.lines.len());
        let w = pos.chars().count() as u16;
        put(
            buf,
            rect.x + rect.width.saturating_sub(w + 2),
            rect.y + rect.height - 1,
            &pos,
            w,
            app.theme().dim,
        );
    }
}

pub fn draw_columns(frame: &mut Frame, area: Rect, app: &App) {
    let t = app.table();
    let h = t.columns.len() as u16 + 2;
    let rect = centered(area, 34, h);
    let inner = boxed(frame, rect, "Columns", app);
    let buf = frame.buffer_mut();
    for (i, c) in t.columns.iter().enumerate().take(inner.height as usize) {
        let mark = if c.visible { "[x]" } else { "[ ]" };
        let line = format!("{mark} {}", c.name);
        let mut style = app.theme().base;
        if i == app.columns_cursor() {
            style = style.patch(app.theme().selected);
        }
        put(
            buf,
            inner.x + 1,
            inner.y + i as u16,
            &line,
            inner.width.saturating_sub(1),
            style,
        );
    }
}

pub fn draw_toasts(frame: &mut Frame, area: Rect, app: &App) {
    for (y, toast) in (area.y + 1..).zip(app.toasts().iter()) {
        if y + 1 >= area.y + area.height {
            break;
        }
        let (glyph, style) = match toast.level {
            ToastLevel::Info => ("ℹ", app.theme().accent),
            ToastLevel::Warn => ("⚠", app.theme().warn),
            ToastLevel::Error => ("✖", app.theme().error),
        };
        let text = format!(" {glyph} {} ", toast.text);
        let max_w = (area.width * 2 / 3).max(30).min(area.width);
        let w = (text.chars().count() as u16).min(max_w);
        let x = area.x + area.width - w;
        let r = Rect {
            x,
            y,
            width: w,
            height: 1,
        };
        frame.render_widget(Clear, r);
        frame
            .buffer_mut()
            .set_style(r, style.patch(app.theme().selected));
        put(
            frame.buffer_mut(),
            x,
            y,
            &text,
            w,
            style.patch(app.theme().selected),
        );
    }
}

/// `text` in pieces of at most `width` characters, broken at the last space of each piece
/// when there is one.
fn wrap_chars(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest: Vec<char> = text.chars().collect();
    while rest.len() > width {
        let cut = rest[..width]
            .iter()
            .rposition(|c| *c == ' ')
            .filter(|p| *p > 0)
            .unwrap_or(width);
        out.push(rest[..cut].iter().collect());
        let skip = usize::from(rest.get(cut) == Some(&' '));
        rest.drain(..cut + skip);
    }
    out.push(rest.into_iter().collect());
    out
}

#[cfg(test)]
mod tests {
    use super::wrap_chars;

    #[test]
    fn wrapping_keeps_every_character_but_the_breaking_spaces() {
        let t = "tags: HTTP 400 bad tag key — PATCH http://127.0.0.1:44161/devices/v1/devices";
        for w in [1, 7, 20, 80] {
            let pieces = wrap_chars(t, w);
            assert!(pieces.iter().all(|p| p.chars().count() <= w), "{pieces:?}");
            let joined: String = pieces.concat();
            assert_eq!(joined.replace(' ', ""), t.replace(' ', ""), "width {w}");
        }
        assert_eq!(wrap_chars("ab cd", 3), vec!["ab", "cd"]);
    }
}
