//! Simulator throughput: startup time for 100 000 devices / 50 000 subscriptions, and
//! 2000-device pages served per second over real HTTP (sequential and 4 in flight).
//! Run with `cargo bench --bench sim_pages`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::time::{Duration, Instant};

use glp_console::sim::{self, SimConfig};
use serde_json::Value;

fn main() {
    glp_console::tls::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(run());
}

async fn run() {
    let devices = 100_000;
    let t0 = Instant::now();
    let s = sim::start(SimConfig {
        devices,
        subscriptions: 50_000,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts");
    println!(
        "startup: {devices} devices + 50000 subscriptions in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let c = reqwest::Client::new();
    let tok: Value = c
        .post(s.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", s.client_id()),
            ("client_secret", s.client_secret()),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("token json");
    let tok = tok["access_token"].as_str().unwrap_or_default().to_string();
    let url = format!("{}/devices/v1/devices", s.base_url());
    let pages = devices / 2000;
    for concurrency in [1usize, 4] {
        let t = Instant::now();
        let mut bytes = 0usize;
        let mut served = 0usize;
        let deadline = Duration::from_secs(5);
        while t.elapsed() < deadline {
            let mut set = tokio::task::JoinSet::new();
            for k in 0..concurrency {
                let (c, url, tok) = (c.clone(), url.clone(), tok.clone());
                let offset = ((served + k) % pages) * 2000;
                set.spawn(async move {
                    let r = c
                        .get(&url)
                        .bearer_auth(&tok)
                        .query(&[
                            ("limit", "2000".to_string()),
                            ("offset", offset.to_string()),
                        ])
                        .send()
                        .await
                        .expect("page");
                    r.bytes().await.expect("body").len()
                });
            }
            while let Some(n) = set.join_next().await {
                bytes += n.unwrap_or(0);
                served += 1;
            }
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "2000-device pages, {concurrency} in flight: {:.1} pages/s ({:.0} devices/s, {:.1} MB/s, {:.2} MB per page)",
            served as f64 / secs,
            served as f64 * 2000.0 / secs,
            bytes as f64 / secs / 1e6,
            bytes as f64 / served as f64 / 1e6
        );
    }
    // A filtered page (slow path) for comparison.
    let t = Instant::now();
    let n = 10;
    for _ in 0..n {
        c.get(&url)
            .bearer_auth(&tok)
            .query(&[
                ("limit", "2000"),
                (
                    "filter",
                    "updatedAt gt '2025-06-01T00:00:00.000Z' and deviceType ne 'AP'",
                ),
            ])
            .send()
            .await
            .expect("filtered page")
            .bytes()
            .await
            .expect("body");
    }
    println!(
        "filtered 2000-device pages (full scan of {devices}): {:.1} pages/s",
        n as f64 / t.elapsed().as_secs_f64()
    );
    s.shutdown().await;
}
