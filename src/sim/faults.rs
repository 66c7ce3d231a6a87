//! Fault injection, switchable per run and mid-run (`SimHandle::set_faults`, `PUT /_sim/faults`).
//!
//! Random faults draw from an RNG seeded from the simulator seed, so a run with the same
//! requests in the same order sees the same faults.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::stats::Endpoint;

/// Durations travel as milliseconds in JSON (`latency_ms`, …).
mod ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

mod opt_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}

/// All 503 for `duration` once `after_requests` requests (token requests included) have been
/// served since the faults were set. The token endpoint is down too, and every 503 carries
/// `Retry-After: <seconds left>` (rounded up) while its body keeps the generic
/// `retryAfterSeconds` of [`Faults::retry_after_seconds`], as a load balancer in front of a
/// service in maintenance answers: only the header tells when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    pub after_requests: u64,
    #[serde(rename = "duration_ms", with = "ms")]
    pub duration: Duration,
}

/// The fault switches. `Default` is "no faults". Rates are probabilities in 0..=1 per request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Probability of answering an API call with one of `error_statuses`.
    pub error_rate: f64,
    /// Statuses drawn for `error_rate` (default 500, 502, 503).
    pub error_statuses: Vec<u16>,
    /// `errorDetails[].retryAfterSeconds` in 5xx bodies.
    pub retry_after_seconds: u64,
    /// Added to every API call before it is answered.
    #[serde(rename = "latency_ms", with = "ms")]
    pub latency: Duration,
    /// Probability of closing the connection without any response.
    pub drop_rate: f64,
    /// Probability that a GET returns 200 with a body that is not JSON.
    pub malformed_rate: f64,
    /// Probability that a GET returns 200 with its JSON cut short (Content-Length matches).
    pub truncated_rate: f64,
    /// Probability that a list page comes without `total`.
    pub missing_total_rate: f64,
    /// An outage window.
    pub outage: Option<Outage>,
    /// Tokens stop working after this long, whatever `expires_in` said.
    #[serde(rename = "token_early_expiry_ms", with = "opt_ms")]
    pub token_early_expiry: Option<Duration>,
    /// Insert a new device at offset 0 just before the next device page with offset > 0 is
    /// served (fires once, then switches itself off).
    pub insert_between_pages: bool,
    /// Device ids or serial numbers whose async operations fail (PATCH: listed in
    /// `failedDevices`; POST: listed in `failedDevicesSerial`).
    pub fail_ops_for: Vec<String>,
    /// Endpoints (by their `/_sim/stats` name: `subscriptions_get`, `devices_get`, …) whose
    /// every request is answered with `failing_endpoint_status`: an outage (or a persistent
    /// 400) of one resource while the others work.
    pub failing_endpoints: Vec<String>,
    /// The status for `failing_endpoints` (default 503).
    pub failing_endpoint_status: u16,
    /// A list page cap below the endpoint's own maximum: a `limit` above it is refused with
    /// 400 `limit must be between 1 and N` (as some GreenLake deployments answer).
    pub page_cap: Option<u32>,
    /// Probability of answering a token request with one of `token_error_statuses` although
    /// the credentials are good (a flaky identity provider, or the gateway in front of it).
    pub token_error_rate: f64,
    /// Statuses drawn for `token_error_rate` (default 500, 502, 503, 401). Bodies are what
    /// OAuth2 servers and their gateways send (RFC 6749 §5.2, RFC 6750 §3): 500
    /// `server_error`, 502 an HTML gateway page, 503 `temporarily_unavailable` with
    /// `Retry-After`, 401 `invalid_token` (never `invalid_client`: that means bad
    /// credentials), 400 `temporarily_unavailable`, 429 with `Retry-After`.
    pub token_error_statuses: Vec<u16>,
    /// Async operations started while this is set report `PAUSED` (a state the spec lists as
    /// not terminal) for this long after they start running, then go on to their outcome.
    #[serde(rename = "ops_paused_ms", with = "opt_ms")]
    pub ops_paused: Option<Duration>,
    /// Device ids or serial numbers whose async operations end as `TIMEDOUT` (nothing is
    /// changed): the spec's terminal state for an operation that ran past its timeout.
    pub time_out_ops_for: Vec<String>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            error_rate: 0.0,
            error_statuses: vec![500, 502, 503],
            retry_after_seconds: 1,
            latency: Duration::ZERO,
            drop_rate: 0.0,
            malformed_rate: 0.0,
            truncated_rate: 0.0,
            missing_total_rate: 0.0,
            outage: None,
            token_early_expiry: None,
            insert_between_pages: false,
            fail_ops_for: Vec::new(),
            failing_endpoints: Vec::new(),
            failing_endpoint_status: 503,
            page_cap: None,
            token_error_rate: 0.0,
            token_error_statuses: vec![500, 502, 503, 401],
            ops_paused: None,
            time_out_ops_for: Vec::new(),
        }
    }
}

/// How a successful response body is to be spoiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corruption {
    Malformed,
    Truncated,
    MissingTotal,
}

/// What to do to one request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub latency: Duration,
    pub drop: bool,
    pub error: Option<(u16, u64)>,
    pub corruption: Option<Corruption>,
}

/// Faults plus the state they need (RNG, outage window).
#[derive(Debug)]
pub(crate) struct FaultState {
    pub faults: Faults,
    rng: StdRng,
    served: u64,
    outage_until: Option<Instant>,
}

impl FaultState {
    pub fn new(faults: Faults, seed: u64) -> FaultState {
        FaultState {
            faults,
            rng: StdRng::seed_from_u64(seed ^ 0x5EED_FA17),
            served: 0,
            outage_until: None,
        }
    }

    /// Replace the faults; the outage counter starts again.
    pub fn set(&mut self, faults: Faults) {
        self.faults = faults;
        self.served = 0;
        self.outage_until = None;
    }

    /// Seconds of outage left (rounded up, at least 1) if this request falls into the outage
    /// window.
    pub fn outage(&mut self, now: Instant) -> Option<u64> {
        let o = self.faults.outage.clone()?;
        self.served += 1;
        let secs = |d: Duration| d.as_millis().div_ceil(1000).max(1) as u64;
        if let Some(until) = self.outage_until {
            if now < until {
                return Some(secs(until.duration_since(now)));
            }
            return None;
        }
        if self.served > o.after_requests {
            let until = now + o.duration;
            self.outage_until = Some(until);
            return Some(secs(o.duration));
        }
        None
    }

    /// The status to fail this token request with, if `token_error_rate` draws one.
    pub fn token_fault(&mut self) -> Option<u16> {
        let f = &self.faults;
        if f.token_error_statuses.is_empty() {
            return None;
        }
        let (rate, n) = (f.token_error_rate, f.token_error_statuses.len());
        if !self.hit(rate) {
            return None;
        }
        let i = self.rng.random_range(0..n);
        Some(self.faults.token_error_statuses[i])
    }

    fn hit(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random::<f64>() < p
    }

    /// Draw the random faults for one API request.
    pub fn plan(&mut self, ep: Endpoint, is_get: bool) -> Plan {
        let f = self.faults.clone();
        let mut plan = Plan {
            latency: f.latency,
            ..Plan::default()
        };
        if f.failing_endpoints.iter().any(|e| e == ep.as_str()) {
            plan.error = Some((f.failing_endpoint_status, f.retry_after_seconds));
            return plan;
        }
        if self.hit(f.drop_rate) {
            plan.drop = true;
            return plan;
        }
        if self.hit(f.error_rate) && !f.error_statuses.is_empty() {
            let i = self.rng.random_range(0..f.error_statuses.len());
            plan.error = Some((f.error_statuses[i], f.retry_after_seconds));
            return plan;
        }
        if is_get {
            let list = matches!(
                ep,
                Endpoint::DevicesGet | Endpoint::DevicesV2Get | Endpoint::SubscriptionsGet
            );
            if self.hit(f.malformed_rate) {
                plan.corruption = Some(Corruption::Malformed);
            } else if self.hit(f.truncated_rate) {
                plan.corruption = Some(Corruption::Truncated);
            } else if list && self.hit(f.missing_total_rate) {
                plan.corruption = Some(Corruption::MissingTotal);
            }
        }
        plan
    }
}

/// Spoil a JSON body as planned.
pub(crate) fn corrupt(body: &[u8], how: Corruption) -> Vec<u8> {
    match how {
        Corruption::Malformed => {
            let mut v =
                b"{\"items\":[{\"id\":\"sim-malformed\",}]<html>502 Bad Gateway</html>".to_vec();
            v.extend_from_slice(&body[..body.len().min(64)]);
            v
        }
        Corruption::Truncated => body[..body.len() / 2].to_vec(),
        Corruption::MissingTotal => {
            // Our envelopes end with `,"total":N}`.
            let s = body;
            let needle = b",\"total\":";
            match s.windows(needle.len()).rposition(|w| w == needle) {
                Some(pos) => {
                    let mut v = s[..pos].to_vec();
                    v.push(b'}');
                    v
                }
                None => s.to_vec(),
            }
        }
    }
}
