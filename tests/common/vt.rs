//! A small terminal emulator for the bytes the console writes: cursor moves, SGR styles,
//! scroll regions and their scrolls, clears, and text. Enough to replay a session's output
//! and compare the screen it leaves with a full render of the same state (a scroll that the
//! terminal does must end where a repaint would).

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthChar;

pub struct Vt {
    pub screen: Buffer,
    x: u16,
    y: u16,
    pen: Cell,
    top: u16,
    bottom: u16,
    /// Bytes of an unfinished UTF-8 character or escape sequence.
    carry: Vec<u8>,
}

impl Vt {
    pub fn new(width: u16, height: u16) -> Vt {
        Vt {
            screen: Buffer::empty(Rect::new(0, 0, width, height)),
            x: 0,
            y: 0,
            pen: Cell::EMPTY,
            top: 0,
            bottom: height,
            carry: Vec::new(),
        }
    }

    fn w(&self) -> u16 {
        self.screen.area.width
    }
    fn h(&self) -> u16 {
        self.screen.area.height
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(bytes);
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            if b == 0x1b {
                match self.escape(&data[i..]) {
                    Some(n) => i += n,
                    None => {
                        self.carry = data[i..].to_vec();
                        return;
                    }
                }
                continue;
            }
            if b < 0x20 {
                match b {
                    b'\r' => self.x = 0,
                    b'\n' => self.line_feed(),
                    _ => {}
                }
                i += 1;
                continue;
            }
            let len = match b {
                0x00..=0x7f => 1,
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                _ => 4,
            };
            if i + len > data.len() {
                self.carry = data[i..].to_vec();
                return;
            }
            let s = std::str::from_utf8(&data[i..i + len]).unwrap();
            self.print(s.chars().next().unwrap());
            i += len;
        }
    }

    fn line_feed(&mut self) {
        if self.y + 1 == self.bottom {
            self.scroll(true, 1);
        } else if self.y + 1 < self.h() {
            self.y += 1;
        }
    }

    fn print(&mut self, ch: char) {
        let cw = ch.width().unwrap_or(0) as u16;
        if cw == 0 {
            if self.x > 0 {
                let (x, y) = (self.x - 1, self.y);
                let mut s = self.screen[(x, y)].symbol().to_string();
                s.push(ch);
                self.screen[(x, y)].set_symbol(&s);
            }
            return;
        }
        if self.x >= self.w() || self.y >= self.h() {
            return;
        }
        let mut cell = self.pen.clone();
        cell.set_char(ch);
        self.screen[(self.x, self.y)] = cell;
        for i in 1..cw {
            if self.x + i < self.w() {
                self.screen[(self.x + i, self.y)] = Cell::EMPTY;
            }
        }
        self.x += cw;
    }

    /// Rows `top..bottom` move by `n`; the uncovered rows take the pen's background.
    fn scroll(&mut self, up: bool, n: u16) {
        let w = self.w() as usize;
        let region = &mut self.screen.content[self.top as usize * w..self.bottom as usize * w];
        let moved = (n as usize * w).min(region.len());
        let mut blank = Cell::EMPTY;
        blank.bg = self.pen.bg;
        let len = region.len();
        if up {
            region.rotate_left(moved);
            region[len - moved..].fill(blank);
        } else {
            region.rotate_right(moved);
            region[..moved].fill(blank);
        }
    }

    /// One escape sequence at the start of `s`: its length, or `None` when it is cut off.
    fn escape(&mut self, s: &[u8]) -> Option<usize> {
        let b1 = *s.get(1)?;
        if b1 != b'[' {
            return Some(2);
        }
        let mut j = 2;
        while j < s.len() && !(0x40..=0x7e).contains(&s[j]) {
            j += 1;
        }
        if j >= s.len() {
            return None;
        }
        let params = std::str::from_utf8(&s[2..j]).unwrap();
        self.csi(params, s[j]);
        Some(j + 1)
    }

    fn csi(&mut self, params: &str, fin: u8) {
        if params.starts_with('?') {
            return; // modes: cursor, synchronized update, alternate screen, mouse
        }
        let nums: Vec<u16> = params
            .split(';')
            .map(|p| p.split(':').next().unwrap_or("").parse().unwrap_or(0))
            .collect();
        let arg = |i: usize, d: u16| nums.get(i).copied().filter(|v| *v != 0).unwrap_or(d);
        match fin {
            b'H' | b'f' => {
                self.y = (arg(0, 1) - 1).min(self.h() - 1);
                self.x = (arg(1, 1) - 1).min(self.w() - 1);
            }
            b'r' => {
                self.top = arg(0, 1) - 1;
                self.bottom = arg(1, self.h()).min(self.h());
                self.x = 0;
                self.y = 0;
            }
            b'S' => self.scroll(true, arg(0, 1)),
            b'T' => self.scroll(false, arg(0, 1)),
            b'J' => {
                let mut blank = Cell::EMPTY;
                blank.bg = self.pen.bg;
                self.screen.content.fill(blank);
            }
            b'm' => self.sgr(params),
            _ => {}
        }
    }

    fn sgr(&mut self, params: &str) {
        let p: Vec<u16> = params
            .split(';')
            .map(|v| v.split(':').next().unwrap_or("").parse().unwrap_or(0))
            .collect();
        let mut i = 0;
        while i < p.len() {
            let m = &mut self.pen.modifier;
            match p[i] {
                0 => self.pen = Cell::EMPTY,
                1 => m.insert(Modifier::BOLD),
                2 => m.insert(Modifier::DIM),
                3 => m.insert(Modifier::ITALIC),
                4 => m.insert(Modifier::UNDERLINED),
                5 => m.insert(Modifier::SLOW_BLINK),
                6 => m.insert(Modifier::RAPID_BLINK),
                7 => m.insert(Modifier::REVERSED),
                8 => m.insert(Modifier::HIDDEN),
                9 => m.insert(Modifier::CROSSED_OUT),
                21 | 22 => m.remove(Modifier::BOLD | Modifier::DIM),
                23 => m.remove(Modifier::ITALIC),
                24 => m.remove(Modifier::UNDERLINED),
                25 => m.remove(Modifier::SLOW_BLINK | Modifier::RAPID_BLINK),
                27 => m.remove(Modifier::REVERSED),
                28 => m.remove(Modifier::HIDDEN),
                29 => m.remove(Modifier::CROSSED_OUT),
                39 => self.pen.fg = Color::Reset,
                49 => self.pen.bg = Color::Reset,
                59 => self.pen.underline_color = Color::Reset,
                c @ (38 | 48 | 58) => {
                    let (color, used) = match p.get(i + 1) {
                        Some(5) => (indexed(p.get(i + 2).copied().unwrap_or(0)), 2),
                        Some(2) => (
                            Color::Rgb(
                                p.get(i + 2).copied().unwrap_or(0) as u8,
                                p.get(i + 3).copied().unwrap_or(0) as u8,
                                p.get(i + 4).copied().unwrap_or(0) as u8,
                            ),
                            4,
                        ),
                        _ => (Color::Reset, 0),
                    };
                    match c {
                        38 => self.pen.fg = color,
                        48 => self.pen.bg = color,
                        _ => self.pen.underline_color = color,
                    }
                    i += used;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// The colour ratatui meant by crossterm's `5;n` (named colours go out as indexes 0–15).
fn indexed(n: u16) -> Color {
    match n {
        0 => Color::Black,
        1 => Color::Red,
        2 => Color::Green,
        3 => Color::Yellow,
        4 => Color::Blue,
        5 => Color::Magenta,
        6 => Color::Cyan,
        7 => Color::Gray,
        8 => Color::DarkGray,
        9 => Color::LightRed,
        10 => Color::LightGreen,
        11 => Color::LightYellow,
        12 => Color::LightBlue,
        13 => Color::LightMagenta,
        14 => Color::LightCyan,
        15 => Color::White,
        n => Color::Indexed(n as u8),
    }
}

/// The rows of `buf` as text (for failure messages).
pub fn text(buf: &Buffer) -> String {
    let w = buf.area.width as usize;
    buf.content
        .chunks(w)
        .map(|row| row.iter().map(|c| c.symbol()).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
