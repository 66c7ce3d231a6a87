//! Why a file cannot be read at all.

use crate::assign::sheet_limits::Refusal;

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
    /// before its cells are read (see [`sheet_limits`](crate::assign::sheet_limits)).
    #[error("{file}{} is not read: {reason}", sheet.as_ref().map(|s| format!(", sheet \"{s}\"")).unwrap_or_default())]
    Refused {
        file: String,
        sheet: Option<String>,
        reason: Refusal,
    },
}
