//! The virtual table: only the rows in the window are touched; cells are the precomputed
//! strings, cut to the column width in terminal cells. Filter matches are highlighted by
//! re-matching just the visible rows.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthChar;

use crate::tui::filter::{Highlighter, SEP};
use crate::tui::keys::{Action, Keymap};
use crate::tui::model::table::{Mark, TableModel};
use crate::tui::theme::Theme;

/// Draw `model` into `area` (header + rows). `focused` shows the selection; `keys` names
/// the keys in what an empty table says; `syncing` (the sync's progress) is what an empty
/// inventory table says while a sync that will fill it runs.
#[allow(
    clippy::too_many_arguments,
    reason = "one draw call, each argument a different input"
)]
pub fn draw_table(
    buf: &mut Buffer,
    area: Rect,
    model: &TableModel,
    theme: &Theme,
    keys: &Keymap,
    focused: bool,
    matcher: &mut nucleo_matcher::Matcher,
    syncing: Option<&str>,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let vis = model.visible_columns();
    let layout = column_layout(model, &vis, area.width);
    let right = area.x + area.width;
    draw_header(buf, area, model, theme, &vis, &layout);
    let body = Rect {
        y: area.y + 1,
        height: area.height - 1,
        ..area
    };
    if model.is_empty() {
        let msg = if !model.loaded {
            "loading…".to_string()
        } else if let Some(e) = model.filter_error() {
            format!("{e} ({} clears the filter)", keys.say(Action::Back))
        } else if model.filter_active() {
            format!(
                "no rows match the filter ({} clears it)",
                keys.say(Action::Back)
            )
        } else if let Some(progress) = syncing {
            format!("no rows yet — syncing: {progress}; the rows appear when it lands")
        } else {
            model.empty_text.clone().unwrap_or_else(|| {
                format!(
                    "no rows yet — {}, or check the database connection",
                    keys.press(Action::Sync, "sync")
                )
            })
        };
        put(
            buf,
            body.x + 1,
            body.y,
            &msg,
            body.width.saturating_sub(1),
            theme.dim,
        );
        return;
    }
    let range = model.window(body.height as usize);
    let query = Highlighter::new(&model.filter, &model.columns);
    for (line, pos) in range.enumerate() {
        let y = body.y + line as u16;
        let Some(row) = model.row_at(pos) else { break };
        let selected = focused && pos == model.selected_index();
        let mut style = match row.mark {
            Mark::Normal => theme.base,
            Mark::Dim => theme.dim,
            Mark::Warn => theme.warn,
            Mark::Error => theme.error,
        };
        if selected {
            style = style.patch(theme.selected);
            buf.set_style(
                Rect {
                    x: body.x,
                    y,
                    width: body.width,
                    height: 1,
                },
                style,
            );
        }
        // Highlights: char positions in the joined line → per cell.
        let hl = if query.is_empty() {
            Vec::new()
        } else {
            query.indices(row, &vis, matcher)
        };
        let mut line_pos: u32 = 0;
        let sep = SEP.chars().count() as u32;
        for (n, c) in vis.iter().enumerate() {
            if n > 0 {
                line_pos += sep;
            }
            let cell = row.cell(*c);
            if let Some((dx, w)) = layout.place[n] {
                let x = body.x + dx;
                let avail = w.min(right - x);
                if hl.is_empty() {
                    if row.widths.get(*c).copied().unwrap_or(0) <= avail {
                        buf.set_stringn(x, y, cell, avail as usize, style);
                    } else {
                        put(buf, x, y, cell, avail, style);
                    }
                } else {
                    put_highlighted(
                        buf,
                        x,
                        y,
                        cell,
                        avail,
                        style,
                        style.patch(theme.matched),
                        &hl,
                        line_pos,
                    );
                }
            }
            line_pos += cell.chars().count() as u32;
        }
    }
}

/// Where the visible columns go across `width` cells.
pub struct ColumnLayout {
    /// Per visible column: its x offset and width, `None` when scrolled off.
    pub place: Vec<Option<(u16, u16)>>,
    /// Columns scrolled off to the left and those that do not fit on the right.
    pub hidden_left: usize,
    pub hidden_right: usize,
}

/// Lay the columns out: when they all fit, the spare width goes to the columns whose
/// values are cut (at 200 columns the rows used to stop at ~160 with values cut); when
/// they do not, the first column stays and the others scroll by the table's `hscroll`
/// (clamped here so the last column can always be reached, never scrolled past).
pub fn column_layout(model: &TableModel, vis: &[usize], width: u16) -> ColumnLayout {
    let mut widths: Vec<u16> = vis.iter().map(|c| model.width(*c)).collect();
    let total = |ws: &[u16]| -> u32 { ws.iter().map(|w| u32::from(*w) + 1).sum::<u32>() };
    let width32 = u32::from(width);
    if total(&widths) <= width32 + 1 {
        model.clamp_hscroll(0);
        let spare = (width32 + 1 - total(&widths)) as u16;
        spread(model, vis, &mut widths, spare);
        let mut x = 0u16;
        let place = widths
            .iter()
            .map(|w| {
                let p = (x, *w);
                x = x.saturating_add(w + 1);
                Some(p)
            })
            .collect();
        return ColumnLayout {
            place,
            hidden_left: 0,
            hidden_right: 0,
        };
    }
    // The most columns after the first that may scroll off: until the rest fits.
    let mut max_skip = 0;
    while max_skip + 2 < widths.len()
        && u32::from(widths[0]) + 1 + total(&widths[max_skip + 1..]) > width32 + 1
    {
        max_skip += 1;
    }
    model.clamp_hscroll(max_skip);
    let skip = model.hscroll();
    let mut place = vec![None; widths.len()];
    let mut x = 0u16;
    let mut hidden_right = 0;
    for (n, w) in widths.iter().enumerate() {
        if n > 0 && n <= skip {
            continue;
        }
        if x >= width {
            hidden_right += 1;
            continue;
        }
        place[n] = Some((x, *w));
        if u32::from(x) + u32::from(*w) > width32 && skip < max_skip {
            // Cut at the edge, and scrolling would show it whole: not (fully) shown.
            hidden_right += 1;
        }
        x = x.saturating_add(w + 1);
    }
    ColumnLayout {
        place,
        hidden_left: skip,
        hidden_right,
    }
}

/// Give `spare` cells to the columns whose widest value is cut, a cell at a time in turn
/// so each gets a fair share, none beyond its widest value.
fn spread(model: &TableModel, vis: &[usize], widths: &mut [u16], mut spare: u16) {
    loop {
        let mut gave = false;
        for (n, c) in vis.iter().enumerate() {
            if spare == 0 {
                return;
            }
            if widths[n] < model.natural_width(*c) {
                widths[n] += 1;
                spare -= 1;
                gave = true;
            }
        }
        if !gave {
            return;
        }
    }
}

/// The header with the sort indicator (text, not colour) and, when columns are scrolled
/// off, `◀`/`▶` marks saying so on the side they went.
fn draw_header(
    buf: &mut Buffer,
    area: Rect,
    model: &TableModel,
    theme: &Theme,
    vis: &[usize],
    layout: &ColumnLayout,
) {
    let right = area.x + area.width;
    for (n, c) in vis.iter().enumerate() {
        let Some((dx, w)) = layout.place[n] else {
            continue;
        };
        let x = area.x + dx;
        let mut name = model.columns[*c].name.to_string();
        if let Some((sc, desc)) = model.sort
            && sc == *c
        {
            name.push(if desc { '▼' } else { '▲' });
        }
        put(buf, x, area.y, &name, w.min(right - x), theme.header);
        if n == 0 && layout.hidden_left > 0 {
            let mark = format!("◀{}", layout.hidden_left);
            let mw = mark.chars().count() as u16;
            put(
                buf,
                x + w.saturating_sub(mw),
                area.y,
                &mark,
                mw,
                theme.accent,
            );
        }
    }
    if layout.hidden_right > 0 && area.width > 4 {
        let mark = format!("{}▶", layout.hidden_right);
        let mw = mark.chars().count() as u16;
        put(buf, right - mw, area.y, &mark, mw, theme.accent);
    }
}

/// Write `s` cut to `width` cells, with `…` when cut.
pub fn put(buf: &mut Buffer, x: u16, y: u16, s: &str, width: u16, style: Style) {
    if width == 0 {
        return;
    }
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= width as usize {
        buf.set_stringn(x, y, s, width as usize, style);
        return;
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let cw = ch.width().unwrap_or(0);
        if used + cw > width as usize - 1 {
            break;
        }
        used += cw;
        out.push(ch);
    }
    out.push('…');
    buf.set_stringn(x, y, &out, width as usize, style);
}

#[allow(clippy::too_many_arguments)]
fn put_highlighted(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    s: &str,
    width: u16,
    style: Style,
    hl_style: Style,
    hl: &[u32],
    start: u32,
) {
    let mut cx = x;
    let end = x + width;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    let cut = total > width as usize;
    for (i, ch) in s.chars().enumerate() {
        let cw = ch.width().unwrap_or(0) as u16;
        if cx + cw > end || (cut && cx + cw >= end) {
            if cut && cx < end {
                buf.set_stringn(cx, y, "…", 1, style);
            }
            return;
        }
        let st = if hl.binary_search(&(start + i as u32)).is_ok() {
            hl_style
        } else {
            style
        };
        let mut tmp = [0u8; 4];
        buf.set_stringn(cx, y, ch.encode_utf8(&mut tmp), cw.max(1) as usize, st);
        cx += cw;
    }
}
