//! Starting the simulator and the [`SimHandle`] a test, `--demo` or `simulate` drives it by.

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::audit_store::{Actor, AuditQuery};
use super::config::SimConfig;
use super::data;
use super::faults::Faults;
use super::limits::Limits;
use super::server;
use super::state::{Shared, lock, read, write};
use super::stats::Stats;
use super::world::World;

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
    /// The MSP's (or the only) workspace.
    pub(crate) shared: Arc<Shared>,
    pub(crate) world: Arc<World>,
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
    let world = Arc::new(World::build(cfg).await.map_err(SimError::Config)?);
    let shared = Arc::clone(&world.root);
    let stop = CancellationToken::new();
    let task = tokio::spawn(server::serve(listener, world.dispatch(), stop.clone()));
    Ok(SimHandle {
        shared,
        world,
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

    /// Replace the rate limits (`None` = off) of every workspace; buckets start full.
    pub fn set_limits(&self, l: Option<Limits>) {
        for sh in self.world.all() {
            sh.set_limits(l.clone());
        }
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

    /// Every token issued so far (by every workspace) answers 401 "expired" from now on.
    pub fn expire_all_tokens(&self) {
        for sh in self.world.all() {
            sh.expire_tokens();
        }
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
    /// In MSP mode this is the MSP's view; the change reaches the tenant's view too.
    pub fn modify_device(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        modify_device_of(&self.shared, id, f)
    }

    /// Change a subscription in place; `updatedAt` is bumped afterwards.
    pub fn modify_subscription(&self, id: &str, f: impl FnOnce(&mut Value)) -> bool {
        let now = data::ts(self.shared.now_ts());
        let changed = write(&self.shared.data).subscriptions.modify(id, |v| {
            let before = v.clone();
            f(v);
            v["id"] = Value::String(id.to_string());
            v["updatedAt"] = Value::String(now);
            (before, v.clone())
        });
        match changed {
            Some((before, after)) => {
                self.shared
                    .audit_subscription(Actor::Person, &before, &after);
                true
            }
            None => false,
        }
    }

    /// Add `n` new random devices at the end of the served order; returns their ids.
    pub fn add_devices(&self, n: usize) -> Vec<String> {
        self.shared.add_devices(n)
    }

    /// Remove a device (as if deleted in GLP); `false` if unknown.
    pub fn remove_device(&self, id: &str) -> bool {
        let old = self.device(id);
        let gone = write(&self.shared.data).devices.remove(id);
        if gone {
            self.shared.mirror_device(old.as_ref(), None);
            self.shared.audit_device(Actor::Person, old.as_ref(), None);
        }
        gone
    }

    /// Who the audit log says made the test controls' changes from now on (every
    /// workspace); API changes stay the API client's.
    pub fn set_audit_user(&self, user: &str) {
        for sh in self.world.all() {
            lock(&sh.audit).user = user.to_string();
        }
    }

    /// The audit log of the MSP's (or the only) workspace, oldest first.
    pub fn audit_entries(&self) -> Vec<Value> {
        lock(&self.shared.audit).entries.clone()
    }

    /// The audit-log list requests received so far (MSP's or only workspace), in order.
    pub fn audit_queries(&self) -> Vec<AuditQuery> {
        lock(&self.shared.audit).queries.clone()
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

/// [`SimHandle::modify_device`] in one workspace's state, copied to the views holding it.
pub(crate) fn modify_device_of(sh: &Shared, id: &str, f: impl FnOnce(&mut Value)) -> bool {
    let now = data::ts(sh.now_ts());
    let changed = write(&sh.data).devices.modify(id, |v| {
        let before = v.clone();
        f(v);
        v["id"] = Value::String(id.to_string());
        v["updatedAt"] = Value::String(now);
        (before, v.clone())
    });
    match changed {
        Some((before, after)) => {
            sh.mirror_device(Some(&before), Some(&after));
            sh.audit_device(Actor::Person, Some(&before), Some(&after));
            true
        }
        None => false,
    }
}
