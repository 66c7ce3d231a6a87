//! The Devices table with its marks: while any device is marked, a two-cell gutter left of
//! the table shows `*` on each marked row (a glyph, not a colour alone), and the info line
//! counts them.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::table::{draw_table, put};
use crate::tui::app::{App, TableId};

/// The mark glyph (ASCII: it reads in every locale).
pub const MARK: &str = "*";

/// Draw the Devices table into `area`, with the marks' gutter when some are marked.
pub fn draw_devices(buf: &mut Buffer, area: Rect, app: &App, syncing: Option<&str>) {
    let marks = app.marks();
    let gutter = if marks.is_empty() || area.width < 10 {
        0
    } else {
        2
    };
    let inner = Rect {
        x: area.x + gutter,
        width: area.width - gutter,
        ..area
    };
    let (table, theme, mut matcher) =
        app.table_for_draw(TableId::Devices, inner.height.saturating_sub(1) as usize);
    draw_table(
        buf,
        inner,
        table,
        theme,
        app.keymap(),
        true,
        &mut matcher,
        syncing,
    );
    if gutter == 0 || area.height < 2 {
        return;
    }
    // `draw_table` just placed the window: the rows drawn start at its offset.
    let first = table.offset();
    for line in 0..(area.height - 1) as usize {
        let Some(row) = table.row_at(first + line) else {
            break;
        };
        if marks.contains(&row.id) {
            let style = if first + line == table.selected_index() {
                theme.base.patch(theme.selected)
            } else {
                theme.accent
            };
            put(buf, area.x, area.y + 1 + line as u16, MARK, 1, style);
        }
    }
}

/// " · 3 marked" for the info line (empty without marks): the devices assign and export
/// act on, not ids a reload no longer has.
pub fn marked_text(app: &App) -> String {
    match app.marked_count() {
        0 => String::new(),
        n => format!(" · {n} marked"),
    }
}
