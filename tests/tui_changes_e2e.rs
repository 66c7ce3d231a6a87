//! End to end in a real terminal: the real binary's `--demo` changes a few devices after its
//! first sync and syncs again; `:changes` then lists as many changes as the demo database
//! holds, and Enter on one opens that device's detail with its History — as many entries as
//! the database has for that serial, newest first.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

mod common;

use std::time::{Duration, Instant};

use common::demo::{DropDemoDb, demo_count, demo_env, with_db};
use common::tmux::{PATIENCE, Tmux};

/// The number after `label` on the screen ("changes in the last 24h · 1,234").
fn number_after(screen: &str, label: &str) -> Option<u64> {
    let at = screen.find(label)? + label.len();
    let digits: String = screen[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .collect();
    digits.replace(',', "").parse().ok()
}

/// (changes recorded for the device with this serial, the newest one's field).
fn history_of(serial: &str) -> (u64, String) {
    let serial = serial.to_string();
    with_db(move |c| {
        Box::pin(async move {
            let rows: Vec<String> = sqlx::query_scalar(
                "SELECT c.field FROM inventory_changes c \
                   JOIN devices d ON d.workspace_id = c.workspace_id AND d.id = c.item_id \
                  WHERE c.resource = 'devices' AND d.serial_number = $1 \
                  ORDER BY c.changed_at DESC, c.field",
            )
            .bind(&serial)
            .fetch_all(c)
            .await
            .unwrap();
            (rows.len() as u64, rows.first().cloned().unwrap_or_default())
        })
    })
}

#[test]
fn demo_changes_view_and_a_devices_history_in_tmux() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    let tmp = tempfile::Builder::new()
        .prefix("glpc-e2e-changes-")
        .tempdir()
        .unwrap();
    let cmd = format!(
        "{env} {bin} --demo --log-dir {logs}; echo EXIT=$?; sleep 120",
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = tmp.path().join("logs").display(),
    );
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), tmp.path(), "changes");
    let started = Instant::now();
    t.wait_for("the demo's first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    let first = started.elapsed();

    // The demo's second sync records its changes; the view reloads when it lands, so the
    // count it shows ends up the database's.
    t.keys(&[":"]);
    t.literal("changes");
    t.keys(&["Enter"]);
    let label = "changes in the last 24h · ";
    let deadline = Instant::now() + Duration::from_secs(90 * PATIENCE);
    let (shown, screen) = loop {
        let s = t.screen();
        let synced_twice = demo_count(
            "SELECT count(*) FROM sync_history WHERE outcome = 'succeeded' AND mode = 'full'",
        ) >= 2;
        let want = demo_count(
            "SELECT count(*) FROM inventory_changes WHERE changed_at >= now() - interval '24 hours'",
        );
        if let Some(n) = number_after(&s, label)
            && synced_twice
            && n == want
            && n > 0
        {
            break (n, s);
        }
        assert!(
            Instant::now() < deadline,
            "the Changes view never showed the database's {want} changes:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let both = started.elapsed();
    // Roughly 1 % of 10 000 devices changed, one field each, and one removed.
    assert!((50..=400).contains(&shown), "{shown} changes\n{screen}");
    assert!(screen.contains("[Changes"), "{screen}");

    // Enter on the first change: that device's detail, its history as the database has it.
    let row = screen.lines().nth(3).unwrap().to_string();
    let words: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(words.get(2), Some(&"device"), "{row}");
    let serial = words[3].to_string();
    let (n, newest) = history_of(&serial);
    assert!(n >= 1, "{serial} has changes");
    t.keys(&["Enter"]);
    let s = t.wait_for("the device's history in the pane", 20, |s| {
        s.contains(&format!("Device {serial}")) && s.contains("History (")
    });
    assert_eq!(
        number_after(&s, "History ("),
        Some(n),
        "the pane lists {serial}'s {n} changes:\n{s}"
    );
    let line = s
        .lines()
        .skip_while(|l| !l.contains("History ("))
        .nth(1)
        .unwrap();
    assert!(line.contains(&newest) && line.contains('→'), "{line}\n{s}");

    // Esc closes the pane, Esc again goes back to Devices.
    t.keys(&["Escape"]);
    t.wait_for("the pane to close", 10, |s| !s.contains("History ("));
    t.keys(&["Escape"]);
    t.wait_for("back on Devices", 10, |s| s.contains("[1 Devices"));
    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
    eprintln!(
        "demo: first sync on screen after {:.1}s, the changes view matching the database after {:.1}s",
        first.as_secs_f64(),
        both.as_secs_f64()
    );
}
