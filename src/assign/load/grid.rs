//! The cell grid of one sheet: every reader (workbook or CSV) fills one, at most as large
//! as the sheet limits allow, and notes the cells it could not take as written.

use calamine::{Data, Dimensions, Range};

use crate::assign::normalize::clean;
use crate::assign::sheet_limits::{MAX_CELL_CHARS, MAX_COLUMNS, MAX_SHEET_ROWS, READ_ROWS};

/// A cell that could not be taken as written. Its text is cleaned (NULs dropped, cut to
/// [`MAX_CELL_CHARS`]) so nothing of it reaches the database, and once the header says
/// what the column means it becomes an error of its row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum CellFault {
    /// NUL characters: a UTF-16 file read as 8-bit text, or binary data.
    Nul,
    /// Longer than Excel allows; holds the length in characters.
    TooLong(usize),
    /// A number that is not an exact integer (a long serial typed as a number loses its last
    /// digits; 1.5 is no serial).
    Inexact(f64),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Fault {
    /// Spreadsheet row number (1-based).
    pub(super) row: u32,
    pub(super) col: u32,
    pub(super) fault: CellFault,
}

/// The cell grid of one sheet: texts, the spreadsheet row number of each grid row, merged
/// regions in grid coordinates.
pub(super) struct Grid {
    pub(super) rows: Vec<Vec<String>>,
    pub(super) row_numbers: Vec<u32>,
    pub(super) merges: Vec<Dimensions>,
    pub(super) faults: Vec<Fault>,
}

/// Builds a [`Grid`] from cells as a reader yields them. Grid row 0 is the first sheet row
/// with content and blank rows in between are kept (empty), like calamine's ranges; at
/// most [`READ_ROWS`] rows with content and [`MAX_SHEET_ROWS`] rows in all are kept, so a
/// sheet of millions of rows costs no more memory than one at the row limit.
#[derive(Default)]
pub(super) struct GridBuilder {
    rows: Vec<Vec<String>>,
    row_numbers: Vec<u32>,
    faults: Vec<Fault>,
    /// Rows holding at least one non-blank cell.
    content_rows: usize,
}

impl GridBuilder {
    /// Add one cell (0-based sheet row and column). `false` once the grid is full and this
    /// cell would need another row: stop reading.
    pub(super) fn cell(&mut self, row: u32, col: u32, d: &Data) -> bool {
        if col >= MAX_COLUMNS {
            return true;
        }
        let inexact = inexact_number(d);
        let text = cell_text(d);
        if clean(&text).is_empty() && !text.contains('\0') {
            return true;
        }
        let number = row.saturating_add(1);
        let idx = match self.row_numbers.first().copied() {
            None => 0,
            Some(first) if number < first => {
                // A row written out of order, above the first one read.
                let gap = (first - number) as usize;
                if self.rows.len() + gap > MAX_SHEET_ROWS as usize {
                    return true;
                }
                self.rows.splice(0..0, std::iter::repeat_n(Vec::new(), gap));
                self.row_numbers.splice(0..0, number..first);
                0
            }
            Some(first) => (number - first) as usize,
        };
        if idx >= MAX_SHEET_ROWS as usize {
            return false;
        }
        if self.rows.get(idx).is_none_or(Vec::is_empty) {
            if self.content_rows >= READ_ROWS {
                return false;
            }
            self.content_rows += 1;
        }
        while self.rows.len() <= idx {
            self.row_numbers.push(
                self.row_numbers
                    .first()
                    .map_or(number, |f| f + self.rows.len() as u32),
            );
            self.rows.push(Vec::new());
        }
        if let Some(v) = inexact {
            self.faults.push(Fault {
                row: number,
                col,
                fault: CellFault::Inexact(v),
            });
        }
        let text = sanitize(text, number, col, &mut self.faults);
        let cells = &mut self.rows[idx];
        if cells.len() <= col as usize {
            cells.resize(col as usize + 1, String::new());
        }
        cells[col as usize] = text;
        true
    }

    /// Add a whole row of texts (CSV) with its line number. `false` once the grid holds
    /// [`READ_ROWS`] rows with content: stop reading.
    pub(super) fn row(&mut self, number: u32, cells: Vec<String>) -> bool {
        let content = cells
            .iter()
            .any(|c| !clean(c).is_empty() || c.contains('\0'));
        if content {
            if self.content_rows >= READ_ROWS {
                return false;
            }
            self.content_rows += 1;
        }
        let cells = cells
            .into_iter()
            .take(MAX_COLUMNS as usize)
            .enumerate()
            .map(|(c, t)| sanitize(t, number, c as u32, &mut self.faults))
            .collect();
        self.rows.push(cells);
        self.row_numbers.push(number);
        true
    }

    /// The grid, with `merges` (0-based sheet coordinates) in grid coordinates.
    pub(super) fn finish(self, merges: Vec<Dimensions>) -> Grid {
        let r0 = self.row_numbers.first().map_or(0, |n| n - 1);
        let merges = merges
            .into_iter()
            .filter(|m| m.end.0 >= r0)
            .map(|m| Dimensions {
                start: (m.start.0.saturating_sub(r0), m.start.1),
                end: (m.end.0 - r0, m.end.1),
            })
            .collect();
        Grid {
            rows: self.rows,
            row_numbers: self.row_numbers,
            merges,
            faults: self.faults,
        }
    }
}

/// Drop NULs and cut to [`MAX_CELL_CHARS`], noting either as a fault of the cell.
fn sanitize(mut text: String, row: u32, col: u32, faults: &mut Vec<Fault>) -> String {
    if text.contains('\0') {
        faults.push(Fault {
            row,
            col,
            fault: CellFault::Nul,
        });
        text.retain(|c| c != '\0');
    }
    if text.len() > MAX_CELL_CHARS {
        let chars = text.chars().count();
        if chars > MAX_CELL_CHARS {
            faults.push(Fault {
                row,
                col,
                fault: CellFault::TooLong(chars),
            });
            text = text.chars().take(MAX_CELL_CHARS).collect();
        }
    }
    text
}

/// Largest integer an f64 (a spreadsheet number) holds exactly: 2^53.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A number cell that is not an exact integer.
fn inexact_number(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) if !(f.is_finite() && f.fract() == 0.0 && f.abs() < EXACT_INTEGER_LIMIT) => {
            Some(*f)
        }
        _ => None,
    }
}

/// A cell as text. Whole numbers print without ".0": a serial typed as 12345 stays
/// "12345", never "12345.0" or "1.2345E4".
pub fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => {
            if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Data::Error(e) => e.to_string(),
        other => other.to_string(),
    }
}

pub(super) fn range_grid(range: &Range<Data>, merges: Vec<Dimensions>) -> Grid {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut b = GridBuilder::default();
    for (r, c, d) in range.used_cells() {
        if !b.cell(r0 + r as u32, c0 + c as u32, d) {
            break;
        }
    }
    b.finish(merges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_fraction() {
        assert_eq!(cell_text(&Data::Float(12345.0)), "12345");
        assert_eq!(cell_text(&Data::Int(12345)), "12345");
        assert_eq!(cell_text(&Data::Float(1.5)), "1.5");
        assert_eq!(cell_text(&Data::Empty), "");
    }

    #[test]
    fn inexact_numbers() {
        assert_eq!(
            inexact_number(&Data::Float(123456789012345678.0)),
            Some(123456789012345678.0)
        );
        assert_eq!(inexact_number(&Data::Float(1.5)), Some(1.5));
        assert_eq!(inexact_number(&Data::Float(9_007_199_254_740_991.0)), None);
        assert_eq!(inexact_number(&Data::Float(12345.0)), None);
        assert_eq!(inexact_number(&Data::String("1.5".into())), None);
    }
}
