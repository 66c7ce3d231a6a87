//! The workspaces one simulator serves, and which of them answers a request.
//!
//! A standalone simulator is one workspace. In MSP mode every workspace — the MSP and each
//! tenant — is a full single-workspace state of its own (data, tokens, faults, limits,
//! counters, async operations), so paging, filters, limits and faults work per workspace
//! exactly as they do for one. A request goes to the workspace its bearer token was issued
//! for (the token's `workspace` claim; the state then checks the token itself), a token
//! request to the workspace in its URL, `/_sim/ws/{id}/…` to that workspace's control
//! endpoints; anything else to the MSP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hyper_util::service::TowerToHyperService;

use super::config::SimConfig;
use super::data::{Data, Placement};
use super::limits::Limiter;
use super::msp::{MspSim, Ownership, TenantMeta, dashless};
use super::routes;
use super::server::{Pick, Svc};
use super::state::{Directory, Shared, lock, token_workspace};

/// Every workspace of a simulator.
pub(crate) struct World {
    /// The MSP (or the only workspace).
    pub root: Arc<Shared>,
    /// Tenants in directory order (empty for a standalone simulator).
    pub tenants: Vec<Arc<Shared>>,
    pub dir: Option<Arc<Directory>>,
}

/// Picks the router of the workspace a request is for.
pub(crate) struct Dispatch {
    msp_id: String,
    root: Svc,
    by_ws: HashMap<String, Svc>,
}

impl World {
    /// Generate the data of every workspace (on a blocking thread) and wire them up.
    pub async fn build(cfg: SimConfig) -> Result<World, String> {
        let Some(m) = cfg.msp.clone() else {
            let c = cfg.clone();
            let data = tokio::task::spawn_blocking(move || {
                let mut d = Data::generate(c.seed, c.devices, c.subscriptions, &c.workspace_id);
                d.make_hostile(c.hostile_items);
                d
            })
            .await
            .map_err(|e| format!("data generation failed: {e}"))?;
            return Ok(World {
                root: Arc::new(Shared::new(cfg, data)),
                tenants: Vec::new(),
                dir: None,
            });
        };
        let ws = dashless(&cfg.workspace_id);
        if ws.len() != 32 || !ws.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "the MSP workspace id must be 32 hex digits, not {:?}",
                cfg.workspace_id
            ));
        }
        let tenants = m.directory(cfg.seed);
        let (c, t2, m2) = (cfg.clone(), tenants.clone(), m.clone());
        let (msp_data, datas) = tokio::task::spawn_blocking(move || generate(&c, &m2, &t2))
            .await
            .map_err(|e| format!("data generation failed: {e}"))?;
        let root = Arc::new(Shared::new(
            SimConfig {
                workspace_id: ws,
                ..cfg.clone()
            },
            msp_data,
        ));
        let members: Vec<Arc<Shared>> = tenants
            .iter()
            .zip(datas)
            .map(|(t, data)| {
                let tcfg = SimConfig {
                    workspace_id: t.id.clone(),
                    seed: t.seed,
                    devices: m.devices_per_tenant,
                    subscriptions: m.subscriptions_per_tenant,
                    hostile_items: 0,
                    msp: None,
                    ..cfg.clone()
                };
                let limiter = match m.limit_scope {
                    super::msp::LimitScope::Client => Arc::clone(&root.limiter),
                    super::msp::LimitScope::Workspace => {
                        Arc::new(Mutex::new(cfg.limits.clone().map(Limiter::new)))
                    }
                };
                Arc::new(Shared::with_limiter(tcfg, data, limiter))
            })
            .collect();
        for (n, f) in &m.tenant_faults {
            if let Some(sh) = n.checked_sub(1).and_then(|i| members.get(i)) {
                *lock(&sh.tenant_faults) = f.clone();
            }
        }
        let mut all = vec![Arc::clone(&root)];
        all.extend(members.iter().cloned());
        let dir = Arc::new(Directory::new(&root.cfg.workspace_id, tenants, &all));
        for sh in &all {
            let _ = sh.dir.set(Arc::clone(&dir));
        }
        Ok(World {
            root,
            tenants: members,
            dir: Some(dir),
        })
    }

    /// The state of a workspace by id in either spelling.
    pub fn member(&self, id: &str) -> Option<Arc<Shared>> {
        match &self.dir {
            Some(d) => d.member(id),
            None => (dashless(id) == dashless(&self.root.cfg.workspace_id))
                .then(|| Arc::clone(&self.root)),
        }
    }

    /// Every workspace, the MSP first.
    pub fn all(&self) -> impl Iterator<Item = &Arc<Shared>> {
        std::iter::once(&self.root).chain(self.tenants.iter())
    }

    pub fn dispatch(&self) -> Dispatch {
        Dispatch {
            msp_id: dashless(&self.root.cfg.workspace_id),
            root: TowerToHyperService::new(routes::router(Arc::clone(&self.root))),
            by_ws: self
                .tenants
                .iter()
                .map(|t| {
                    (
                        dashless(&t.cfg.workspace_id),
                        TowerToHyperService::new(routes::router(Arc::clone(t))),
                    )
                })
                .collect(),
        }
    }
}

/// The MSP's data (its pool plus the devices of MSP-owned tenants) and each tenant's.
fn generate(cfg: &SimConfig, m: &MspSim, tenants: &[TenantMeta]) -> (Data, Vec<Data>) {
    let ws = dashless(&cfg.workspace_id);
    let mut msp = Data::generate(cfg.seed, cfg.devices, cfg.subscriptions, &ws);
    msp.make_hostile(cfg.hostile_items);
    msp.set_placement(Placement::MspPool, 0.0, cfg.seed);
    let mut consolidated = Vec::new();
    let datas = tenants
        .iter()
        .map(|t| {
            let mut d = Data::generate(
                t.seed,
                m.devices_per_tenant,
                m.subscriptions_per_tenant,
                &t.id,
            );
            let msp_owned = t.ownership == Ownership::MspOwnedInventory;
            d.set_placement(Placement::Tenant { msp_owned }, m.placed_share, t.seed);
            if msp_owned {
                consolidated.extend(d.devices.entries().iter().map(|e| e.value.clone()));
            }
            d
        })
        .collect();
    msp.absorb_devices(consolidated);
    (msp, datas)
}

fn bearer<B>(req: &http::Request<B>) -> Option<&str> {
    let v = req
        .headers()
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

impl Pick for Dispatch {
    /// The router for `req` (whose URI is rewritten for `/_sim/ws/{id}/…`).
    fn pick(&self, req: &mut hyper::Request<hyper::body::Incoming>) -> &Svc {
        if self.by_ws.is_empty() && !req.uri().path().starts_with("/_sim/ws/") {
            return &self.root;
        }
        let path = req.uri().path().to_string();
        if let Some(rest) = path.strip_prefix("/_sim/ws/") {
            let (id, tail) = rest.split_once('/').unwrap_or((rest, ""));
            let id = dashless(id);
            let (svc, tail) = match self.by_ws.get(&id) {
                Some(svc) => (svc, tail),
                None if id == self.msp_id => (&self.root, tail),
                // The root's control router answers 404 for this.
                None => (&self.root, "no-such-workspace"),
            };
            let query = req
                .uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            if let Ok(uri) = format!("/_sim/{tail}{query}").parse() {
                *req.uri_mut() = uri;
            }
            return svc;
        }
        if let Some(id) = path
            .strip_prefix("/authorization/v2/oauth2/")
            .and_then(|r| r.strip_suffix("/token"))
        {
            return self.by_ws.get(&dashless(id)).unwrap_or(&self.root);
        }
        bearer(req)
            .and_then(token_workspace)
            .and_then(|ws| self.by_ws.get(&ws))
            .unwrap_or(&self.root)
    }
}
