//! A real terminal for end-to-end tests: tmux runs the release or test binary, keys go in
//! with `send-keys`, and the screen comes back with `capture-pane`. Waits are on content,
//! never on fixed sleeps.

use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many times the nominal wait a step may take before the test gives up. Only a failing
/// run ever waits that long; the suite once failed here on a loaded machine with 1×.
pub const PATIENCE: u64 = 4;

pub struct Tmux {
    session: String,
}

impl Tmux {
    pub fn start(cmd: &str) -> Tmux {
        Tmux::start_in(cmd, &std::env::temp_dir(), "main")
    }

    /// Start `cmd` in `dir` (the shell's working directory), in a session named after `tag`.
    ///
    /// Two `new-session` calls at once with no tmux server running race to start one, and
    /// the loser fails with "server exited unexpectedly"; so starts are serialised here and
    /// a failed start is tried again.
    pub fn start_in(cmd: &str, dir: &std::path::Path, tag: &str) -> Tmux {
        Tmux::start_sized(cmd, dir, tag, (120, 40))
    }

    /// [`Tmux::start_in`] on a terminal of `(columns, rows)`. The session's locale is UTF-8
    /// whatever the test's (the console draws ASCII otherwise); a command that wants another
    /// sets `LC_ALL` itself.
    pub fn start_sized(cmd: &str, dir: &std::path::Path, tag: &str, size: (u16, u16)) -> Tmux {
        static START: Mutex<()> = Mutex::new(());
        let _one = START.lock().unwrap_or_else(|e| e.into_inner());
        let session = format!("glpc-e2e-{}-{tag}", std::process::id());
        let mut last = String::new();
        for _ in 0..3 {
            let out = Command::new("tmux")
                .args([
                    "new-session",
                    "-d",
                    "-s",
                    &session,
                    "-x",
                    &size.0.to_string(),
                    "-y",
                    &size.1.to_string(),
                    "-e",
                    "LC_ALL=C.UTF-8",
                    "-c",
                    &dir.display().to_string(),
                    cmd,
                ])
                .output()
                .expect("tmux is installed (.ci/run installs it)");
            if out.status.success() {
                return Tmux { session };
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
            std::thread::sleep(Duration::from_millis(300));
        }
        panic!("tmux new-session failed three times: {last}");
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut c = Command::new("tmux");
        c.args(["send-keys", "-t", &self.session]).args(keys);
        assert!(c.status().unwrap().success());
    }

    pub fn literal(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-l", "-t", &self.session, text])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Append everything the program writes to the pane from now on to `path`.
    pub fn pipe_to(&self, path: &std::path::Path) {
        let cat = format!("cat >> '{}'", path.display());
        assert!(
            Command::new("tmux")
                .args(["pipe-pane", "-O", "-t", &self.session, &cat])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Resize the window (the program gets SIGWINCH and redraws).
    pub fn resize(&self, columns: u16, rows: u16) {
        assert!(
            Command::new("tmux")
                .args([
                    "resize-window",
                    "-t",
                    &self.session,
                    "-x",
                    &columns.to_string(),
                    "-y",
                    &rows.to_string(),
                ])
                .status()
                .unwrap()
                .success()
        );
    }

    /// The screen with its attributes as escape sequences (`capture-pane -e`).
    pub fn screen_styled(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-e", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until `pred` holds for the screen; panics with the last screen after `secs`
    /// (times [`PATIENCE`]: a deadline costs nothing when the screen is there in time, and a
    /// loaded 2-core machine can take several times as long as an idle one).
    pub fn wait_for(&self, what: &str, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs * PATIENCE);
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
