//! Validation: every problem found in a sheet, each with sheet, row and column and a
//! sentence saying what to do, so the user can fix the file and reload — or continue with
//! the rows that are fine.
//!
//! File-level rules run here on the parsed rows; rules that need the database (MAC
//! contradicting the stored one, archived devices, unknown subscription keys or regions)
//! add their issues in [`super::matching`] and [`super::options`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use serde::Serialize;

use super::header::{Field, HeaderMap};
use super::load::InputRow;
use super::normalize::{TAGS_PER_DEVICE_MAX, serial_problem, tag_key_problem, tag_value_problem};

/// Largest file we read: GLP-Sync-2's 10 MB upload limit, kept so a sheet that works here
/// works there and nobody loads a 500 MB export by mistake.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;
/// Most data rows read from one sheet; rows after this are not read.
pub const MAX_ROWS: usize = 10_000;
/// Above this many rows the user is warned that applying will take a while (rate limits).
pub const LARGE_ROWS: usize = 1_000;

/// Does the problem block the row (error) or only inform (warning)?
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// What kind of problem; tests and the wizard match on this, people read the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    EmptySerial,
    InvalidSerial,
    DuplicateSerial,
    MalformedMac,
    MacContradicts,
    UnknownDeviceType,
    DuplicateColumn,
    BadTagKey,
    BadTagValue,
    TooManyTags,
    TooManyRows,
    LargeFile,
    UnknownSubscriptionKey,
    SubscriptionNotUsable,
    SubscriptionIncompatible,
    SubscriptionQuantity,
    /// A subscription the plan assigns ends within the expiring window (a warning).
    SubscriptionExpiring,
    /// Devices lose their current subscription to the one the plan assigns (a warning).
    SubscriptionReplaced,
    UnknownRegion,
    UnknownApplication,
    ApplicationNeedsRegion,
    Archived,
    Removed,
    AddNeedsMac,
    AddNeedsPartNumber,
    AddNeedsDeviceType,
    SubscriptionNeedsApplication,
    /// A Tenant cell naming no stored tenant of the MSP workspace.
    UnknownTenant,
    /// A cell with NUL characters (a UTF-16 or binary file read as text).
    NulInCell,
    /// A cell longer than Excel's 32 767 characters.
    CellTooLong,
    /// A number in an identifier column that is not an exact integer.
    InexactNumber,
    /// Devices an abandoned run may have changed were read again from GreenLake (or could
    /// not be).
    ReadAgain,
}

/// One problem, located as the user sees it in the spreadsheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    pub severity: Severity,
    pub kind: IssueKind,
    pub sheet: String,
    /// Row number as the spreadsheet shows it (1-based, header rows counted); `None` for a
    /// problem of the whole sheet.
    pub row: Option<u32>,
    /// Column as `B ("MAC Address")`; `None` when the problem is not in one cell.
    pub column: Option<String>,
    pub message: String,
}

impl Issue {
    pub fn error(
        kind: IssueKind,
        sheet: &str,
        row: Option<u32>,
        column: Option<String>,
        message: String,
    ) -> Issue {
        Issue {
            severity: Severity::Error,
            kind,
            sheet: sheet.to_string(),
            row,
            column,
            message,
        }
    }

    pub fn warning(
        kind: IssueKind,
        sheet: &str,
        row: Option<u32>,
        column: Option<String>,
        message: String,
    ) -> Issue {
        Issue {
            severity: Severity::Warning,
            kind,
            sheet: sheet.to_string(),
            row,
            column,
            message,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: sheet \"{}\"", self.sheet)?;
        if let Some(r) = self.row {
            write!(f, ", row {r}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Rows (by spreadsheet row number) that carry at least one error: the ones left out when
/// the user continues with the valid rows.
pub fn rows_with_errors(issues: &[Issue]) -> BTreeSet<u32> {
    issues
        .iter()
        .filter(|i| i.is_error())
        .filter_map(|i| i.row)
        .collect()
}

fn col(header: &HeaderMap, field: &Field) -> Option<String> {
    header.column(field).map(|c| c.describe())
}

/// The file-level rules: header problems, empty/invalid/duplicate serials, malformed MACs,
/// unknown device types, tag rules, row-count limits. `truncated` says rows were dropped
/// past [`MAX_ROWS`].
pub fn validate_rows(
    sheet: &str,
    header: &HeaderMap,
    rows: &[InputRow],
    truncated: bool,
) -> Vec<Issue> {
    let mut out = header_issues(sheet, header);
    out.extend(size_issue(sheet, rows.len(), truncated));
    let serial_col = col(header, &Field::Serial);
    let mac_col = col(header, &Field::Mac);
    let type_col = col(header, &Field::DeviceType);
    let mut first_seen: HashMap<&str, u32> = HashMap::new();
    for r in rows {
        if let Some(issue) = serial_issue(sheet, r, &serial_col, &mut first_seen) {
            out.push(issue);
        }
        if let (Some(raw), None) = (&r.mac_raw, &r.mac) {
            out.push(Issue::error(
                IssueKind::MalformedMac,
                sheet,
                Some(r.row),
                mac_col.clone(),
                format!(
                    "\"{raw}\" is not a MAC address; write 12 hex digits, e.g. AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff"
                ),
            ));
        }
        if let (Some(raw), None) = (&r.device_type_raw, &r.category) {
            out.push(Issue::error(
                IssueKind::UnknownDeviceType,
                sheet,
                Some(r.row),
                type_col.clone(),
                format!("\"{raw}\" is not a device type; write NETWORK, COMPUTE or STORAGE (or AP, SWITCH, GATEWAY …)"),
            ));
        }
        tag_issues(sheet, header, r, &mut out);
    }
    out
}

/// Problems of the header itself: a field given twice, a tag column whose key GreenLake
/// refuses.
fn header_issues(sheet: &str, header: &HeaderMap) -> Vec<Issue> {
    let mut out = Vec::new();
    for d in &header.duplicates {
        out.push(Issue::warning(
            IssueKind::DuplicateColumn,
            sheet,
            None,
            Some(d.describe()),
            format!(
                "a second {} column; only the first one is read — delete or rename this column",
                d.field.label()
            ),
        ));
    }
    for c in &header.columns {
        if let Field::Tag(k) = &c.field
            && let Some(p) = tag_key_problem(k)
        {
            out.push(Issue::error(
                IssueKind::BadTagKey,
                sheet,
                None,
                Some(c.describe()),
                format!("{p}; rename the column header"),
            ));
        }
    }
    out
}

/// Too many rows to read (an error), or enough to make applying slow (a warning).
fn size_issue(sheet: &str, rows: usize, truncated: bool) -> Option<Issue> {
    if truncated {
        Some(Issue::error(
            IssueKind::TooManyRows,
            sheet,
            None,
            None,
            format!(
                "the sheet has more than {MAX_ROWS} data rows; only the first {MAX_ROWS} were read — split the file and load the parts one after another"
            ),
        ))
    } else if rows > LARGE_ROWS {
        Some(Issue::warning(
            IssueKind::LargeFile,
            sheet,
            None,
            None,
            format!(
                "{rows} devices: applying will take a while because GreenLake limits how many changes it accepts per minute"
            ),
        ))
    } else {
        None
    }
}

/// An empty, invalid or repeated serial; `first_seen` remembers the row of each serial.
fn serial_issue<'a>(
    sheet: &str,
    r: &'a InputRow,
    serial_col: &Option<String>,
    first_seen: &mut HashMap<&'a str, u32>,
) -> Option<Issue> {
    if r.serial.is_empty() {
        Some(Issue::error(
            IssueKind::EmptySerial,
            sheet,
            Some(r.row),
            serial_col.clone(),
            "the serial number is empty; type the device's serial or delete the row".into(),
        ))
    } else if let Some(p) = serial_problem(&r.serial) {
        Some(Issue::error(
            IssueKind::InvalidSerial,
            sheet,
            Some(r.row),
            serial_col.clone(),
            p,
        ))
    } else if let Some(first) = first_seen.get(r.serial.as_str()) {
        Some(Issue::error(
            IssueKind::DuplicateSerial,
            sheet,
            Some(r.row),
            serial_col.clone(),
            format!(
                "serial {} is already on row {first}; keep one of the two rows",
                r.serial
            ),
        ))
    } else {
        first_seen.insert(&r.serial, r.row);
        None
    }
}

/// A row's tag problems: keys that differ only in case, values GreenLake refuses, more
/// tags than a device may carry.
fn tag_issues(sheet: &str, header: &HeaderMap, r: &InputRow, out: &mut Vec<Issue>) {
    let mut set_count = 0;
    let mut lower_keys: BTreeMap<String, &str> = BTreeMap::new();
    for (k, v) in &r.tags {
        if let Some(prev) = lower_keys.insert(k.to_lowercase(), k) {
            out.push(Issue::error(
                IssueKind::BadTagKey,
                sheet,
                Some(r.row),
                Some(format!("tag:{k}")),
                format!("tag keys are case-insensitive in GreenLake: \"{k}\" and \"{prev}\" are the same key; keep one column"),
            ));
        }
        if let Some(v) = v {
            set_count += 1;
            if let Some(p) = tag_value_problem(v) {
                let column = header
                    .columns
                    .iter()
                    .find(|c| c.field == Field::Tag(k.clone()))
                    .map(|c| c.describe());
                out.push(Issue::error(
                    IssueKind::BadTagValue,
                    sheet,
                    Some(r.row),
                    column,
                    format!("{p}; change the cell"),
                ));
            }
        }
    }
    if set_count > TAGS_PER_DEVICE_MAX {
        out.push(Issue::error(
            IssueKind::TooManyTags,
            sheet,
            Some(r.row),
            None,
            format!("{set_count} tags on one device; GreenLake allows at most {TAGS_PER_DEVICE_MAX} — remove some tag columns or leave cells empty"),
        ));
    }
}
