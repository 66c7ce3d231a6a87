//! An MSP's fleet: the release `glp-console --sync-only` binary from an `[msp]` configuration
//! against the simulator's MSP mode (300 tenants × 300 devices and 30 subscriptions by
//! default), into PostgreSQL, under the real per-minute limits.
//!
//! Reports wall time, requests and the binary's peak RSS, against the floor:
//! * rate-limit scope "workspace" (the default): every workspace has its own budget and needs
//!   one page per resource, so pacing never waits; the floor is the requests' latency over the
//!   concurrency — measured here as the same fleet at `workspace_concurrency` 1, 4 and 16;
//! * scope "client" (`GLP_BENCH_MSP_CLIENT_SCOPE=1`, ~5 minutes): one budget for all, so the
//!   floor is pages ÷ rate: `(pages − 1) × 60 s / limit` per endpoint, the larger of the two.
//!
//! Sizes: GLP_BENCH_MSP_TENANTS, GLP_BENCH_MSP_DEVICES, GLP_BENCH_MSP_SUBS.
//! `cargo bench --bench msp_sync`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing bench should stop loudly (clippy.toml allows that only inside #[test] \
              fns, not in the helpers they share), and a scenario reads top to bottom"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glp_console::sim::{self, LimitScope, MspSim, SimConfig, SimHandle};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak RSS of a running child (VmHWM; see benches/sync_full.rs for why not getrusage).
fn vm_hwm_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

struct Run {
    wall: Duration,
    report: serde_json::Value,
    peak_rss_mb: f64,
}

fn sync(sim: &SimHandle, db_url: &str, concurrency: usize, scope: &str) -> Run {
    let tmp = tempfile::Builder::new()
        .prefix("glpc-bench-msp-")
        .tempdir()
        .unwrap();
    let dir = tmp.path();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\nbase_url = \"{base}\"\nmax_concurrency = 2\n\
             [sync]\nworkspace_concurrency = {concurrency}\nrate_limit_scope = \"{scope}\"\n\
             [msp]\nname = \"bench-msp\"\nid = \"{id}\"\nclient_id = \"{client}\"\n\
             client_secret_env = \"GLP_MSP_SECRET\"\n",
            base = sim.base_url(),
            id = sim.workspace_id(),
            client = sim.client_id(),
        ),
    )
    .unwrap();
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_glp-console"))
        .arg("--config")
        .arg(&config)
        .arg("--log-dir")
        .arg(dir.join("logs"))
        .args(["--sync-only", "--json", "--full"])
        .env("DATABASE_URL", db_url)
        .env("GLP_MSP_SECRET", sim.client_secret())
        .env_remove("RUST_LOG")
        .env_remove("GLP_CLIENT_ID")
        .env_remove("GLP_CLIENT_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run glp-console");
    let pid = child.id();
    let mut peak: f64 = 0.0;
    while child.try_wait().ok().flatten().is_none() {
        if let Some(mb) = vm_hwm_mb(pid) {
            peak = peak.max(mb);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("glp-console output");
    let wall = t.elapsed();
    assert!(
        out.status.success(),
        "sync failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        wall,
        report: serde_json::from_slice(&out.stdout).expect("JSON report"),
        peak_rss_mb: peak,
    }
}

/// Sum of a per-workspace sync counter (`requests`, `throttled`, …).
fn total(r: &serde_json::Value, field: &str) -> u64 {
    r["workspaces"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|w| w["sync"][field].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// Pages of `resource` over all workspaces.
fn pages(r: &serde_json::Value, resource: &str) -> u64 {
    r["workspaces"]
        .as_array()
        .map(|a| {
            a.iter()
                .flat_map(|w| {
                    w["sync"]["resources"]
                        .as_array()
                        .cloned()
                        .unwrap_or_default()
                })
                .filter(|x| x["resource"] == resource)
                .map(|x| x["pages"].as_u64().unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

async fn start(tenants: usize, devices: usize, subs: usize, scope: LimitScope) -> SimHandle {
    sim::start(SimConfig {
        devices,
        subscriptions: subs,
        limits: Some(sim::Limits::default()),
        msp: Some(MspSim {
            tenants,
            devices_per_tenant: devices,
            subscriptions_per_tenant: subs,
            limit_scope: scope,
            ..MspSim::default()
        }),
        ..SimConfig::default()
    })
    .await
    .unwrap()
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this quickly with tiny sizes.
    let quick = !std::env::args().any(|a| a == "--bench");
    let tenants = if quick {
        6
    } else {
        env_usize("GLP_BENCH_MSP_TENANTS", 300)
    };
    let devices = if quick {
        40
    } else {
        env_usize("GLP_BENCH_MSP_DEVICES", 300)
    };
    let subs = if quick {
        5
    } else {
        env_usize("GLP_BENCH_MSP_SUBS", 30)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        glp_console::tls::init();
        let t = Instant::now();
        let sim = std::sync::Arc::new(start(tenants, devices, subs, LimitScope::Workspace).await);
        println!(
            "simulator: MSP with {tenants} tenants × {devices} devices + {subs} subscriptions, \
             per-workspace limits, started in {:.1} s",
            t.elapsed().as_secs_f64()
        );
        for concurrency in if quick { vec![4] } else { vec![1, 4, 16] } {
            let db = common::TestDb::new().await;
            let (s2, u2) = (sim.clone(), db.url.clone());
            let run = tokio::task::spawn_blocking(move || sync(&s2, &u2, concurrency, "workspace"))
                .await
                .unwrap();
            let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM devices")
                .fetch_one(db.store.pool())
                .await
                .unwrap();
            let requests = total(&run.report, "requests");
            println!(
                "fleet sync, scope workspace, concurrency {concurrency}: {:.2} s for {} workspaces \
                 ({:.0} ms per workspace per slot), {requests} requests ({:.0}/s), {} throttled, \
                 {stored} device rows, peak RSS {:.1} MB",
                run.wall.as_secs_f64(),
                run.report["synced"],
                run.wall.as_secs_f64() * 1000.0 * concurrency as f64 / (tenants + 1) as f64,
                requests as f64 / run.wall.as_secs_f64(),
                total(&run.report, "throttled"),
                run.peak_rss_mb
            );
        }
        if std::env::var("GLP_BENCH_MSP_CLIENT_SCOPE").is_ok_and(|v| v == "1") || quick {
            drop(sim);
            let sim = std::sync::Arc::new(start(tenants, devices, subs, LimitScope::Client).await);
            let db = common::TestDb::new().await;
            let (s2, u2) = (sim.clone(), db.url.clone());
            let run = tokio::task::spawn_blocking(move || sync(&s2, &u2, 4, "client"))
                .await
                .unwrap();
            let limits = glp_console::config::RateLimits::default();
            let floor = |p: u64, limit: u32| p.saturating_sub(1) as f64 * 60.0 / f64::from(limit);
            let (dp, sp) = (pages(&run.report, "devices"), pages(&run.report, "subscriptions"));
            let fl = floor(dp, limits.devices_get).max(floor(sp, limits.subscriptions_get));
            println!(
                "fleet sync, scope client (one budget): {:.2} s vs a {fl:.1} s floor ({dp} device \
                 pages at {}/min, {sp} subscription pages at {}/min), {} throttled, peak RSS {:.1} MB",
                run.wall.as_secs_f64(),
                limits.devices_get,
                limits.subscriptions_get,
                total(&run.report, "throttled"),
                run.peak_rss_mb
            );
        }
    });
}
