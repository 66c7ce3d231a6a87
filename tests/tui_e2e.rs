//! End to end in a real terminal: tmux runs the real binary in `--demo`; keys go in with
//! `send-keys`, the screen comes back with `capture-pane`. Switch tabs, filter, sort, open a
//! detail pane, sync with `s` and watch progress then completion, quit — and check the
//! terminal was restored (the shell's `stty` shows canonical mode and echo again).

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str) -> Tmux {
        let session = format!("glpc-e2e-{}", std::process::id());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                "120",
                "-y",
                "40",
                cmd,
            ])
            .status()
            .expect("tmux is installed (.ci/run installs it)");
        assert!(ok.success());
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        let mut c = Command::new("tmux");
        c.args(["send-keys", "-t", &self.session]).args(keys);
        assert!(c.status().unwrap().success());
    }

    fn literal(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-l", "-t", &self.session, text])
                .status()
                .unwrap()
                .success()
        );
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until `pred` holds for the screen; panics with the last screen after `secs`.
    fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

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
        "{bin} --demo --log-dir {logs}; echo EXIT=$?; stty -a > {stty}; sleep 120",
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
    let deadline = Instant::now() + Duration::from_secs(10);
    while !stty.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let modes = std::fs::read_to_string(&stty).unwrap();
    for mode in ["icanon", "echo", "isig", "icrnl"] {
        assert!(
            modes.split_whitespace().any(|w| w == mode),
            "terminal mode {mode} not restored: {modes}"
        );
    }
}
