//! What a frame costs on the wire. Over a slow SSH link every byte is latency, so the
//! terminal is sent only what changes on it:
//!
//! * a frame that changes nothing visible writes nothing (ratatui's own backend writes a
//!   colour reset and a cursor hide every frame, ~41 bytes a second at idle);
//! * a table that moves by a few rows is moved by the terminal itself with a scroll region
//!   ([`scroll`]), and only the rows that really changed follow;
//! * the cursor is shown, hidden or moved only when that changes;
//! * each frame goes out in one write inside a synchronized update, so a slow link never
//!   shows half a frame;
//! * when the locale is not UTF-8 every glyph goes out as ASCII ([`Glyphs::Ascii`]), so a
//!   `LC_ALL=C` terminal never gets a byte it would show as garbage.
//!
//! [`LinkBackend`] does this behind ratatui's `Backend` trait: it rebuilds ratatui's frame
//! from the diffs ratatui sends, keeps a shadow of what the terminal shows, and at `flush`
//! compares the two itself. ratatui's diff alone cannot do it: after a terminal-side scroll
//! ratatui's previous buffer no longer matches the screen.

pub mod scroll;

use std::io::{self, Write};

use crossterm::cursor::{Hide, MoveTo, Show};
use crossterm::queue;
use crossterm::terminal::{BeginSynchronizedUpdate, Clear, EndSynchronizedUpdate};
use ratatui::backend::{Backend, ClearType, CrosstermBackend, WindowSize};
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect, Size};
use unicode_width::UnicodeWidthStr;

use super::theme::{Glyphs, ascii_symbol};

/// Where the screen size comes from.
#[derive(Debug, Clone, Copy)]
enum SizeFrom {
    Terminal,
    /// Tests and benchmarks: a screen of this size, written to any `Write`.
    Fixed(Size),
}

/// A ratatui backend that writes only what changes on screen (see the module docs).
pub struct LinkBackend<W: Write> {
    out: W,
    size: SizeFrom,
    glyphs: Glyphs,
    /// ratatui's frame, as the diffs it sends build it.
    frame: Buffer,
    /// What the terminal shows.
    shown: Buffer,
    /// The frame's bytes so far; written at `flush`, or not at all when empty.
    pending: Vec<u8>,
    /// Cursor as the terminal has it (`None`: not known, send it).
    cursor_shown: Option<bool>,
    cursor_at: Option<Position>,
    /// Cursor as ratatui asks for it.
    want_shown: bool,
    want_at: Position,
    written: u64,
}

impl<W: Write> LinkBackend<W> {
    /// The real terminal: its size is asked for on every frame. The first frame starts with
    /// a clear, since not every terminal blanks the alternate screen it enters.
    pub fn new(out: W, glyphs: Glyphs) -> io::Result<LinkBackend<W>> {
        let (w, h) = crossterm::terminal::size()?;
        let mut b = LinkBackend::build(out, SizeFrom::Terminal, Size::new(w, h), glyphs);
        queue!(b.pending, Clear(crossterm::terminal::ClearType::All))?;
        Ok(b)
    }

    /// A screen of `width`×`height` written to `out` (tests, benchmarks).
    pub fn fixed(out: W, width: u16, height: u16, glyphs: Glyphs) -> LinkBackend<W> {
        let size = Size::new(width, height);
        LinkBackend::build(out, SizeFrom::Fixed(size), size, glyphs)
    }

    fn build(out: W, from: SizeFrom, size: Size, glyphs: Glyphs) -> LinkBackend<W> {
        let area = Rect::from((Position::ORIGIN, size));
        LinkBackend {
            out,
            size: from,
            glyphs,
            frame: Buffer::empty(area),
            shown: Buffer::empty(area),
            pending: Vec::new(),
            cursor_shown: None,
            cursor_at: None,
            want_shown: false,
            want_at: Position::ORIGIN,
            written: 0,
        }
    }

    /// A fixed screen changes size (tests of a resize).
    pub fn set_size(&mut self, width: u16, height: u16) {
        self.size = SizeFrom::Fixed(Size::new(width, height));
    }

    /// Bytes written to the terminal so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// What the terminal shows, as far as this backend knows.
    pub fn shown(&self) -> &Buffer {
        &self.shown
    }

    pub fn writer(&self) -> &W {
        &self.out
    }

    pub fn writer_mut(&mut self) -> &mut W {
        &mut self.out
    }

    fn area(&self) -> io::Result<Rect> {
        Ok(Rect::from((Position::ORIGIN, self.size()?)))
    }

    /// Send what changed since the last frame: the scroll, the cells, the cursor.
    fn present(&mut self) -> io::Result<()> {
        if self.shown.area != self.frame.area {
            // Only a size change nobody cleared for gets here: start from a clean screen.
            self.shown = Buffer::empty(self.frame.area);
            queue!(self.pending, Clear(crossterm::terminal::ClearType::All))?;
        }
        if let Some(s) = scroll::find(&self.shown, &self.frame) {
            let mut enc = CrosstermBackend::new(&mut self.pending);
            let rows = s.top..s.bottom;
            if s.up {
                enc.scroll_region_up(rows, s.lines)?;
            } else {
                enc.scroll_region_down(rows, s.lines)?;
            }
            scroll::apply(&mut self.shown, s);
            // Setting the region moved the cursor home.
            self.cursor_at = None;
        }
        let diff = self.shown.diff(&self.frame);
        if !diff.is_empty() {
            let mut enc = CrosstermBackend::new(&mut self.pending);
            match self.glyphs {
                Glyphs::Unicode => enc.draw(diff.into_iter())?,
                Glyphs::Ascii => {
                    let cells: Vec<(u16, u16, Cell)> = diff
                        .into_iter()
                        .map(|(x, y, c)| (x, y, ascii_cell(c)))
                        .collect();
                    enc.draw(cells.iter().map(|(x, y, c)| (*x, *y, c)))?;
                }
            }
            self.cursor_at = None;
            self.shown.content.clone_from(&self.frame.content);
        }
        if self.cursor_shown != Some(self.want_shown) {
            if self.want_shown {
                queue!(self.pending, Show)?;
            } else {
                queue!(self.pending, Hide)?;
            }
            self.cursor_shown = Some(self.want_shown);
        }
        if self.want_shown && self.cursor_at != Some(self.want_at) {
            queue!(self.pending, MoveTo(self.want_at.x, self.want_at.y))?;
            self.cursor_at = Some(self.want_at);
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut bytes = Vec::with_capacity(self.pending.len() + 16);
        queue!(bytes, BeginSynchronizedUpdate)?;
        bytes.append(&mut self.pending);
        queue!(bytes, EndSynchronizedUpdate)?;
        self.out.write_all(&bytes)?;
        self.out.flush()?;
        self.written += bytes.len() as u64;
        Ok(())
    }
}

/// `c` with its symbol in ASCII, the same number of cells wide.
fn ascii_cell(c: &Cell) -> Cell {
    let mut out = c.clone();
    if !c.symbol().is_ascii() {
        out.set_symbol(&ascii_symbol(c.symbol()));
    }
    out
}

impl<W: Write> Backend for LinkBackend<W> {
    type Error = io::Error;

    fn draw<'a, I>(&mut self, content: I) -> io::Result<()>
    where
        I: Iterator<Item = (u16, u16, &'a Cell)>,
    {
        let area = self.frame.area;
        for (x, y, cell) in content {
            if !area.contains(Position::new(x, y)) {
                continue;
            }
            self.frame[(x, y)].clone_from(cell);
            // A wide symbol covers the cells after it, which ratatui leaves blank and does
            // not send; blank them here too, so the rebuilt frame is ratatui's.
            let w = cell.symbol().width() as u16;
            for cx in x.saturating_add(1)..x.saturating_add(w).min(area.right()) {
                self.frame[(cx, y)].reset();
            }
        }
        Ok(())
    }

    fn hide_cursor(&mut self) -> io::Result<()> {
        self.want_shown = false;
        Ok(())
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        self.want_shown = true;
        Ok(())
    }

    /// Where ratatui last put the cursor: asking the terminal would cost a round trip.
    fn get_cursor_position(&mut self) -> io::Result<Position> {
        Ok(self.want_at)
    }

    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> io::Result<()> {
        self.want_at = position.into();
        Ok(())
    }

    fn clear(&mut self) -> io::Result<()> {
        self.clear_region(ClearType::All)
    }

    /// Every clear is a whole-screen clear: the next frame repaints what it shows anyway,
    /// and the shadow stays exact. The cursor is sent again too (after a suspend the shell
    /// showed it).
    fn clear_region(&mut self, _clear_type: ClearType) -> io::Result<()> {
        queue!(self.pending, Clear(crossterm::terminal::ClearType::All))?;
        let area = self.area()?;
        self.frame = Buffer::empty(area);
        self.shown = Buffer::empty(area);
        self.cursor_shown = None;
        self.cursor_at = None;
        Ok(())
    }

    fn size(&self) -> io::Result<Size> {
        match self.size {
            SizeFrom::Fixed(s) => Ok(s),
            SizeFrom::Terminal => {
                let (w, h) = crossterm::terminal::size()?;
                Ok(Size::new(w, h))
            }
        }
    }

    fn window_size(&mut self) -> io::Result<WindowSize> {
        let columns_rows = self.size()?;
        let pixels = match self.size {
            SizeFrom::Terminal => crossterm::terminal::window_size()
                .map(|w| Size::new(w.width, w.height))
                .unwrap_or_default(),
            SizeFrom::Fixed(_) => Size::default(),
        };
        Ok(WindowSize {
            columns_rows,
            pixels,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        self.present()
    }

    /// The terminal moves; ratatui's frame does not, so the next `flush` repaints the
    /// region as ratatui believes it to be.
    fn scroll_region_up(&mut self, region: std::ops::Range<u16>, lines: u16) -> io::Result<()> {
        let s = self.region_scroll(region, lines, true);
        CrosstermBackend::new(&mut self.pending).scroll_region_up(s.top..s.bottom, s.lines)?;
        scroll::apply(&mut self.shown, s);
        self.cursor_at = None;
        Ok(())
    }

    fn scroll_region_down(&mut self, region: std::ops::Range<u16>, lines: u16) -> io::Result<()> {
        let s = self.region_scroll(region, lines, false);
        CrosstermBackend::new(&mut self.pending).scroll_region_down(s.top..s.bottom, s.lines)?;
        scroll::apply(&mut self.shown, s);
        self.cursor_at = None;
        Ok(())
    }
}

impl<W: Write> LinkBackend<W> {
    fn region_scroll(&self, region: std::ops::Range<u16>, lines: u16, up: bool) -> scroll::Scroll {
        let bottom = region.end.min(self.shown.area.bottom());
        let top = region.start.min(bottom);
        scroll::Scroll {
            top,
            bottom,
            lines,
            up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::Terminal;
    use ratatui::style::{Modifier, Style};

    fn rows(term: &mut Terminal<LinkBackend<Vec<u8>>>, first: usize) -> usize {
        let before = term.backend().written();
        term.draw(|f| {
            let b = f.buffer_mut();
            b.set_string(0, 0, "header", Style::default());
            for y in 1..9u16 {
                let n = first + y as usize;
                let style = if y == 8 {
                    Style::default().add_modifier(Modifier::REVERSED)
                } else {
                    Style::default()
                };
                b.set_string(0, y, format!("row {n:03} {}", "x".repeat(60)), style);
            }
            b.set_string(0, 9, "footer…", Style::default());
        })
        .unwrap();
        (term.backend().written() - before) as usize
    }

    #[test]
    fn an_unchanged_frame_writes_nothing_and_a_scroll_writes_two_rows() {
        let mut t = Terminal::new(LinkBackend::fixed(Vec::new(), 80, 10, Glyphs::Unicode)).unwrap();
        let first = rows(&mut t, 0);
        assert!(first > 8 * 60, "{first}");
        assert_eq!(rows(&mut t, 0), 0);
        let scrolled = rows(&mut t, 1);
        // The region scroll, then two rows of ~70 cells (the old selection and the new row).
        assert!(scrolled < 200, "{scrolled}");
        let text = String::from_utf8_lossy(t.backend().writer()).into_owned();
        assert!(text.contains("\x1b[2;8r\x1b[1S\x1b[r"), "{text:?}");
    }

    #[test]
    fn ascii_glyphs_keep_their_width() {
        let mut t = Terminal::new(LinkBackend::fixed(Vec::new(), 20, 10, Glyphs::Ascii)).unwrap();
        rows(&mut t, 0);
        assert!(t.backend().writer().iter().all(|b| *b < 0x80));
        assert!(String::from_utf8_lossy(t.backend().writer()).contains("footer."));
    }
}
