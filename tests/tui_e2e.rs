//! End to end in a real terminal: tmux runs the real binary in `--demo`; keys go in with
//! `send-keys`, the screen comes back with `capture-pane`. Switch tabs, filter, sort, open a
//! detail pane, sync with `s` and watch progress then completion, quit — and check the
//! terminal was restored (the shell's `stty` shows canonical mode and echo again).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use common::demo::{DropDemoDb, demo_count, demo_env, demo_serials};
use common::tmux::{PATIENCE, Tmux};
use std::process::Command;
use std::time::{Duration, Instant};

/// Rows the table shows: "10,000 rows", or "1 of 10,000" while filtered.
fn rows_shown(screen: &str) -> Option<u64> {
    let line = screen.lines().nth(1)?.trim_end();
    let num = |s: &str| s.replace(',', "").parse::<u64>().ok();
    if let Some(before) = line.strip_suffix(" rows") {
        return num(before.rsplit(' ').next()?);
    }
    let (head, _total) = line.rsplit_once(" of ")?;
    num(head.rsplit(' ').next()?)
}

#[test]
fn demo_in_tmux_tabs_filter_sort_detail_sync_quit() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    // Removed when the test ends (after the tmux session, which is dropped first).
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let stty = dir.join("stty.txt");
    // After the console exits the shell records the terminal state, then idles so the pane
    // stays readable.
    let cmd = format!(
        "{env} {bin} --demo --log-dir {logs}; echo EXIT=$?; stty -a > {stty}; sleep 120",
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
        stty = stty.display()
    );
    let t = Tmux::start(&format!("sh -c '{cmd}'"));

    // The first sync runs while we watch: progress, then the full table.
    let s = t.wait_for("the demo to finish its first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    assert_eq!(rows_shown(&s), Some(10_000), "{s}");
    assert!(s.contains("by type: "), "breakdown line: {s}");

    // Tabs.
    t.keys(&["2"]);
    t.wait_for("the Subscriptions tab", 10, |s| {
        s.lines().nth(2).is_some_and(|l| l.contains("Key"))
    });
    t.keys(&["3"]);
    t.wait_for("the Expiring tab", 10, |s| s.contains("[3 Expiring"));
    t.keys(&["Tab"]);
    t.wait_for("Tab to the Assign tab", 10, |s| s.contains("[4 Assign"));
    t.keys(&["1"]);
    let s = t.wait_for("back on Devices", 10, |s| s.contains("[1 Devices"));

    // Filter on the first row's serial: fewer rows, and the chip shows the query.
    let serial: String = s
        .lines()
        .nth(3)
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    t.keys(&["/"]);
    t.literal(&serial);
    let s = t.wait_for("the filter to narrow the table", 10, |s| {
        rows_shown(s).is_some_and(|n| n < 10_000) && s.contains(&serial)
    });
    assert!(s.lines().nth(3).unwrap().contains(&serial), "{s}");
    t.keys(&["Enter"]);
    t.keys(&["Escape"]);
    t.wait_for("Esc to clear the filter", 10, |s| {
        rows_shown(s) == Some(10_000)
    });

    // Anchors apply per cell with smart case, and a column can be named: the counts on screen
    // are the database's (issue 14: `^VNT` showed 464 of 1 067).
    let vnt = demo_count("SELECT count(*) FROM devices WHERE serial_number LIKE 'VNT%'");
    let switches = demo_count("SELECT count(*) FROM devices WHERE device_type = 'SWITCH'");
    assert!(
        vnt > 0 && switches > 0,
        "the demo data has VNT serials and switches"
    );
    for (query, want) in [("^VNT", vnt), ("^vnt", vnt), ("type:switch", switches)] {
        t.keys(&["/"]);
        t.literal(query);
        t.keys(&["Enter"]);
        let s = t.wait_for(&format!("`/{query}` to show {want} rows"), 20, |s| {
            rows_shown(s) == Some(want) && s.contains(query)
        });
        assert!(s.contains(" of 10,000"), "{s}");
        t.keys(&["Escape"]);
        t.wait_for("Esc to clear the filter", 10, |s| {
            rows_shown(s) == Some(10_000)
        });
    }

    // Sort by the next column: the header shows the indicator.
    t.keys(&["o"]);
    t.wait_for("a sort indicator", 10, |s| {
        s.lines()
            .nth(2)
            .is_some_and(|l| l.contains('▲') || l.contains('▼'))
    });

    // Detail pane, and back.
    t.keys(&["Enter"]);
    t.wait_for("the detail pane", 10, |s| s.contains("All fields"));
    t.keys(&["Escape"]);
    t.wait_for("the detail pane to close", 10, |s| {
        !s.contains("All fields")
    });

    // Sync now: progress shows, then completion.
    t.keys(&["S"]);
    t.wait_for("sync progress", 30, |s| s.contains('⟳'));
    t.wait_for("sync completion", 90, |s| {
        s.contains("✓ synced") && !s.contains('⟳')
    });

    // Quit; the terminal is restored.
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    assert!(!s.contains("[1 Devices"), "alternate screen left: {s}");
    assert_restored(&stty);
}

/// The terminal modes a restored terminal shows again.
fn assert_restored(stty: &std::path::Path) {
    // The shell creates the file before `stty -a` has written to it: wait for its content.
    let deadline = Instant::now() + Duration::from_secs(10 * PATIENCE);
    let mut modes = String::new();
    while Instant::now() < deadline {
        modes = std::fs::read_to_string(stty).unwrap_or_default();
        if modes.contains("icanon") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for mode in ["icanon", "echo", "isig", "icrnl"] {
        assert!(
            modes.split_whitespace().any(|w| w == mode),
            "terminal mode {mode} not restored: {modes}"
        );
    }
}

/// `Serial Number` and `MAC Address` columns, one row per (serial, mac).
fn write_sheet(path: &std::path::Path, rows: &[(&str, &str)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "Serial Number").unwrap();
    ws.write_string(0, 1, "MAC Address").unwrap();
    for (i, (serial, mac)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        ws.write_string(r, 0, *serial).unwrap();
        if !mac.is_empty() {
            ws.write_string(r, 1, *mac).unwrap();
        }
    }
    wb.save(path).unwrap();
}

/// Numbers after `label` on the report's counts line, e.g. `devices: 4 succeeded, 0 failed`.
fn count_after(screen: &str, label: &str, what: &str) -> Option<u64> {
    let line = screen.lines().find(|l| l.contains(label))?;
    let tail = &line[line.find(label)? + label.len()..];
    let at = tail.find(what)?;
    tail[..at].split_whitespace().last()?.parse().ok()
}

#[test]
fn demo_assign_wizard_file_to_report() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    // Removed when the test ends (after the tmux session, which is dropped first).
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-wiz-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    let stty = dir.join("stty.txt");
    // HOME inside the test directory: the report export lands there.
    let cmd = format!(
        "HOME={home} {env} {bin} --demo --log-dir {logs}; echo EXIT=$?; stty -a > {stty}; sleep 120",
        home = dir.join("home").display(),
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
        stty = stty.display()
    );
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), &dir, "wiz");
    t.wait_for("the demo to finish its first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    let serials = demo_serials();
    assert_eq!(serials.len(), 3, "{serials:?}");
    let mut rows: Vec<(&str, &str)> = serials.iter().map(|s| (s.as_str(), "")).collect();
    rows.push(("E2ENEWAP01", "02:00:5e:10:00:01"));
    write_sheet(&dir.join("wizard-e2e.xlsx"), &rows);

    // Assign tab → new → type a prefix, Tab completes the only spreadsheet.
    t.keys(&["4"]);
    t.wait_for("the Assign tab", 10, |s| s.contains("[4 Assign"));
    let started = Instant::now();
    t.keys(&["n"]);
    t.wait_for("the file step", 10, |s| s.contains("which spreadsheet?"));
    t.literal("wiz");
    t.keys(&["Tab"]);
    t.wait_for("Tab completion", 10, |s| {
        s.contains("Path: wizard-e2e.xlsx█")
    });
    t.keys(&["Enter"]);
    let s = t.wait_for("the validation step", 30, |s| {
        s.contains("[Validate]") || s.contains("[Check]")
    });
    assert!(s.contains("wizard-e2e.xlsx"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("the review with counts", 10, |s| s.contains("[Review]"));
    eprintln!("n → review: {:?}", started.elapsed());
    assert!(s.contains("found 3 ·"), "{s}");
    assert!(s.contains("not found → add 1"), "{s}");
    assert!(s.contains("E2ENEWAP01"), "{s}");

    // Choices: the first subscription, the first application/region, one tag.
    t.keys(&["Enter"]);
    // The catalog is read from the API while the file loads; the list fills when it is in.
    let s = t.wait_for("the subscription chooser", 30, |s| {
        s.contains("[Subscription]") && s.contains("enough seats")
    });
    assert!(s.contains("Available"), "{s}");
    t.keys(&["Enter"]);
    t.wait_for("the application chooser", 10, |s| {
        s.contains("[Application]")
    });
    t.keys(&["Enter"]);
    t.wait_for("the tags step", 10, |s| s.contains("[Tags]"));
    t.literal("e2e=wizard");
    t.keys(&["Enter"]);
    t.wait_for("the tag change listed", 10, |s| {
        s.contains("set    e2e = wizard")
    });
    t.keys(&["Enter"]);
    let s = t.wait_for("the plan", 10, |s| s.contains("[Plan]"));
    assert!(s.contains("calls for 4 devices"), "{s}");

    // Apply, with confirmation; progress, then the report.
    t.keys(&["a"]);
    t.wait_for("the confirmation", 10, |s| s.contains("to GreenLake?"));
    t.keys(&["y"]);
    t.wait_for("apply progress", 20, |s| {
        s.contains("[Apply]") && s.contains("calls ")
    });
    t.wait_for("the report", 180, |s| s.contains("[Report]"));
    // The toast announcing the end covers the counts line for a few seconds.
    let s = t.wait_for("the report's counts", 30, |s| {
        !s.contains("ℹ run") && count_after(s, "devices:", " failed").is_some()
    });
    assert_eq!(count_after(&s, "devices:", " succeeded"), Some(4), "{s}");
    assert_eq!(count_after(&s, "devices:", " failed"), Some(0), "{s}");
    assert!(s.contains("resync: 4 of 4"), "{s}");

    // Export .xlsx: the toast names the file, and it is there.
    t.keys(&["e"]);
    let s = t.wait_for("the export message", 20, |s| {
        s.contains("wrote assignment-run-")
    });
    let path = dir
        .join("home/.local/share/glp-console/reports")
        .read_dir()
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert!(
        path.iter()
            .any(|p| p.extension().is_some_and(|e| e == "xlsx")),
        "{path:?}\n{s}"
    );

    // Back to the run list, which now shows the run; the Devices tab has the new device.
    t.keys(&["Escape"]);
    t.wait_for("the run list with the new run", 20, |s| {
        s.contains("wizard-e2e.xlsx") && s.contains("succeeded")
    });

    // Again with another application/region and another tag, cancelled while the first
    // phase runs: the second phase is skipped and the run is recorded as cancelled.
    t.keys(&["n"]);
    t.wait_for("the file step", 10, |s| s.contains("which spreadsheet?"));
    t.literal("wiz");
    t.keys(&["Tab"]);
    t.wait_for("Tab completion", 10, |s| {
        s.contains("Path: wizard-e2e.xlsx█")
    });
    t.keys(&["Enter"]);
    t.wait_for("the validation step", 30, |s| s.contains("[Validate]"));
    t.keys(&["Enter"]);
    let s = t.wait_for("the review", 10, |s| s.contains("[Review]"));
    assert!(
        s.contains("found 4 ·"),
        "the added device is in the inventory now: {s}"
    );
    t.keys(&["Enter"]);
    t.wait_for("the subscription chooser", 30, |s| {
        s.contains("enough seats")
    });
    t.keys(&["-"]);
    t.wait_for("the application chooser", 10, |s| {
        s.contains("[Application]")
    });
    t.keys(&["j"]);
    t.keys(&["Enter"]);
    t.wait_for("the tags step", 10, |s| s.contains("[Tags]"));
    t.literal("e2e=second");
    t.keys(&["Enter"]);
    t.wait_for("the tag change listed", 10, |s| {
        s.contains("set    e2e = second")
    });
    t.keys(&["Enter"]);
    t.wait_for("the plan", 10, |s| {
        s.contains("[Plan]") && s.contains("calls for 4 devices")
    });
    t.keys(&["a"]);
    t.wait_for("the confirmation", 10, |s| s.contains("to GreenLake?"));
    t.keys(&["y"]);
    t.wait_for("apply progress", 20, |s| s.contains("[Apply]"));
    t.keys(&["Escape"]);
    t.wait_for("the cancel question", 10, |s| {
        s.contains("Stop the assignment")
    });
    t.keys(&["y"]);
    let s = t.wait_for("the report of the cancelled run", 120, |s| {
        s.contains("[Report]") && s.contains("cancelled")
    });
    assert!(s.contains("run 2 cancelled"), "{s}");
    t.keys(&["Escape"]);
    // On the run list, not still the report (which says both words too): a key sent
    // right after Esc would read as Alt-key.
    t.wait_for("the run list with both runs", 20, |s| {
        s.contains("cancelled") && s.contains("succeeded") && !s.contains("[Report]")
    });

    t.keys(&["1", "/"]);
    t.literal("E2ENEWAP01");
    t.wait_for("the added device in the Devices tab", 20, |s| {
        s.lines().nth(3).is_some_and(|l| l.contains("E2ENEWAP01"))
    });
    // Separate sends: Esc followed at once by q reads as Alt-q.
    t.keys(&["Escape"]);
    t.wait_for("Esc to clear the filter", 10, |s| {
        rows_shown(s) == Some(10_001)
    });
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    assert_restored(&stty);
}

/// `glp-console assign FILE` on a terminal, without flags, opens the console on the Assign
/// tab with the wizard already reading FILE (here the shared sample workbook).
#[test]
fn assign_file_opens_the_console_on_the_wizard() {
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
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-assign-")
        .tempdir()
        .unwrap();
    let dir = tmp.path().to_path_buf();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .unwrap();
    let mut env: Vec<(String, String)> = sim
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    env.push(("DATABASE_URL".into(), db.url.clone()));
    let bin = env!("CARGO_BIN_EXE_glp-console");
    // One sync first, so the console opens on stored data without syncing.
    let out = Command::new(bin)
        .args(["--config", &config.display().to_string()])
        .args(["--log-dir", &dir.join("logs").display().to_string()])
        .args(["--sync-only", "--full"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let sample = [
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/sample_devices.xlsx"),
        std::path::PathBuf::from("/work/shared/fixtures/sample_devices.xlsx"),
    ]
    .into_iter()
    .find(|p| p.exists())
    .expect("the shared fixture sample_devices.xlsx");
    let stty = dir.join("stty.txt");
    let vars: String = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    let cmd = format!(
        "env {vars}{bin} --config {config} --log-dir {logs} assign {sample}; echo EXIT=$?; stty -a > {stty}; sleep 60",
        config = config.display(),
        logs = dir.join("logs").display(),
        sample = sample.display(),
        stty = stty.display()
    );
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), &dir, "assign");
    let s = t.wait_for("the wizard on the sample file", 60, |s| {
        s.contains("[4 Assign") && (s.contains("[Validate]") || s.contains("[Check]"))
    });
    assert!(s.contains("sample_devices.xlsx"), "{s}");
    t.keys(&["Enter"]);
    let s = t.wait_for("the review", 10, |s| s.contains("[Review]"));
    // The sample's serials are not in the simulator's inventory: all are to be added.
    assert!(s.contains("not found → add"), "{s}");
    if let Some(ms) = s
        .split("read and matched in ")
        .nth(1)
        .and_then(|x| x.split(" ms").next())
    {
        eprintln!("sample_devices.xlsx read and matched in {ms} ms");
    }
    // Reload (the catalog is kept): the time is the file and the database alone.
    t.keys(&["r"]);
    t.wait_for("the reload", 30, |s| s.contains("[Validate]"));
    t.keys(&["Enter"]);
    let s = t.wait_for("the review again", 10, |s| s.contains("[Review]"));
    if let Some(ms) = s
        .split("read and matched in ")
        .nth(1)
        .and_then(|x| x.split(" ms").next())
    {
        eprintln!("reload: sample_devices.xlsx read and matched in {ms} ms");
    }
    // Back out of the wizard step by step to the run list, then quit.
    for step in ["[Validate]", "which spreadsheet?", "Run "] {
        t.keys(&["Escape"]);
        t.wait_for(step, 10, |s| s.contains(step) || s.contains("[Check]"));
    }
    t.wait_for("the run list", 10, |s| {
        s.contains("Run ") && s.contains("Started")
    });
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    assert_restored(&stty);
    drop(t);
    rt.block_on(sim.shutdown());
    drop(db);
}
