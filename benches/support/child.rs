//! Running a child process to the end while watching its peak RSS, for the benches that
//! measure the release binary (or themselves) as a separate process. Included with `#[path]`.

use std::io::Read;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Peak RSS of a running child from `/proc/<pid>/status` (VmHWM). Not getrusage: a child
/// spawned with CLONE_VM inherits this (large, simulator-holding) process's high-water mark at
/// exec, which would be reported as its own.
pub fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A finished child: its wall time from spawn to exit, its output, and its peak RSS.
pub struct Watched {
    pub wall: Duration,
    pub out: Output,
    pub peak_rss_mb: f64,
}

/// Spawn `cmd` (its stdout and stderr piped by the caller), poll its VmHWM every 20 ms until
/// it exits, and stop loudly, naming `what` with its output, when it fails. The pipes are
/// drained by threads meanwhile: a child writing more than a pipe holds (the JSON report of
/// 300 workspaces) would otherwise block on its write and never exit.
pub fn run(mut cmd: Command, what: &str) -> Watched {
    let t = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("start the {what}: {e}"));
    let pid = child.id();
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut peak: f64 = 0.0;
    while child.try_wait().ok().flatten().is_none() {
        if let Some(mb) = vm_hwm_mb(pid) {
            peak = peak.max(mb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap_or_else(|e| panic!("{what} exit: {e}"));
    let wall = t.elapsed();
    let out = Output {
        status,
        stdout: stdout.join().expect("the stdout reader"),
        stderr: stderr.join().expect("the stderr reader"),
    };
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Watched {
        wall,
        out,
        peak_rss_mb: peak,
    }
}
