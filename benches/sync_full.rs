//! Full and incremental sync of a large workspace: the release `glp-console --sync-only`
//! binary (exactly what cron runs) against the simulator on 127.0.0.1, into PostgreSQL.
//!
//! Reports wall time, rows/s and the binary's peak RSS for: a full sync of 100 000 devices +
//! 50 000 subscriptions (limits off), a sync where nothing changed, an incremental sync with
//! 1 % of devices changed, and a full sync under the real per-minute limits against its floor
//! (`(pages − 1) × 60 s / limit` per endpoint). Sizes: GLP_BENCH_DEVICES, GLP_BENCH_SUBS;
//! the limited run uses GLP_BENCH_LIMITED_DEVICES / _SUBS (default 20 000 / 5 000; set them to
//! the full sizes for the ~4.5 minute full-size run).
//!
//! `cargo bench --bench sync_full`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

#[path = "support/child.rs"]
mod child;
#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use glp_console::sim::{self, Limits, SimConfig, SimHandle};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Run {
    wall: Duration,
    summary: serde_json::Value,
    peak_rss_mb: f64,
}

fn sync(sim: &SimHandle, db_url: &str, args: &[&str], limited: bool) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix("glpc-bench-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let config = dir.join("config.toml");
    let limits = if limited {
        "" // the defaults are the real per-minute limits
    } else {
        "[api.rate_limits]\ndevices_get = 100000\nsubscriptions_get = 100000\n"
    };
    std::fs::write(&config, format!("[api]\nmax_concurrency = 2\n{limits}")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    cmd.arg("--config")
        .arg(&config)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(["--sync-only", "--json"])
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("GLP_BASE_URL", sim.base_url())
        .env("GLP_TOKEN_URL", sim.token_url())
        .env("GLP_CLIENT_ID", sim.client_id())
        .env("GLP_CLIENT_SECRET", sim.client_secret())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = child::run(cmd, "sync");
    Run {
        wall: run.wall,
        summary: serde_json::from_slice(&run.out.stdout).expect("JSON summary"),
        peak_rss_mb: run.peak_rss_mb,
    }
}

fn rows(s: &serde_json::Value, field: &str) -> u64 {
    s["resources"]
        .as_array()
        .map(|a| a.iter().map(|r| r[field].as_u64().unwrap_or(0)).sum())
        .unwrap_or(0)
}

fn pages(s: &serde_json::Value, resource: &str) -> u64 {
    s["resources"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["resource"] == resource))
        .and_then(|r| r["pages"].as_u64())
        .unwrap_or(0)
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
        500
    } else {
        env_usize("GLP_BENCH_SUBS", 50_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        glp_console::tls::init();
        let db = common::TestDb::new().await;
        let sim = sim::start(SimConfig {
            devices,
            subscriptions: subs,
            subscription_page_max: 200,
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let url = db.url.clone();
        let sim = std::sync::Arc::new(sim);

        let s2 = sim.clone();
        let u2 = url.clone();
        let full = tokio::task::spawn_blocking(move || sync(&s2, &u2, &["--full"], false)).await.unwrap();
        let rss = full.peak_rss_mb;
        let n = rows(&full.summary, "fetched");
        println!(
            "full sync {devices} devices + {subs} subscriptions: {:.2} s, {:.0} rows/s, {} requests, peak RSS {:.1} MB",
            full.wall.as_secs_f64(),
            n as f64 / full.wall.as_secs_f64(),
            full.summary["requests"],
            rss
        );

        let s2 = sim.clone();
        let u2 = url.clone();
        let same = tokio::task::spawn_blocking(move || sync(&s2, &u2, &[], false)).await.unwrap();
        println!(
            "sync with nothing changed ({}): {:.2} s, {} rows written",
            same.summary["mode"],
            same.wall.as_secs_f64(),
            rows(&same.summary, "inserted") + rows(&same.summary, "updated")
        );

        let ids: Vec<String> = sim
            .devices()
            .iter()
            .step_by(100)
            .map(|d| d["id"].as_str().unwrap_or_default().to_string())
            .collect();
        for id in &ids {
            sim.modify_device(id, |d| d["deviceName"] = serde_json::json!("bench-changed"));
        }
        let s2 = sim.clone();
        let u2 = url.clone();
        let inc = tokio::task::spawn_blocking(move || sync(&s2, &u2, &[], false)).await.unwrap();
        println!(
            "incremental sync, {} devices changed (1 %): {:.2} s, {} rows updated",
            ids.len(),
            inc.wall.as_secs_f64(),
            rows(&inc.summary, "updated")
        );
        drop(db);

        // Under the real per-minute limits, against the floor.
        let (ld, ls) = if quick {
            (4_000, 400)
        } else {
            (
                env_usize("GLP_BENCH_LIMITED_DEVICES", 20_000),
                env_usize("GLP_BENCH_LIMITED_SUBS", 5_000),
            )
        };
        let db = common::TestDb::new().await;
        let limited_sim = sim::start(SimConfig {
            devices: ld,
            subscriptions: ls,
            subscription_page_max: 200,
            limits: Some(Limits::default()),
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let limited_sim = std::sync::Arc::new(limited_sim);
        let s2 = limited_sim.clone();
        let u2 = db.url.clone();
        let lim = tokio::task::spawn_blocking(move || sync(&s2, &u2, &["--full"], true)).await.unwrap();
        let dp = pages(&lim.summary, "devices");
        let sp = pages(&lim.summary, "subscriptions");
        let floor = dp.saturating_sub(1) as f64 * 60.0 / 160.0 + sp.saturating_sub(1) as f64 * 60.0 / 60.0;
        println!(
            "full sync under real limits ({ld} devices = {dp} pages at 160/min, {ls} subscriptions = {sp} pages at 60/min): {:.2} s, floor {:.2} s, {:+.1} % over, {} 429s",
            lim.wall.as_secs_f64(),
            floor,
            (lim.wall.as_secs_f64() / floor - 1.0) * 100.0,
            lim.summary["throttled"]
        );
    });
}
