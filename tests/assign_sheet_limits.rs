//! Spreadsheets that used to take the machine's memory or reach the database as they were:
//! workbooks that unpack to millions of rows or one huge cell, a UTF-16 CSV without a BOM,
//! NUL characters, a long serial typed as a number. Each is refused with a message naming
//! the file (and the row and column where there is one), read through the library and
//! through `glp-console assign --apply --yes` against the simulator: nothing is sent to
//! GreenLake and no run is stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{TestDb, TestDir};
use glp_console::assign::load::{LoadError, LoadOptions, load_path};
use glp_console::assign::validate::IssueKind;
use glp_console::sim::{self, SimConfig, SimHandle};
use rust_xlsxwriter::Workbook;
use zip::write::SimpleFileOptions;

/// A workbook made by hand: the parts calamine needs, and a sheet whose XML `sheet` writes
/// straight into the archive (so a test can make millions of rows without holding them).
/// `extra` adds other parts (name, size in zero bytes).
fn handmade_xlsx(
    path: &Path,
    extra: &[(&str, usize)],
    sheet: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let parts: [(&str, &str); 4] = [
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
        z.start_file(name, opts).unwrap();
        z.write_all(body.as_bytes()).unwrap();
    }
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    sheet(&mut z).unwrap();
    for (name, size) in extra {
        z.start_file(*name, opts).unwrap();
        let chunk = vec![0u8; 1 << 20];
        let mut left = *size;
        while left > 0 {
            let n = left.min(chunk.len());
            z.write_all(&chunk[..n]).unwrap();
            left -= n;
        }
    }
    z.finish().unwrap();
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// An inline-string cell.
fn cell(r: &str, text: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

fn header_row() -> String {
    format!("<row r=\"1\">{}</row>", cell("A1", "Serial Number"))
}

fn load_err(path: &Path) -> String {
    match load_path(path, &LoadOptions::default()) {
        Ok(s) => panic!("{} was read: {} rows", path.display(), s.rows.len()),
        Err(e) => {
            assert!(matches!(e, LoadError::Refused { .. }), "{e:?}");
            e.to_string()
        }
    }
}

// ---- the command, against the simulator ----

fn config_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\ndevices_patch = 100000\n\
         devices_post = 100000\nasync_operations_get = 100000\nservice_catalog_get = 100000\n\
         [api.retry]\nmax_attempts = 2\nbase_delay_ms = 10\nmax_delay_secs = 1\nmax_total_secs = 3\n",
    )
    .unwrap();
    path
}

async fn glpc(sim: &SimHandle, db: &TestDb, dir: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in sim.env_vars() {
        c.env(k, v);
    }
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Env {
    sim: SimHandle,
    db: TestDb,
    dir: TestDir,
    app: (String, String),
    /// Serials of unassigned devices, as the simulator spells them.
    free: Vec<String>,
}

async fn env() -> Env {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: 100,
        subscriptions: 10,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::new().await;
    let dir = TestDir::new("glpc-sheet-limits-");
    let o = glpc(&sim, &db, &dir, &["--sync-only", "--full"]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let free = sim
        .devices()
        .iter()
        .filter(|d| d["archived"] == false && d["application"].is_null())
        .take(3)
        .map(|d| d["serialNumber"].as_str().unwrap().to_string())
        .collect();
    let app = sim.provisioned_applications()[0].clone();
    Env {
        sim,
        db,
        dir,
        app,
        free,
    }
}

impl Env {
    /// `assign FILE --application … --region … --apply --yes`.
    async fn apply(&self, file: &Path) -> Output {
        let f = file.to_str().unwrap();
        glpc(
            &self.sim,
            &self.db,
            &self.dir,
            &[
                "assign",
                f,
                "--application",
                &self.app.0,
                "--region",
                &self.app.1,
                "--apply",
                "--yes",
            ],
        )
        .await
    }

    /// Refused: a non-zero exit naming the file, no write call reached the simulator, and
    /// no assignment run was stored.
    async fn assert_refused(&self, file: &Path, o: &Output, also: &[&str]) {
        assert_ne!(o.status.code(), Some(0), "{}", text(o));
        let all = text(o);
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(all.contains(name), "the message names the file: {all}");
        for a in also {
            assert!(all.contains(a), "the message says {a:?}: {all}");
        }
        let stats = self.sim.stats();
        for ep in [
            "devices_patch",
            "devices_post",
            "devices_v1_post",
            "devices_v1_patch",
        ] {
            assert_eq!(stats.endpoint(ep).requests, 0, "{ep} was called: {all}");
        }
        let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM assignment_runs")
            .fetch_one(self.db.store.pool())
            .await
            .unwrap();
        assert_eq!(runs, 0, "no run is stored: {all}");
    }
}

#[tokio::test]
async fn a_workbook_declaring_millions_of_rows_is_refused_before_reading() {
    let e = env().await;
    let path = e.dir.join("declared.xlsx");
    handmade_xlsx(&path, &[], |w| {
        write!(
            w,
            "{SHEET_HEAD}<dimension ref=\"A1:A5000000\"/><sheetData>{}<row r=\"2\">{}</row></sheetData></worksheet>",
            header_row(),
            cell("A2", &e.free[0])
        )
    });
    let msg = load_err(&path);
    assert!(
        msg.starts_with(
            "declared.xlsx, sheet \"Devices\" is not read: the sheet declares 5000000 rows"
        ),
        "{msg}"
    );
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["5000000 rows"]).await;
}

#[tokio::test]
async fn a_workbook_of_a_million_rows_is_refused_without_holding_them() {
    let e = env().await;
    let path = e.dir.join("million.xlsx");
    // No <dimension>, rows without numbers: only counting them tells.
    handmade_xlsx(&path, &[], |w| {
        write!(w, "{SHEET_HEAD}<sheetData>{}", header_row())?;
        let row = format!(
            "<row><c t=\"inlineStr\"><is><t>{}</t></is></c></row>",
            e.free[0]
        );
        for _ in 0..1_000_000 {
            w.write_all(row.as_bytes())?;
        }
        write!(w, "</sheetData></worksheet>")
    });
    assert!(std::fs::metadata(&path).unwrap().len() < 10 * 1024 * 1024);
    let msg = load_err(&path);
    assert!(msg.contains("million.xlsx"), "{msg}");
    assert!(msg.contains("a sheet has 1000001 rows"), "{msg}");
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["1000001 rows"]).await;
}

#[tokio::test]
async fn a_workbook_unpacking_past_the_limit_is_refused() {
    let e = env().await;
    let path = e.dir.join("bomb.xlsx");
    handmade_xlsx(&path, &[("xl/media/padding.bin", 300 << 20)], |w| {
        write!(
            w,
            "{SHEET_HEAD}<sheetData>{}<row r=\"2\">{}</row></sheetData></worksheet>",
            header_row(),
            cell("A2", &e.free[0])
        )
    });
    let msg = load_err(&path);
    assert!(
        msg.starts_with("bomb.xlsx is not read: it unpacks to "),
        "{msg}"
    );
    assert!(msg.contains("the limit is 256 MB"), "{msg}");
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["unpacks to"]).await;
}

#[tokio::test]
async fn a_huge_cell_is_refused_and_a_long_one_is_a_row_error() {
    let e = env().await;
    // 2 MB in one cell: refused before calamine holds it.
    let path = e.dir.join("huge-cell.xlsx");
    handmade_xlsx(&path, &[], |w| {
        write!(
            w,
            "{SHEET_HEAD}<sheetData>{}<row r=\"2\">{}</row><row r=\"3\"><c r=\"A3\" t=\"inlineStr\"><is><t>",
            header_row(),
            cell("A2", &e.free[0])
        )?;
        w.write_all(&vec![b'X'; 2 << 20])?;
        write!(w, "</t></is></c></row></sheetData></worksheet>")
    });
    let msg = load_err(&path);
    assert!(msg.starts_with("huge-cell.xlsx is not read: "), "{msg}");
    assert!(msg.contains("near row 3"), "{msg}");
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["near row 3"]).await;

    // 40 000 characters: read, cut, and its row is an error naming file, row and column.
    let path = e.dir.join("long-cell.xlsx");
    handmade_xlsx(&path, &[], |w| {
        write!(
            w,
            "{SHEET_HEAD}<sheetData><row r=\"1\">{}{}</row><row r=\"2\">{}{}</row></sheetData></worksheet>",
            cell("A1", "Serial Number"),
            cell("B1", "tag:note"),
            cell("A2", &e.free[0]),
            cell("B2", &"y".repeat(40_000)),
        )
    });
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    let issue = s
        .issues
        .iter()
        .find(|i| i.kind == IssueKind::CellTooLong)
        .unwrap_or_else(|| panic!("{:?}", s.issues));
    assert_eq!(issue.row, Some(2));
    assert!(
        issue.column.as_deref().unwrap().starts_with("B"),
        "{issue:?}"
    );
    let shown = issue.to_string();
    assert!(
        shown.contains("long-cell.xlsx: cell B2 has 40000 characters"),
        "{shown}"
    );
    assert!(s.rows[0].tags["note"].as_ref().unwrap().chars().count() <= 32_767);
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["row 2", "cell B2"]).await;
}

#[tokio::test]
async fn a_utf16_csv_without_bom_is_read_as_text() {
    let e = env().await;
    let csv = format!("Serial Number\r\n{}\r\n{}\r\n", e.free[0], e.free[1]);
    let le = e.dir.join("utf16le.csv");
    std::fs::write(
        &le,
        csv.encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let be = e.dir.join("utf16be.csv");
    std::fs::write(
        &be,
        csv.encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    for p in [&le, &be] {
        let s = load_path(p, &LoadOptions::default()).unwrap();
        assert!(s.issues.is_empty(), "{:?}", s.issues);
        let serials: Vec<&str> = s.rows.iter().map(|r| r.serial.as_str()).collect();
        assert_eq!(
            serials,
            [e.free[0].to_uppercase(), e.free[1].to_uppercase()]
        );
    }
    // And applied: the simulator's devices get the application.
    let o = e.apply(&le).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for serial in &e.free[..2] {
        let d = e
            .sim
            .devices()
            .into_iter()
            .find(|d| d["serialNumber"] == serial.as_str())
            .unwrap();
        assert_eq!(d["application"]["id"], e.app.0.as_str(), "{d}");
    }
}

#[tokio::test]
async fn nul_characters_are_a_row_error_and_never_reach_the_database() {
    let e = env().await;
    let path = e.dir.join("nul.csv");
    let mut bytes = b"Serial Number,MAC Address\n".to_vec();
    bytes.extend(e.free[0].as_bytes());
    bytes.extend(b",\n");
    bytes.extend(b"AB\0CD\x001234,\n");
    std::fs::write(&path, &bytes).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    let issue = s
        .issues
        .iter()
        .find(|i| i.kind == IssueKind::NulInCell)
        .unwrap_or_else(|| panic!("{:?}", s.issues));
    assert_eq!(issue.row, Some(3));
    let shown = issue.to_string();
    assert!(
        shown.contains("row 3, column A (\"Serial Number\"): nul.csv: cell A3 holds NUL"),
        "{shown}"
    );
    assert!(s.rows.iter().all(|r| !r.serial.contains('\0')));
    // The serials are looked up in the database before the review: no NUL may get there.
    let o = e.apply(&path).await;
    let all = text(&o);
    assert!(!all.contains("invalid byte sequence"), "{all}");
    e.assert_refused(&path, &o, &["row 3", "cell A3 holds NUL"])
        .await;
}

#[tokio::test]
async fn an_18_digit_serial_typed_as_a_number_is_an_error() {
    let e = env().await;
    let path = e.dir.join("numeric.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Serial Number").unwrap();
    ws.write_string(1, 0, &e.free[0]).unwrap();
    ws.write_number(2, 0, 123_456_789_012_345_678.0).unwrap();
    ws.write_number(3, 0, 123_456.0).unwrap();
    wb.save(&path).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    let inexact: Vec<_> = s
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::InexactNumber)
        .collect();
    assert_eq!(inexact.len(), 1, "{:?}", s.issues);
    assert_eq!(inexact[0].row, Some(3));
    let shown = inexact[0].to_string();
    assert!(
        shown.contains("numeric.xlsx: cell A3 holds the number"),
        "{shown}"
    );
    assert!(shown.contains("format the column as text"), "{shown}");
    assert_eq!(s.rows[2].serial, "123456", "a short number stays a serial");
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["row 3", "format the column as text"])
        .await;
}

/// `path` again with its shared strings declaring `count` strings.
fn with_unique_count(path: &Path, count: &str) {
    let bytes = std::fs::read(path).unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut changed = false;
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut body = String::new();
        std::io::Read::read_to_string(&mut f, &mut body).unwrap();
        if name == "xl/sharedStrings.xml" {
            let at = body.find("uniqueCount=\"").unwrap() + "uniqueCount=\"".len();
            let end = at + body[at..].find('"').unwrap();
            body.replace_range(at..end, count);
            changed = true;
        }
        out.start_file(name, opts).unwrap();
        out.write_all(body.as_bytes()).unwrap();
    }
    out.finish().unwrap();
    assert!(changed, "the workbook has shared strings");
}

#[tokio::test]
async fn a_workbook_declaring_a_trillion_shared_strings_is_refused() {
    let e = env().await;
    let path = e.dir.join("strings.xlsx");
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Serial Number").unwrap();
    ws.write_string(1, 0, &e.free[0]).unwrap();
    wb.save(&path).unwrap();
    // The reader reserves room for the declared count before reading one string.
    with_unique_count(&path, "1000000000000");
    let msg = load_err(&path);
    assert!(
        msg.starts_with("strings.xlsx is not read: it declares 1000000000000 shared strings"),
        "{msg}"
    );
    let o = e.apply(&path).await;
    e.assert_refused(&path, &o, &["shared strings"]).await;
}
