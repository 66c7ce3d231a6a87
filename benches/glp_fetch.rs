//! Fetch benchmarks against the simulator on 127.0.0.1.
//!
//! 1. Throughput: 100 000 devices + 50 000 subscriptions, limits off (client pacing off too):
//!    wall time, requests, and peak memory added while fetching (RSS sampled every 5 ms,
//!    minus the RSS before the fetch — the simulator's own data lives in the same process).
//! 2. Pacing: GreenLake's real per-minute limits (devices 160/min, subscriptions 60/min) on a
//!    reduced set, both resources at once: wall time against the physical minimum
//!    `pages / allowed rate`.
//!
//! `cargo bench --bench glp_fetch` (release). `GLP_BENCH_ONLY=throughput|pacing` runs one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::too_many_lines,
    reason = "a failing test or bench should stop loudly (clippy.toml allows that only inside \
              #[test] fns, not in the helpers they share), and a scenario reads top to bottom"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use glp_console::config::{ApiConfig, BreakerConfig, PageSizes, RateLimits, RetryConfig, Secret};
use glp_console::glp::{Client, GlpError, Page};
use glp_console::sim::{self, Limits, SimConfig, SimHandle};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct RssSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    handle: std::thread::JoinHandle<()>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kib()));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        RssSampler { stop, peak, handle }
    }
    fn finish(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
        self.peak.load(Ordering::Relaxed)
    }
}

fn api_cfg(sim: &SimHandle, limits: RateLimits, conc: u32) -> ApiConfig {
    ApiConfig {
        base_url: sim.base_url(),
        token_url: sim.token_url(),
        client_id: sim.client_id().to_string(),
        max_concurrency: conc,
        page_size: PageSizes {
            devices: 2000,
            subscriptions: 200,
        },
        rate_limits: limits,
        retry: RetryConfig::default(),
        breaker: BreakerConfig::default(),
        ..ApiConfig::default()
    }
}

/// Drain a page stream like the engine does (each page dropped after use).
async fn drain<T>(
    s: impl futures_util::Stream<Item = Result<Page<T>, GlpError>>,
) -> Result<(u64, u64), GlpError> {
    let mut s = std::pin::pin!(s);
    let (mut pages, mut items) = (0u64, 0u64);
    while let Some(p) = s.next().await {
        let p = p?;
        pages += 1;
        items += p.items.len() as u64;
    }
    Ok((pages, items))
}

async fn throughput() -> Result<(), Box<dyn std::error::Error>> {
    let t = Instant::now();
    let sim = sim::start(SimConfig {
        devices: 100_000,
        subscriptions: 50_000,
        subscription_page_max: 200,
        ..SimConfig::default()
    })
    .await?;
    println!("simulator ready in {:.1}s", t.elapsed().as_secs_f64());
    let off = RateLimits {
        devices_get: 1_000_000,
        subscriptions_get: 1_000_000,
        devices_patch: 1_000_000,
        devices_post: 1_000_000,
        async_operations_get: 1_000_000,
        service_catalog_get: 1_000_000,
    };
    for conc in [1u32, 4, 8] {
        let c = Client::new(
            &api_cfg(&sim, off.clone(), conc),
            Secret::new(sim.client_secret()),
        )?;
        sim.reset_stats();
        let base = rss_kib();
        let sampler = RssSampler::start();
        let t = Instant::now();
        let (dp, di) = drain(c.devices(None)).await?;
        let td = t.elapsed();
        let (sp, si) = drain(c.subscriptions(None)).await?;
        let total = t.elapsed();
        let peak = sampler.finish();
        let st = sim.stats();
        println!(
            "throughput conc={conc}: devices {di} in {dp} pages {:.2}s, subscriptions {si} in {sp} \
             pages {:.2}s, total {:.2}s ({:.0} items/s); requests {} (devices {}, subscriptions {}); \
             peak RSS +{:.1} MiB over {:.1} MiB before",
            td.as_secs_f64(),
            (total - td).as_secs_f64(),
            total.as_secs_f64(),
            (di + si) as f64 / total.as_secs_f64(),
            st.total().requests,
            st.endpoint("devices_get").requests,
            st.endpoint("subscriptions_get").requests,
            peak.saturating_sub(base) as f64 / 1024.0,
            base as f64 / 1024.0,
        );
    }
    sim.shutdown().await;
    Ok(())
}

async fn pacing() -> Result<(), Box<dyn std::error::Error>> {
    let (nd, ns) = (40_000usize, 1_000usize);
    let sim = sim::start(SimConfig {
        devices: nd,
        subscriptions: ns,
        limits: Some(Limits::default()),
        ..SimConfig::default()
    })
    .await?;
    let limits = RateLimits::default();
    let c = Client::new(
        &api_cfg(&sim, limits.clone(), 4),
        Secret::new(sim.client_secret()),
    )?;
    let dc = c.clone();
    let sc = c.clone();
    let t = Instant::now();
    let dh = tokio::spawn(async move {
        let r = drain(dc.devices(None)).await;
        (r, Instant::now())
    });
    let sh = tokio::spawn(async move {
        let r = drain(sc.subscriptions(None)).await;
        (r, Instant::now())
    });
    let (dr, dend) = dh.await?;
    let (sr, send) = sh.await?;
    let (dp, di) = dr?;
    let (sp, si) = sr?;
    let st = sim.stats();
    let dreq = st.endpoint("devices_get").requests;
    let sreq = st.endpoint("subscriptions_get").requests;
    let report = |name: &str, items: u64, pages: u64, reqs: u64, per_min: u32, end: Instant| {
        let wall = (end - t).as_secs_f64();
        let min = reqs as f64 * 60.0 / f64::from(per_min);
        let min_gaps = (reqs.saturating_sub(1)) as f64 * 60.0 / f64::from(per_min);
        println!(
            "pacing {name}: {items} items, {pages} pages, {reqs} requests at {per_min}/min: wall \
             {wall:.2}s; requests/rate = {min:.2}s ({:+.1}%), (requests-1)/rate = {min_gaps:.2}s \
             ({:+.1}%)",
            (wall / min - 1.0) * 100.0,
            (wall / min_gaps - 1.0) * 100.0
        );
    };
    report("devices", di, dp, dreq, limits.devices_get, dend);
    report(
        "subscriptions",
        si,
        sp,
        sreq,
        limits.subscriptions_get,
        send,
    );
    println!(
        "pacing: 429 answers devices {} subscriptions {}; peak devices requests in any 60 s: {} \
         (limit {}), subscriptions: {} (limit {})",
        st.endpoint("devices_get").throttled_429,
        st.endpoint("subscriptions_get").throttled_429,
        st.max_in_window(Some("devices_get"), Duration::from_secs(60)),
        limits.devices_get,
        st.max_in_window(Some("subscriptions_get"), Duration::from_secs(60)),
        limits.subscriptions_get,
    );
    sim.shutdown().await;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    glp_console::tls::init();
    let only = std::env::var("GLP_BENCH_ONLY").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        if only.is_empty() || only == "throughput" {
            throughput().await?;
        }
        if only.is_empty() || only == "pacing" {
            pacing().await?;
        }
        Ok(())
    })
}
