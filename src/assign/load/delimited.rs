//! Delimited text (.csv, .tsv): its encoding and delimiter told from its bytes, its records
//! read into a grid with the line numbers a text editor shows.

use super::error::LoadError;
use super::grid::{Grid, GridBuilder};

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
pub(super) fn decode_text(bytes: &[u8]) -> String {
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

pub(super) fn csv_grid(file: &str, bytes: &[u8], delim: Option<u8>) -> Result<Grid, LoadError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
