//! Loading, header detection, normalisation and the file-level validation rules of the
//! bulk-assignment wizard, against the shared sample and files generated here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::path::{Path, PathBuf};

use glp_console::assign::header::Field;
use glp_console::assign::load::{LoadError, LoadOptions, Sheet, load_bytes, load_path};
use glp_console::assign::normalize::Category;
use glp_console::assign::template::{TEMPLATE_HEADERS, template_bytes};
use glp_console::assign::validate::{IssueKind, MAX_ROWS, Severity};
use rust_xlsxwriter::{Format, Workbook};

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("assign_load");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn kinds(sheet: &Sheet) -> Vec<(IssueKind, Option<u32>)> {
    sheet.issues.iter().map(|i| (i.kind, i.row)).collect()
}

fn load_csv(text: &str) -> Sheet {
    load_bytes(
        "devices.csv",
        text.as_bytes().to_vec(),
        &LoadOptions::default(),
    )
    .unwrap()
}

#[test]
fn shared_sample_devices_xlsx() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/sample_devices.xlsx");
    let p = if p.exists() {
        p
    } else {
        PathBuf::from("/work/shared/fixtures/sample_devices.xlsx")
    };
    let s = load_path(&p, &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet, "Devices");
    assert_eq!(s.rows.len(), 6);
    assert!(s.issues.is_empty(), "{:?}", s.issues);
    assert_eq!(s.rows[0].row, 2);
    assert_eq!(s.rows[0].serial, "PHT5KSL377");
    assert_eq!(s.rows[0].mac.as_deref(), Some("F0:1A:A0:98:44:4D"));
    assert_eq!(s.rows[5].serial, "FAKE123456");
    assert_eq!(s.rows[5].row, 7);
    assert_eq!(
        s.header.column(&Field::Mac).unwrap().describe(),
        "B (\"MAC Address\")"
    );
}

/// A workbook with a notes sheet first, a title, blank rows, a number typed as a serial,
/// a two-row merged header and a merged data cell.
fn messy_workbook() -> Vec<u8> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let notes = wb.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "nothing to see here").unwrap();
    let ws = wb.add_worksheet();
    ws.set_name("Site 4").unwrap();
    ws.merge_range(0, 0, 0, 4, "Devices for site 4", &bold)
        .unwrap();
    // Row 3-4: a two-row header; "S/N" merged over both rows, "Target" over D3:E3.
    ws.merge_range(2, 0, 3, 0, "S/N", &bold).unwrap();
    ws.merge_range(2, 1, 3, 1, "MAC", &bold).unwrap();
    ws.merge_range(2, 2, 3, 2, "Notes", &bold).unwrap();
    ws.merge_range(2, 3, 2, 4, "Target", &bold).unwrap();
    ws.write_string(3, 3, "Region").unwrap();
    ws.write_string(3, 4, "Tag: Site").unwrap();
    ws.write_string(4, 0, " abc123 ").unwrap();
    ws.write_string(4, 1, "aabb.ccdd.eeff").unwrap();
    // The region is written once, merged over rows 5-7.
    ws.merge_range(4, 3, 6, 3, "US West", &Format::new())
        .unwrap();
    ws.write_string(4, 4, "HQ").unwrap();
    // row 6 blank in the serial column but merged region → it is a row without serial
    ws.write_number(6, 0, 12345.0).unwrap();
    ws.write_string(6, 1, "AA-BB-CC-DD-EE-01").unwrap();
    // rows 8-9 blank, then one more
    ws.write_number(9, 0, 987654321012.0).unwrap();
    ws.write_string(9, 4, "<remove>").unwrap();
    wb.save_to_buffer().unwrap()
}

#[test]
fn messy_xlsx_multiple_sheets_titles_merged_headers_numbers() {
    let path = tmp("messy.xlsx");
    std::fs::write(&path, messy_workbook()).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet, "Site 4", "the first sheet with a header is chosen");
    assert_eq!(s.sheet_names, vec!["Notes", "Site 4"]);
    assert_eq!(s.header.column(&Field::Region).unwrap().index, 3);
    assert_eq!(
        s.header.column(&Field::Tag("Site".into())).unwrap().index,
        4
    );
    let rows: Vec<(u32, &str)> = s.rows.iter().map(|r| (r.row, r.serial.as_str())).collect();
    assert_eq!(
        rows,
        vec![(5, "ABC123"), (6, ""), (7, "12345"), (10, "987654321012")]
    );
    assert_eq!(s.rows[0].mac.as_deref(), Some("AA:BB:CC:DD:EE:FF"));
    assert_eq!(s.rows[0].region.as_deref(), Some("us-west"));
    assert_eq!(
        s.rows[2].region.as_deref(),
        Some("us-west"),
        "merged data cell fills down"
    );
    assert_eq!(s.rows[0].tags.get("Site"), Some(&Some("HQ".to_string())));
    assert_eq!(
        s.rows[3].tags.get("Site"),
        Some(&None),
        "<remove> removes the tag"
    );
    // Row 6 has only the merged region: an empty serial.
    assert_eq!(kinds(&s), vec![(IssueKind::EmptySerial, Some(6))]);
    let msg = s.issues[0].to_string();
    assert!(
        msg.contains("sheet \"Site 4\", row 6, column A (\"S/N\")"),
        "{msg}"
    );
    assert_eq!(s.valid_rows().len(), 3);
}

#[test]
fn explicit_sheet_choice_and_missing_sheet() {
    let path = tmp("choice.xlsx");
    let mut wb = Workbook::new();
    for (name, serial) in [("One", "AAA1"), ("Two", "BBB2")] {
        let ws = wb.add_worksheet();
        ws.set_name(name).unwrap();
        ws.write_string(0, 0, "Serial Number").unwrap();
        ws.write_string(1, 0, serial).unwrap();
    }
    wb.save(&path).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    assert_eq!(
        (s.sheet.as_str(), s.rows[0].serial.as_str()),
        ("One", "AAA1")
    );
    let s = load_path(
        &path,
        &LoadOptions {
            sheet: Some("two".into()),
        },
    )
    .unwrap();
    assert_eq!(
        (s.sheet.as_str(), s.rows[0].serial.as_str()),
        ("Two", "BBB2")
    );
    let e = load_path(
        &path,
        &LoadOptions {
            sheet: Some("Three".into()),
        },
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::SheetNotFound { .. }));
    assert!(e.to_string().contains("One, Two"), "{e}");
}

#[test]
fn csv_semicolon_with_bom_and_crlf() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(
        "Serial No.;MAC Address;Subscription Key;Region;Application;tag:Floor;Notes\r\n\
         vnt8kwc09q;3c-e8-6e-c1-8a-b0;pat4dyyjaeeeja;eu_central;app-1;2;weight 2,5 kg\r\n\
         \r\n\
         PHT5KSL377;;;;;;\r\n"
            .as_bytes(),
    );
    let s = load_bytes("export.csv", bytes, &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet, "export");
    assert_eq!(s.rows.len(), 2);
    let r = &s.rows[0];
    assert_eq!(r.row, 2);
    assert_eq!(r.serial, "VNT8KWC09Q");
    assert_eq!(r.mac.as_deref(), Some("3C:E8:6E:C1:8A:B0"));
    assert_eq!(r.subscription_key.as_deref(), Some("PAT4DYYJAEEEJA"));
    assert_eq!(r.region.as_deref(), Some("eu-central"));
    assert_eq!(r.application.as_deref(), Some("app-1"));
    assert_eq!(r.tags.get("Floor"), Some(&Some("2".into())));
    assert_eq!(s.rows[1].row, 4, "the blank line keeps its row number");
    assert_eq!(s.rows[1].mac, None);
    assert!(s.issues.is_empty(), "{:?}", s.issues);
}

#[test]
fn tsv_and_utf16_and_title_lines() {
    let s = load_bytes(
        "d.tsv",
        b"Inventory export\n\nS/N\tMAC\nABC\taabbccddeeff\n".to_vec(),
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!((s.rows[0].row, s.rows[0].serial.as_str()), (4, "ABC"));
    let text = "Serial\tMAC\r\nXYZ\t00:11:22:33:44:55\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let s = load_bytes("unicode.txt", bytes, &LoadOptions::default()).unwrap();
    assert_eq!(s.rows[0].serial, "XYZ");
    assert_eq!(s.rows[0].mac.as_deref(), Some("00:11:22:33:44:55"));
}

#[test]
fn empty_duplicate_invalid_serials_and_bad_macs() {
    let s = load_csv(
        "Serial Number,MAC Address,Device Type\n\
         AAA1,aa:bb:cc:dd:ee:ff,AP\n\
         ,11:22:33:44:55:66,\n\
         aaa1,,\n\
         BBB2,zz:bb:cc:dd:ee:ff,\n\
         CCC3,AA:BB:CC,toaster\n\
         1.23457E+11,,\n\
         #N/A,,\n",
    );
    assert_eq!(
        kinds(&s),
        vec![
            (IssueKind::EmptySerial, Some(3)),
            (IssueKind::DuplicateSerial, Some(4)),
            (IssueKind::MalformedMac, Some(5)),
            (IssueKind::MalformedMac, Some(6)),
            (IssueKind::UnknownDeviceType, Some(6)),
            (IssueKind::InvalidSerial, Some(7)),
            (IssueKind::InvalidSerial, Some(8)),
        ]
    );
    assert!(s.issues[1].message.contains("row 2"), "{}", s.issues[1]);
    assert!(s.issues[2].message.contains("zz:bb"), "{}", s.issues[2]);
    assert_eq!(s.issues[2].column.as_deref(), Some("B (\"MAC Address\")"));
    assert_eq!(s.rows[0].category, Some(Category::Network));
    assert_eq!(
        s.valid_rows().iter().map(|r| r.row).collect::<Vec<_>>(),
        vec![2]
    );
}

#[test]
fn tag_rules_in_the_sheet() {
    let long = "v".repeat(257);
    let s = load_csv(&format!(
        "Serial,tag:Site,tag:bad/key,tag:SITE,tag:ok\n\
         AAA1,HQ,x,,fine\n\
         BBB2,{long},,,\n\
         CCC3,a#b,,,\n"
    ));
    let k = kinds(&s);
    assert!(k.contains(&(IssueKind::DuplicateColumn, None)), "{k:?}");
    assert!(k.contains(&(IssueKind::BadTagKey, None)), "{k:?}");
    assert!(k.contains(&(IssueKind::BadTagValue, Some(3))), "{k:?}");
    assert!(k.contains(&(IssueKind::BadTagValue, Some(4))), "{k:?}");
    let dup = s
        .issues
        .iter()
        .find(|i| i.kind == IssueKind::DuplicateColumn)
        .unwrap();
    assert_eq!(dup.severity, Severity::Warning);
    assert_eq!(dup.column.as_deref(), Some("D (\"tag:SITE\")"));
    // More than 50 tags on one row.
    let mut header = String::from("Serial");
    let mut row = String::from("AAA1");
    for i in 0..51 {
        header.push_str(&format!(",tag:k{i}"));
        row.push_str(",v");
    }
    let s = load_csv(&format!("{header}\n{row}\n"));
    assert_eq!(kinds(&s), vec![(IssueKind::TooManyTags, Some(2))]);
}

#[test]
fn row_limits() {
    let mut text = String::from("Serial\n");
    for i in 0..1001 {
        text.push_str(&format!("S{i:05}\n"));
    }
    let s = load_csv(&text);
    assert_eq!(kinds(&s), vec![(IssueKind::LargeFile, None)]);
    assert!(!s.has_errors());
    for i in 1001..=MAX_ROWS {
        text.push_str(&format!("S{i:05}\n"));
    }
    let s = load_csv(&text);
    assert_eq!(s.rows.len(), MAX_ROWS);
    assert_eq!(kinds(&s), vec![(IssueKind::TooManyRows, None)]);
}

#[test]
fn file_level_errors() {
    let e = load_bytes(
        "big.csv",
        vec![b'a'; 10 * 1024 * 1024 + 1],
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::TooLarge { .. }), "{e}");
    let e = load_bytes("empty.csv", Vec::new(), &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, LoadError::Empty { .. }), "{e}");
    let e = load_bytes(
        "x.csv",
        b"Name,MAC\nfoo,bar\n".to_vec(),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::NoHeader { .. }), "{e}");
    assert!(e.to_string().contains("Serial Number"), "{e}");
    let e = load_bytes("x.csv", b"Serial,MAC\n".to_vec(), &LoadOptions::default()).unwrap_err();
    assert!(matches!(e, LoadError::NoRows { header_row: 1, .. }), "{e}");
    let e = load_bytes(
        "x.xlsx",
        b"this is not a workbook".to_vec(),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::Unreadable { .. }), "{e}");
    let e = load_path(
        Path::new("/nonexistent/devices.xlsx"),
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::Io { .. }), "{e}");
    // A workbook with an unknown extension is sniffed.
    let s = load_bytes("download", messy_workbook(), &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet, "Site 4");
}

/// The template in `assets/` is what `template_bytes` writes, and the loader reads its own
/// headers. `GLP_WRITE_TEMPLATE=1` (or a missing file) rewrites the asset.
#[test]
fn template_asset() {
    let asset = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/assignment_template.xlsx");
    if std::env::var("GLP_WRITE_TEMPLATE").is_ok() || !asset.exists() {
        std::fs::create_dir_all(asset.parent().unwrap()).unwrap();
        glp_console::assign::template::write_template(&asset).unwrap();
    }
    for bytes in [template_bytes().unwrap(), std::fs::read(&asset).unwrap()] {
        let e = load_bytes(
            "assignment_template.xlsx",
            bytes.clone(),
            &LoadOptions::default(),
        )
        .unwrap_err();
        // Header only: the loader finds the Devices sheet and says rows are missing.
        assert!(
            matches!(&e, LoadError::NoRows { sheet, header_row: 1, .. } if sheet == "Devices"),
            "{e}"
        );
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        use calamine::Reader;
        assert_eq!(wb.sheet_names(), vec!["Instructions", "Devices"]);
        let r = wb.worksheet_range("Devices").unwrap();
        let headers: Vec<String> = r
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(headers, TEMPLATE_HEADERS);
    }
    // Every template header is recognised.
    for h in TEMPLATE_HEADERS {
        assert!(glp_console::assign::header::classify(h).is_some(), "{h}");
    }
}

// OpenDocument spreadsheets (.ods), written here as LibreOffice writes them: a zip whose
// first entry is an uncompressed `mimetype`, a manifest, and `content.xml` with repeated
// rows/cells (`number-rows-repeated`, `number-columns-repeated`) and merged cells (a spanned
// cell followed by `covered-table-cell`s).

const ODS_MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"#;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A workbook of `(sheet name, rows XML)`.
fn ods(sheets: &[(&str, String)]) -> Vec<u8> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let mut tables = String::new();
    for (name, rows) in sheets {
        tables.push_str(&format!(
            "<table:table table:name=\"{}\"><table:table-column table:number-columns-repeated=\"1024\"/>{rows}</table:table>",
            xml_escape(name)
        ));
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>{tables}</office:spreadsheet></office:body></office:document-content>"#
    );
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let deflated =
        SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    z.start_file("mimetype", stored).unwrap();
    z.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
        .unwrap();
    z.start_file("META-INF/manifest.xml", deflated).unwrap();
    z.write_all(ODS_MANIFEST.as_bytes()).unwrap();
    z.start_file("content.xml", deflated).unwrap();
    z.write_all(content.as_bytes()).unwrap();
    z.finish().unwrap().into_inner()
}

/// A text cell; `attrs` adds spans or repeats.
fn s_cell(text: &str, attrs: &str) -> String {
    format!(
        "<table:table-cell office:value-type=\"string\" {attrs}><text:p>{}</text:p></table:table-cell>",
        xml_escape(text)
    )
}

/// A number cell: `value` is what is stored, `shown` what the sheet displays.
fn f_cell(value: &str, shown: &str) -> String {
    format!(
        "<table:table-cell office:value-type=\"float\" office:value=\"{value}\"><text:p>{shown}</text:p></table:table-cell>"
    )
}

fn blank(n: u32) -> String {
    format!("<table:table-cell table:number-columns-repeated=\"{n}\"/>")
}

fn covered(n: u32) -> String {
    format!("<table:covered-table-cell table:number-columns-repeated=\"{n}\"/>")
}

/// A row; LibreOffice pads every row to the sheet width with one repeated empty cell.
fn ods_row(cells: &[String]) -> String {
    format!(
        "<table:table-row>{}{}</table:table-row>",
        cells.concat(),
        blank(1019)
    )
}

fn blank_rows(n: u32) -> String {
    format!(
        "<table:table-row table:number-rows-repeated=\"{n}\">{}</table:table-row>",
        blank(1024)
    )
}

/// The messy workbook again, as .ods: a notes sheet without a header first, a merged title,
/// a blank row, a two-row header with merged cells, a region merged over three rows, numbers
/// typed as serials (one displayed as 1.23457E+11), repeated blank rows, and the million
/// empty rows LibreOffice writes at the end.
fn messy_ods() -> Vec<u8> {
    let notes = ods_row(&[s_cell("nothing to see here", "")]) + &blank_rows(1_048_575);
    let site = [
        ods_row(&[
            s_cell("Devices for site 4", "table:number-columns-spanned=\"5\""),
            covered(4),
        ]),
        blank_rows(1),
        ods_row(&[
            s_cell("S/N", "table:number-rows-spanned=\"2\""),
            s_cell("MAC", "table:number-rows-spanned=\"2\""),
            s_cell("Notes", "table:number-rows-spanned=\"2\""),
            s_cell("Target", "table:number-columns-spanned=\"2\""),
            covered(1),
        ]),
        ods_row(&[covered(3), s_cell("Region", ""), s_cell("Tag: Site", "")]),
        ods_row(&[
            s_cell(" abc123 ", ""),
            s_cell("aabb.ccdd.eeff", ""),
            blank(1),
            s_cell("US West", "table:number-rows-spanned=\"3\""),
            s_cell("HQ", ""),
        ]),
        ods_row(&[blank(3), covered(1), blank(1)]),
        ods_row(&[
            f_cell("1234567", "1234567"),
            s_cell("AA-BB-CC-DD-EE-01", ""),
            blank(1),
            covered(1),
            s_cell("HQ", ""),
        ]),
        blank_rows(2),
        ods_row(&[
            f_cell("123456789012", "1.23457E+11"),
            s_cell("zz:zz:zz:zz:zz:zz", ""),
            blank(2),
            s_cell("<remove>", ""),
        ]),
        blank_rows(1_048_566),
    ]
    .concat();
    ods(&[("Notes", notes), ("Site 4", site)])
}

#[test]
fn messy_ods_multiple_sheets_titles_merged_headers_numbers() {
    let path = tmp("messy.ods");
    std::fs::write(&path, messy_ods()).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    assert_eq!(s.file, "messy.ods");
    assert_eq!(s.sheet, "Site 4", "the first sheet with a header is chosen");
    assert_eq!(s.sheet_names, vec!["Notes", "Site 4"]);
    assert_eq!(
        (s.header.first_row, s.header.last_row),
        (2, 3),
        "the merged cells make rows 3-4 one header"
    );
    assert_eq!(s.header.column(&Field::Serial).unwrap().index, 0);
    assert_eq!(s.header.column(&Field::Region).unwrap().index, 3);
    assert_eq!(
        s.header.column(&Field::Tag("Site".into())).unwrap().index,
        4
    );
    let rows: Vec<(u32, &str)> = s.rows.iter().map(|r| (r.row, r.serial.as_str())).collect();
    assert_eq!(
        rows,
        vec![(5, "ABC123"), (6, ""), (7, "1234567"), (10, "123456789012")],
        "numbers keep every digit and no \".0\"; blank rows keep the numbering"
    );
    assert_eq!(s.rows[0].mac.as_deref(), Some("AA:BB:CC:DD:EE:FF"));
    assert_eq!(s.rows[2].mac.as_deref(), Some("AA:BB:CC:DD:EE:01"));
    for i in 0..3 {
        assert_eq!(
            s.rows[i].region.as_deref(),
            Some("us-west"),
            "the merged region fills rows 5-7 (row {})",
            s.rows[i].row
        );
    }
    assert_eq!(s.rows[3].region, None);
    assert_eq!(s.rows[0].tags.get("Site"), Some(&Some("HQ".to_string())));
    assert_eq!(s.rows[3].tags.get("Site"), Some(&None), "<remove>");
    assert_eq!(
        kinds(&s),
        vec![
            (IssueKind::EmptySerial, Some(6)),
            (IssueKind::MalformedMac, Some(10))
        ]
    );
    let empty = s.issues[0].to_string();
    assert!(
        empty.contains("sheet \"Site 4\", row 6, column A (\"S/N\")"),
        "{empty}"
    );
    let mac = s.issues[1].to_string();
    assert!(
        mac.contains("sheet \"Site 4\", row 10, column B (\"MAC\")") && mac.contains("zz:zz"),
        "{mac}"
    );
    assert_eq!(s.valid_rows().len(), 2);
    // The same bytes under a name without an extension are recognised as .ods.
    let s = load_bytes("download", messy_ods(), &LoadOptions::default()).unwrap();
    assert_eq!((s.sheet.as_str(), s.rows.len()), ("Site 4", 4));
}

#[test]
fn ods_sheet_choice_repeated_rows_and_cells() {
    let sheet = |serial: &str| {
        [
            ods_row(&[
                s_cell("Serial Number", ""),
                s_cell("tag:a", ""),
                s_cell("tag:b", ""),
            ]),
            // One row written once for two sheet rows, one value for two cells.
            format!(
                "<table:table-row table:number-rows-repeated=\"2\">{}{}{}</table:table-row>",
                s_cell(serial, ""),
                s_cell("x", "table:number-columns-repeated=\"2\""),
                blank(1021)
            ),
            ods_row(&[s_cell(&format!("{serial}-2"), "")]),
        ]
        .concat()
    };
    let bytes = ods(&[("One", sheet("AAA1")), ("R&D", sheet("BBB2"))]);
    let s = load_bytes("choice.ods", bytes.clone(), &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet, "One");
    assert_eq!(s.sheet_names, vec!["One", "R&D"]);
    let s = load_bytes(
        "choice.ods",
        bytes.clone(),
        &LoadOptions {
            sheet: Some("r&d".into()),
        },
    )
    .unwrap();
    assert_eq!(s.sheet, "R&D");
    let rows: Vec<(u32, &str)> = s.rows.iter().map(|r| (r.row, r.serial.as_str())).collect();
    assert_eq!(rows, vec![(2, "BBB2"), (3, "BBB2"), (4, "BBB2-2")]);
    for r in &s.rows[..2] {
        assert_eq!(r.tags.get("a"), Some(&Some("x".to_string())));
        assert_eq!(r.tags.get("b"), Some(&Some("x".to_string())));
    }
    assert!(s.rows[2].tags.is_empty());
    assert_eq!(kinds(&s), vec![(IssueKind::DuplicateSerial, Some(3))]);
    let dup = s.issues[0].to_string();
    assert!(
        dup.contains("sheet \"R&D\", row 3") && dup.contains("row 2"),
        "{dup}"
    );
    let e = load_bytes(
        "choice.ods",
        bytes,
        &LoadOptions {
            sheet: Some("Three".into()),
        },
    )
    .unwrap_err();
    assert!(matches!(e, LoadError::SheetNotFound { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("choice.ods has no sheet named \"Three\"; its sheets are: One, R&D"),
        "{e}"
    );
}

/// Broken binary workbooks: the error names the file and the format, and says what to do.
#[test]
fn corrupt_xls_xlsb_and_ods_are_reported_by_name() {
    // An .xls starts with the compound-file signature; an .xlsb and an .ods are zips.
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend(std::iter::repeat_n(0x42, 1000));
    let mut truncated_ods = messy_ods();
    truncated_ods.truncate(truncated_ods.len() / 2);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("old-export.xls", xls, "Excel 97-2003 (.xls)"),
        (
            "report.xlsb",
            b"PK\x03\x04 not really a zip".to_vec(),
            "Excel binary (.xlsb)",
        ),
        ("binary.xlsb", messy_ods(), "Excel binary (.xlsb)"),
        ("cut.ods", truncated_ods, "OpenDocument (.ods)"),
    ];
    for (name, bytes, kind) in cases {
        let path = tmp(name);
        std::fs::write(&path, bytes).unwrap();
        let e = load_path(&path, &LoadOptions::default()).unwrap_err();
        assert!(matches!(e, LoadError::Unreadable { .. }), "{name}: {e}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("{name} is not a readable {kind} file (")),
            "{msg}"
        );
        assert!(
            msg.ends_with("open it in your spreadsheet program and save it again"),
            "{msg}"
        );
    }
}

// Legacy Excel 97-2003 (.xls): a BIFF8 workbook stream in a compound file, built by hand
// (no writer for the format is in the tree). Only the records a reader needs: BOF,
// BoundSheet8, EOF in the globals; BOF, Label, Number, MergeCells, EOF per sheet.

/// A cell of a hand-built .xls sheet.
enum XlsCell {
    Text(&'static str),
    Number(f64),
}

fn biff(out: &mut Vec<u8>, typ: u16, data: &[u8]) {
    out.extend_from_slice(&typ.to_le_bytes());
    out.extend_from_slice(&(data.len() as u16).to_le_bytes());
    out.extend_from_slice(data);
}

fn biff_bof(out: &mut Vec<u8>, substream: u16) {
    let mut d = Vec::new();
    for v in [0x0600u16, substream, 0x0DBB, 0x07CC] {
        d.extend_from_slice(&v.to_le_bytes());
    }
    d.extend_from_slice(&0u32.to_le_bytes());
    d.extend_from_slice(&6u32.to_le_bytes());
    biff(out, 0x0809, &d);
}

/// The `Workbook` stream: sheets of `(name, cells by (row, col), merges as
/// (first row, last row, first col, last col))`, all 0-based.
type XlsSheet = (
    &'static str,
    Vec<((u16, u16), XlsCell)>,
    Vec<(u16, u16, u16, u16)>,
);

fn biff8_workbook(sheets: &[XlsSheet]) -> Vec<u8> {
    // Sheet substreams first, to know where each starts.
    let mut bodies = Vec::new();
    for (_, cells, merges) in sheets {
        let mut s = Vec::new();
        biff_bof(&mut s, 0x0010);
        for ((row, col), cell) in cells {
            let mut d = Vec::new();
            for v in [*row, *col, 0] {
                d.extend_from_slice(&v.to_le_bytes());
            }
            match cell {
                XlsCell::Text(t) => {
                    d.extend_from_slice(&(t.len() as u16).to_le_bytes());
                    d.push(0); // 8-bit characters
                    d.extend_from_slice(t.as_bytes());
                    biff(&mut s, 0x0204, &d);
                }
                XlsCell::Number(n) => {
                    d.extend_from_slice(&n.to_le_bytes());
                    biff(&mut s, 0x0203, &d);
                }
            }
        }
        if !merges.is_empty() {
            let mut d = (merges.len() as u16).to_le_bytes().to_vec();
            for (r0, r1, c0, c1) in merges {
                for v in [*r0, *r1, *c0, *c1] {
                    d.extend_from_slice(&v.to_le_bytes());
                }
            }
            biff(&mut s, 0x00E5, &d);
        }
        biff(&mut s, 0x000A, &[]);
        bodies.push(s);
    }
    let globals_len: usize = 20
        + sheets
            .iter()
            .map(|(n, _, _)| 4 + 8 + n.len())
            .sum::<usize>()
        + 4;
    let mut out = Vec::new();
    biff_bof(&mut out, 0x0005);
    let mut pos = globals_len;
    for ((name, _, _), body) in sheets.iter().zip(&bodies) {
        let mut d = (pos as u32).to_le_bytes().to_vec();
        d.extend_from_slice(&[0, 0, name.len() as u8, 0]);
        d.extend_from_slice(name.as_bytes());
        biff(&mut out, 0x0085, &d);
        pos += body.len();
    }
    biff(&mut out, 0x000A, &[]);
    assert_eq!(out.len(), globals_len);
    for b in bodies {
        out.extend(b);
    }
    out
}

/// A compound file (version 3, 512-byte sectors) holding one stream, `Workbook`: header,
/// one FAT sector, one directory sector, then the stream (padded to 4096 bytes so it lives
/// in regular sectors, not the mini stream).
fn compound_file(mut stream: Vec<u8>) -> Vec<u8> {
    const FREE: u32 = 0xFFFF_FFFF;
    const END: u32 = 0xFFFF_FFFE;
    const FATSECT: u32 = 0xFFFF_FFFD;
    let padded = stream.len().max(4096).div_ceil(512) * 512;
    stream.resize(padded, 0);
    let sectors = (padded / 512) as u32;
    assert!(sectors + 2 <= 128, "one FAT sector is enough");
    let u16le = |v: u16| v.to_le_bytes();
    let u32le = |v: u32| v.to_le_bytes();
    let mut header = Vec::with_capacity(512);
    header.extend_from_slice(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    header.extend_from_slice(&[0; 16]); // CLSID
    header.extend_from_slice(&u16le(0x003E)); // minor version
    header.extend_from_slice(&u16le(0x0003)); // major version 3
    header.extend_from_slice(&u16le(0xFFFE)); // little-endian
    header.extend_from_slice(&u16le(9)); // 512-byte sectors
    header.extend_from_slice(&u16le(6)); // 64-byte mini sectors
    header.extend_from_slice(&[0; 6]);
    header.extend_from_slice(&u32le(0)); // directory sectors (0 in version 3)
    header.extend_from_slice(&u32le(1)); // FAT sectors
    header.extend_from_slice(&u32le(1)); // first directory sector
    header.extend_from_slice(&u32le(0)); // transaction signature
    header.extend_from_slice(&u32le(4096)); // mini stream cutoff
    header.extend_from_slice(&u32le(END)); // first mini FAT sector
    header.extend_from_slice(&u32le(0)); // mini FAT sectors
    header.extend_from_slice(&u32le(END)); // first DIFAT sector
    header.extend_from_slice(&u32le(0)); // DIFAT sectors
    header.extend_from_slice(&u32le(0)); // DIFAT[0]: the FAT is sector 0
    while header.len() < 512 {
        header.extend_from_slice(&u32le(FREE));
    }
    // FAT: sector 0 is the FAT, 1 the directory, 2.. the stream's chain.
    let mut fat = vec![FATSECT, END];
    for i in 0..sectors {
        fat.push(if i + 1 == sectors { END } else { 3 + i });
    }
    fat.resize(128, FREE);
    let fat: Vec<u8> = fat.into_iter().flat_map(u32::to_le_bytes).collect();
    let entry = |name: &str, typ: u8, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        e[..utf16.len()].copy_from_slice(&utf16);
        if !name.is_empty() {
            e[64..66].copy_from_slice(&u16le(utf16.len() as u16 + 2));
            e[67] = 1; // black
        }
        e[66] = typ;
        e[68..72].copy_from_slice(&u32le(FREE)); // no left sibling
        e[72..76].copy_from_slice(&u32le(FREE)); // no right sibling
        e[76..80].copy_from_slice(&u32le(child));
        e[116..120].copy_from_slice(&u32le(start));
        e[120..124].copy_from_slice(&u32le(size));
        e
    };
    let mut dir = entry("Root Entry", 5, 1, END, 0);
    dir.extend(entry("Workbook", 2, FREE, 2, padded as u32));
    dir.extend(entry("", 0, FREE, 0, 0));
    dir.extend(entry("", 0, FREE, 0, 0));
    [header, fat, dir, stream].concat()
}

#[test]
fn legacy_xls_sheets_title_merged_header_numbers() {
    use XlsCell::{Number, Text};
    let notes: XlsSheet = ("Notes", vec![((0, 0), Text("see the other sheet"))], vec![]);
    let devices: XlsSheet = (
        "Devices",
        vec![
            ((0, 0), Text("Export 2024-05")),
            // Rows 3-4: "Serial" and "MAC" merged down, "Target" over D3:E3.
            ((2, 0), Text("Serial")),
            ((2, 1), Text("MAC")),
            ((2, 3), Text("Target")),
            ((3, 3), Text("Region")),
            ((3, 4), Text("tag:Site")),
            ((4, 0), Number(1234567.0)),
            ((4, 1), Text("aa-bb-cc-dd-ee-ff")),
            ((4, 3), Text("EU Central")),
            ((4, 4), Text("Lab")),
            ((6, 0), Text("cn12345678")),
            ((6, 1), Text("bad mac")),
        ],
        vec![
            (0, 0, 0, 4),
            (2, 3, 0, 0),
            (2, 3, 1, 1),
            (2, 2, 3, 4),
            (4, 6, 3, 3),
        ],
    );
    let bytes = compound_file(biff8_workbook(&[notes, devices]));
    let path = tmp("legacy.xls");
    std::fs::write(&path, &bytes).unwrap();
    let s = load_path(&path, &LoadOptions::default()).unwrap();
    assert_eq!(s.sheet_names, vec!["Notes", "Devices"]);
    assert_eq!(s.sheet, "Devices");
    assert_eq!((s.header.first_row, s.header.last_row), (2, 3));
    assert_eq!(s.header.column(&Field::Region).unwrap().index, 3);
    let rows: Vec<(u32, &str)> = s.rows.iter().map(|r| (r.row, r.serial.as_str())).collect();
    // Row 6 holds only the merged region.
    assert_eq!(rows, vec![(5, "1234567"), (6, ""), (7, "CN12345678")]);
    assert_eq!(s.rows[0].mac.as_deref(), Some("AA:BB:CC:DD:EE:FF"));
    assert_eq!(s.rows[0].tags.get("Site"), Some(&Some("Lab".to_string())));
    assert_eq!(
        s.rows[2].region.as_deref(),
        Some("eu-central"),
        "merged down"
    );
    assert_eq!(
        kinds(&s),
        vec![
            (IssueKind::EmptySerial, Some(6)),
            (IssueKind::MalformedMac, Some(7))
        ]
    );
    let msg = s.issues[1].to_string();
    assert!(
        msg.contains("sheet \"Devices\", row 7, column B (\"MAC\")"),
        "{msg}"
    );
    // The compound-file signature is enough without an extension.
    let s = load_bytes("attachment", bytes, &LoadOptions::default()).unwrap();
    assert_eq!(s.rows.len(), 3);
}
