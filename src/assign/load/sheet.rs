//! What loading a sheet asks for and gives back.

use super::row::InputRow;
use crate::assign::header::HeaderMap;
use crate::assign::validate::{Issue, rows_with_errors};

/// Which sheet to read; `None` picks the first sheet with a recognised header.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    pub sheet: Option<String>,
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
        let bad = rows_with_errors(&self.issues);
        self.rows.iter().filter(|r| !bad.contains(&r.row)).collect()
    }

    pub fn has_errors(&self) -> bool {
        self.issues.iter().any(Issue::is_error)
    }
}
