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
//! Then the console over the fleet the last sync stored, showing "all workspaces" (the
//! consolidated view), in a process of its own so its RSS holds no simulator: start → first
//! screenful of devices drawn, and a filter keystroke → filtered result on screen over every
//! device (as benches/tui_bench.rs measures one workspace).
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

#[path = "support/child.rs"]
mod child;
#[path = "../tests/common/mod.rs"]
mod common;
#[path = "support/console.rs"]
mod console;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use glp_console::sim::{self, LimitScope, MspSim, SimConfig, SimHandle};
use glp_console::store::Store;
use glp_console::tui::app::TableId;
use glp_console::tui::filter::MatcherKind;

/// Set in the child this bench starts to measure the console: the database to open.
const CONSOLE_DB: &str = "GLP_BENCH_MSP_CONSOLE_DB";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
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
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_glp-console"));
    cmd.arg("--config")
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
        .stderr(Stdio::piped());
    let run = child::run(cmd, "sync");
    Run {
        wall: run.wall,
        report: serde_json::from_slice(&run.out.stdout).expect("JSON report"),
        peak_rss_mb: run.peak_rss_mb,
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

/// This bench again, as the console measurement on `db_url`; its output and peak RSS.
fn console_process(db_url: &str) -> child::Watched {
    let mut cmd = Command::new(std::env::current_exe().expect("the bench's own path"));
    cmd.args(std::env::args().skip(1))
        .env(CONSOLE_DB, db_url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    child::run(cmd, "console measurement")
}

/// The console measurement itself (in the child): the App on the stored fleet, checked
/// against the database — "all workspaces" on screen, every consolidated device counted.
fn console_child(db_url: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The console's own pool size (`[database] pool_size` default).
        let store = Store::connect(db_url, 5).await.unwrap();
        let truth: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM devices_consolidated WHERE removed_at IS NULL",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        let truth = usize::try_from(truth).unwrap();
        let workspaces = store.workspaces().await.unwrap().len();
        let rss_before = console::rss_mb("VmRSS:");
        let console::Opened {
            mut app,
            mut term,
            first_paint,
            arrivals,
            devices_first,
            counted,
            total_counted,
            first_screen,
            devices_all,
            all_tabs,
            rss_peak_load,
        } = console::open(&store).await;
        assert!(
            first_screen.contains("all workspaces"),
            "the first screenful says all workspaces:\n{first_screen}"
        );
        assert_eq!(
            total_counted, truth,
            "device count in the title vs devices_consolidated"
        );
        assert_eq!(
            app.table_by_id(TableId::Devices).len(),
            truth,
            "device rows loaded"
        );
        println!(
            "console, all workspaces ({workspaces} workspaces, {truth} devices): loading screen \
             {first_paint:.1} ms, first screenful of devices {:.0} ms, the count in the title {:.0} \
             ms, all rows {:.0} ms, all tabs {all_tabs:.0} ms",
            devices_first.unwrap_or(f64::NAN),
            counted.unwrap_or(f64::NAN),
            devices_all.unwrap_or(f64::NAN),
        );
        println!(
            "  loader messages (ms after start): {}",
            arrivals.join(", ")
        );
        let fuzzy = ["ap-635", "6300m", "us-west", "tenant-1", "cn eu-c"];
        let (mut lat, mut frames) =
            console::filter_run(&mut app, &mut term, MatcherKind::Nucleo, &fuzzy);
        let keys = fuzzy.iter().map(|q| q.len()).sum::<usize>();
        let label = format!("console filter over all {truth} devices {fuzzy:?}");
        println!(
            "{}",
            console::filter_line(&label, keys, &mut lat, &mut frames)
        );
        let syntax = [
            "type:switch",
            "workspace:tenant-1",
            "region:eu-w",
            "!type:ap cn",
            "^AP-5",
        ];
        let (mut lat, mut frames) =
            console::filter_run(&mut app, &mut term, MatcherKind::Nucleo, &syntax);
        let keys = syntax.iter().map(|q| q.len()).sum::<usize>();
        let label = format!("console filter syntax over all {truth} devices {syntax:?}");
        println!(
            "{}",
            console::filter_line(&label, keys, &mut lat, &mut frames)
        );
        println!(
            "console RSS: {:.0} MB now, {:.0} MB peak (before loading: {rss_before:.0} MB; while \
             loading at most {rss_peak_load:.0} MB; includes the tokio runtime and sqlx pool)",
            console::rss_mb("VmRSS:"),
            console::rss_mb("VmHWM:")
        );
    });
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
    if let Ok(url) = std::env::var(CONSOLE_DB) {
        console_child(&url);
        return;
    }
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
        let mut filled = None;
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
            filled = Some(db);
        }
        let db = filled.expect("a fleet sync ran");
        let url = db.url.clone();
        let seen = tokio::task::spawn_blocking(move || console_process(&url))
            .await
            .unwrap();
        print!("{}", String::from_utf8_lossy(&seen.out.stdout));
        println!(
            "console process: {:.2} s, peak RSS {:.1} MB (VmHWM, the simulator not in it)",
            seen.wall.as_secs_f64(),
            seen.peak_rss_mb
        );
        drop(db);
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
