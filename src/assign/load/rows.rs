//! From a grid to device rows: the header found, merged cells filled in, each row's cells
//! normalised by what their column means, and the sheet's problems listed.

use std::collections::HashSet;

use calamine::Dimensions;

use super::error::LoadError;
use super::grid::{CellFault, Fault, Grid};
use super::row::{InputRow, TAG_REMOVE};
use super::sheet::Sheet;
use crate::assign::header::{self, Field, HeaderMap};
use crate::assign::normalize::{
    Category, clean, column_letter, normalize_mac, normalize_region, normalize_serial,
};
use crate::assign::sheet_limits::MAX_CELL_CHARS;
use crate::assign::validate::{Issue, IssueKind, MAX_ROWS, validate_rows};

fn opt(s: &str) -> Option<String> {
    let c = clean(s);
    (!c.is_empty()).then(|| c.to_string())
}

/// Header detection, merged-cell filling, normalisation and the file-level validation of
/// one grid. `Ok(None)` when the grid has no header (the caller tries the next sheet).
pub(super) fn parse_grid(
    file: &str,
    sheet: &str,
    sheet_names: Vec<String>,
    mut grid: Grid,
) -> Result<Option<Sheet>, LoadError> {
    let merges = grid.merges.clone();
    let header_end = |i: usize| {
        merges
            .iter()
            .filter(|m| m.start.0 as usize == i)
            .map(|m| m.end.0 as usize)
            .max()
            .unwrap_or(i)
    };
    let Some(header) = header::detect(&grid.rows, header_end) else {
        return Ok(None);
    };
    fill_merged_cells(&mut grid.rows, &merges, header.last_row);
    let mut rows = Vec::new();
    let mut truncated = false;
    for (i, cells) in grid.rows.iter().enumerate().skip(header.last_row + 1) {
        if cells.iter().all(|c| clean(c).is_empty()) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            truncated = true;
            break;
        }
        rows.push(input_row(grid.row_numbers[i], cells, &header));
    }
    if rows.is_empty() {
        return Err(LoadError::NoRows {
            file: file.into(),
            sheet: sheet.into(),
            header_row: grid.row_numbers[header.first_row],
        });
    }
    let mut issues = validate_rows(sheet, &header, &rows, truncated);
    issues.extend(fault_issues(file, sheet, &header, &rows, &grid.faults));
    Ok(Some(Sheet {
        file: file.into(),
        sheet: sheet.into(),
        sheet_names,
        header,
        rows,
        issues,
    }))
}

/// A merged cell below the header (e.g. one region written once for several rows) means
/// the same value on every row it spans.
fn fill_merged_cells(rows: &mut [Vec<String>], merges: &[Dimensions], header_last_row: usize) {
    for m in merges {
        if (m.start.0 as usize) <= header_last_row {
            continue;
        }
        let (r, c) = (m.start.0 as usize, m.start.1 as usize);
        let Some(value) = rows.get(r).and_then(|row| row.get(c)).cloned() else {
            continue;
        };
        for rr in r..=(m.end.0 as usize).min(rows.len().saturating_sub(1)) {
            let row = &mut rows[rr];
            if row.len() <= m.end.1 as usize {
                row.resize(m.end.1 as usize + 1, String::new());
            }
            for cell in row.iter_mut().take(m.end.1 as usize + 1).skip(c) {
                *cell = value.clone();
            }
        }
    }
}

/// One device row: each cell the header names, normalised by what its column means.
fn input_row(number: u32, cells: &[String], header: &HeaderMap) -> InputRow {
    let mut row = InputRow {
        row: number,
        ..InputRow::default()
    };
    for col in &header.columns {
        let text = cells
            .get(col.index as usize)
            .map(String::as_str)
            .unwrap_or("");
        match &col.field {
            Field::Serial => row.serial = normalize_serial(text),
            Field::Mac => {
                row.mac_raw = opt(text);
                row.mac = row.mac_raw.as_deref().and_then(normalize_mac);
            }
            Field::SubscriptionKey => row.subscription_key = opt(text).map(|s| s.to_uppercase()),
            Field::Region => row.region = opt(text).map(|s| normalize_region(&s)),
            Field::Application => row.application = opt(text),
            Field::Tenant => row.tenant = opt(text),
            Field::PartNumber => row.part_number = opt(text).map(|s| s.to_uppercase()),
            Field::DeviceType => {
                row.device_type_raw = opt(text);
                row.category = row.device_type_raw.as_deref().and_then(Category::parse);
            }
            Field::Tag(k) => {
                let v = clean(text);
                if v.eq_ignore_ascii_case(TAG_REMOVE) {
                    row.tags.insert(k.clone(), None);
                } else if !v.is_empty() {
                    row.tags.insert(k.clone(), Some(v.to_string()));
                }
            }
        }
    }
    row
}

/// Fields whose cells are identifiers: a number there must be an exact integer.
fn is_identifier(f: &Field) -> bool {
    matches!(
        f,
        Field::Serial
            | Field::Mac
            | Field::SubscriptionKey
            | Field::PartNumber
            | Field::Application
    )
}

/// The faults of cells in device rows and in columns the header names, as row errors.
/// Cells of ignored columns were cleaned and are never sent, so they need no word.
fn fault_issues(
    file: &str,
    sheet: &str,
    header: &HeaderMap,
    rows: &[InputRow],
    faults: &[Fault],
) -> Vec<Issue> {
    let kept: HashSet<u32> = rows.iter().map(|r| r.row).collect();
    let mut out = Vec::new();
    for f in faults {
        if !kept.contains(&f.row) {
            continue;
        }
        let Some(column) = header.columns.iter().find(|c| c.index == f.col) else {
            continue;
        };
        let cell = format!("{}{}", column_letter(f.col), f.row);
        let (kind, message) = match f.fault {
            CellFault::Nul => (
                IssueKind::NulInCell,
                format!(
                    "{file}: cell {cell} holds NUL characters (0x00), which cannot be stored;                      the file is probably UTF-16 or binary — save it again as \"CSV UTF-8\" or .xlsx"
                ),
            ),
            CellFault::TooLong(n) => (
                IssueKind::CellTooLong,
                format!(
                    "{file}: cell {cell} has {n} characters; a cell holds at most \
                     {MAX_CELL_CHARS} (Excel's limit) — shorten it"
                ),
            ),
            CellFault::Inexact(v) if is_identifier(&column.field) => (
                IssueKind::InexactNumber,
                format!(
                    "{file}: cell {cell} holds the number {v}, which a spreadsheet cannot store \
                     exactly (an integer of more than 15 digits, or a fraction), so it is not the \
                     value that was typed; format the column as text and type the value again"
                ),
            ),
            CellFault::Inexact(_) => continue,
        };
        out.push(Issue::error(
            kind,
            sheet,
            Some(f.row),
            Some(column.describe()),
            message,
        ));
    }
    out
}
