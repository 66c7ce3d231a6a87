//! Per-endpoint pacing.
//!
//! GreenLake limits each endpoint per minute (glp-api.md §5.1). Instead of a fixed sleep per
//! page (GLP-Sync-2), every request reserves the next free slot of its endpoint's schedule:
//! slots are `60 s / limit` apart, so concurrent page fetches run exactly at the allowed rate
//! and never above it (no burst, so no 60-second window ever holds more than `limit`
//! requests). The schedule learns from the server: `ratelimit-remaining: 0` or a 429 blocks
//! the endpoint until the advertised reset, and a smaller `ratelimit-limit` than configured
//! slows it down (never faster than configured).

use std::sync::Mutex;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::Instant;

use crate::config::RateLimits;

/// The rate-limited endpoint families (each has its own bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    DevicesGet,
    /// `GET /devices/v1/devices/{id}`: a quarter of the list limit, as published (40 of 160
    /// a minute, glp-api.md §12); a raised or lowered list limit scales it along.
    DeviceGetById,
    SubscriptionsGet,
    /// `GET /subscriptions/v1/subscriptions/{id}`: 20/min (glp-api.md §5.1), never above
    /// the list limit.
    SubscriptionGetById,
    DevicesPatch,
    DevicesPost,
    /// `GET /devices/v1/async-operations/{id}`: 90/min.
    AsyncOperationsGet,
    ServiceCatalogGet,
    /// `PATCH /subscriptions/v1/subscriptions` (tags): 5/min, never above the device PATCH
    /// limit.
    SubscriptionsPatch,
    /// `GET /subscriptions/v1/async-operations/{id}`: 30/min (glp-api.md §12), never above
    /// the device async-operations limit.
    SubscriptionAsyncOperationsGet,
    /// `GET /audit-log/v2beta1/logs`: 100/min per user (not in the config file).
    AuditLogsGet,
}

impl Endpoint {
    const ALL: [Endpoint; 11] = [
        Endpoint::DevicesGet,
        Endpoint::DeviceGetById,
        Endpoint::SubscriptionsGet,
        Endpoint::SubscriptionGetById,
        Endpoint::DevicesPatch,
        Endpoint::DevicesPost,
        Endpoint::AsyncOperationsGet,
        Endpoint::ServiceCatalogGet,
        Endpoint::SubscriptionsPatch,
        Endpoint::SubscriptionAsyncOperationsGet,
        Endpoint::AuditLogsGet,
    ];

    fn index(self) -> usize {
        self as usize
    }

    /// Name used in events and logs.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::DevicesGet => "GET devices",
            Endpoint::DeviceGetById => "GET device by id",
            Endpoint::SubscriptionsGet => "GET subscriptions",
            Endpoint::SubscriptionGetById => "GET subscription by id",
            Endpoint::DevicesPatch => "PATCH devices",
            Endpoint::DevicesPost => "POST devices",
            Endpoint::AsyncOperationsGet => "GET async-operations",
            Endpoint::ServiceCatalogGet => "GET service-catalog",
            Endpoint::SubscriptionsPatch => "PATCH subscriptions",
            Endpoint::SubscriptionAsyncOperationsGet => "GET subscription async-operations",
            Endpoint::AuditLogsGet => "GET audit-log",
        }
    }

    fn per_minute(self, r: &RateLimits) -> u32 {
        match self {
            Endpoint::DevicesGet => r.devices_get,
            Endpoint::DeviceGetById => (r.devices_get / DEVICE_BY_ID_SHARE).max(1),
            Endpoint::SubscriptionsGet => r.subscriptions_get,
            Endpoint::SubscriptionGetById => r.subscriptions_get.min(SUBSCRIPTION_BY_ID_PER_MIN),
            Endpoint::DevicesPatch => r.devices_patch,
            Endpoint::DevicesPost => r.devices_post,
            Endpoint::AsyncOperationsGet => r.async_operations_get,
            Endpoint::ServiceCatalogGet => r.service_catalog_get,
            Endpoint::SubscriptionsPatch => r.devices_patch.min(SUBSCRIPTIONS_PATCH_PER_MIN),
            Endpoint::SubscriptionAsyncOperationsGet => r
                .async_operations_get
                .min(SUBSCRIPTION_ASYNC_OPERATIONS_PER_MIN),
            Endpoint::AuditLogsGet => AUDIT_LOGS_PER_MIN,
        }
    }
}

/// Slots are this much wider than `60 s / limit`: network jitter can bring two requests
/// closer together on arrival than they were sent, and 0.5 % keeps every 60-second window
/// at or under the limit as the server measures it (while costing 0.3 s per minute).
pub const PACE_MARGIN: f64 = 1.005;

/// Published limit of `GET /subscriptions/v1/subscriptions/{id}` (not in the config file).
pub const SUBSCRIPTION_BY_ID_PER_MIN: u32 = 20;

/// `GET /devices/v1/devices/{id}` is allowed this fraction (1/N) of the device list's rate:
/// 40 against 160 a minute in the published limits (not in the config file).
pub const DEVICE_BY_ID_SHARE: u32 = 4;

/// Published limit of `PATCH /subscriptions/v1/subscriptions` (not in the config file).
pub const SUBSCRIPTIONS_PATCH_PER_MIN: u32 = 5;

/// Published limit of `GET /subscriptions/v1/async-operations/{id}`: a third of the device
/// service's 90 (not in the config file).
pub const SUBSCRIPTION_ASYNC_OPERATIONS_PER_MIN: u32 = 30;

/// Published limit of `GET /audit-log/v2beta1/logs`: 100 a minute per user (300 overall),
/// not in the config file.
pub const AUDIT_LOGS_PER_MIN: u32 = 100;

#[derive(Debug)]
struct Bucket {
    configured: u32,
    /// Limit learned from `ratelimit-limit`, if lower than configured.
    learned: Option<u32>,
    next_free: Instant,
    blocked_until: Instant,
}

impl Bucket {
    fn interval(&self) -> Duration {
        let per_min = self.learned.unwrap_or(self.configured).max(1);
        (Duration::from_secs(60) / per_min).mul_f64(PACE_MARGIN)
    }
}

/// Rate-limit headers of one response (`ratelimit-*`, also `x-ratelimit-*`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RateHeaders {
    pub limit: Option<u32>,
    pub remaining: Option<u32>,
    pub reset: Option<Duration>,
    pub retry_after: Option<Duration>,
}

fn header_num(h: &HeaderMap, names: &[&str]) -> Option<f64> {
    names.iter().find_map(|n| {
        h.get(*n)
            .and_then(|v| v.to_str().ok())
            // `ratelimit-limit: 100, 100;w=60` (IETF draft) → first number.
            .and_then(|s| s.split([',', ';']).next())
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    })
}

/// Cap on any server-advertised wait (a bogus header must not stall a sync for a day).
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(3600);

impl RateHeaders {
    pub fn parse(h: &HeaderMap) -> RateHeaders {
        let secs = |v: f64| Duration::from_secs_f64(v).min(MAX_SERVER_WAIT);
        RateHeaders {
            limit: header_num(h, &["ratelimit-limit", "x-ratelimit-limit"]).map(|v| v as u32),
            remaining: header_num(h, &["ratelimit-remaining", "x-ratelimit-remaining"])
                .map(|v| v as u32),
            reset: header_num(h, &["ratelimit-reset", "x-ratelimit-reset"])
                // An epoch timestamp (X-RateLimit-Reset style) is not a delay.
                .filter(|v| *v < 1_000_000_000.0)
                .map(secs),
            retry_after: h
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after),
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §5.6.7: IMF-fixdate, and the
/// obsolete RFC 850 and asctime forms recipients must still accept).
pub fn parse_retry_after(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return (v.is_finite() && v >= 0.0)
            .then(|| Duration::from_secs_f64(v).min(MAX_SERVER_WAIT));
    }
    let at = match chrono::DateTime::parse_from_rfc2822(s) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(_) => {
            let s = s.trim_end_matches("GMT").trim_end();
            ["%A, %d-%b-%y %H:%M:%S", "%a %b %e %H:%M:%S %Y"]
                .iter()
                .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())?
                .and_utc()
        }
    };
    let d = at - chrono::Utc::now();
    Some(d.to_std().unwrap_or(Duration::ZERO).min(MAX_SERVER_WAIT))
}

/// All endpoint schedules of one client.
#[derive(Debug)]
pub struct Pacer {
    buckets: Vec<Mutex<Bucket>>,
}

fn lock(m: &Mutex<Bucket>) -> std::sync::MutexGuard<'_, Bucket> {
    // Bucket holds plain values; a poisoned lock is still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Pacer {
    pub fn new(limits: &RateLimits) -> Pacer {
        let now = Instant::now();
        Pacer {
            buckets: Endpoint::ALL
                .iter()
                .map(|e| {
                    Mutex::new(Bucket {
                        configured: e.per_minute(limits).max(1),
                        learned: None,
                        next_free: now,
                        blocked_until: now,
                    })
                })
                .collect(),
        }
    }

    fn bucket(&self, e: Endpoint) -> &Mutex<Bucket> {
        &self.buckets[e.index()]
    }

    /// Reserve the endpoint's next slot and sleep until it. Returns how long it waited.
    /// A block set while waiting (429 from a sibling request) is honoured before sending.
    pub async fn acquire(&self, e: Endpoint) -> Duration {
        let start = Instant::now();
        loop {
            let slot = {
                let mut b = lock(self.bucket(e));
                let now = Instant::now();
                let slot = now.max(b.next_free).max(b.blocked_until);
                b.next_free = slot + b.interval();
                slot
            };
            tokio::time::sleep_until(slot).await;
            let blocked = lock(self.bucket(e)).blocked_until;
            if blocked <= Instant::now() {
                return start.elapsed();
            }
        }
    }

    /// Block the endpoint for `wait` (429, or the window is used up).
    pub fn block(&self, e: Endpoint, wait: Duration) {
        let mut b = lock(self.bucket(e));
        let until = Instant::now() + wait;
        if until > b.blocked_until {
            b.blocked_until = until;
        }
    }

    /// Learn from a response's rate-limit headers.
    pub fn observe(&self, e: Endpoint, h: &RateHeaders) {
        let mut b = lock(self.bucket(e));
        if let Some(l) = h.limit
            && l > 0
        {
            b.learned = (l < b.configured).then_some(l);
        }
        if h.remaining == Some(0)
            && let Some(reset) = h.reset
        {
            // On a success, `reset` may mean "window resets" (fixed window: nothing left until
            // then) or "bucket full again" (token bucket: the next token comes much sooner).
            // Waiting one slot is right for the second and costs at most one 429 (which then
            // waits the full reset) for the first.
            let until = Instant::now() + reset.min(b.interval());
            if until > b.blocked_until {
                b.blocked_until = until;
            }
        }
    }

    /// Current spacing of an endpoint (for tests and diagnostics).
    pub fn interval(&self, e: Endpoint) -> Duration {
        lock(self.bucket(e)).interval()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::sync::Arc;

    fn limits() -> RateLimits {
        RateLimits {
            devices_get: 120,
            ..RateLimits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_are_spaced_at_the_rate() {
        let p = Arc::new(Pacer::new(&limits()));
        let t0 = Instant::now();
        let mut hs = Vec::new();
        for _ in 0..10 {
            let p = p.clone();
            hs.push(tokio::spawn(async move {
                p.acquire(Endpoint::DevicesGet).await;
                Instant::now() - t0
            }));
        }
        let mut times = Vec::new();
        for h in hs {
            times.push(h.await.unwrap());
        }
        times.sort();
        for (i, t) in times.iter().enumerate() {
            // The timer wheel has 1 ms resolution.
            let want = p.interval(Endpoint::DevicesGet) * i as u32;
            assert!(
                *t >= want && *t <= want + Duration::from_millis(1),
                "{t:?} vs {want:?}"
            );
        }
        // Other endpoints are independent.
        let t1 = Instant::now();
        p.acquire(Endpoint::SubscriptionsGet).await;
        assert_eq!(Instant::now(), t1);
    }

    #[tokio::test(start_paused = true)]
    async fn block_and_headers() {
        let p = Pacer::new(&limits());
        p.acquire(Endpoint::DevicesGet).await;
        let mut h = HeaderMap::new();
        h.insert("ratelimit-limit", HeaderValue::from_static("60"));
        h.insert("ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("RateLimit-Reset", HeaderValue::from_static("7"));
        let rh = RateHeaders::parse(&h);
        assert_eq!(rh.reset, Some(Duration::from_secs(7)));
        p.observe(Endpoint::DevicesGet, &rh);
        assert_eq!(
            p.interval(Endpoint::DevicesGet),
            Duration::from_secs(1).mul_f64(PACE_MARGIN)
        );
        // remaining 0 on a success: wait one slot, not the whole reset.
        let waited = p.acquire(Endpoint::DevicesGet).await;
        assert!(waited <= Duration::from_millis(1010), "{waited:?}");
        // A 429's block holds everyone back for the full wait.
        p.block(Endpoint::DevicesGet, Duration::from_secs(7));
        let waited = p.acquire(Endpoint::DevicesGet).await;
        assert_eq!(waited, Duration::from_secs(7));
        // Never faster than configured.
        h.insert("ratelimit-limit", HeaderValue::from_static("1000"));
        p.observe(Endpoint::DevicesGet, &RateHeaders::parse(&h));
        assert_eq!(
            p.interval(Endpoint::DevicesGet),
            Duration::from_millis(500).mul_f64(PACE_MARGIN)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn block_during_wait_is_honoured() {
        let p = Arc::new(Pacer::new(&limits()));
        p.acquire(Endpoint::DevicesGet).await;
        let p2 = p.clone();
        let h = tokio::spawn(async move { p2.acquire(Endpoint::DevicesGet).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        p.block(Endpoint::DevicesGet, Duration::from_secs(5));
        let waited = h.await.unwrap();
        assert!(waited >= Duration::from_millis(5100), "{waited:?}");
    }

    #[test]
    fn subscription_writes_and_polls_have_their_own_published_limits() {
        let p = Pacer::new(&RateLimits::default());
        assert_eq!(
            p.interval(Endpoint::SubscriptionAsyncOperationsGet),
            Duration::from_secs(2).mul_f64(PACE_MARGIN)
        );
        assert_eq!(
            p.interval(Endpoint::AsyncOperationsGet),
            (Duration::from_secs(60) / 90).mul_f64(PACE_MARGIN)
        );
        assert_eq!(
            p.interval(Endpoint::SubscriptionsPatch),
            Duration::from_secs(12).mul_f64(PACE_MARGIN)
        );
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("12"), Some(Duration::from_secs(12)));
        assert_eq!(parse_retry_after("99999"), Some(MAX_SERVER_WAIT));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sun Nov  6 08:49:37 1994"),
            Some(Duration::ZERO)
        );
        // A date in the future: the time until then.
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(90))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let d = parse_retry_after(&soon).unwrap();
        assert!(
            d > Duration::from_secs(85) && d <= Duration::from_secs(90),
            "{d:?}"
        );
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1700000000"));
        h.insert("ratelimit-limit", HeaderValue::from_static("100, 100;w=60"));
        let rh = RateHeaders::parse(&h);
        assert_eq!(rh.reset, None);
        assert_eq!(rh.limit, Some(100));
    }
}
