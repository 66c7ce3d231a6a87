//! Saved views in a real terminal (issue 16, item 6 — "done when saved views survive a
//! restart"): the real binary in `--demo` under tmux; `/` a filter, `:save mine`, quit; start
//! it again over the same state directory, `:view mine`: the filtered count is back and is
//! the demo database's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and the shared helpers hold long checks"
)]

mod common;

use common::demo::{DropDemoDb, demo_count, demo_env};
use common::tmux::Tmux;

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
fn a_saved_view_survives_a_restart_of_the_binary() {
    let _one = common::demo::one_at_a_time();
    let _db = DropDemoDb;
    let tmp = tempfile::Builder::new()
        .prefix("glpc-views-e2e-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let state = dir.join("state");
    let run = format!(
        "XDG_STATE_HOME={state} {env} {bin} --demo --log-dir {logs}",
        state = state.display(),
        env = demo_env(),
        bin = env!("CARGO_BIN_EXE_glp-console"),
        logs = dir.join("logs").display(),
    );
    // Two sessions of the console in one shell: the second starts when the first quits.
    let cmd = format!("{run}; echo FIRST=$?; {run}; echo EXIT=$?; sleep 120");
    let t = Tmux::start_in(&format!("sh -c '{cmd}'"), dir, "views");

    t.wait_for("the demo to finish its first sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced")
    });
    let switches = demo_count("SELECT count(*) FROM devices WHERE device_type = 'SWITCH'");
    assert!(switches > 0 && switches < 10_000, "{switches}");
    t.keys(&["/"]);
    t.literal("type:switch");
    t.keys(&["Enter"]);
    t.wait_for("the filter to show the switches", 20, |s| {
        rows_shown(s) == Some(switches)
    });
    t.keys(&[":"]);
    t.literal("save mine");
    t.keys(&["Enter"]);
    t.wait_for("the view saved", 10, |s| s.contains("view mine saved"));
    let file = state.join("glp-console").join("views.toml");
    let body = std::fs::read_to_string(&file).unwrap();
    assert!(body.contains("type:switch"), "{body}");
    t.keys(&["q"]);
    t.wait_for("the first console to exit", 20, |s| s.contains("FIRST=0"));

    // Started again: every row, until the view is applied.
    let s = t.wait_for("the second console's sync", 90, |s| {
        s.contains("Devices 10,000") && s.contains("✓ synced") && !s.contains("FIRST=")
    });
    assert_eq!(rows_shown(&s), Some(10_000), "{s}");
    t.keys(&["2"]);
    t.wait_for("the Subscriptions tab", 10, |s| {
        s.lines().nth(2).is_some_and(|l| l.contains("Key"))
    });
    t.keys(&[":"]);
    t.literal("view mi");
    t.keys(&["Tab"]);
    t.wait_for("Tab to complete the saved name", 10, |s| {
        s.contains("view mine")
    });
    t.keys(&["Enter"]);
    let s = t.wait_for("the view to bring the filter back", 20, |s| {
        rows_shown(s) == Some(switches) && s.contains("[1 Devices")
    });
    assert!(s.contains("type:switch"), "the filter chip shows: {s}");
    let again = demo_count("SELECT count(*) FROM devices WHERE device_type = 'SWITCH'");
    assert_eq!(rows_shown(&s), Some(again), "{s}");

    t.keys(&["q"]);
    let s = t.wait_for("the console to exit", 20, |s| s.contains("EXIT="));
    assert!(s.contains("EXIT=0"), "{s}");
}
