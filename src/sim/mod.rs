//! A GreenLake API simulator (axum) following `glp-api.md`, for tests, benchmarks, `--demo`
//! and `glp-console simulate`. Must not be imported by `glp/`.
//!
//! Start one with [`start`]; the returned [`SimHandle`] gives the URLs and credentials to point
//! a client at, switches faults and rate limits mid-run, reads request counters, and changes
//! the data underneath a client (to test incremental sync). The same controls are served over
//! HTTP under `/_sim/…` for other processes.
//!
//! Decisions where GLP's behaviour is unknown (glp-api.md §10) are documented on the items
//! that make them; the main ones: served order is creation order (`createdAt`, then `id`);
//! state-dependent write failures (archived device, no application, used-up subscription, tag
//! key clash) are reported per device in a `FAILED` async operation, not as 400.

mod catalog;
mod cli;
mod data;
mod errors;
mod faults;
mod filter;
mod hostile;
mod limits;
mod list;
mod ops;
mod routes;
mod server;
mod state;
mod stats;
mod store;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use cli::run_cli;
pub use faults::{Faults, Outage};
pub use filter::{Expr as FilterExpr, Target as FilterTarget, parse as parse_filter};
pub use limits::Limits;
pub use stats::{EndpointStats, LogEntry, Stats};

use state::{Shared, lock, read, write};

/// Simulator settings. `Default` is small data, no limits, no faults: handy for tests.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Devices to generate.
    pub devices: usize,
    /// Subscriptions to generate.
    pub subscriptions: usize,
    /// Seed: the same seed gives the same data.
    pub seed: u64,
    pub client_id: String,
    pub client_secret: String,
    /// `expires_in` of issued tokens (GLP: 15 minutes).
    pub token_ttl: Duration,
    /// Largest subscription page (`limit`): 200 as in the 2026-08-03 spec; 50 plays the
    /// API before it (the client then falls back to 50).
    pub subscription_page_max: u32,
    /// Rate limits; `None` turns them off.
    pub limits: Option<Limits>,
    /// Faults active from the start.
    pub faults: Faults,
    /// How long an async operation takes: INITIALIZED, RUNNING after half of it, then done.
    pub op_delay: Duration,
    /// How long a finished operation stays readable (GLP: 24 h).
    pub op_retention: Duration,
    /// Send `Retry-After` on 429 and random 5xx (GLP does not document it). Outage 503s
    /// always carry it.
    pub retry_after_header: bool,
    /// Report async operations in GLP-Sync-2's vocabulary (PENDING/IN_PROGRESS/COMPLETED).
    pub legacy_status_vocab: bool,
    /// The workspace the data belongs to (token claims, `inUseWorkspace`).
    pub workspace_id: String,
    /// Devices and subscriptions (each) generated hostile: NUL characters, 64 KiB names,
    /// 5 000-character tags, over-long indexed values and unstorable ids (`sim::hostile`).
    pub hostile_items: usize,
}

impl Default for SimConfig {
    fn default() -> SimConfig {
        SimConfig {
            port: 0,
            devices: 300,
            subscriptions: 80,
            seed: 42,
            client_id: "sim-client".into(),
            client_secret: "sim-secret".into(),
            token_ttl: Duration::from_secs(900),
            subscription_page_max: 200,
            limits: None,
            faults: Faults::default(),
            op_delay: Duration::from_millis(50),
            op_retention: Duration::from_secs(24 * 3600),
            retry_after_header: false,
            legacy_status_vocab: false,
            workspace_id: "3292c36d30ef4f26823b76b5d213b670".into(),
            hostile_items: 0,
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind { port: u16, source: std::io::Error },
    #[error("invalid simulator setting: {0}")]
    Config(String),
}

/// A running simulator. Dropping it without [`SimHandle::shutdown`] leaves the server task
/// running until the runtime ends.
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Generate the data and start serving on 127.0.0.1.
pub async fn start(cfg: SimConfig) -> Result<SimHandle, SimError> {
    if !(1..=2000).contains(&cfg.subscription_page_max) {
        return Err(SimError::Config(format!(
            "subscription_page_max must be 1..=2000, not {}",
            cfg.subscription_page_max
        )));
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port))
        .await
        .map_err(|source| SimError::Bind {
            port: cfg.port,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        port: cfg.port,
        source,
    })?;
    let (seed, nd, ns, ws, hostile) = (
        cfg.seed,
        cfg.devices,
        cfg.subscriptions,
        cfg.workspace_id.clone(),
        cfg.hostile_items,
    );
    let data = tokio::task::spawn_blocking(move || {
        let mut d = data::Data::generate(seed, nd, ns, &ws);
        d.make_hostile(hostile);
        d
    })
    .await
    .map_err(|e| SimError::Config(format!("data generation failed: {e}")))?;
    let shared = Arc::new(Shared::new(cfg, data));
    let stop = CancellationToken::new();
    let task = tokio::spawn(server::serve(
        listener,
        routes::router(Arc::clone(&shared)),
        stop.clone(),
    ));
    Ok(SimHandle {
        shared,
        addr,
        stop,
        task,
    })
}

impl SimHandle {
    /// `http://127.0.0.1:<port>`: the `GLP_BASE_URL` to use.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The classic token URL, `<base>/as/token.oauth2`.
    pub fn token_url(&self) -> String {
        format!("{}/as/token.oauth2", self.base_url())
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn client_id(&self) -> &str {
        &self.shared.cfg.client_id
    }

    pub fn client_secret(&self) -> &str {
        &self.shared.cfg.client_secret
    }

    /// The `GLP_*` environment a client needs to use this simulator.
    pub fn env_vars(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GLP_BASE_URL", self.base_url()),
            ("GLP_TOKEN_URL", self.token_url()),
            ("GLP_CLIENT_ID", self.client_id().to_string()),
            ("GLP_CLIENT_SECRET", self.client_secret().to_string()),
        ]
    }

    /// Replace the active faults (the outage counter restarts).
    pub fn set_faults(&self, f: Faults) {
        lock(&self.shared.faults).set(f);
    }

    pub fn faults(&self) -> Faults {
        lock(&self.shared.faults).faults.clone()
    }

    /// Replace the rate limits (`None` = off); buckets start full.
    pub fn set_limits(&self, l: Option<Limits>) {
        self.shared.set_limits(l);
    }

    pub fn limits(&self) -> Option<Limits> {
        lock(&self.shared.limiter)
            .as_ref()
            .map(|l| l.limits.clone())
    }

    /// Counters and request log since start or the last reset.
    pub fn stats(&self) -> Stats {
        lock(&self.shared.stats).stats.clone()
    }

    pub fn reset_stats(&self) {
        lock(&self.shared.stats).reset();
    }

    /// Every token issued so far answers 401 "expired" from now on.
    pub fn expire_all_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// All devices, in served order.
    pub fn devices(&self) -> Vec<Value> {
        read(&self.shared.data)
            .devices
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect()
    }

    /// All subscriptions, in served order.
    pub fn subscriptions(&self) -> Vec<Value> {
        read(&self.shared.data)
            .subscriptions
            .entries()
            .iter()
            .map(|e| e.value.clone())
            .collect()
    }

    pub fn device(&self, id: &str) -> Option<Value> {
        read(&self.shared.data)
            .devices
            .get(id)
            .map(|e| e.value.clone())
    }

    pub fn subscription(&self, id: &str) -> Option<Value> {
        read(&self.shared.data)
            .subscriptions
            .get(id)
            .map(|e| e.value.clone())
    }

    /// Change a device in place; `updatedAt` is bumped afterwards. `false` if unknown.
    pub fn modify_device(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        let now = data::ts(self.shared.now_ts());
        write(&self.shared.data)
            .devices
            .modify(id, |v| {
                f(v);
                v["id"] = Value::String(id.to_string());
                v["updatedAt"] = Value::String(now);
            })
            .is_some()
    }

    /// Change a subscription in place; `updatedAt` is bumped afterwards.
    pub fn modify_subscription(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        let now = data::ts(self.shared.now_ts());
        write(&self.shared.data)
            .subscriptions
            .modify(id, |v| {
                f(v);
                v["id"] = Value::String(id.to_string());
                v["updatedAt"] = Value::String(now);
            })
            .is_some()
    }

    /// Add `n` new random devices at the end of the served order; returns their ids.
    pub fn add_devices(&self, n: usize) -> Vec<String> {
        self.shared.add_devices(n)
    }

    /// Remove a device (as if deleted in GLP); `false` if unknown.
    pub fn remove_device(&self, id: &str) -> bool {
        write(&self.shared.data).devices.remove(id)
    }

    /// An async operation as `GET /devices/v1/async-operations/{id}` (or the subscriptions
    /// path, for a subscription PATCH) returns it.
    pub fn operation(&self, id: &str) -> Option<Value> {
        self.shared.op_json(id)
    }

    /// Service-manager ids and the regions each is provisioned in.
    pub fn provisioned_applications(&self) -> Vec<(String, String)> {
        read(&self.shared.data)
            .catalog
            .provisions
            .iter()
            .filter_map(|p| {
                Some((
                    p["serviceManager"]["id"].as_str()?.to_string(),
                    p["region"].as_str()?.to_string(),
                ))
            })
            .collect()
    }

    /// Stop serving and wait for the server task.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

impl Shared {
    pub(crate) fn set_limits(&self, l: Option<Limits>) {
        *lock(&self.limiter) = l.map(limits::Limiter::new);
    }

    pub(crate) fn add_devices(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let now = self.now_ts();
            let mut data = write(&self.data);
            let d = data.extra_device(now);
            ids.push(d["id"].as_str().unwrap_or_default().to_string());
            data.devices.push(d);
        }
        ids
    }
}
