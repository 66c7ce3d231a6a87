//! One table row: its id, mark and display cells, stored joined in one string.

use unicode_width::UnicodeWidthStr;

/// How a row should stand out. Each mark also shows as text in a cell, so the meaning never
/// rests on the style alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    #[default]
    Normal,
    /// Archived, removed, expired: de-emphasised.
    Dim,
    Warn,
    Error,
}

/// One row: the id it is anchored by and its display cells. The cells live in one string,
/// joined with the filter's separator (one allocation per row, not one per cell; and the
/// filter matches a prefix of that string in place instead of keeping a second copy of
/// 100 000 joined lines).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: Box<str>,
    /// The cells joined with [`SEP`].
    text: Box<str>,
    /// End offset of each cell in `text`.
    ends: Box<[u32]>,
    /// Width of each cell in terminal cells (unicode-width), computed once.
    pub widths: Box<[u16]>,
    pub mark: Mark,
}

/// Separator between cells in the matched line (also used to map highlights to cells).
pub const SEP: &str = "  ";

impl Row {
    pub fn new(id: impl Into<Box<str>>, cells: Vec<String>, mark: Mark) -> Row {
        Row::from_cells(id, cells.iter().map(String::as_str), mark)
    }

    /// Build a row from borrowed cells (no intermediate `String` per cell).
    pub fn from_cells<'a>(
        id: impl Into<Box<str>>,
        cells: impl IntoIterator<Item = &'a str> + Clone,
        mark: Mark,
    ) -> Row {
        let (mut len, mut n) = (0, 0);
        for c in cells.clone() {
            len += c.len();
            n += 1;
        }
        let mut text = String::with_capacity(len + SEP.len() * n.max(1));
        let mut ends = Vec::with_capacity(n);
        let mut widths = Vec::with_capacity(n);
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                text.push_str(SEP);
            }
            text.push_str(c);
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            // Printable ASCII is one cell per byte; only other text needs the width tables.
            let w = if c.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                c.len()
            } else {
                c.width()
            };
            widths.push(u16::try_from(w).unwrap_or(u16::MAX));
        }
        Row {
            id: id.into(),
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
            widths: widths.into_boxed_slice(),
            mark,
        }
    }

    pub fn cell(&self, col: usize) -> &str {
        let Some(end) = self.ends.get(col) else {
            return "";
        };
        let start = if col == 0 {
            0
        } else {
            self.ends[col - 1] as usize + SEP.len()
        };
        self.text.get(start..*end as usize).unwrap_or("")
    }

    /// The first `n` cells joined with [`SEP`], borrowed from the row.
    pub fn leading_cells(&self, n: usize) -> &str {
        match n.checked_sub(1).and_then(|i| self.ends.get(i)) {
            Some(end) => self.text.get(..*end as usize).unwrap_or(""),
            None if n == 0 => "",
            None => &self.text,
        }
    }

    /// The cells in `visible` joined with [`SEP`]: borrowed when they are the leading cells
    /// in order (the usual case: only trailing columns are hidden), built otherwise.
    pub fn joined(&self, visible: &[usize]) -> std::borrow::Cow<'_, str> {
        if visible.iter().enumerate().all(|(i, c)| i == *c) {
            return std::borrow::Cow::Borrowed(self.leading_cells(visible.len()));
        }
        let mut s = String::with_capacity(self.text.len());
        for (n, c) in visible.iter().enumerate() {
            if n > 0 {
                s.push_str(SEP);
            }
            s.push_str(self.cell(*c));
        }
        std::borrow::Cow::Owned(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_stored_joined_and_read_back() {
        let r = Row::new(
            "x",
            vec!["ab".into(), String::new(), "é".into()],
            Mark::Normal,
        );
        assert_eq!(
            (r.cell(0), r.cell(1), r.cell(2), r.cell(3)),
            ("ab", "", "é", "")
        );
        assert_eq!(&*r.widths, &[2, 0, 1]);
        assert_eq!(r.joined(&[0, 1, 2]), "ab    é");
        assert_eq!(r.joined(&[0, 1]), "ab  ");
        assert_eq!(r.joined(&[0, 2]), "ab  é");
        assert_eq!(r.joined(&[]), "");
    }
}
