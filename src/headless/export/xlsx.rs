//! An xlsx workbook of one sheet in rust_xlsxwriter's constant-memory mode: each row goes to
//! a temporary file as soon as the next one starts, so a sheet of 100 000 rows costs what
//! one row does. Rows must therefore come in order, which they do.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    Number(f64),
    Empty,
}

/// Widest column Excel is asked for, in characters: wider cells wrap nothing, they are cut
/// off on screen only.
const MAX_WIDTH: usize = 60;

pub struct XlsxWriter {
    book: Workbook,
    columns: u16,
    /// The next row to write (row 0 is the header).
    next_row: u32,
    widths: Vec<usize>,
}

fn err(e: XlsxError) -> String {
    e.to_string()
}

impl XlsxWriter {
    /// A workbook with one sheet named `sheet` and a bold header row.
    pub fn new(sheet: &str, headers: &[&str]) -> Result<XlsxWriter, String> {
        let mut book = Workbook::new();
        let ws = book.add_worksheet_with_constant_memory().map_err(err)?;
        ws.set_name(sheet).map_err(err)?;
        let bold = Format::new().set_bold();
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)
                .map_err(err)?;
        }
        Ok(XlsxWriter {
            book,
            columns: headers.len() as u16,
            next_row: 1,
            widths: headers.iter().map(|h| h.chars().count()).collect(),
        })
    }

    pub fn row(&mut self, cells: &[Cell<'_>]) -> Result<(), String> {
        let row = self.next_row;
        let ws = self.book.worksheet_from_index(0).map_err(err)?;
        for (c, cell) in cells.iter().enumerate() {
            let col = c as u16;
            let width = match cell {
                Cell::Text(s) => {
                    ws.write_string(row, col, *s).map_err(err)?;
                    s.chars().count()
                }
                Cell::Owned(s) => {
                    ws.write_string(row, col, s).map_err(err)?;
                    s.chars().count()
                }
                Cell::Number(n) => {
                    ws.write_number(row, col, *n).map_err(err)?;
                    n.to_string().len()
                }
                Cell::Empty => 0,
            };
            if let Some(w) = self.widths.get_mut(c) {
                *w = (*w).max(width);
            }
        }
        self.next_row += 1;
        Ok(())
    }

    /// Filter and frozen header, column widths, then write the file; returns the number of
    /// data rows.
    pub fn save(mut self, path: &Path) -> Result<u64, String> {
        let last = self.next_row - 1;
        let columns = self.columns;
        let widths = std::mem::take(&mut self.widths);
        let ws = self.book.worksheet_from_index(0).map_err(err)?;
        if columns > 0 {
            ws.autofilter(0, 0, last, columns - 1).map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
        for (c, w) in widths.iter().enumerate() {
            let w = (*w).clamp(4, MAX_WIDTH) + 2;
            ws.set_column_width(c as u16, w as f64).map_err(err)?;
        }
        self.book.save(path).map_err(err)?;
        Ok(u64::from(last))
    }
}
