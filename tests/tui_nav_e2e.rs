//! The real binary in tmux, in an interactive shell with job control (issue 14, item 10):
//! Ctrl-Z gives the shell back and `fg` brings the console back, redrawn; `:export ~/x.xlsx`
//! writes a real workbook in the home directory with the database's rows, says its full
//! path, and asks before replacing it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share)"
)]

mod common;

use calamine::Reader;
use common::tmux::Tmux;

#[test]
fn ctrl_z_suspends_and_fg_redraws_and_export_writes_xlsx_in_home() {
    glp_console::tls::init();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(glp_console::sim::start(glp_console::sim::SimConfig {
            devices: 200,
            subscriptions: 20,
            ..glp_console::sim::SimConfig::default()
        }))
        .unwrap();
    let db = rt.block_on(common::TestDb::new());
    let dir = common::TestDir::new("glpc-nav-");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let config = common::sim::seed_with_sync_only(&sim, &db.url, &dir);
    let bin = env!("CARGO_BIN_EXE_glp-console");

    // An interactive shell, so a stopped job gives its prompt back and `fg` continues it.
    let t = Tmux::start_in("bash --norc --noprofile -i", &dir, "nav");
    t.wait_for("the shell", 10, |s| s.contains('$') || s.contains('#'));
    t.literal(&format!(
        "HOME={home} DATABASE_URL={url} {bin} --read-only --config {config} --log-dir {logs}",
        home = home.display(),
        url = db.url,
        config = config.display(),
        logs = dir.join("logs").display(),
    ));
    t.keys(&["Enter"]);
    t.wait_for("the console", 30, |s| s.contains("[1 Devices 200"));

    t.keys(&["C-z"]);
    let s = t.wait_for("the shell after Ctrl-Z", 10, |s| s.contains("Stopped"));
    assert!(
        !s.contains("[1 Devices"),
        "the console's screen is gone: {s}"
    );
    t.literal("fg");
    t.keys(&["Enter"]);
    t.wait_for("the console redrawn after fg", 10, |s| {
        s.contains("[1 Devices 200") && s.contains("row 1 of 200 rows") && !s.contains("Stopped")
    });
    // And it still takes keys.
    t.keys(&["2"]);
    t.wait_for("the Subscriptions tab", 10, |s| {
        s.contains("[2 Subscriptions 20")
    });
    t.keys(&["1"]);
    t.wait_for("back on Devices", 10, |s| s.contains("[1 Devices"));

    // :export ~/x.xlsx: in the home directory, a real workbook, the full path said.
    let xlsx = home.join("x.xlsx");
    t.keys(&[":"]);
    t.literal("export ~/x.xlsx");
    t.keys(&["Enter"]);
    let full = xlsx.display().to_string();
    t.wait_for("the export message with the full path", 20, |s| {
        s.contains("exported 200 rows to") && s.contains(&full[..full.len().min(40)])
    });
    let serials = |path: &std::path::Path| -> Vec<String> {
        let mut book = calamine::open_workbook_auto(path).expect("a real xlsx");
        let sheet = book.worksheet_range_at(0).unwrap().unwrap();
        let head: Vec<String> = sheet
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        let col = head.iter().position(|h| h == "Serial").unwrap();
        let mut v: Vec<String> = sheet.rows().skip(1).map(|r| r[col].to_string()).collect();
        v.sort();
        v
    };
    let mut want: Vec<String> = rt
        .block_on(
            sqlx::query_scalar("SELECT serial_number FROM devices").fetch_all(db.store.pool()),
        )
        .unwrap();
    want.sort();
    assert_eq!(serials(&xlsx), want);

    // Again: asked first; no keeps the file, yes replaces it.
    std::fs::write(&xlsx, b"not a workbook").unwrap();
    t.keys(&[":"]);
    t.literal("export ~/x.xlsx");
    t.keys(&["Enter"]);
    t.wait_for("the overwrite question", 20, |s| {
        s.contains("exists: replace it?")
    });
    t.keys(&["n"]);
    t.wait_for("the answer no", 10, |s| s.contains("not exported"));
    assert_eq!(std::fs::read(&xlsx).unwrap(), b"not a workbook");
    t.keys(&[":"]);
    t.literal("export ~/x.xlsx");
    t.keys(&["Enter"]);
    t.wait_for("the overwrite question again", 20, |s| {
        s.contains("exists: replace it?")
    });
    t.keys(&["y"]);
    t.wait_for("the export after yes", 20, |s| {
        s.lines()
            .filter(|l| l.contains("exported 200 rows"))
            .count()
            >= 1
            && !s.contains("replace it?")
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::read(&xlsx).unwrap() == b"not a workbook" {
        assert!(
            std::time::Instant::now() < deadline,
            "the file was not replaced"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(serials(&xlsx), want);

    t.keys(&["q"]);
    t.wait_for("the console to exit", 20, |s| !s.contains("[1 Devices"));
    // `$?` after `fg` is the job's exit status.
    t.literal("echo EXIT=$?");
    t.keys(&["Enter"]);
    let s = t.wait_for("the exit status", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    drop(t);
    rt.block_on(sim.shutdown());
    drop(db);
}
