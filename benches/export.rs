//! `glp-console export` of a large inventory: the release binary (what a user runs) exports
//! 100 000 synced devices as JSON, CSV and xlsx to files; reports each run's peak RSS, wall
//! time, rows/s and file size, and whether a library log line reached stderr. The target is
//! ≤ 100 MB peak for each format, whatever the inventory's size.
//!
//! The database is filled by a real `--sync-only` from the simulator (limits off), which is
//! then stopped so only the export runs. Peak RSS comes from `/usr/bin/time` (its wait4
//! rusage of the export process): not this process's own rusage of a child, which a child
//! spawned with CLONE_VM inherits from this (large, simulator-holding) process.
//!
//! Sizes: GLP_BENCH_DEVICES (default 100 000), GLP_BENCH_SUBS (5 000). GLP_BENCH_COMPARE_BIN
//! names another build of the binary (e.g. main's) to run the same exports with, on the same
//! database, for a before/after table.
//!
//! `cargo bench --bench export`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glp_console::sim::{self, SimConfig};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn config(dir: &Path) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        "[api]\nmax_concurrency = 2\n[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n",
    )
    .unwrap();
    path
}

struct Export {
    wall: Duration,
    peak_mb: f64,
    bytes: u64,
    library_lines: usize,
}

fn export(bin: &Path, db_url: &str, dir: &Path, format: &str) -> Export {
    let out = dir.join(format!("devices.{format}"));
    let _ = std::fs::remove_file(&out);
    let rusage = dir.join("time.txt");
    let t = Instant::now();
    let o = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rusage)
        .arg(bin)
        .arg("--config")
        .arg(config(dir))
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(["export", "devices", "--format", format, "-o"])
        .arg(&out)
        .env("DATABASE_URL", db_url)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("/usr/bin/time runs glp-console (install GNU time)");
    let wall = t.elapsed();
    assert!(
        o.status.success(),
        "export {format} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let kb: f64 = std::fs::read_to_string(&rusage)
        .ok()
        .and_then(|s| s.lines().last().and_then(|l| l.trim().parse().ok()))
        .expect("/usr/bin/time wrote the peak RSS");
    let stderr = String::from_utf8_lossy(&o.stderr);
    Export {
        wall,
        peak_mb: kb / 1024.0,
        bytes: std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0),
        library_lines: stderr
            .lines()
            .filter(|l| l.contains("sqlx") || l.contains("slow statement"))
            .count(),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this quickly with tiny sizes.
    let quick = !std::env::args().any(|a| a == "--bench");
    let devices = if quick {
        2_000
    } else {
        env_usize("GLP_BENCH_DEVICES", 100_000)
    };
    let subs = if quick {
        200
    } else {
        env_usize("GLP_BENCH_SUBS", 5_000)
    };
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_glp-console"));
    let mut builds = vec![("this build", ours)];
    if let Ok(other) = std::env::var("GLP_BENCH_COMPARE_BIN") {
        builds.insert(0, ("compared", PathBuf::from(other)));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        glp_console::tls::init();
        let db = common::TestDb::new().await;
        let tmp = tempfile::Builder::new()
            .prefix("glpc-bench-export-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().to_path_buf();
        {
            let sim = sim::start(SimConfig {
                devices,
                subscriptions: subs,
                subscription_page_max: 200,
                ..SimConfig::default()
            })
            .await
            .unwrap();
            let t = Instant::now();
            let (url, d) = (db.url.clone(), dir.clone());
            let (base, token) = (sim.base_url(), sim.token_url());
            let (id, secret) = (sim.client_id().to_string(), sim.client_secret().to_string());
            let o = tokio::task::spawn_blocking(move || {
                Command::new(env!("CARGO_BIN_EXE_glp-console"))
                    .arg("--config")
                    .arg(config(&d))
                    .arg("--log-dir")
                    .arg(d.join("logs"))
                    .args(["--sync-only", "--full"])
                    .env("DATABASE_URL", url)
                    .env("GLP_BASE_URL", base)
                    .env("GLP_TOKEN_URL", token)
                    .env("GLP_CLIENT_ID", id)
                    .env("GLP_CLIENT_SECRET", secret)
                    .env_remove("RUST_LOG")
                    .stdin(Stdio::null())
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            assert!(
                o.status.success(),
                "sync failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            println!(
                "synced {devices} devices + {subs} subscriptions in {:.1} s",
                t.elapsed().as_secs_f64()
            );
            sim.shutdown().await;
        }
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
            .fetch_one(db.store.pool())
            .await
            .unwrap();
        for (label, bin) in &builds {
            for format in ["json", "csv", "xlsx"] {
                let (b, u, d) = (bin.clone(), db.url.clone(), dir.clone());
                let e = tokio::task::spawn_blocking(move || export(&b, &u, &d, format))
                    .await
                    .unwrap();
                let verdict = if e.peak_mb <= 100.0 { "ok" } else { "OVER" };
                println!(
                    "{label}: export {stored} devices as {format:<4}: peak RSS {:>6.1} MB ({verdict} vs 100 MB), \
                     {:>6.2} s, {:>7.0} rows/s, {:>6.1} MB file, {} library line(s) on stderr",
                    e.peak_mb,
                    e.wall.as_secs_f64(),
                    stored as f64 / e.wall.as_secs_f64(),
                    e.bytes as f64 / 1e6,
                    e.library_lines
                );
            }
        }
    });
}
