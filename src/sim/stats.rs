//! Request counters and a request log, so tests and benchmarks can assert how a client
//! behaved (how many 429s it caused, whether it stayed under a per-minute budget).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Which API operation a request was, for counters and rate limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    Token,
    DevicesGet,
    DeviceGet,
    DevicesV2Get,
    DevicesPatch,
    DevicesPost,
    DevicesV1Post,
    DevicesV1Patch,
    AsyncGet,
    SubscriptionsGet,
    SubscriptionGet,
    SubscriptionsPatch,
    SubscriptionAsyncGet,
    ServiceCatalog,
    /// `GET /audit-log/v2beta1/logs` (+/{id}).
    AuditLogsGet,
    /// `/workspaces/v1/…` (MSP tenants, workspace details).
    Workspaces,
    Control,
    Other,
}

impl Endpoint {
    /// The stable name used in [`Stats`] and `/_sim/stats`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::DevicesGet => "devices_get",
            Endpoint::DeviceGet => "device_get",
            Endpoint::DevicesV2Get => "devices_v2_get",
            Endpoint::DevicesPatch => "devices_patch",
            Endpoint::DevicesPost => "devices_post",
            Endpoint::DevicesV1Post => "devices_v1_post",
            Endpoint::DevicesV1Patch => "devices_v1_patch",
            Endpoint::AsyncGet => "async_get",
            Endpoint::SubscriptionsGet => "subscriptions_get",
            Endpoint::SubscriptionGet => "subscription_get",
            Endpoint::SubscriptionsPatch => "subscriptions_patch",
            Endpoint::SubscriptionAsyncGet => "subscription_async_get",
            Endpoint::ServiceCatalog => "service_catalog",
            Endpoint::AuditLogsGet => "audit_logs_get",
            Endpoint::Workspaces => "workspaces",
            Endpoint::Control => "control",
            Endpoint::Other => "other",
        }
    }

    /// Classify a request by method and path.
    pub fn classify(method: &http::Method, path: &str) -> Endpoint {
        use http::Method;
        let path = path.trim_end_matches('/');
        if path.starts_with("/_sim") {
            return Endpoint::Control;
        }
        if path == "/as/token.oauth2"
            || (path.starts_with("/authorization/v2/oauth2/") && path.ends_with("/token"))
        {
            return Endpoint::Token;
        }
        if path.starts_with("/service-catalog/") {
            return Endpoint::ServiceCatalog;
        }
        if path.starts_with("/workspaces/") {
            return Endpoint::Workspaces;
        }
        let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match (method, seg.as_slice()) {
            (&Method::GET, ["devices", "v1" | "v1beta1", "devices"]) => Endpoint::DevicesGet,
            (&Method::GET, ["devices", "v1" | "v1beta1", "devices", _]) => Endpoint::DeviceGet,
            (&Method::GET, ["devices", "v2beta1", "devices", ..]) => Endpoint::DevicesV2Get,
            (&Method::PATCH, ["devices", "v2beta1", "devices"]) => Endpoint::DevicesPatch,
            (&Method::POST, ["devices", "v2beta1", "devices"]) => Endpoint::DevicesPost,
            (&Method::POST, ["devices", "v1", "devices"]) => Endpoint::DevicesV1Post,
            (&Method::PATCH, ["devices", "v1", "devices"]) => Endpoint::DevicesV1Patch,
            (&Method::GET, ["devices", "v1" | "v1beta1", "async-operations", _]) => {
                Endpoint::AsyncGet
            }
            (&Method::GET, ["subscriptions", "v1", "subscriptions"]) => Endpoint::SubscriptionsGet,
            (&Method::GET, ["subscriptions", "v1", "subscriptions", _]) => {
                Endpoint::SubscriptionGet
            }
            (&Method::PATCH, ["subscriptions", "v1", "subscriptions"]) => {
                Endpoint::SubscriptionsPatch
            }
            (&Method::GET, ["subscriptions", "v1" | "v1beta1", "async-operations", _]) => {
                Endpoint::SubscriptionAsyncGet
            }
            (&Method::GET, ["audit-log", "v2beta1", "logs", ..]) => Endpoint::AuditLogsGet,
            _ => Endpoint::Other,
        }
    }
}

/// Counters for one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    pub requests: u64,
    pub ok_2xx: u64,
    pub client_4xx: u64,
    pub throttled_429: u64,
    pub server_5xx: u64,
    /// Connections dropped on purpose (fault `drop_rate`); no status was sent.
    pub dropped: u64,
}

/// One served request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry {
    /// Milliseconds since the simulator started (or since the last reset).
    pub at_ms: u64,
    pub endpoint: String,
    pub method: String,
    /// 0 for a dropped connection.
    pub status: u16,
}

/// A snapshot of the counters and the log (control endpoints are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub endpoints: BTreeMap<String, EndpointStats>,
    pub log: Vec<LogEntry>,
}

impl Stats {
    /// Counters of one endpoint (zeros when it was never called).
    pub fn endpoint(&self, name: &str) -> EndpointStats {
        self.endpoints.get(name).cloned().unwrap_or_default()
    }

    /// Sum over all endpoints.
    pub fn total(&self) -> EndpointStats {
        let mut t = EndpointStats::default();
        for s in self.endpoints.values() {
            t.requests += s.requests;
            t.ok_2xx += s.ok_2xx;
            t.client_4xx += s.client_4xx;
            t.throttled_429 += s.throttled_429;
            t.server_5xx += s.server_5xx;
            t.dropped += s.dropped;
        }
        t
    }

    /// The most requests to `endpoint` (all endpoints when `None`) in any window of length
    /// `window`: "no more than N requests in any 60 s".
    pub fn max_in_window(&self, endpoint: Option<&str>, window: Duration) -> usize {
        let w = window.as_millis() as u64;
        let times: Vec<u64> = self
            .log
            .iter()
            .filter(|e| endpoint.is_none_or(|n| e.endpoint == n))
            .map(|e| e.at_ms)
            .collect();
        let mut best = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end] - times[start] >= w {
                start += 1;
            }
            best = best.max(end - start + 1);
        }
        best
    }
}

/// Cap on the log so a long benchmark cannot grow memory without bound.
const LOG_CAP: usize = 2_000_000;

/// The mutable recorder behind [`Stats`].
#[derive(Debug)]
pub(crate) struct Recorder {
    pub since: std::time::Instant,
    pub stats: Stats,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            since: std::time::Instant::now(),
            stats: Stats::default(),
        }
    }

    pub fn record(&mut self, ep: Endpoint, method: &str, status: Option<u16>) {
        let e = self
            .stats
            .endpoints
            .entry(ep.as_str().to_string())
            .or_default();
        e.requests += 1;
        match status {
            None => e.dropped += 1,
            Some(429) => e.throttled_429 += 1,
            Some(s) if (200..300).contains(&s) => e.ok_2xx += 1,
            Some(s) if (400..500).contains(&s) => e.client_4xx += 1,
            Some(s) if s >= 500 => e.server_5xx += 1,
            Some(_) => {}
        }
        if self.stats.log.len() < LOG_CAP {
            self.stats.log.push(LogEntry {
                at_ms: self.since.elapsed().as_millis() as u64,
                endpoint: ep.as_str().to_string(),
                method: method.to_string(),
                status: status.unwrap_or(0),
            });
        }
    }

    pub fn reset(&mut self) {
        *self = Recorder::new();
    }
}
