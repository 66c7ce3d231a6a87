//! Shared simulator state: data, tokens, faults, limits, counters and async operations.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::config::SimConfig;
use super::data::Data;
use super::faults::FaultState;
use super::limits::{Limiter, Limits};
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

/// Everything the handlers share.
pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub data: RwLock<Data>,
    /// access token → when it stops working.
    pub tokens: Mutex<HashMap<String, Instant>>,
    pub faults: Mutex<FaultState>,
    pub limiter: Mutex<Option<Limiter>>,
    pub stats: Mutex<Recorder>,
    pub ops: Mutex<HashMap<String, Op>>,
    last_ts: Mutex<i64>,
}

impl Shared {
    pub fn new(cfg: SimConfig, data: Data) -> Shared {
        Shared {
            faults: Mutex::new(FaultState::new(cfg.faults.clone(), cfg.seed)),
            limiter: Mutex::new(cfg.limits.clone().map(Limiter::new)),
            cfg,
            data: RwLock::new(data),
            tokens: Mutex::new(HashMap::new()),
            stats: Mutex::new(Recorder::new()),
            ops: Mutex::new(HashMap::new()),
            last_ts: Mutex::new(0),
        }
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
            let mut data = write(&self.data);
            let d = data.extra_device(now);
            ids.push(d["id"].as_str().unwrap_or_default().to_string());
            data.devices.push(d);
        }
        ids
    }
}
