//! Reading a spreadsheet into normalised rows.
//!
//! `calamine` reads .xlsx/.xlsm/.xls/.xlsb/.ods, `csv` reads .csv/.tsv (delimiter, BOM and
//! UTF-16 detected). Both end up as the same grid of strings, so header detection,
//! normalisation and validation do not care where a row came from.

//!
//! The parts: `format` tells which reader a file needs, `workbook` (with `ods` for the
//! merges calamine does not read) and `delimited` fill a `grid`, `rows` finds the header in
//! it and turns its rows into [`InputRow`]s, and `sheet` holds the result.

mod delimited;
mod error;
mod format;
mod grid;
mod ods;
mod row;
mod rows;
mod sheet;
mod workbook;

use std::path::Path;

pub use error::LoadError;
pub use grid::cell_text;
pub use row::{InputRow, TAG_REMOVE, TENANT_POOL};
pub use sheet::{LoadOptions, Sheet};

use crate::assign::validate::MAX_FILE_BYTES;
use delimited::csv_grid;
use format::{Kind, sniff};
use rows::parse_grid;
use workbook::workbook;

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
