//! Workbooks (.xlsx, .xlsm, .xls, .xlsb, .ods) read through calamine, each sheet checked
//! against the sheet limits before its cells are read.

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Dimensions, Ods, Reader, Sheets, Xls, Xlsb, Xlsx, open_workbook_from_rs};

use super::error::LoadError;
use super::format::Kind;
use super::grid::{Grid, GridBuilder, range_grid};
use super::ods::ods_merges;
use super::rows::parse_grid;
use super::sheet::{LoadOptions, Sheet};
use crate::assign::sheet_limits::{self, Refusal, check_declared_rows};

/// A workbook open in memory.
type Workbook = Sheets<Cursor<Vec<u8>>>;

/// Read the first sheet with a header (or the one `opts` names) of a workbook.
pub(super) fn workbook(
    file: &str,
    bytes: Vec<u8>,
    kind: Kind,
    opts: &LoadOptions,
) -> Result<Sheet, LoadError> {
    // calamine reads no merged cells from .ods; they come from content.xml (a workbook it
    // cannot read fails below with calamine's own, clearer, message).
    let ods_merges = match kind {
        Kind::Ods => ods_merges(&bytes).unwrap_or_else(|e| {
            tracing::debug!(file, "merged cells of the .ods not read: {e}");
            HashMap::new()
        }),
        _ => HashMap::new(),
    };
    check_archive(file, &bytes, kind)?;
    let (mut wb, kind_name) = open(file, bytes, kind)?;
    let names = wb.sheet_names();
    for name in &candidates(file, &names, opts)? {
        let sheet = SheetRef {
            file,
            kind_name,
            name,
        };
        let grid = sheet.grid(&mut wb, &ods_merges)?;
        if let Some(sheet) = parse_grid(file, name, names.clone(), grid)? {
            return Ok(sheet);
        }
    }
    Err(LoadError::NoHeader {
        file: file.into(),
        sheet: opts.sheet.clone(),
    })
}

fn refused(file: &str, sheet: Option<&str>, reason: Refusal) -> LoadError {
    LoadError::Refused {
        file: file.into(),
        sheet: sheet.map(str::to_string),
        reason,
    }
}

fn unreadable(file: &str, kind: &'static str, reason: String) -> LoadError {
    LoadError::Unreadable {
        file: file.into(),
        kind,
        reason,
    }
}

/// Before calamine unpacks anything: the archive's own sizes, then (for .xlsx, whose XML
/// calamine holds an event at a time) each worksheet's longest text and row count.
fn check_archive(file: &str, bytes: &[u8], kind: Kind) -> Result<(), LoadError> {
    if matches!(kind, Kind::Xlsx | Kind::Xlsb | Kind::Ods) {
        sheet_limits::check_archive(bytes).map_err(|r| refused(file, None, r))?;
    }
    if matches!(kind, Kind::Xlsx) {
        sheet_limits::scan_xlsx_sheets(bytes).map_err(|r| refused(file, None, r))?;
    }
    Ok(())
}

/// The workbook and the name of its format for messages.
fn open(file: &str, bytes: Vec<u8>, kind: Kind) -> Result<(Workbook, &'static str), LoadError> {
    let cursor = Cursor::new(bytes);
    let name = kind.name();
    let bad = |e: String| unreadable(file, name, e);
    Ok(match kind {
        Kind::Xlsx => (
            Sheets::Xlsx(
                open_workbook_from_rs::<Xlsx<_>, _>(cursor).map_err(|e| bad(e.to_string()))?,
            ),
            name,
        ),
        Kind::Xls => (
            Sheets::Xls(
                open_workbook_from_rs::<Xls<_>, _>(cursor).map_err(|e| bad(e.to_string()))?,
            ),
            name,
        ),
        Kind::Xlsb => (
            Sheets::Xlsb(
                open_workbook_from_rs::<Xlsb<_>, _>(cursor).map_err(|e| bad(e.to_string()))?,
            ),
            name,
        ),
        Kind::Ods => (
            Sheets::Ods(
                open_workbook_from_rs::<Ods<_>, _>(cursor).map_err(|e| bad(e.to_string()))?,
            ),
            name,
        ),
        Kind::Csv(_) => return Err(LoadError::UnknownFormat { file: file.into() }),
    })
}

/// The sheets to try, in order: the one asked for (exact name first, then ignoring case),
/// else all of them.
fn candidates(file: &str, names: &[String], opts: &LoadOptions) -> Result<Vec<String>, LoadError> {
    let Some(want) = &opts.sheet else {
        return Ok(names.to_vec());
    };
    let found = names
        .iter()
        .find(|n| *n == want)
        .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(want)));
    match found {
        Some(n) => Ok(vec![n.clone()]),
        None => Err(LoadError::SheetNotFound {
            file: file.into(),
            sheet: want.clone(),
            available: names.to_vec(),
        }),
    }
}

/// One sheet of a workbook, as messages name it.
struct SheetRef<'a> {
    file: &'a str,
    kind_name: &'static str,
    name: &'a str,
}

impl SheetRef<'_> {
    fn bad_sheet(&self, e: impl std::fmt::Display) -> LoadError {
        unreadable(
            self.file,
            self.kind_name,
            format!("sheet \"{}\": {e}", self.name),
        )
    }

    fn declared(&self, d: Dimensions) -> Result<(), LoadError> {
        check_declared_rows(d.start.0, d.end.0).map_err(|r| refused(self.file, Some(self.name), r))
    }

    /// The sheet's cells. .xlsx and .xlsb are streamed cell by cell; .xls and .ods are read
    /// whole by calamine (see `sheet_limits` for what bounds them).
    fn grid(
        &self,
        wb: &mut Workbook,
        ods_merges: &HashMap<String, Vec<Dimensions>>,
    ) -> Result<Grid, LoadError> {
        let name = self.name;
        Ok(match wb {
            Sheets::Xlsx(x) => {
                let merges = x.merge_cells_by_sheet_name(name).unwrap_or_default();
                let mut cells = x
                    .worksheet_cells_reader(name)
                    .map_err(|e| self.bad_sheet(e))?;
                self.declared(cells.dimensions())?;
                let mut b = GridBuilder::default();
                while let Some(c) = cells.next_cell().map_err(|e| self.bad_sheet(e))? {
                    let (r, col) = c.get_position();
                    if !b.cell(r, col, &Data::from(c.get_value().clone())) {
                        break;
                    }
                }
                b.finish(merges)
            }
            Sheets::Xlsb(x) => {
                let mut cells = x
                    .worksheet_cells_reader(name)
                    .map_err(|e| self.bad_sheet(e))?;
                self.declared(cells.dimensions())?;
                let mut b = GridBuilder::default();
                while let Some(c) = cells.next_cell().map_err(|e| self.bad_sheet(e))? {
                    let (r, col) = c.get_position();
                    if !b.cell(r, col, &Data::from(c.get_value().clone())) {
                        break;
                    }
                }
                b.finish(Vec::new())
            }
            other => {
                let range = other.worksheet_range(name).map_err(|e| self.bad_sheet(e))?;
                if let (Some(start), Some(end)) = (range.start(), range.end()) {
                    sheet_limits::check_spanned_rows(start.0, end.0)
                        .map_err(|r| refused(self.file, Some(name), r))?;
                }
                let merges = match other {
                    Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
                    Sheets::Ods(_) => ods_merges.get(name).cloned().unwrap_or_default(),
                    _ => Vec::new(),
                };
                range_grid(&range, merges)
            }
        })
    }
}
