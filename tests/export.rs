//! `glp-console export` and the console's `:export`: every format's file is read back with an
//! independent parser (serde_json, csv, calamine) and compared with what the database holds;
//! the format follows the file name, a contradiction is refused, and a failed export leaves
//! no file behind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use calamine::{DataType, Reader};
use common::{TestDb, TestDir};
use glp_console::sim::{self, SimConfig};
use sqlx::Row;

fn config_file(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api]\nmax_concurrency = 2\n[api.page_size]\ndevices = 100\nsubscriptions = 50\n\
         [api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .unwrap();
    path
}

fn command(db: &TestDb, dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    c.arg("--config")
        .arg(config_file(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .env("DATABASE_URL", &db.url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

async fn run(cmd: &mut Command) -> Output {
    let child = cmd.spawn().unwrap();
    tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database synced from the simulator, with a few devices marked removed (exports keep them
/// in the flat formats, leave them out of the JSON of API items).
async fn synced(dir: &Path) -> TestDb {
    glp_console::tls::init();
    let db = TestDb::new().await;
    let sim = sim::start(SimConfig {
        devices: 300,
        subscriptions: 30,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let out = run(command(&db, dir)
        .arg("--sync-only")
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret()))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sim.shutdown().await;
    sqlx::query(
        "UPDATE devices SET removed_at = now() WHERE id IN \
         (SELECT id FROM devices ORDER BY id LIMIT 7)",
    )
    .execute(db.store.pool())
    .await
    .unwrap();
    db
}

fn opt(row: &sqlx::postgres::PgRow, col: &str) -> String {
    row.get::<Option<String>, _>(col).unwrap_or_default()
}

/// No `<file>.part` or other stray file next to the outputs.
fn assert_no_part_files(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".part"), "left behind: {name}");
    }
}

#[tokio::test]
async fn every_format_reads_back_as_the_database_rows() {
    let dir = TestDir::new("glpc-export-");
    let db = synced(&dir).await;
    let pool = db.store.pool();

    // JSON (from the extension): the stored API items of the devices not removed, in order.
    let json = dir.join("devices.json");
    let out = run(command(&db, &dir)
        .args(["export", "devices", "-o"])
        .arg(&json))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let items: Vec<serde_json::Value> =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).expect("the .json file is JSON");
    let stored: Vec<serde_json::Value> = sqlx::query_scalar(
        "SELECT raw_data FROM devices WHERE removed_at IS NULL ORDER BY serial_number, id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(items.len(), 293);
    assert_eq!(items, stored);

    // CSV (from the extension): every device, removed ones marked, field by field.
    let csv_path = dir.join("devices.csv");
    let out = run(command(&db, &dir)
        .args(["export", "devices", "-o"])
        .arg(&csv_path))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let rows = sqlx::query(
        "SELECT id, serial_number, mac_address, device_type, model, region, archived, \
           removed_at IS NOT NULL AS removed \
         FROM devices ORDER BY serial_number, id",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(records.len(), 300);
    assert_eq!(records.len(), rows.len());
    for (rec, row) in records.iter().zip(&rows) {
        assert_eq!(&rec[col("id")], row.get::<String, _>("id"));
        assert_eq!(
            &rec[col("serial_number")],
            row.get::<String, _>("serial_number")
        );
        assert_eq!(&rec[col("mac_address")], opt(row, "mac_address"));
        assert_eq!(&rec[col("device_type")], opt(row, "device_type"));
        assert_eq!(&rec[col("model")], opt(row, "model"));
        assert_eq!(&rec[col("region")], opt(row, "region"));
        assert_eq!(
            &rec[col("archived")],
            row.get::<bool, _>("archived").to_string()
        );
        assert_eq!(
            rec[col("removed_at")].is_empty(),
            !row.get::<bool, _>("removed")
        );
    }

    // XLSX: subscriptions, numbers as numbers, the device counts as the link table has them.
    let xlsx = dir.join("subs.xlsx");
    let out = run(command(&db, &dir)
        .args(["export", "subscriptions", "-o"])
        .arg(&xlsx))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut book = calamine::open_workbook_auto(&xlsx).expect("a real xlsx");
    let range = book.worksheet_range("Subscriptions").unwrap();
    let sheet: Vec<Vec<calamine::Data>> = range.rows().map(|r| r.to_vec()).collect();
    let head: Vec<String> = sheet[0].iter().map(|c| c.to_string()).collect();
    let at = |name: &str| head.iter().position(|h| h == name).unwrap();
    let subs = sqlx::query(
        "SELECT s.id, s.key, s.quantity, \
           (SELECT count(*) FROM device_subscriptions ds WHERE ds.subscription_id = s.id) AS devices \
         FROM subscriptions s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(sheet.len() - 1, subs.len());
    assert_eq!(subs.len(), 30);
    let by_id: BTreeMap<String, &sqlx::postgres::PgRow> =
        subs.iter().map(|r| (r.get::<String, _>("id"), r)).collect();
    for cells in &sheet[1..] {
        let row = by_id[&cells[at("Id")].to_string()];
        assert_eq!(cells[at("Key")].to_string(), opt(row, "key"));
        assert_eq!(
            cells[at("Quantity")].get_float(),
            row.get::<Option<i64>, _>("quantity").map(|q| q as f64)
        );
        assert_eq!(
            cells[at("Devices")].get_float(),
            Some(row.get::<i64, _>("devices") as f64)
        );
    }

    // XLSX of devices: serials stay text (no 0012 → 12), one row per stored device.
    let xlsx = dir.join("devices.xlsx");
    let out = run(command(&db, &dir)
        .args(["export", "devices", "--format", "xlsx", "-o"])
        .arg(&xlsx))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut book = calamine::open_workbook_auto(&xlsx).unwrap();
    let range = book.worksheet_range("Devices").unwrap();
    let serials: Vec<String> = range.rows().skip(1).map(|r| r[0].to_string()).collect();
    let stored: Vec<String> =
        sqlx::query_scalar("SELECT serial_number FROM devices ORDER BY serial_number, id")
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(serials, stored);
    assert!(
        range
            .rows()
            .skip(1)
            .all(|r| matches!(r[0], calamine::Data::String(_)))
    );

    // No -o and no --format: CSV on stdout, the same rows.
    let out = run(command(&db, &dir).args(["export", "subscriptions"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let mut reader = csv::Reader::from_reader(&out.stdout[..]);
    assert_eq!(reader.records().count(), 30);
    assert_no_part_files(&dir);
}

#[tokio::test]
async fn a_contradicting_or_failing_export_is_refused_and_leaves_no_file() {
    let dir = TestDir::new("glpc-export-");
    let db = synced(&dir).await;

    // The file says JSON, the flag says CSV: refused before anything is written.
    let json = dir.join("d.json");
    let out = run(command(&db, &dir)
        .args(["export", "devices", "--format", "csv", "-o"])
        .arg(&json))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("d.json: the file name says json but --format says csv"),
        "{stderr}"
    );
    assert!(!json.exists());

    // An earlier export of that name is kept untouched by a refused one.
    std::fs::write(&json, "[]\n").unwrap();
    let out = run(command(&db, &dir)
        .args(["export", "devices", "--format", "xlsx", "-o"])
        .arg(&json))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "[]\n");

    // A name that says no format, and no flag: refused, naming the file.
    let bare = dir.join("devices.out");
    let out = run(command(&db, &dir)
        .args(["export", "devices", "-o"])
        .arg(&bare))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot tell the format"),
        "{}",
        text(&out)
    );
    assert!(!bare.exists());
    // …which --format settles.
    let out = run(command(&db, &dir)
        .args(["export", "devices", "--format", "csv", "-o"])
        .arg(&bare))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        csv::Reader::from_path(&bare).unwrap().records().count(),
        300
    );

    // The export is written but cannot be put in place (a directory has the name): the
    // error names the file and the written part is removed.
    let blocked = dir.join("blocked.csv");
    std::fs::create_dir(&blocked).unwrap();
    std::fs::write(blocked.join("keep"), "x").unwrap();
    let out = run(command(&db, &dir)
        .args(["export", "devices", "-o"])
        .arg(&blocked))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("blocked.csv"),
        "{}",
        text(&out)
    );
    assert!(blocked.join("keep").exists());

    // A directory that does not exist.
    let out = run(command(&db, &dir)
        .args(["export", "devices", "-o"])
        .arg(dir.join("no/such/dir/d.xlsx")))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // xlsx cannot go to the terminal.
    let out = run(command(&db, &dir).args(["export", "devices", "--format", "xlsx"])).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(out.stdout.is_empty());
    assert_no_part_files(&dir);
}

/// The console's `:export FILE`: the rows and columns it shows, loaded from the database as
/// the console loads them, written by the same code in the file's format.
#[tokio::test]
async fn console_export_writes_the_format_its_file_name_says() {
    use glp_console::tui::app::{App, Effect, Loaded};
    let dir = TestDir::new("glpc-export-");
    let db = synced(&dir).await;
    let now = chrono::Utc::now();
    let loaded = std::sync::Mutex::new(Vec::new());
    glp_console::tui::run::load_all(&db.store, now, &|l| loaded.lock().unwrap().push(l))
        .await
        .unwrap();
    let mut app = App::new(&glp_console::config::UiConfig::default(), false, true, now);
    for l in loaded.into_inner().unwrap() {
        app.on_loaded(l);
    }
    // The Devices tab lists removed devices too (marked), so the export has every one.
    let shown: Vec<String> =
        sqlx::query_scalar("SELECT serial_number FROM devices ORDER BY serial_number")
            .fetch_all(db.store.pool())
            .await
            .unwrap();

    let export = |app: &mut App, file: &Path| {
        app.run_command(&format!("export {}", file.display()));
        let fx = app.take_effects();
        let Some(Effect::Export {
            path, header, rows, ..
        }) = fx.into_iter().find(|e| matches!(e, Effect::Export { .. }))
        else {
            panic!(":export produced no export");
        };
        let msg = glp_console::tui::run::export_table(&path, &header, &rows).unwrap();
        app.on_loaded(Loaded::Exported(Ok(msg.clone())));
        (header, msg)
    };

    let xlsx = dir.join("x.xlsx");
    let (header, msg) = export(&mut app, &xlsx);
    assert!(
        msg.contains(&format!("exported {} rows", shown.len())),
        "{msg}"
    );
    let mut book = calamine::open_workbook_auto(&xlsx).expect(":export x.xlsx writes a real xlsx");
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let head: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(head, header);
    let serial_col = head
        .iter()
        .position(|h| h.to_lowercase().contains("serial"))
        .unwrap();
    let mut serials: Vec<String> = sheet
        .rows()
        .skip(1)
        .map(|r| r[serial_col].to_string())
        .collect();
    serials.sort();
    assert_eq!(serials, shown);

    let json = dir.join("x.json");
    export(&mut app, &json);
    let items: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&std::fs::read(&json).unwrap()).expect(":export x.json writes JSON");
    let mut serials: Vec<String> = items
        .iter()
        .map(|o| o[&head[serial_col]].as_str().unwrap().to_string())
        .collect();
    serials.sort();
    assert_eq!(serials, shown);

    let csv_path = dir.join("x.csv");
    export(&mut app, &csv_path);
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(r.headers().unwrap().iter().collect::<Vec<_>>(), head);
    assert_eq!(r.records().count(), shown.len());

    // A name without a known extension is refused with a message, and writes nothing.
    app.run_command(&format!("export {}", dir.join("x.txt").display()));
    let fx = app.take_effects();
    let Some(Effect::Export {
        path, header, rows, ..
    }) = fx.into_iter().find(|e| matches!(e, Effect::Export { .. }))
    else {
        panic!(":export produced no export");
    };
    let err = glp_console::tui::run::export_table(&path, &header, &rows).unwrap_err();
    assert!(err.contains("cannot tell the format"), "{err}");
    assert!(!dir.join("x.txt").exists());
    assert_no_part_files(&dir);
}
