//! Shared simulator state: data, tokens, faults, limits, counters and async operations.

use std::collections::HashMap;
use std::sync::{
    Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak,
};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::audit_store::{Actor, AuditLog};
use super::config::SimConfig;
use super::data::Data;
use super::faults::FaultState;
use super::limits::{Limiter, Limits};
use super::msp::{TenantFaults, TenantMeta, dashless};
use super::ops::Op;
use super::stats::Recorder;

/// Lock a mutex, recovering from poisoning: a panicking handler must not wedge the simulator.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}

/// The workspaces of an MSP world, as every one of them sees it: the MSP, its tenants, and
/// a way to reach each one's state (weak: the world owns the states, not its members).
pub(crate) struct Directory {
    /// Dashless.
    pub msp_id: String,
    /// In creation order.
    pub tenants: Vec<TenantMeta>,
    index: HashMap<String, usize>,
    members: HashMap<String, Weak<Shared>>,
}

impl Directory {
    pub fn new(msp_id: &str, tenants: Vec<TenantMeta>, members: &[Arc<Shared>]) -> Directory {
        Directory {
            msp_id: dashless(msp_id),
            index: tenants
                .iter()
                .enumerate()
                .map(|(i, t)| (t.id.clone(), i))
                .collect(),
            tenants,
            members: members
                .iter()
                .map(|m| (dashless(&m.cfg.workspace_id), Arc::downgrade(m)))
                .collect(),
        }
    }

    /// A tenant by id in either spelling.
    pub fn tenant(&self, id: &str) -> Option<&TenantMeta> {
        self.index.get(&dashless(id)).map(|&i| &self.tenants[i])
    }

    /// The state of a workspace (the MSP or a tenant) by id in either spelling.
    pub fn member(&self, id: &str) -> Option<Arc<Shared>> {
        self.members.get(&dashless(id))?.upgrade()
    }
}

/// Everything the handlers share.
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub data: RwLock<Data>,
    /// access token → when it stops working.
    pub tokens: Mutex<HashMap<String, Instant>>,
    pub faults: Mutex<FaultState>,
    /// Shared by all workspaces of an MSP world when the limit scope is the API client.
    pub limiter: Arc<Mutex<Option<Limiter>>>,
    pub stats: Mutex<Recorder>,
    pub ops: Mutex<HashMap<String, Op>>,
    /// Set once for every workspace of an MSP world.
    pub dir: OnceLock<Arc<Directory>>,
    /// This workspace's faults as a tenant (unused for the MSP and a standalone workspace).
    pub tenant_faults: Mutex<TenantFaults>,
    /// This workspace's audit log (`sim::audit`).
    pub audit: Mutex<AuditLog>,
    last_ts: Mutex<i64>,
}

impl Shared {
    pub fn new(cfg: SimConfig, data: Data) -> Shared {
        let limiter = Arc::new(Mutex::new(cfg.limits.clone().map(Limiter::new)));
        Shared::with_limiter(cfg, data, limiter)
    }

    /// A state drawing its rate limits from `limiter` (shared with other workspaces).
    pub fn with_limiter(
        cfg: SimConfig,
        data: Data,
        limiter: Arc<Mutex<Option<Limiter>>>,
    ) -> Shared {
        Shared {
            faults: Mutex::new(FaultState::new(cfg.faults.clone(), cfg.seed)),
            audit: Mutex::new(AuditLog::new(&cfg.audit_user)),
            limiter,
            cfg,
            data: RwLock::new(data),
            tokens: Mutex::new(HashMap::new()),
            stats: Mutex::new(Recorder::new()),
            ops: Mutex::new(HashMap::new()),
            dir: OnceLock::new(),
            tenant_faults: Mutex::new(TenantFaults::default()),
            last_ts: Mutex::new(0),
        }
    }

    /// The MSP world this workspace belongs to, if any.
    pub fn directory(&self) -> Option<&Arc<Directory>> {
        self.dir.get()
    }

    /// Is this the MSP workspace of an MSP world?
    pub fn is_msp(&self) -> bool {
        self.dir
            .get()
            .is_some_and(|d| d.msp_id == dashless(&self.cfg.workspace_id))
    }

    /// This workspace as a tenant of an MSP world.
    pub fn tenant_meta(&self) -> Option<&TenantMeta> {
        self.dir.get()?.tenant(&self.cfg.workspace_id)
    }

    /// "Now" for `updatedAt`: strictly increasing, so every change moves `updatedAt` even
    /// when two happen within the same millisecond.
    pub fn now_ts(&self) -> DateTime<Utc> {
        let mut last = lock(&self.last_ts);
        let mut ms = Utc::now().timestamp_millis();
        if ms <= *last {
            ms = *last + 1;
        }
        *last = ms;
        DateTime::from_timestamp_millis(ms).unwrap_or_else(Utc::now)
    }

    /// Issue a token that works for the configured TTL (or less, with the early-expiry fault).
    pub fn issue_token(&self) -> String {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = Utc::now().timestamp();
        let ttl = self.cfg.token_ttl;
        let early = lock(&self.faults).faults.token_early_expiry;
        let works_for = early.map_or(ttl, |e| e.min(ttl));
        let jti = uuid::Uuid::new_v4().to_string();
        let header = b64.encode(br#"{"alg":"RS256","typ":"JWT","kid":"glp-sim"}"#);
        let payload = b64.encode(
            serde_json::json!({"sub": self.cfg.client_id, "iss": "glp-sim", "iat": now,
                "exp": now + ttl.as_secs() as i64, "jti": jti, "workspace": self.cfg.workspace_id})
            .to_string(),
        );
        let sig = b64.encode(uuid::Uuid::new_v4().as_bytes());
        let token = format!("{header}.{payload}.{sig}");
        let mut t = lock(&self.tokens);
        let now_i = Instant::now();
        t.retain(|_, exp| *exp > now_i);
        t.insert(token.clone(), now_i + works_for);
        token
    }

    /// `Ok` when the bearer token is valid; `Err(expired)` otherwise.
    ///
    /// The token names its workspace (claim `workspace`), which is how an MSP world
    /// dispatches a request (see [`token_workspace`]).
    pub fn check_token(&self, token: Option<&str>) -> Result<(), bool> {
        let Some(token) = token else {
            return Err(false);
        };
        match lock(&self.tokens).get(token) {
            Some(exp) if *exp > Instant::now() => Ok(()),
            Some(_) => Err(true),
            None => Err(false),
        }
    }

    /// Make every issued token fail with 401 "expired".
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        let past = now.checked_sub(Duration::from_millis(1)).unwrap_or(now);
        for exp in lock(&self.tokens).values_mut() {
            *exp = past;
        }
    }

    /// Replace the rate limits (`None` = off); buckets start full.
    pub(crate) fn set_limits(&self, l: Option<Limits>) {
        *lock(&self.limiter) = l.map(Limiter::new);
    }

    /// Add `n` new random devices at the end of the served order; returns their ids.
    pub(crate) fn add_devices(&self, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let now = self.now_ts();
            let d = write(&self.data).extra_device(now);
            ids.push(d["id"].as_str().unwrap_or_default().to_string());
            write(&self.data).devices.push(d.clone());
            self.mirror_device(None, Some(&d));
            self.audit_device(Actor::Person, None, Some(&d));
        }
        ids
    }
}

/// The `workspace` claim of a token this simulator issued (dashless), without checking it.
pub(crate) fn token_workspace(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    Some(dashless(v.get("workspace")?.as_str()?))
}
