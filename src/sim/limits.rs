//! Per-endpoint token buckets with GreenLake's per-minute limits (glp-api.md §5.1).
//!
//! Each bucket holds up to the per-minute number of requests and refills at that number per
//! 60 s. Buckets are keyed by endpoint only: the simulator serves one workspace and client.

use std::collections::HashMap;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::stats::Endpoint;

/// Requests per minute for each limited endpoint. `Default` is what GLP-Sync-2 assumes
/// (the portal numbers of early 2026); [`Limits::glp_2026_spec`] has the later, doubled
/// write limits. `None` for an endpoint means unlimited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// GET /devices/v1/devices (and v1beta1).
    pub devices_get: Option<u32>,
    /// GET /devices/v1/devices/{id}.
    pub device_get: Option<u32>,
    /// GET /devices/v2beta1/devices (+/{id}).
    pub devices_v2_get: Option<u32>,
    /// PATCH /devices/v2beta1/devices.
    pub devices_patch: Option<u32>,
    /// POST /devices/v2beta1/devices.
    pub devices_post: Option<u32>,
    /// POST /devices/v1/devices.
    pub devices_v1_post: Option<u32>,
    /// PATCH /devices/v1/devices.
    pub devices_v1_patch: Option<u32>,
    /// GET /devices/v1/async-operations/{id}.
    pub async_get: Option<u32>,
    /// GET /subscriptions/v1/subscriptions.
    pub subscriptions_get: Option<u32>,
    /// GET /subscriptions/v1/subscriptions/{id}.
    pub subscription_get: Option<u32>,
    /// PATCH /subscriptions/v1/subscriptions (tags).
    pub subscriptions_patch: Option<u32>,
    /// GET /subscriptions/v1/async-operations/{id}.
    pub subscription_async_get: Option<u32>,
    /// Service catalog endpoints (GLP states no limit).
    pub service_catalog: Option<u32>,
    /// GET /audit-log/v2beta1/logs: 100 a minute per user (the simulator serves one user;
    /// the 300 a minute overall never binds before it).
    pub audit_logs_get: Option<u32>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            devices_get: Some(160),
            device_get: Some(40),
            devices_v2_get: Some(300),
            devices_patch: Some(20),
            devices_post: Some(25),
            devices_v1_post: Some(25),
            devices_v1_patch: Some(20),
            async_get: Some(90),
            subscriptions_get: Some(60),
            subscription_get: Some(20),
            subscriptions_patch: Some(5),
            subscription_async_get: Some(30),
            service_catalog: None,
            audit_logs_get: Some(100),
        }
    }
}

impl Limits {
    /// The numbers of the 2026-06-30 … 08-03 specs (write limits doubled).
    pub fn glp_2026_spec() -> Limits {
        Limits {
            devices_patch: Some(40),
            devices_post: Some(50),
            devices_v1_post: Some(50),
            devices_v1_patch: Some(40),
            ..Limits::default()
        }
    }

    /// Every limited endpoint set to the same per-minute number (handy in tests).
    pub fn uniform(per_minute: u32) -> Limits {
        let n = Some(per_minute);
        Limits {
            devices_get: n,
            device_get: n,
            devices_v2_get: n,
            devices_patch: n,
            devices_post: n,
            devices_v1_post: n,
            devices_v1_patch: n,
            async_get: n,
            subscriptions_get: n,
            subscription_get: n,
            subscriptions_patch: n,
            subscription_async_get: n,
            service_catalog: None,
            audit_logs_get: n,
        }
    }

    /// The per-minute limit of an endpoint, if it has one.
    pub fn for_endpoint(&self, ep: Endpoint) -> Option<u32> {
        match ep {
            Endpoint::DevicesGet => self.devices_get,
            Endpoint::DeviceGet => self.device_get,
            Endpoint::DevicesV2Get => self.devices_v2_get,
            Endpoint::DevicesPatch => self.devices_patch,
            Endpoint::DevicesPost => self.devices_post,
            Endpoint::DevicesV1Post => self.devices_v1_post,
            Endpoint::DevicesV1Patch => self.devices_v1_patch,
            Endpoint::AsyncGet => self.async_get,
            Endpoint::SubscriptionsGet => self.subscriptions_get,
            Endpoint::SubscriptionGet => self.subscription_get,
            Endpoint::SubscriptionsPatch => self.subscriptions_patch,
            Endpoint::SubscriptionAsyncGet => self.subscription_async_get,
            Endpoint::ServiceCatalog => self.service_catalog,
            Endpoint::AuditLogsGet => self.audit_logs_get,
            Endpoint::Token | Endpoint::Workspaces | Endpoint::Control | Endpoint::Other => None,
        }
    }
}

/// What the limiter decided; the numbers go into the `ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the next request is allowed (when refused) or the bucket is full.
    pub reset_secs: u64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets for the current [`Limits`].
#[derive(Debug)]
pub(crate) struct Limiter {
    pub limits: Limits,
    buckets: HashMap<Endpoint, Bucket>,
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            buckets: HashMap::new(),
        }
    }

    /// Take one token for `ep`; `None` when the endpoint is unlimited.
    pub fn take(&mut self, ep: Endpoint, now: Instant) -> Option<Verdict> {
        let limit = self.limits.for_endpoint(ep)?;
        let cap = f64::from(limit.max(1));
        let rate = cap / 60.0;
        let b = self.buckets.entry(ep).or_insert(Bucket {
            tokens: cap,
            at: now,
        });
        let dt = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + dt * rate).min(cap);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Some(Verdict {
                allowed: true,
                limit,
                remaining: b.tokens.floor() as u32,
                reset_secs: ((cap - b.tokens) / rate).ceil() as u64,
            })
        } else {
            Some(Verdict {
                allowed: false,
                limit,
                remaining: 0,
                reset_secs: (((1.0 - b.tokens) / rate).ceil() as u64).max(1),
            })
        }
    }
}
