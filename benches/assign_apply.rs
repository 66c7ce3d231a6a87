//! Plan + apply of a bulk assignment against the simulator with the real PATCH limit, into
//! PostgreSQL: the wall time should be within 10 % of `batches / allowed PATCH rate`.
//!
//! Every device gets the same new tag (one body, so `ceil(N / 25)` PATCH calls); the client
//! paces them at the configured per-minute limit and polls each async operation while the
//! next calls go out. Printed: devices, batches, plan time, apply time, the floor
//! `(batches − 1) × 60 s / limit` and the ratio.
//!
//! `cargo bench --bench assign_apply`: GLP_BENCH_ASSIGN_DEVICES (default 5 000) and
//! GLP_BENCH_PATCH_PER_MIN (default 20, GLP-Sync-2's and the portal's number; 40 is the
//! 2026 spec's). Without `--bench` (as `cargo test --benches` runs it) a tiny quick mode
//! runs: 100 devices at 600 PATCHes a minute.
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

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use glp_console::assign::apply::{self, ApplyOptions, ApplyRequest};
use glp_console::assign::plan::{Desired, DeviceState, DeviceTarget, plan};
use glp_console::config::{ApiConfig, Secret};
use glp_console::glp::client::Client;
use glp_console::sim::{self, Limits, SimConfig};
use glp_console::store::audit::{NewRun, RunKind};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (n, per_min) = if full {
        (
            env_usize("GLP_BENCH_ASSIGN_DEVICES", 5000),
            env_usize("GLP_BENCH_PATCH_PER_MIN", 20) as u32,
        )
    } else {
        (100, 600)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run(n, per_min, full));
}

async fn run(n: usize, per_min: u32, full: bool) {
    glp_console::tls::init();
    let sim = sim::start(SimConfig {
        devices: n + n / 5 + 50,
        subscriptions: 50,
        // GLP's operations take about two seconds.
        op_delay: if full {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(50)
        },
        limits: Some(Limits {
            devices_patch: Some(per_min),
            ..Limits::default()
        }),
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    // Reads are not what is measured: lift the GET limits (the PATCH limit stays real).
    sim.set_limits(Some(Limits {
        devices_get: None,
        device_get: None,
        subscriptions_get: None,
        async_get: if full { Some(90) } else { None },
        devices_patch: Some(per_min),
        ..Limits::default()
    }));
    let db = common::TestDb::new().await;
    let mut api = ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        ..ApiConfig::default()
    };
    api.page_size.devices = 2000;
    api.rate_limits.devices_get = 100_000;
    api.rate_limits.devices_patch = per_min;
    if !full {
        api.rate_limits.async_operations_get = 100_000;
    }
    let client = Client::new(&api, Secret::new(sim.client_secret())).expect("client");
    let s = client.devices(None);
    futures_util::pin_mut!(s);
    while let Some(p) = s.next().await {
        db.store
            .upsert_devices(&p.expect("page").items, None)
            .await
            .expect("store");
    }

    let t_plan = Instant::now();
    let serials: Vec<String> = sim
        .devices()
        .into_iter()
        // A device already at GreenLake's 50 tags cannot take another.
        .filter(|d| d["archived"] == false && d["tags"].as_object().is_none_or(|t| t.len() < 50))
        .filter_map(|d| d["serialNumber"].as_str().map(str::to_uppercase))
        .take(n)
        .collect();
    let stored = db.store.devices_by_serials(&serials).await.expect("lookup");
    let targets: Vec<DeviceTarget> = stored
        .iter()
        .map(|d| DeviceTarget {
            serial: d.serial_number.to_uppercase(),
            row: None,
            device_id: Some(d.id.clone()),
            current: Some(DeviceState::from_stored(d)),
            add: None,
            application: Desired::Keep,
            subscription: Desired::Keep,
            tags: [("BenchWave".to_string(), Some("w1".to_string()))].into(),
            tenant: Desired::Keep,
        })
        .collect();
    let p = plan(&targets);
    let plan_time = t_plan.elapsed();
    let batches = p.steps.len();

    let (tx, mut rx) = mpsc::channel(1024);
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let t = Instant::now();
    let report = apply::apply(
        &client,
        &db.store,
        ApplyRequest {
            plan: p,
            run: NewRun {
                kind: RunKind::Apply,
                undo_of: None,
                source_file: None,
                sheet: None,
                requested: serde_json::json!({"bench": true}),
                operator: None,
            },
        },
        &ApplyOptions {
            first_poll: if full {
                Duration::from_secs(2)
            } else {
                Duration::from_millis(100)
            },
            resync: false,
            ..ApplyOptions::default()
        },
        &tx,
        &CancellationToken::new(),
    )
    .await
    .expect("apply");
    let apply_time = t.elapsed();
    drop(tx);
    let _ = drain.await;
    let t_resync = Instant::now();
    let touched: Vec<String> = report.devices.iter().map(|d| d.serial.clone()).collect();
    let rs = apply::resync_serials(&client, &db.store, &touched).await;
    let resync_time = t_resync.elapsed();

    let interval = 60.0 / f64::from(per_min);
    let floor = batches as f64 / f64::from(per_min) * 60.0;
    let ratio = apply_time.as_secs_f64() / floor;
    println!(
        "assign_apply{}: {} devices, {} PATCH batches at {}/min: plan {:.2} s, apply {:.1} s \
         (floor batches/rate {:.1} s, ratio {:.3}; (batches-1) x {:.2} s = {:.1} s); \
         {} succeeded, {} failed; targeted resync of {} devices {:.1} s",
        if full { "" } else { " (quick mode)" },
        stored.len(),
        batches,
        per_min,
        plan_time.as_secs_f64(),
        apply_time.as_secs_f64(),
        floor,
        ratio,
        interval,
        (batches.saturating_sub(1)) as f64 * interval,
        report.counts.devices_succeeded,
        report.counts.devices_failed,
        rs.fetched,
        resync_time.as_secs_f64(),
    );
    assert_eq!(report.counts.devices_failed, 0, "{}", report.render_text());
    if full {
        assert!(
            ratio <= 1.10,
            "apply took {:.1} s, more than 10 % over the floor {floor:.1} s",
            apply_time.as_secs_f64()
        );
    }
    sim.shutdown().await;
}
