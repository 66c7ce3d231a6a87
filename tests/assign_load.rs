//! Loading, header detection, normalisation and the file-level validation rules of the
//! bulk-assignment wizard, against the shared sample and files generated here.

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
