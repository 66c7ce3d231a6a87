//! What a spreadsheet may make us read, checked before and while it is read.
//!
//! A 10 MB workbook is a zip archive: its XML can unpack to gigabytes (one row repeated
//! millions of times, or one cell of hundreds of megabytes both compress a thousandfold).
//! calamine reads the shared strings, styles and the workbook part whole, and holds a whole
//! XML event (one cell's text, one tag) in memory, so the archive's directory and the sheet
//! XML are checked here first: declared part sizes (the zip reader refuses to unpack more than
//! a part declares, so these sizes bound what it produces), and a byte scan of each worksheet
//! for the longest text or tag and the number of rows. Only then are the cells streamed, and
//! reading stops at the row limit ([`READ_ROWS`]).
//!
//! .xls (an OLE file, not zip) and .ods are still read whole by calamine: the 10 MB file
//! limit bounds an .xls, and an .ods's `content.xml` falls under [`MAX_WHOLE_PART_BYTES`].

use std::io::{BufRead, BufReader, Cursor};

use super::header::HEADER_SCAN_ROWS;
use super::validate::MAX_ROWS;

/// Longest cell text, in characters: Excel's own limit, so a longer cell is damage, not data.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Most rows a sheet may declare (`<dimension>`) or contain: ten times the device-row limit
/// leaves room for blank and note rows; more is not a device list.
pub const MAX_SHEET_ROWS: u64 = 10 * MAX_ROWS as u64;
/// Most bytes all parts of a workbook may unpack to.
pub const MAX_UNPACKED_BYTES: u64 = 256 * 1024 * 1024;
/// Most bytes one part that is read whole (shared strings, styles, workbook, an .ods's
/// content) may unpack to.
pub const MAX_WHOLE_PART_BYTES: u64 = 32 * 1024 * 1024;
/// Longest run of worksheet XML between `<` and `>` (a tag) or `>` and `<` (a text): a cell
/// of [`MAX_CELL_CHARS`] characters is at most 4 bytes each in UTF-8 and `&…;` escapes fit
/// in this too.
pub const MAX_XML_RUN: u64 = 8 * MAX_CELL_CHARS as u64;
/// Rows with content kept while reading: the header may be anywhere in the first
/// [`HEADER_SCAN_ROWS`] rows, then [`MAX_ROWS`] device rows, and one more so "more than the
/// limit" is known without reading on.
pub const READ_ROWS: usize = HEADER_SCAN_ROWS + MAX_ROWS + 1;
/// Columns read; cells to the right of this are ignored (no device sheet is that wide,
/// and each row's cells are held as a dense list up to its last used column).
pub const MAX_COLUMNS: u32 = 1024;

/// Why a workbook is refused before its cells are read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "it unpacks to {total} bytes; the limit is {} MB. Save only the sheet with the devices in a new workbook",
        MAX_UNPACKED_BYTES / (1024 * 1024)
    )]
    Unpacked { total: u64 },
    #[error(
        "its part {part} unpacks to {size} bytes; the limit is {} MB. Save only the sheet with the devices in a new workbook",
        MAX_WHOLE_PART_BYTES / (1024 * 1024)
    )]
    WholePart { part: String, size: u64 },
    #[error(
        "{what} {rows} rows; at most {MAX_SHEET_ROWS} rows ({MAX_ROWS} devices) are read from one sheet. Delete the unused rows or split the devices over several files"
    )]
    Rows { what: &'static str, rows: u64 },
    #[error(
        "its part {part} holds a cell or tag of more than {MAX_XML_RUN} bytes (near row {row}); a cell holds at most {MAX_CELL_CHARS} characters. The file is damaged: save it again from your spreadsheet program"
    )]
    HugeRun { part: String, row: u64 },
    #[error(
        "it declares {count} shared strings; a workbook within the size limits holds at most {MAX_SHARED_STRINGS}. The file is damaged: save it again from your spreadsheet program"
    )]
    Strings { count: u64 },
    #[error("its part {part} cannot be unpacked ({reason})")]
    Damaged { part: String, reason: String },
}

/// Parts calamine streams: worksheets (xlsx XML, xlsb records).
fn is_sheet_part(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("xl/worksheets/") && (n.ends_with(".xml") || n.ends_with(".bin"))
}

/// Check a zip-based workbook's directory: total unpacked size and the size of each part
/// read whole. Not a zip archive: `Ok` (the reader then says what is wrong with it).
pub fn check_archive(bytes: &[u8]) -> Result<(), Refusal> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    let mut total = 0u64;
    for i in 0..archive.len() {
        let Ok(f) = archive.by_index_raw(i) else {
            continue;
        };
        let size = f.size();
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        total = total.saturating_add(size);
        // Media (pictures) are never unpacked by the reader; everything else may be read whole.
        let read_whole =
            !is_sheet_part(&name) && !name.to_ascii_lowercase().starts_with("xl/media/");
        if read_whole && size > MAX_WHOLE_PART_BYTES {
            return Err(Refusal::WholePart { part: name, size });
        }
    }
    if total > MAX_UNPACKED_BYTES {
        return Err(Refusal::Unpacked { total });
    }
    Ok(())
}

/// Scan every worksheet XML part of an .xlsx for its longest tag or text and its number of
/// rows, and the shared strings for their longest text, reading a bounded buffer at a time
/// (nothing of them is kept).
pub fn scan_xlsx_sheets(bytes: &[u8]) -> Result<(), Refusal> {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    for i in 0..archive.len() {
        let Ok(f) = archive.by_index(i) else {
            continue;
        };
        let name = String::from_utf8_lossy(f.name_raw()).into_owned();
        let lower = name.to_ascii_lowercase();
        let sheet = is_sheet_part(&name) && lower.ends_with(".xml");
        // The shared strings hold the sheets' texts: one huge string is one huge cell.
        if !(sheet || lower == "xl/sharedstrings.xml") {
            continue;
        }
        let mut reader = BufReader::with_capacity(64 * 1024, f);
        if !sheet {
            // calamine reserves room for the declared number of strings up front.
            let head = reader.fill_buf().map_err(|e| Refusal::Damaged {
                part: name.clone(),
                reason: e.to_string(),
            })?;
            if let Some(count) = unique_count(head).filter(|&n| n > MAX_SHARED_STRINGS) {
                return Err(Refusal::Strings { count });
            }
        }
        let rows = scan_xml(reader, &name)?;
        if sheet && rows > MAX_SHEET_ROWS {
            return Err(Refusal::Rows {
                what: "a sheet has",
                rows,
            });
        }
    }
    Ok(())
}

/// Most shared strings a workbook may declare: each takes at least 8 bytes of XML
/// (`<si><t/></si>`), so a part within [`MAX_WHOLE_PART_BYTES`] holds no more.
pub const MAX_SHARED_STRINGS: u64 = MAX_WHOLE_PART_BYTES / 8;

/// The `uniqueCount` the shared strings declare in their `<sst …>` tag, if it is in `head`.
fn unique_count(head: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"uniqueCount=\"";
    let at = head.windows(KEY.len()).position(|w| w == KEY)? + KEY.len();
    let digits: Vec<u8> = head[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    // Too many digits for a u64 is too many strings.
    std::str::from_utf8(&digits)
        .ok()?
        .parse::<u64>()
        .ok()
        .or((digits.len() > 19).then_some(u64::MAX))
}

/// The rows (`<row …>` tags) of one worksheet XML stream; refuses a tag or text longer than
/// [`MAX_XML_RUN`].
fn scan_xml<R: BufRead>(mut r: R, part: &str) -> Result<u64, Refusal> {
    let mut rows = 0u64;
    let mut run = 0u64;
    // The first bytes of the tag being read, to tell `<row ` from `<rowBreaks`.
    let mut head = [0u8; 4];
    let mut head_len = 0usize;
    let mut in_tag = false;
    loop {
        let buf = match r.fill_buf() {
            Ok([]) => break,
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Refusal::Damaged {
                    part: part.into(),
                    reason: e.to_string(),
                });
            }
        };
        let n = buf.len();
        for &b in buf {
            match b {
                b'<' => {
                    in_tag = true;
                    run = 0;
                    head_len = 0;
                }
                b'>' => {
                    if in_tag && is_row_head(&head[..head_len]) {
                        rows += 1;
                    }
                    in_tag = false;
                    run = 0;
                }
                _ => {
                    run += 1;
                    if run > MAX_XML_RUN {
                        return Err(Refusal::HugeRun {
                            part: part.into(),
                            row: rows.max(1),
                        });
                    }
                    if in_tag && head_len < head.len() {
                        head[head_len] = b;
                        head_len += 1;
                        if head_len == head.len() && is_row_head(&head) {
                            rows += 1;
                            // Counted; do not count it again at its `>`.
                            head = [0; 4];
                            head_len = head.len();
                        }
                    }
                }
            }
        }
        r.consume(n);
    }
    Ok(rows)
}

/// `row` followed by whitespace or the end of the tag (`<row>`, `<row r="3">`, `<row/>`).
fn is_row_head(h: &[u8]) -> bool {
    match h {
        [b'r', b'o', b'w'] | [b'r', b'o', b'w', b'/'] => true,
        [b'r', b'o', b'w', c] => c.is_ascii_whitespace(),
        _ => false,
    }
}

/// A declared worksheet size (`<dimension ref="A1:B5000000"/>`) too large to be a device
/// sheet. `(0,0)–(0,0)` is what a sheet without the element reads as.
pub fn check_declared_rows(start_row: u32, end_row: u32) -> Result<(), Refusal> {
    check_rows("the sheet declares", start_row, end_row)
}

/// The rows a sheet read whole (.xls, .ods) spans, from its first used cell to its last.
pub fn check_spanned_rows(start_row: u32, end_row: u32) -> Result<(), Refusal> {
    check_rows("the sheet spans", start_row, end_row)
}

fn check_rows(what: &'static str, start_row: u32, end_row: u32) -> Result<(), Refusal> {
    let rows = u64::from(end_row.saturating_sub(start_row)) + 1;
    if rows > MAX_SHEET_ROWS {
        return Err(Refusal::Rows { what, rows });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rows_not_row_breaks() {
        let xml = b"<worksheet><sheetData><row r=\"1\"><c><v>1</v></c></row><row>\
                    <c/></row><row/></sheetData><rowBreaks count=\"1\"/></worksheet>";
        assert_eq!(scan_xml(&xml[..], "s").unwrap(), 3);
    }

    #[test]
    fn refuses_a_huge_text() {
        let mut xml = b"<row><c><v>".to_vec();
        xml.extend(std::iter::repeat_n(b'x', MAX_XML_RUN as usize + 1));
        xml.extend(b"</v></c></row>");
        assert!(matches!(
            scan_xml(&xml[..], "s"),
            Err(Refusal::HugeRun { row: 1, .. })
        ));
    }

    #[test]
    fn declared_strings() {
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="10" uniqueCount="7">"#;
        assert_eq!(unique_count(head), Some(7));
        assert_eq!(unique_count(b"<sst count=\"3\">"), None);
        assert_eq!(
            unique_count(b"<sst uniqueCount=\"99999999999999999999999\">"),
            Some(u64::MAX)
        );
    }

    #[test]
    fn declared_rows() {
        assert!(check_declared_rows(0, 0).is_ok());
        assert!(check_declared_rows(0, 99_999).is_ok());
        assert!(check_declared_rows(0, 4_999_999).is_err());
    }
}
