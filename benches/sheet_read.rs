//! Peak memory of reading spreadsheets: hostile workbooks (millions of rows, one huge cell,
//! each under the 10 MB file limit) must be refused within a bounded footprint (target
//! ≤ 200 MB), and a large allowed sheet must be read within it too.
//!
//! Each file is read by a child process (this binary again, with `--child FILE`), so every
//! figure is that read's own peak RSS (`VmHWM`), not the high-water mark of the ones before.
//! Printed per case: file size, what the reader said (rows read, or the refusal), peak RSS
//! and time.
//!
//! `cargo bench --bench sheet_read` runs the full cases: 5 000 000 rows unpacking past the
//! limit, 4 000 000 short rows inside it, a 200 MB cell, a sheet declaring 5 000 000 rows,
//! shared strings declaring 10^12 strings,
//! and allowed sheets of 10 000 devices (six columns, shared strings), of 12 000 and of
//! 90 000 (both read only up to the row limit). Without `--bench` (as `cargo test --benches` runs it) a quick mode runs
//! with 100 times fewer rows and a 2 MB cell.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use glp_console::assign::load::{LoadOptions, load_path};
use rust_xlsxwriter::Workbook;
use zip::write::SimpleFileOptions;

/// This process's peak RSS in MB.
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The child: read one file, print one line.
fn child(path: &str) {
    let t0 = Instant::now();
    let said = match load_path(Path::new(path), &LoadOptions::default()) {
        Ok(s) => format!(
            "read {} rows, {} issues{}",
            s.rows.len(),
            s.issues.len(),
            s.issues
                .iter()
                .find(|i| i.is_error())
                .map(|i| format!(" (first error: {})", i.message))
                .unwrap_or_default()
        ),
        Err(e) => format!("refused: {e}"),
    };
    // A message may quote a cell; one line per case is enough.
    let said: String = said.chars().take(240).collect();
    println!(
        "{:.1}\t{:.2}\t{}",
        peak_mb(),
        t0.elapsed().as_secs_f64(),
        said
    );
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// A hand-made workbook of one sheet whose XML `sheet` streams into the archive.
fn handmade(path: &Path, sheet: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) {
    let f = std::fs::File::create(path).expect("create the workbook");
    let mut z = zip::ZipWriter::new(f);
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Devices" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#,
        ),
    ];
    for (name, body) in parts {
        z.start_file(name, opts).expect("zip part");
        z.write_all(body.as_bytes()).expect("zip write");
    }
    z.start_file("xl/worksheets/sheet1.xml", opts)
        .expect("zip part");
    sheet(&mut z).expect("sheet XML");
    z.finish().expect("zip finish");
}

const HEADER: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Serial Number</t></is></c><c r="B1" t="inlineStr"><is><t>MAC Address</t></is></c></row>"#;

/// `rows` identical device rows (no row numbers, as some writers do), no `<dimension>`.
fn many_rows(path: &Path, rows: usize, row: &str) {
    handmade(path, |w| {
        write!(w, "{SHEET_HEAD}<sheetData>{HEADER}")?;
        for _ in 0..rows {
            w.write_all(row.as_bytes())?;
        }
        write!(w, "</sheetData></worksheet>")
    });
}

fn huge_cell(path: &Path, bytes: usize) {
    handmade(path, |w| {
        write!(
            w,
            r#"{SHEET_HEAD}<sheetData>{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t>SN1</t></is></c><c r="B2" t="inlineStr"><is><t>"#
        )?;
        let chunk = vec![b'X'; 1 << 20];
        let mut left = bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            w.write_all(&chunk[..n])?;
            left -= n;
        }
        write!(w, "</t></is></c></row></sheetData></worksheet>")
    });
}

fn declared(path: &Path, rows: usize) {
    handmade(path, |w| {
        write!(
            w,
            r#"{SHEET_HEAD}<dimension ref="A1:B{rows}"/><sheetData>{HEADER}<row r="2"><c r="A2" t="inlineStr"><is><t>SN1</t></is></c></row></sheetData></worksheet>"#
        )
    });
}

/// A realistic sheet: six columns, distinct values (shared strings), `rows` devices.
fn allowed(path: &Path, rows: u32) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    let head = [
        "Serial Number",
        "MAC Address",
        "Subscription Key",
        "Region",
        "tag:site",
        "tag:rack",
    ];
    for (c, h) in head.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    for r in 1..=rows {
        let vals = [
            format!("SN{r:08}"),
            format!(
                "AA:BB:CC:{:02X}:{:02X}:{:02X}",
                r >> 16 & 0xff,
                r >> 8 & 0xff,
                r & 0xff
            ),
            format!("KEY{:06}", r % 50),
            "us-west".to_string(),
            format!("Site {}", r % 200),
            format!("Rack {}", r % 40),
        ];
        for (c, v) in vals.iter().enumerate() {
            ws.write_string(r, c as u16, v).expect("cell");
        }
    }
    wb.save(path).expect("save");
}

/// Writes one case's file.
type MakeFile = Box<dyn Fn(&Path)>;

/// `path` again with its shared strings declaring `count` strings (calamine reserves room
/// for them before reading one).
fn declare_strings(path: &Path, count: &str) {
    let bytes = std::fs::read(path).expect("read the workbook");
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a zip");
    let mut out = zip::ZipWriter::new(std::fs::File::create(path).expect("rewrite"));
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for i in 0..src.len() {
        let mut f = src.by_index(i).expect("zip entry");
        let name = f.name().expect("entry name").to_string();
        let mut body = String::new();
        std::io::Read::read_to_string(&mut f, &mut body).expect("entry text");
        if name == "xl/sharedStrings.xml"
            && let Some(at) = body.find("uniqueCount=\"").map(|i| i + 13)
            && let Some(len) = body[at..].find('"')
        {
            body.replace_range(at..at + len, count);
        }
        out.start_file(name, opts).expect("zip part");
        out.write_all(body.as_bytes()).expect("zip write");
    }
    out.finish().expect("zip finish");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        child(&args[i + 1]);
        return;
    }
    let full = args.iter().any(|a| a == "--bench");
    let scale = if full { 1 } else { 100 };
    let dir = std::env::temp_dir().join(format!("glpc-bench-sheet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let row = r#"<row><c t="inlineStr"><is><t>SN00000001</t></is></c><c t="inlineStr"><is><t>AA:BB:CC:DD:EE:FF</t></is></c></row>"#;
    let short = r#"<row><c><v>1</v></c></row>"#;
    let cases: Vec<(String, PathBuf, MakeFile)> = vec![
        (
            format!("{} rows without row numbers", 5_000_000 / scale),
            dir.join("rows-5m.xlsx"),
            Box::new(move |p| many_rows(p, 5_000_000 / scale, row)),
        ),
        (
            format!("{} short rows", 4_000_000 / scale),
            dir.join("rows-4m-short.xlsx"),
            Box::new(move |p| many_rows(p, 4_000_000 / scale, short)),
        ),
        (
            format!("one cell of {} MB", if full { 200 } else { 2 }),
            dir.join("huge-cell.xlsx"),
            Box::new(move |p| huge_cell(p, if full { 200 << 20 } else { 2 << 20 })),
        ),
        (
            "declares 5000000 rows".to_string(),
            dir.join("declared.xlsx"),
            Box::new(|p| declared(p, 5_000_000)),
        ),
        (
            format!("{} devices, 6 columns", 10_000 / scale),
            dir.join("allowed-10k.xlsx"),
            Box::new(move |p| allowed(p, 10_000 / scale as u32)),
        ),
        (
            format!("{} devices, 6 columns", if full { 12_000 } else { 120 }),
            dir.join("allowed-12k.xlsx"),
            Box::new(move |p| allowed(p, if full { 12_000 } else { 120 })),
        ),
        (
            "declares 10^12 shared strings".to_string(),
            dir.join("strings.xlsx"),
            Box::new(|p| {
                allowed(p, 10);
                declare_strings(p, "1000000000000");
            }),
        ),
        (
            format!("{} devices, 6 columns", 90_000 / scale),
            dir.join("allowed-90k.xlsx"),
            Box::new(move |p| allowed(p, 90_000 / scale as u32)),
        ),
    ];
    let me = std::env::current_exe().expect("own path");
    println!("case\tfile MB\tpeak RSS MB\tsecs\tresult");
    for (name, path, make) in &cases {
        make(path);
        let size = std::fs::metadata(path).map_or(0, |m| m.len()) as f64 / 1e6;
        let out = Command::new(&me)
            .arg("--child")
            .arg(path)
            .output()
            .expect("run the child");
        let line = String::from_utf8_lossy(&out.stdout);
        let mut f = line.trim_end().splitn(3, '\t');
        let (peak, secs, said) = (
            f.next().unwrap_or("?"),
            f.next().unwrap_or("?"),
            f.next().unwrap_or("?"),
        );
        println!("{name}\t{size:.1}\t{peak}\t{secs}\t{said}");
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            println!(
                "  the reading process failed ({}): {}",
                out.status,
                err.trim().chars().take(200).collect::<String>()
            );
        }
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
