//! Finding the scroll in a frame: when a band of rows of the next frame is what the terminal
//! already shows a few rows lower (or higher), the terminal can move that band itself with a
//! scroll region, and only the rows that really changed are sent. This is what makes a
//! one-line scroll of a wide table cost one row of text instead of a page.
//!
//! Rows are compared by hash, so finding the best scroll costs O(height²) comparisons of
//! numbers whatever the width. A collision can only pick a worse scroll, never a wrong screen:
//! the caller sends every cell that still differs after the scroll.

use std::hash::{DefaultHasher, Hash, Hasher};

use ratatui::buffer::{Buffer, Cell};

/// Move rows `top..bottom` of the screen by `lines`: up (content moves towards the top, blank
/// rows appear at the bottom of the region) or down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    pub top: u16,
    pub bottom: u16,
    pub lines: u16,
    pub up: bool,
}

fn row_hashes(buf: &Buffer) -> Vec<u64> {
    let w = buf.area.width as usize;
    if w == 0 {
        return Vec::new();
    }
    buf.content
        .chunks(w)
        .map(|row| {
            let mut h = DefaultHasher::new();
            row.hash(&mut h);
            h.finish()
        })
        .collect()
}

fn blank_hash(width: u16) -> u64 {
    let mut h = DefaultHasher::new();
    vec![Cell::EMPTY; width as usize].hash(&mut h);
    h.finish()
}

/// The scroll that saves the most rows from `shown` (what the terminal shows) to `next`, if
/// any saves at least one.
pub fn find(shown: &Buffer, next: &Buffer) -> Option<Scroll> {
    if shown.area != next.area || shown.area.height < 3 {
        return None;
    }
    let old = row_hashes(shown);
    let new = row_hashes(next);
    let blank = blank_hash(next.area.width);
    let h = new.len();
    let wrong = |y: usize| new[y] != old[y];
    // A row that was right and is blanked by the scroll costs a repaint, unless it is blank.
    let lost = |y: usize| !wrong(y) && new[y] != blank;
    let mut best: Option<(i64, Scroll)> = None;
    let mut consider = |gain: i64, s: Scroll| {
        if gain > 0 && best.is_none_or(|(g, _)| gain > g) {
            best = Some((gain, s));
        }
    };
    for k in 1..h {
        // Up by k: next row y is shown row y + k, for y in runs [a, b).
        let mut y = 0;
        while y + k < h {
            if new[y] != old[y + k] {
                y += 1;
                continue;
            }
            let a = y;
            while y + k < h && new[y] == old[y + k] {
                y += 1;
            }
            let b = y;
            let saved = (a..b).filter(|&r| wrong(r)).count() as i64;
            let cost = (b..b + k).filter(|&r| lost(r)).count() as i64;
            consider(
                saved - cost,
                Scroll {
                    top: (next.area.y as usize + a) as u16,
                    bottom: (next.area.y as usize + b + k) as u16,
                    lines: k as u16,
                    up: true,
                },
            );
        }
        // Down by k: next row y is shown row y - k, for y in runs [a, b).
        let mut y = k;
        while y < h {
            if new[y] != old[y - k] {
                y += 1;
                continue;
            }
            let a = y;
            while y < h && new[y] == old[y - k] {
                y += 1;
            }
            let b = y;
            let saved = (a..b).filter(|&r| wrong(r)).count() as i64;
            let cost = (a - k..a).filter(|&r| lost(r)).count() as i64;
            consider(
                saved - cost,
                Scroll {
                    top: (next.area.y as usize + a - k) as u16,
                    bottom: (next.area.y as usize + b) as u16,
                    lines: k as u16,
                    up: false,
                },
            );
        }
    }
    best.map(|(_, s)| s)
}

/// Do to `shown` what the terminal does for `s`: the rows move, the uncovered ones are blank
/// (the terminal fills them with the default colours, which is what the output left set).
pub fn apply(shown: &mut Buffer, s: Scroll) {
    let w = shown.area.width as usize;
    let top = (s.top - shown.area.y) as usize * w;
    let bottom = (s.bottom - shown.area.y) as usize * w;
    let moved = s.lines as usize * w;
    let Some(region) = shown.content.get_mut(top..bottom) else {
        return;
    };
    if moved >= region.len() {
        region.fill(Cell::EMPTY);
        return;
    }
    let len = region.len();
    if s.up {
        region.rotate_left(moved);
        region[len - moved..].fill(Cell::EMPTY);
    } else {
        region.rotate_right(moved);
        region[..moved].fill(Cell::EMPTY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;

    fn screen(rows: &[&str]) -> Buffer {
        let w = rows.iter().map(|r| r.len()).max().unwrap_or(0) as u16;
        let mut b = Buffer::empty(Rect::new(0, 0, w, rows.len() as u16));
        for (y, r) in rows.iter().enumerate() {
            b.set_string(0, y as u16, r, ratatui::style::Style::default());
        }
        b
    }

    #[test]
    fn a_table_moved_up_one_row_is_one_scroll_of_its_body() {
        let shown = screen(&["head", "r1", "r2", "r3", "r4", "foot"]);
        let next = screen(&["head", "r2", "r3", "r4", "r5", "foot"]);
        let s = find(&shown, &next).unwrap();
        assert_eq!(
            s,
            Scroll {
                top: 1,
                bottom: 5,
                lines: 1,
                up: true
            }
        );
        let mut after = shown.clone();
        apply(&mut after, s);
        assert_eq!(after, screen(&["head", "r2", "r3", "r4", "", "foot"]));
    }

    #[test]
    fn down_and_nothing_to_gain() {
        let shown = screen(&["head", "r2", "r3", "r4", "r5", "foot"]);
        let next = screen(&["head", "r1", "r2", "r3", "r4", "foot"]);
        let s = find(&shown, &next).unwrap();
        assert!(
            !s.up && s.top == 1 && s.bottom == 5 && s.lines == 1,
            "{s:?}"
        );
        let mut after = shown.clone();
        apply(&mut after, s);
        assert_eq!(after, screen(&["head", "", "r2", "r3", "r4", "foot"]));
        assert_eq!(find(&next, &next), None);
        let other = screen(&["a", "b", "c", "d", "e", "f"]);
        assert_eq!(find(&shown, &other), None);
    }
}
