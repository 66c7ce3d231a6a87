//! Header detection: which row is the header and what each column means.
//!
//! Users bring sheets exported from other tools: titles above the header, headers spelled
//! `S/N`, `Serial No.` or `serial_number`, two-row headers with merged cells. Matching is
//! case-, space- and punctuation-insensitive so none of that needs hand-editing.

use super::normalize::{clean, column_letter};

/// What a column carries.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Serial,
    Mac,
    SubscriptionKey,
    Region,
    Application,
    PartNumber,
    DeviceType,
    /// The MSP tenant (name or id) an MSP-owned device should be placed in.
    Tenant,
    /// A `tag:<key>` column; the key keeps the case the user wrote.
    Tag(String),
}

impl Field {
    /// How the field is named in messages.
    pub fn label(&self) -> String {
        match self {
            Field::Serial => "Serial Number".into(),
            Field::Mac => "MAC Address".into(),
            Field::SubscriptionKey => "Subscription Key".into(),
            Field::Region => "Region".into(),
            Field::Application => "Application".into(),
            Field::PartNumber => "Part Number".into(),
            Field::DeviceType => "Device Type".into(),
            Field::Tenant => "Tenant".into(),
            Field::Tag(k) => format!("tag:{k}"),
        }
    }
}

/// Header spellings for the serial column, after [`squash`] (GLP-Sync-2's list plus
/// `Serial No.`, `S/N`).
pub const SERIAL_HEADERS: &[&str] = &[
    "serialnumber",
    "serial",
    "sn",
    "serialno",
    "serialnum",
    "deviceserial",
    "deviceserialnumber",
];
/// Header spellings for the MAC column, after [`squash`].
pub const MAC_HEADERS: &[&str] = &["macaddress", "mac", "macaddr", "ethernetmac"];
const SUBSCRIPTION_HEADERS: &[&str] = &[
    "subscriptionkey",
    "subscription",
    "subkey",
    "licensekey",
    "license",
];
const REGION_HEADERS: &[&str] = &["region", "regioncode", "applicationregion"];
const APPLICATION_HEADERS: &[&str] = &[
    "application",
    "applicationid",
    "app",
    "appid",
    "servicemanager",
    "servicemanagerid",
    "service",
];
const PART_HEADERS: &[&str] = &["partnumber", "partno", "part", "pn", "productnumber"];
const TYPE_HEADERS: &[&str] = &["devicetype", "type", "devicecategory", "category"];
const TENANT_HEADERS: &[&str] = &[
    "tenant",
    "tenantname",
    "tenantid",
    "tenantworkspace",
    "tenantworkspaceid",
    "tenantworkspacename",
    "customer",
    "customername",
    "customerworkspace",
];

/// Lower-case and drop everything but letters and digits: `Serial No.` → `serialno`.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a header cell means, or `None` for a column we do not use (kept, ignored).
pub fn classify(header: &str) -> Option<Field> {
    let h = clean(header);
    // `tag:<key>` (also `tag.<key>` / `tag <key>`): the rest is the key, as written.
    let lower = h.to_lowercase();
    for prefix in ["tag:", "tag.", "tag "] {
        if lower.starts_with(prefix) {
            let key = clean(&h[prefix.len()..]);
            return Some(Field::Tag(key.to_string()));
        }
    }
    let s = squash(h);
    let table: [(&[&str], Field); 8] = [
        (SERIAL_HEADERS, Field::Serial),
        (MAC_HEADERS, Field::Mac),
        (SUBSCRIPTION_HEADERS, Field::SubscriptionKey),
        (REGION_HEADERS, Field::Region),
        (APPLICATION_HEADERS, Field::Application),
        (PART_HEADERS, Field::PartNumber),
        (TYPE_HEADERS, Field::DeviceType),
        (TENANT_HEADERS, Field::Tenant),
    ];
    table
        .into_iter()
        .find(|(names, _)| names.contains(&s.as_str()))
        .map(|(_, f)| f)
}

/// One recognised column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// 0-based column index in the sheet.
    pub index: u32,
    pub field: Field,
    /// The header text as the user wrote it.
    pub header: String,
}

impl Column {
    /// `B ("MAC Address")` — how a message points at the column.
    pub fn describe(&self) -> String {
        format!("{} (\"{}\")", column_letter(self.index), self.header)
    }
}

/// The detected header: where it is and which columns we read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderMap {
    /// Index (into the grid's rows) of the first header row.
    pub first_row: usize,
    /// Index of the last header row (more than `first_row` for merged two-row headers).
    pub last_row: usize,
    pub columns: Vec<Column>,
    /// Columns whose field was already taken by an earlier column (ignored, reported).
    pub duplicates: Vec<Column>,
}

impl HeaderMap {
    /// The column that carries `field`, if any.
    pub fn column(&self, field: &Field) -> Option<&Column> {
        self.columns.iter().find(|c| &c.field == field)
    }
}

/// How many non-blank rows to look through for the header (titles and notes sit above it).
pub const HEADER_SCAN_ROWS: usize = 20;

/// Find the header among the first [`HEADER_SCAN_ROWS`] non-blank rows: the first row with
/// a serial column. `header_end(row)` tells how far merged cells starting on that row reach
/// down (for two-row headers); a column's name is the lowest non-empty text in that span.
pub fn detect(rows: &[Vec<String>], header_end: impl Fn(usize) -> usize) -> Option<HeaderMap> {
    let mut seen = 0;
    for (i, row) in rows.iter().enumerate() {
        if row.iter().all(|c| clean(c).is_empty()) {
            continue;
        }
        seen += 1;
        if seen > HEADER_SCAN_ROWS {
            return None;
        }
        if !row.iter().any(|c| classify(c) == Some(Field::Serial)) {
            continue;
        }
        let last = header_end(i).max(i).min(rows.len().saturating_sub(1));
        let width = rows[i..=last].iter().map(Vec::len).max().unwrap_or(0);
        let mut columns: Vec<Column> = Vec::new();
        let mut duplicates = Vec::new();
        for col in 0..width {
            // The most specific (lowest) label in the header span names the column.
            let label = rows[i..=last]
                .iter()
                .rev()
                .filter_map(|r| r.get(col))
                .map(|c| clean(c))
                .find(|c| !c.is_empty());
            let Some(label) = label else { continue };
            let Some(field) = classify(label) else {
                continue;
            };
            let column = Column {
                index: col as u32,
                field,
                header: label.to_string(),
            };
            let taken = columns.iter().any(|c| match (&c.field, &column.field) {
                (Field::Tag(a), Field::Tag(b)) => a.to_lowercase() == b.to_lowercase(),
                (a, b) => a == b,
            });
            if taken {
                duplicates.push(column);
            } else {
                columns.push(column);
            }
        }
        return Some(HeaderMap {
            first_row: i,
            last_row: last,
            columns,
            duplicates,
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn serial_spellings() {
        for h in [
            "Serial Number",
            "serial",
            "SERIAL_NUMBER",
            "serialnumber",
            "SN",
            "S/N",
            "Serial No.",
            " serial-number ",
        ] {
            assert_eq!(classify(h), Some(Field::Serial), "{h}");
        }
    }

    #[test]
    fn mac_and_optional_spellings() {
        for h in ["MAC Address", "mac", "mac_address", "MACAddress", "M.A.C."] {
            assert_eq!(classify(h), Some(Field::Mac), "{h}");
        }
        assert_eq!(classify("Subscription Key"), Some(Field::SubscriptionKey));
        assert_eq!(classify("region"), Some(Field::Region));
        assert_eq!(classify("Application"), Some(Field::Application));
        assert_eq!(classify("Part Number"), Some(Field::PartNumber));
        assert_eq!(classify("Device Type"), Some(Field::DeviceType));
        assert_eq!(classify("tag:Site"), Some(Field::Tag("Site".into())));
        assert_eq!(classify("TAG: Floor 2"), Some(Field::Tag("Floor 2".into())));
        for h in [
            "Tenant",
            "Tenant workspace",
            "Customer",
            "tenant_workspace_id",
        ] {
            assert_eq!(classify(h), Some(Field::Tenant), "{h}");
        }
        assert_eq!(classify("Notes"), None);
    }

    #[test]
    fn header_below_title_and_blank_rows() {
        let rows = vec![
            row(&["Devices for site 4"]),
            row(&[]),
            row(&["", ""]),
            row(&["S/N", "Notes", "MAC"]),
            row(&["ABC", "x", "aabbccddeeff"]),
        ];
        let h = detect(&rows, |i| i).unwrap();
        assert_eq!(h.first_row, 3);
        assert_eq!(h.column(&Field::Serial).unwrap().index, 0);
        assert_eq!(h.column(&Field::Mac).unwrap().index, 2);
        assert_eq!(h.column(&Field::Mac).unwrap().describe(), "C (\"MAC\")");
    }

    #[test]
    fn two_row_header_takes_lowest_label() {
        let rows = vec![
            row(&["Serial Number", "Target", ""]),
            row(&["", "Region", "Application"]),
            row(&["ABC", "us-west", "app"]),
        ];
        let h = detect(&rows, |_| 1).unwrap();
        assert_eq!(h.last_row, 1);
        assert_eq!(h.column(&Field::Serial).unwrap().index, 0);
        assert_eq!(h.column(&Field::Region).unwrap().index, 1);
        assert_eq!(h.column(&Field::Application).unwrap().index, 2);
    }

    #[test]
    fn duplicates_are_reported_and_first_wins() {
        let rows = vec![row(&["Serial", "SN", "tag:site", "tag:SITE"])];
        let h = detect(&rows, |i| i).unwrap();
        assert_eq!(h.column(&Field::Serial).unwrap().index, 0);
        assert_eq!(h.duplicates.len(), 2);
    }

    #[test]
    fn no_serial_column() {
        let rows = vec![row(&["Name", "MAC"]), row(&["x", "y"])];
        assert!(detect(&rows, |i| i).is_none());
    }
}
