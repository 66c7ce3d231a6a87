//! Panes drawn over the table: help (generated from the live keymap), the detail pane, the
//! column picker and toasts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear};

use super::table::put;
use crate::tui::app::{App, DetailStyle, HelpLine, ToastLevel};

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

/// The help, wrapped to the pane: keys in a column, their text wrapped beside it. Scrolls
/// by whole lines; the last screen is full (the scroll stops where the end shows).
pub fn draw_help(frame: &mut Frame, area: Rect, app: &App) {
    let lines = app.help_lines();
    let rect = centered(area, 80, area.height);
    let inner = boxed(frame, rect, "Help — keys from the live keymap", app);
    let width = usize::from(inner.width.saturating_sub(1)).max(1);
    let key_w = 14.min(width / 3);
    let rows_of = |l: &HelpLine| -> Vec<String> {
        if l.heading || l.key.is_empty() {
            return wrap_chars(&l.text, width);
        }
        let text_w = width.saturating_sub(key_w + 3).max(1);
        let key = if l.key.chars().count() > key_w {
            // A long key (a command's usage) takes its own line.
            vec![format!("  {}", l.key), String::new()]
        } else {
            vec![format!("  {:<key_w$}", l.key)]
        };
        let mut out: Vec<String> = key[..key.len() - 1].to_vec();
        let lead = key[key.len() - 1].clone();
        let pad = " ".repeat(key_w + 2);
        for (n, piece) in wrap_chars(&l.text, text_w).into_iter().enumerate() {
            let head = if n == 0 && !lead.is_empty() {
                &lead
            } else {
                &pad
            };
            out.push(format!("{head} {piece}"));
        }
        out
    };
    let height = inner.height as usize;
    // Where the last screen starts: the scroll never goes past it.
    let mut bottom = lines.len();
    let mut used = 0;
    while bottom > 0 {
        let n = rows_of(&lines[bottom - 1]).len();
        if used + n > height {
            break;
        }
        used += n;
        bottom -= 1;
    }
    app.set_help_page(lines.len() - bottom);
    let scroll = app.help_scroll().min(bottom);
    let word = app.help_word();
    let buf = frame.buffer_mut();
    let mut y = 0usize;
    for l in lines.iter().skip(scroll) {
        let found = !word.is_empty() && l.plain().to_lowercase().contains(word);
        let style = if l.heading {
            app.theme().header
        } else if found {
            app.theme().accent
        } else {
            app.theme().base
        };
        for piece in rows_of(l) {
            if y >= height {
                break;
            }
            put(
                buf,
                inner.x + 1,
                inner.y + y as u16,
                &piece,
                width as u16,
                style,
            );
            y += 1;
        }
    }
    if let Some(find) = app.help_find() {
        let line = format!("/{}", find.with_cursor());
        let r = Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1,
            ..inner
        };
        frame.render_widget(Clear, r);
        put(
            frame.buffer_mut(),
            r.x + 1,
            r.y,
            &line,
            width as u16,
            app.theme().accent,
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

/// Lines the toasts may take on a screen this high (the newest are shown).
pub fn toast_room(height: u16) -> u16 {
    if height >= 30 { 3 } else { 2 }
}

/// The newest toasts in `area`, their own lines (one each, newest last).
pub fn draw_toasts(frame: &mut Frame, area: Rect, app: &App) {
    let toasts = app.toasts();
    let shown = toasts.len().min(area.height as usize);
    for (y, toast) in (area.y..).zip(toasts[toasts.len() - shown..].iter()) {
        let (glyph, style) = match toast.level {
            ToastLevel::Info => ("ℹ", app.theme().accent),
            ToastLevel::Warn => ("⚠", app.theme().warn),
            ToastLevel::Error => ("✖", app.theme().error),
        };
        let text = format!(" {glyph} {} ", toast.text);
        let w = (text.chars().count() as u16).min(area.width);
        let x = area.x + area.width - w;
        frame.render_widget(
            Clear,
            Rect {
                height: 1,
                y,
                ..area
            },
        );
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
