//! The downloadable assignment template (`assets/assignment_template.xlsx`): an
//! "Instructions" sheet first, then a "Devices" sheet with every header the loader reads.

use std::path::Path;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// Headers of the template's "Devices" sheet, in order.
pub const TEMPLATE_HEADERS: &[&str] = &[
    "Serial Number",
    "MAC Address",
    "Device Type",
    "Part Number",
    "Application",
    "Region",
    "Subscription Key",
    "tag:Site",
];

/// The lines of the "Instructions" sheet (also the README's description of the format).
pub const INSTRUCTIONS: &[&str] = &[
    "How to fill in the Devices sheet",
    "",
    "One device per row. Only Serial Number is required; every other column is optional and may be deleted.",
    "Serial Number: the device serial (any case; spaces around it are ignored). Each serial once.",
    "MAC Address: AA:BB:CC:DD:EE:FF, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or 12 hex digits. Checked against GreenLake for known devices; required to add a network device.",
    "Device Type: NETWORK, COMPUTE or STORAGE (AP, SWITCH, GATEWAY … also accepted). Only used to add devices not yet in GreenLake.",
    "Part Number: required to add a COMPUTE or STORAGE device.",
    "Application and Region: the application (service manager) id or name and the region code (e.g. us-west). A row's values win over the wizard's choice.",
    "Subscription Key: the key of a started subscription that fits the device. A row's key wins over the wizard's choice.",
    "tag:<key> columns: one column per tag, e.g. tag:Site. The cell is the value; an empty cell leaves the tag alone; <remove> deletes the tag.",
    "Tag keys: 1-128 characters, values up to 256; letters, digits, spaces and _ . : = + - @ only; keys are case-insensitive; at most 50 tags per device.",
    "Limits: 10 MB per file, 10 000 rows per sheet.",
    "The header row may sit below a title; blank rows are skipped. Row numbers in messages are the ones your spreadsheet shows.",
];

/// Build the template workbook in memory.
pub fn template_bytes() -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let ins = wb.add_worksheet();
    ins.set_name("Instructions")?;
    ins.set_column_width(0, 110)?;
    for (i, line) in INSTRUCTIONS.iter().enumerate() {
        let f = if i == 0 { &bold } else { &wrap };
        ins.write_string_with_format(i as u32, 0, *line, f)?;
    }
    let dev = wb.add_worksheet();
    dev.set_name("Devices")?;
    for (c, h) in TEMPLATE_HEADERS.iter().enumerate() {
        dev.write_string_with_format(0, c as u16, *h, &bold)?;
        dev.set_column_width(c as u16, 20)?;
    }
    wb.save_to_buffer()
}

/// Write the template to `path`.
pub fn write_template(path: &Path) -> Result<(), std::io::Error> {
    let bytes = template_bytes().map_err(std::io::Error::other)?;
    std::fs::write(path, bytes)
}
