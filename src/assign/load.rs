//! Reading a spreadsheet into normalised rows.
//!
//! `calamine` reads .xlsx/.xlsm/.xls/.xlsb/.ods, `csv` reads .csv/.tsv (delimiter, BOM and
//! UTF-16 detected). Both end up as the same grid of strings, so header detection,
//! normalisation and validation do not care where a row came from.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::Path;

use calamine::{
    Data, Dimensions, Ods, Range, Reader, Sheets, Xls, Xlsb, Xlsx, open_workbook_from_rs,
};

use super::header::{self, Field, HeaderMap};
use super::normalize::{
    Category, clean, column_letter, normalize_mac, normalize_region, normalize_serial,
};
use super::sheet_limits::{
    self, MAX_CELL_CHARS, MAX_COLUMNS, MAX_SHEET_ROWS, READ_ROWS, Refusal, check_declared_rows,
};
use super::validate::{Issue, IssueKind, MAX_FILE_BYTES, MAX_ROWS, validate_rows};

/// Written in a `tag:<key>` cell, removes that tag from the device (an empty cell leaves
/// the tag alone, because GLP allows empty tag values and an empty cell cannot say which).
pub const TAG_REMOVE: &str = "<remove>";

/// Which sheet to read; `None` picks the first sheet with a recognised header.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub sheet: Option<String>,
}

/// A data row after normalisation. Raw texts are kept where validation must quote them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputRow {
    /// Row number as the spreadsheet shows it (1-based, header counted).
    pub row: u32,
    /// Trimmed, upper-cased; empty when the cell is empty.
    pub serial: String,
    /// The MAC cell as written (`None` when empty).
    pub mac_raw: Option<String>,
    /// `AA:BB:CC:DD:EE:FF`, or `None` when empty or not a MAC (see `mac_raw`).
    pub mac: Option<String>,
    /// Upper-cased subscription key.
    pub subscription_key: Option<String>,
    /// Region code (`us-west`).
    pub region: Option<String>,
    /// Application id or name, as written (trimmed).
    pub application: Option<String>,
    /// Upper-cased part number (needed to add COMPUTE/STORAGE devices).
    pub part_number: Option<String>,
    pub device_type_raw: Option<String>,
    pub category: Option<Category>,
    /// `tag:<key>` cells: `Some(value)` sets, `None` removes ([`TAG_REMOVE`]); empty cells
    /// are absent.
    pub tags: BTreeMap<String, Option<String>>,
}

/// A loaded sheet: its rows and every problem found in it.
#[derive(Clone, Debug)]
pub struct Sheet {
    /// File name (no directories) for messages and the audit trail.
    pub file: String,
    pub sheet: String,
    /// All sheets of the workbook, so the wizard can offer another one.
    pub sheet_names: Vec<String>,
    pub header: HeaderMap,
    pub rows: Vec<InputRow>,
    pub issues: Vec<Issue>,
}

impl Sheet {
    /// Rows with no error: what "continue with the valid rows" uses.
    pub fn valid_rows(&self) -> Vec<&InputRow> {
        let bad = super::validate::rows_with_errors(&self.issues);
        self.rows.iter().filter(|r| !bad.contains(&r.row)).collect()
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }
}

/// Why a file could not be read at all (problems inside readable rows are [`Issue`]s).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {file}: {source}. Check the path and that you may read the file")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{file} is {size} bytes; the limit is 10 MB. Delete unused sheets or columns, or split the devices over several files"
    )]
    TooLarge { file: String, size: u64 },
    #[error("{file} is empty; add a header row with \"Serial Number\" and one device per row")]
    Empty { file: String },
    #[error("{file}: cannot tell the file type; save it as .xlsx, .xls, .ods or .csv")]
    UnknownFormat { file: String },
    #[error(
        "{file} is not a readable {kind} file ({reason}); open it in your spreadsheet program and save it again"
    )]
    Unreadable {
        file: String,
        kind: &'static str,
        reason: String,
    },
    #[error("{file} has no sheet named \"{sheet}\"; its sheets are: {}", available.join(", "))]
    SheetNotFound {
        file: String,
        sheet: String,
        available: Vec<String>,
    },
    #[error("{file}{}: no header row with a serial-number column in the first 20 rows. Add a header cell \"Serial Number\" (also accepted: Serial, SN, S/N, Serial No.) above the serials", sheet.as_ref().map(|s| format!(", sheet \"{s}\"")).unwrap_or_default())]
    NoHeader { file: String, sheet: Option<String> },
    #[error(
        "{file}, sheet \"{sheet}\": the header is on row {header_row} but no device rows follow it; add one serial per row below the header"
    )]
    NoRows {
        file: String,
        sheet: String,
        header_row: u32,
    },
    /// A workbook whose size, declared or unpacked, is not that of a device sheet: refused
    /// before its cells are read (see [`sheet_limits`]).
    #[error("{file}{} is not read: {reason}", sheet.as_ref().map(|s| format!(", sheet \"{s}\"")).unwrap_or_default())]
    Refused {
        file: String,
        sheet: Option<String>,
        reason: Refusal,
    },
}

/// A cell that could not be taken as written. Its text is cleaned (NULs dropped, cut to
/// [`MAX_CELL_CHARS`]) so nothing of it reaches the database, and once the header says
/// what the column means it becomes an error of its row.
#[derive(Clone, Copy, Debug, PartialEq)]
enum CellFault {
    /// NUL characters: a UTF-16 file read as 8-bit text, or binary data.
    Nul,
    /// Longer than Excel allows; holds the length in characters.
    TooLong(usize),
    /// A number that is not an exact integer (a long serial typed as a number loses its last
    /// digits; 1.5 is no serial).
    Inexact(f64),
}

#[derive(Clone, Copy, Debug)]
struct Fault {
    /// Spreadsheet row number (1-based).
    row: u32,
    col: u32,
    fault: CellFault,
}

/// The cell grid of one sheet: texts, the spreadsheet row number of each grid row, merged
/// regions in grid coordinates.
struct Grid {
    rows: Vec<Vec<String>>,
    row_numbers: Vec<u32>,
    merges: Vec<Dimensions>,
    faults: Vec<Fault>,
}

/// Builds a [`Grid`] from cells as a reader yields them. Grid row 0 is the first sheet row
/// with content and blank rows in between are kept (empty), like calamine's ranges; at
/// most [`READ_ROWS`] rows with content and [`MAX_SHEET_ROWS`] rows in all are kept, so a
/// sheet of millions of rows costs no more memory than one at the row limit.
#[derive(Default)]
struct GridBuilder {
    rows: Vec<Vec<String>>,
    row_numbers: Vec<u32>,
    faults: Vec<Fault>,
    /// Rows holding at least one non-blank cell.
    content_rows: usize,
}

impl GridBuilder {
    /// Add one cell (0-based sheet row and column). `false` once the grid is full and this
    /// cell would need another row: stop reading.
    fn cell(&mut self, row: u32, col: u32, d: &Data) -> bool {
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
    fn row(&mut self, number: u32, cells: Vec<String>) -> bool {
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
    fn finish(self, merges: Vec<Dimensions>) -> Grid {
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

/// Read a spreadsheet file (the format follows the extension; unknown extensions are
/// sniffed). Refuses files over [`MAX_FILE_BYTES`] before reading them.
pub fn load_path(path: &Path, opts: &LoadOptions) -> Result<Sheet, LoadError> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let io = |source| LoadError::Io {
        file: file.clone(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge { file, size });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    load_bytes(&file, bytes, opts)
}

/// Read a spreadsheet held in memory; `file` names it in messages and picks the format.
pub fn load_bytes(file: &str, bytes: Vec<u8>, opts: &LoadOptions) -> Result<Sheet, LoadError> {
    let size = bytes.len() as u64;
    if size > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            file: file.into(),
            size,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(LoadError::Empty { file: file.into() });
    }
    let ext = Path::new(file)
        .extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let kind = match ext.as_str() {
        "csv" | "txt" => Kind::Csv(None),
        "tsv" | "tab" => Kind::Csv(Some(b'\t')),
        "xlsx" | "xlsm" => Kind::Xlsx,
        "xls" => Kind::Xls,
        "xlsb" => Kind::Xlsb,
        "ods" => Kind::Ods,
        _ => sniff(&bytes).ok_or_else(|| LoadError::UnknownFormat { file: file.into() })?,
    };
    match kind {
        Kind::Csv(delim) => {
            let grid = csv_grid(file, &bytes, delim)?;
            let name = Path::new(file)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| file.to_string());
            if let Some(want) = &opts.sheet
                && want != &name
            {
                return Err(LoadError::SheetNotFound {
                    file: file.into(),
                    sheet: want.clone(),
                    available: vec![name],
                });
            }
            parse_grid(file, &name, vec![name.clone()], grid)?.ok_or_else(|| LoadError::NoHeader {
                file: file.into(),
                sheet: None,
            })
        }
        _ => workbook(file, bytes, kind, opts),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Csv(Option<u8>),
    Xlsx,
    Xls,
    Xlsb,
    Ods,
}

fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") {
        // Both OOXML and ODF are zip files; ODF names its mimetype first, uncompressed.
        let head = &bytes[..bytes.len().min(100)];
        let is_ods = head.windows(8).any(|w| w == b"mimetype");
        return Some(if is_ods { Kind::Ods } else { Kind::Xlsx });
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Some(Kind::Xls);
    }
    let text = decode_text(bytes);
    if text.contains('\n') || text.contains(',') || text.contains(';') || text.contains('\t') {
        return Some(Kind::Csv(None));
    }
    None
}

#[allow(
    clippy::too_many_lines,
    reason = "134 lines; listed in issue 13's note to split next"
)]
fn workbook(
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
    let refused = |sheet: Option<&str>, reason: Refusal| LoadError::Refused {
        file: file.into(),
        sheet: sheet.map(str::to_string),
        reason,
    };
    // Before calamine unpacks anything: the archive's own sizes, then (for .xlsx, whose
    // XML calamine holds an event at a time) each worksheet's longest text and row count.
    if matches!(kind, Kind::Xlsx | Kind::Xlsb | Kind::Ods) {
        sheet_limits::check_archive(&bytes).map_err(|r| refused(None, r))?;
    }
    if matches!(kind, Kind::Xlsx) {
        sheet_limits::scan_xlsx_sheets(&bytes).map_err(|r| refused(None, r))?;
    }
    let cursor = Cursor::new(bytes);
    let unreadable = |kind: &'static str, e: String| LoadError::Unreadable {
        file: file.into(),
        kind,
        reason: e,
    };
    let (mut wb, kind_name): (Sheets<Cursor<Vec<u8>>>, &'static str) = match kind {
        Kind::Xlsx => (
            Sheets::Xlsx(
                open_workbook_from_rs::<Xlsx<_>, _>(cursor)
                    .map_err(|e| unreadable("Excel (.xlsx)", e.to_string()))?,
            ),
            "Excel (.xlsx)",
        ),
        Kind::Xls => (
            Sheets::Xls(
                open_workbook_from_rs::<Xls<_>, _>(cursor)
                    .map_err(|e| unreadable("Excel 97-2003 (.xls)", e.to_string()))?,
            ),
            "Excel 97-2003 (.xls)",
        ),
        Kind::Xlsb => (
            Sheets::Xlsb(
                open_workbook_from_rs::<Xlsb<_>, _>(cursor)
                    .map_err(|e| unreadable("Excel binary (.xlsb)", e.to_string()))?,
            ),
            "Excel binary (.xlsb)",
        ),
        Kind::Ods => (
            Sheets::Ods(
                open_workbook_from_rs::<Ods<_>, _>(cursor)
                    .map_err(|e| unreadable("OpenDocument (.ods)", e.to_string()))?,
            ),
            "OpenDocument (.ods)",
        ),
        Kind::Csv(_) => return Err(LoadError::UnknownFormat { file: file.into() }),
    };
    let names = wb.sheet_names();
    let candidates: Vec<String> = match &opts.sheet {
        Some(want) => {
            let found = names
                .iter()
                .find(|n| *n == want)
                .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(want)));
            match found {
                Some(n) => vec![n.clone()],
                None => {
                    return Err(LoadError::SheetNotFound {
                        file: file.into(),
                        sheet: want.clone(),
                        available: names,
                    });
                }
            }
        }
        None => names.clone(),
    };
    for name in &candidates {
        let bad_sheet = |e: String| unreadable(kind_name, format!("sheet \"{name}\": {e}"));
        let declared = |d: Dimensions| {
            check_declared_rows(d.start.0, d.end.0).map_err(|r| refused(Some(name), r))
        };
        // .xlsx and .xlsb are streamed cell by cell; .xls and .ods are read whole by
        // calamine (see `sheet_limits` for what bounds them).
        let grid = match &mut wb {
            Sheets::Xlsx(x) => {
                let merges = x.merge_cells_by_sheet_name(name).unwrap_or_default();
                let mut cells = x
                    .worksheet_cells_reader(name)
                    .map_err(|e| bad_sheet(e.to_string()))?;
                declared(cells.dimensions())?;
                let mut b = GridBuilder::default();
                while let Some(c) = cells.next_cell().map_err(|e| bad_sheet(e.to_string()))? {
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
                    .map_err(|e| bad_sheet(e.to_string()))?;
                declared(cells.dimensions())?;
                let mut b = GridBuilder::default();
                while let Some(c) = cells.next_cell().map_err(|e| bad_sheet(e.to_string()))? {
                    let (r, col) = c.get_position();
                    if !b.cell(r, col, &Data::from(c.get_value().clone())) {
                        break;
                    }
                }
                b.finish(Vec::new())
            }
            other => {
                let range = other
                    .worksheet_range(name)
                    .map_err(|e| bad_sheet(e.to_string()))?;
                if let (Some(start), Some(end)) = (range.start(), range.end()) {
                    sheet_limits::check_spanned_rows(start.0, end.0)
                        .map_err(|r| refused(Some(name), r))?;
                }
                let merges = match other {
                    Sheets::Xls(x) => x.merge_cells_by_sheet_name(name).unwrap_or_default(),
                    Sheets::Ods(_) => ods_merges.get(name).cloned().unwrap_or_default(),
                    _ => Vec::new(),
                };
                range_grid(&range, merges)
            }
        };
        if let Some(sheet) = parse_grid(file, name, names.clone(), grid)? {
            return Ok(sheet);
        }
    }
    Err(LoadError::NoHeader {
        file: file.into(),
        sheet: opts.sheet.clone(),
    })
}

/// Merged regions of every sheet of an OpenDocument spreadsheet, by sheet name, in sheet
/// coordinates (0-based, like calamine's ranges and .xlsx merges).
///
/// calamine reads .ods values but not merges, and without them a two-row header with merged
/// cells is taken for a one-row header plus a data row, and a value merged over several rows
/// fills only the first. The spans (`table:number-columns-spanned`/`-rows-spanned`) are read
/// from `content.xml`, counting `table:number-rows-repeated` and
/// `table:number-columns-repeated` so positions match calamine's.
fn ods_merges(bytes: &[u8]) -> Result<HashMap<String, Vec<Dimensions>>, String> {
    use quick_xml::events::{BytesStart, Event};

    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut xml = String::new();
    archive
        .by_name("content.xml")
        .map_err(|e| e.to_string())?
        .read_to_string(&mut xml)
        .map_err(|e| e.to_string())?;
    // A count attribute (repeats, spans): at least 1.
    let count = |e: &BytesStart, name: &str| -> u32 {
        e.try_get_attribute(name)
            .ok()
            .flatten()
            .and_then(|a| a.value.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .max(1)
    };
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = HashMap::new();
    let mut sheet: Option<(String, Vec<Dimensions>)> = None;
    // Tables nested in cells (possible in ODF, not sheets of their own) are skipped.
    let mut depth = 0u32;
    let (mut row, mut col, mut rows_repeated) = (0u32, 0u32, 1u32);
    loop {
        let (e, empty) = match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(e) => {
                match e.name().0 {
                    "table:table" => {
                        if depth == 1
                            && let Some((name, merges)) = sheet.take()
                        {
                            out.insert(name, merges);
                        }
                        depth = depth.saturating_sub(1);
                    }
                    "table:table-row" if depth == 1 => row = row.saturating_add(rows_repeated),
                    _ => {}
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        match e.name().0 {
            "table:table" if !empty => {
                depth += 1;
                if depth == 1 {
                    let name = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    sheet = Some((name, Vec::new()));
                    row = 0;
                }
            }
            "table:table-row" if depth == 1 => {
                col = 0;
                rows_repeated = count(&e, "table:number-rows-repeated");
                if empty {
                    row = row.saturating_add(rows_repeated);
                }
            }
            name @ ("table:table-cell" | "table:covered-table-cell") if depth == 1 => {
                if name == "table:table-cell" {
                    let across = count(&e, "table:number-columns-spanned");
                    let down = count(&e, "table:number-rows-spanned");
                    if (across > 1 || down > 1)
                        && let Some((_, merges)) = sheet.as_mut()
                    {
                        merges.push(Dimensions {
                            start: (row, col),
                            end: (row.saturating_add(down - 1), col.saturating_add(across - 1)),
                        });
                    }
                }
                col = col.saturating_add(count(&e, "table:number-columns-repeated"));
            }
            _ => {}
        }
    }
    Ok(out)
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

fn range_grid(range: &Range<Data>, merges: Vec<Dimensions>) -> Grid {
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut b = GridBuilder::default();
    for (r, c, d) in range.used_cells() {
        if !b.cell(r0 + r as u32, c0 + c as u32, d) {
            break;
        }
    }
    b.finish(merges)
}

/// UTF-16 without a BOM (some exports write none), told by its NULs: text that is mostly
/// ASCII has a NUL in every other byte — the high byte of each unit. `Some(true)` for
/// little-endian. Plain 8-bit text has no NULs at all, so a third of the units is plenty.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let units = sample.len() / 2;
    if units < 2 {
        return None;
    }
    let nul_at = |first: usize| {
        sample
            .iter()
            .skip(first)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    if odd * 3 >= units && even * 20 < units {
        Some(true)
    } else if even * 3 >= units && odd * 20 < units {
        Some(false)
    } else {
        None
    }
}

/// Bytes to text: UTF-8 (BOM allowed), UTF-16 with a BOM (Excel's "Unicode text") or
/// without one (told by its NULs), or Windows-1252/Latin-1 (Excel's default "CSV") as the
/// last resort — serials and MACs are ASCII either way.
fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    let utf16 = |rest: &[u8], le: bool| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    if let Some(le) = utf16_without_bom(bytes) {
        return utf16(bytes, le);
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// Pick the delimiter that splits the most lines (`;` from European Excel, `,`, tab):
/// counting lines rather than characters keeps decimal commas in data from winning.
fn sniff_delimiter(text: &str) -> u8 {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    let mut best = (b',', 0usize, 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut lines_with = 0;
        let mut total = 0;
        for l in &lines {
            let mut in_quotes = false;
            let mut n = 0;
            for c in l.bytes() {
                if c == b'"' {
                    in_quotes = !in_quotes;
                } else if c == d && !in_quotes {
                    n += 1;
                }
            }
            if n > 0 {
                lines_with += 1;
                total += n;
            }
        }
        if (lines_with, total) > (best.1, best.2) {
            best = (d, lines_with, total);
        }
    }
    best.0
}

fn csv_grid(file: &str, bytes: &[u8], delim: Option<u8>) -> Result<Grid, LoadError> {
    let text = decode_text(bytes);
    let delim = delim.unwrap_or_else(|| sniff_delimiter(&text));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut grid = GridBuilder::default();
    // Line numbers: the reader's own positions lag behind skipped blank lines and CRLF, so
    // count newlines up to the first character of each record ourselves.
    let raw = text.as_bytes();
    let (mut scanned, mut newlines) = (0usize, 0u32);
    for rec in reader.records() {
        let rec = rec.map_err(|e| LoadError::Unreadable {
            file: file.into(),
            kind: "CSV",
            reason: e.to_string(),
        })?;
        let mut start = rec
            .position()
            .map(|p| p.byte() as usize)
            .unwrap_or(scanned)
            .max(scanned);
        while start < raw.len() && matches!(raw[start], b'\r' | b'\n') {
            start += 1;
        }
        newlines += raw[scanned..start].iter().filter(|&&b| b == b'\n').count() as u32;
        scanned = start;
        let line = newlines + 1;
        if !grid.row(line, rec.iter().map(str::to_string).collect()) {
            break;
        }
    }
    Ok(grid.finish(Vec::new()))
}

fn opt(s: &str) -> Option<String> {
    let c = clean(s);
    (!c.is_empty()).then(|| c.to_string())
}

/// Header detection, merged-cell filling, normalisation and the file-level validation of
/// one grid. `Ok(None)` when the grid has no header (the caller tries the next sheet).
fn parse_grid(
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
    // A merged cell below the header (e.g. one region written once for several rows)
    // means the same value on every row it spans.
    for m in &merges {
        if (m.start.0 as usize) <= header.last_row {
            continue;
        }
        let (r, c) = (m.start.0 as usize, m.start.1 as usize);
        let Some(value) = grid.rows.get(r).and_then(|row| row.get(c)).cloned() else {
            continue;
        };
        for rr in r..=(m.end.0 as usize).min(grid.rows.len().saturating_sub(1)) {
            let row = &mut grid.rows[rr];
            if row.len() <= m.end.1 as usize {
                row.resize(m.end.1 as usize + 1, String::new());
            }
            for cell in row.iter_mut().take(m.end.1 as usize + 1).skip(c) {
                *cell = value.clone();
            }
        }
    }
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
        let mut row = InputRow {
            row: grid.row_numbers[i],
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
                Field::SubscriptionKey => {
                    row.subscription_key = opt(text).map(|s| s.to_uppercase())
                }
                Field::Region => row.region = opt(text).map(|s| normalize_region(&s)),
                Field::Application => row.application = opt(text),
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
        rows.push(row);
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
    let kept: std::collections::HashSet<u32> = rows.iter().map(|r| r.row).collect();
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
    fn delimiters() {
        assert_eq!(sniff_delimiter("a;b;c\n1;2,5;3\n"), b';');
        assert_eq!(sniff_delimiter("a,b\n1,2\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c\n1,2\n"), b',');
    }

    #[test]
    fn text_decoding() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFabc"), "abc");
        assert_eq!(decode_text(&[0xFF, 0xFE, b'a', 0, b'b', 0]), "ab");
        assert_eq!(decode_text(b"caf\xE9"), "café");
        let le: Vec<u8> = "Serial\nSN1\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode_text(&le), "Serial\nSN1\n");
        let be: Vec<u8> = "Serial\nSN1\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        assert_eq!(decode_text(&be), "Serial\nSN1\n");
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
