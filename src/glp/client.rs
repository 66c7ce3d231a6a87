//! The GreenLake HTTP client: one place where every request gets the breaker check, pacing,
//! a bearer token, classification of the answer, and retries.
//!
//! Per request:
//! 1. the breaker may refuse at once (open, or a half-open probe is already out);
//! 2. the endpoint's pacer slot is awaited (also after a 429, which blocks the endpoint);
//! 3. a token is taken from the cache (single-flight refresh);
//! 4. the answer is classified: 2xx and parsable → done; 401 → invalidate the token and send
//!    again once; 429 → wait `ratelimit-reset` / `Retry-After` / `retryAfterSeconds` /
//!    backoff, bounded by the total time budget only; 5xx, unreachable, malformed body →
//!    `Retry-After` / `retryAfterSeconds` / full-jitter backoff within the attempt and time
//!    budgets; other 4xx → error at once with GreenLake's message;
//! 5. with a patience set, a call whose budget ran out on a transient failure (or that met
//!    the breaker open) waits and starts again at step 1, until the patience runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use tokio::sync::{broadcast, watch};
use tokio::time::Instant;

use crate::config::{ApiConfig, Secret};
use crate::glp::auth::{Auth, TokenError, describe_reqwest};
use crate::glp::breaker::{Breaker, BreakerSnapshot, Permit, Transition};
use crate::glp::error::{ApiErrorBody, GlpError};
use crate::glp::pace::{Endpoint, MAX_SERVER_WAIT, Pacer, RateHeaders};
use crate::glp::patience::{Patience, Verdict, WaitReason};
use crate::glp::retry;

/// Something the UI or engine may want to show while requests run.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientEvent {
    /// A transient failure; the request is sent again after `delay`.
    Retry {
        attempt: u32,
        delay: Duration,
        reason: String,
    },
    /// A 429 (or an exhausted window): the endpoint waits `wait` before its next request.
    RateLimited {
        endpoint: String,
        wait: Duration,
    },
    BreakerChanged(BreakerSnapshot),
    /// Calls wait for GreenLake to come back (a patience is set); the next try is in
    /// `retry_in`.
    Waiting {
        reason: WaitReason,
        retry_in: Duration,
    },
    /// A call got through after calls had waited `waited`.
    Resumed {
        waited: Duration,
    },
}

/// Monotonic counters since the client was built (the engine diffs them per run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// HTTP requests sent to the API (token requests not included).
    pub requests: u64,
    /// Re-sends after a transient failure (not after 429s).
    pub retries: u64,
    /// 429 answers.
    pub throttled: u64,
    /// Times the breaker opened.
    pub breaker_trips: u64,
    /// Token requests sent.
    pub token_fetches: u64,
}

#[derive(Debug, Default)]
struct AtomicCounters {
    requests: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Json(Vec<u8>),
    MergePatch(Vec<u8>),
}

/// One logical API call (retried as a whole).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub endpoint: Endpoint,
    pub url: Url,
    pub body: Option<Body>,
}

/// A received answer.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

pub(crate) struct Inner {
    pub cfg: ApiConfig,
    base: String,
    http: reqwest::Client,
    pub auth: Auth,
    pub pacer: Pacer,
    breaker: Breaker,
    patience: Patience,
    events: broadcast::Sender<ClientEvent>,
    counters: AtomicCounters,
    seq: AtomicU64,
}

/// The GreenLake API client. Cheap to clone; clones share the token, pacing and breaker.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

/// Retries of a call that wait at least this long are announced as waiting for GreenLake
/// (shorter ones are blips the progress display need not mention).
const WAIT_SHOWN_FROM: Duration = Duration::from_secs(2);

/// How long a call waits for the half-open probe of another call before looking again.
const PROBE_WAIT: Duration = Duration::from_secs(1);

/// A transient end of one breaker permit's worth of a call: worth waiting out.
struct Transient {
    error: GlpError,
    why: WaitReason,
    /// The server's `Retry-After` (or the breaker's time to the next probe).
    hint: Option<Duration>,
    /// The breaker is half-open and another call is its probe.
    probe_busy: bool,
}

enum Failed {
    Fatal(GlpError),
    Transient(Transient),
}

enum Outcome<T> {
    Done(T),
    /// Give up now; `healthy` says whether GreenLake itself answered (breaker success).
    Fatal {
        error: GlpError,
        healthy: bool,
    },
    Transient {
        error: GlpError,
        reason: String,
        hint: Option<Duration>,
        why: WaitReason,
    },
    Throttled {
        wait: Duration,
        body: ApiErrorBody,
    },
    Reauth,
}

impl Client {
    /// Build a client. Installs the TLS provider; validates the URLs; sends nothing yet.
    pub fn new(cfg: &ApiConfig, secret: Secret) -> Result<Client, GlpError> {
        crate::tls::init();
        let base = cfg.base_url.trim().trim_end_matches('/').to_string();
        Url::parse(&base).map_err(|e| {
            GlpError::Config(format!(
                "[api] base_url = {base:?} is not a valid URL ({e}): use e.g. \
                 https://global.api.greenlake.hpe.com"
            ))
        })?;
        let build = |redirects: bool| {
            let b = reqwest::Client::builder()
                .timeout(cfg.timeout)
                .connect_timeout(cfg.connect_timeout)
                .pool_max_idle_per_host(cfg.max_concurrency.max(1) as usize * 2)
                .user_agent(concat!("glp-console/", env!("CARGO_PKG_VERSION")));
            let b = if redirects {
                b
            } else {
                b.redirect(reqwest::redirect::Policy::none())
            };
            b.build().map_err(|e| {
                GlpError::Config(format!(
                    "cannot build the HTTP client: {}",
                    describe_reqwest(&e)
                ))
            })
        };
        let http = build(true)?;
        let token_http = build(false)?;
        let auth = Auth::new(
            cfg.token_url.trim(),
            cfg.client_id.trim(),
            &secret,
            token_http,
        )?;
        let (events, _) = broadcast::channel(256);
        Ok(Client {
            inner: Arc::new(Inner {
                cfg: cfg.clone(),
                base,
                http,
                auth,
                pacer: Pacer::new(&cfg.rate_limits),
                breaker: Breaker::new(&cfg.breaker),
                patience: Patience::default(),
                events,
                counters: AtomicCounters::default(),
                seq: AtomicU64::new(0),
            }),
        })
    }

    /// Live breaker state (state, consecutive failures, time to the next probe, trips).
    pub fn breaker(&self) -> watch::Receiver<BreakerSnapshot> {
        self.inner.breaker.watch()
    }

    /// The breaker state now, with `retry_in` computed as of this call.
    pub fn breaker_snapshot(&self) -> BreakerSnapshot {
        self.inner.breaker.snapshot()
    }

    /// Let calls wait up to `patience` for GreenLake to come back instead of failing on an
    /// outage (`None`: fail once a call's own retries are used up). The outage clock starts
    /// again. The sync engine sets one per resource phase.
    pub fn set_patience(&self, patience: Option<Duration>) {
        self.inner.patience.set(patience);
    }

    /// Retries, rate limiting and breaker changes as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<ClientEvent> {
        self.inner.events.subscribe()
    }

    pub fn counters(&self) -> Counters {
        let c = &self.inner.counters;
        Counters {
            requests: c.requests.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            breaker_trips: u64::from(self.inner.breaker.snapshot().trips),
            token_fetches: self.inner.auth.fetches(),
        }
    }

    /// The configuration the client was built with.
    pub fn config(&self) -> &ApiConfig {
        &self.inner.cfg
    }

    pub(crate) fn url(&self, path: &str, query: &[(&str, String)]) -> Result<Url, GlpError> {
        let mut url = Url::parse(&format!("{}{}", self.inner.base, path)).map_err(|e| {
            GlpError::Config(format!("cannot form a URL from base_url and {path}: {e}"))
        })?;
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        Ok(url)
    }

    fn emit(&self, ev: ClientEvent) {
        let _ = self.inner.events.send(ev);
    }

    fn note(&self, tr: Transition) {
        if tr != Transition::None {
            let snap = self.inner.breaker.snapshot();
            match tr {
                Transition::Opened => tracing::warn!(
                    failures = snap.failures,
                    "circuit breaker opened: GreenLake calls paused"
                ),
                Transition::Closed => tracing::info!("circuit breaker closed: GreenLake is back"),
                _ => tracing::info!("circuit breaker half-open: sending one probe"),
            }
            self.emit(ClientEvent::BreakerChanged(snap));
        }
    }

    fn finish(&self, permit: &mut Option<Permit>, healthy: Option<bool>) {
        if let Some(p) = permit.take() {
            match healthy {
                Some(true) => {
                    let tr = p.success();
                    self.note(tr);
                }
                Some(false) => {
                    let tr = p.failure();
                    self.note(tr);
                }
                None => drop(p),
            }
        }
    }

    /// Send `call` with breaker, pacing, auth and retries; `parse` turns a 2xx into `T`
    /// (an `Err` there counts as a malformed, retryable answer).
    ///
    /// While a patience is set ([`Client::set_patience`]) a call that fails transiently (its
    /// own retries used up, the breaker open, the token endpoint failing) waits — the
    /// server's `Retry-After`, the breaker's cool-down, or a backoff — and tries again, until
    /// GreenLake has been gone for the whole patience ([`GlpError::Outage`]).
    pub(crate) async fn execute<T>(
        &self,
        call: &Call,
        parse: impl Fn(&Response) -> Result<T, String>,
    ) -> Result<T, GlpError> {
        let inner = &*self.inner;
        let mut round = 0u32;
        loop {
            let failed = match self.execute_once(call, &parse).await {
                Ok((v, sent)) => {
                    if let Some(waited) = inner.patience.recovered(sent)
                        && waited >= WAIT_SHOWN_FROM
                    {
                        tracing::info!(
                            waited_secs = waited.as_secs(),
                            "GreenLake answers again; going on"
                        );
                        self.emit(ClientEvent::Resumed { waited });
                    }
                    return Ok(v);
                }
                Err(Failed::Fatal(e)) => return Err(e),
                Err(Failed::Transient(t)) => t,
            };
            round += 1;
            let want = failed
                .hint
                .unwrap_or_else(|| retry::patient_delay(&inner.cfg.retry, round));
            match inner.patience.allow(want) {
                Verdict::Impatient => return Err(failed.error),
                Verdict::Exhausted { waited, patience } => {
                    tracing::warn!(
                        url = %call.url,
                        waited_secs = waited.as_secs(),
                        error = %failed.error,
                        "GreenLake did not come back within the patience; giving up"
                    );
                    return Err(GlpError::Outage {
                        method: call.method.to_string(),
                        url: call.url.to_string(),
                        waited,
                        patience,
                        last: Box::new(failed.error),
                    });
                }
                Verdict::Wait(d) => {
                    tracing::info!(
                        url = %call.url,
                        reason = failed.why.label(),
                        retry_in_ms = d.as_millis() as u64,
                        error = %failed.error,
                        "waiting for GreenLake"
                    );
                    self.emit(ClientEvent::Waiting {
                        reason: failed.why,
                        retry_in: d,
                    });
                    if failed.probe_busy {
                        // Another call is the half-open probe: go on as soon as it reports.
                        let mut rx = inner.breaker.watch();
                        rx.borrow_and_update();
                        let _ = tokio::time::timeout(d, rx.changed()).await;
                    } else {
                        tokio::time::sleep(d).await;
                    }
                }
            }
        }
    }

    /// One breaker permit's worth of [`Client::execute`]: the attempts and retries of the
    /// call's own budget. A success comes with when its attempt started.
    async fn execute_once<T>(
        &self,
        call: &Call,
        parse: &impl Fn(&Response) -> Result<T, String>,
    ) -> Result<(T, Instant), Failed> {
        let inner = &*self.inner;
        let rcfg = &inner.cfg.retry;
        let started = Instant::now();
        let (permit, tr) = match inner.breaker.acquire() {
            Ok(p) => p,
            Err(r) => {
                return Err(Failed::Transient(Transient {
                    error: GlpError::BreakerOpen {
                        retry_in: r.retry_in,
                        failures: r.failures,
                    },
                    why: WaitReason::Outage,
                    hint: Some(r.retry_in.unwrap_or(PROBE_WAIT)),
                    probe_busy: r.retry_in.is_none(),
                }));
            }
        };
        self.note(tr);
        let max_attempts = if permit.is_probe() {
            1
        } else {
            rcfg.max_attempts.max(1)
        };
        let mut permit = Some(permit);
        let mut attempts = 0u32;
        let mut throttles = 0u32;
        let mut reauthed = false;
        loop {
            let sent = Instant::now();
            let outcome = self.attempt(call, parse, &mut permit).await;
            match outcome {
                Outcome::Done(v) => {
                    self.finish(&mut permit, Some(true));
                    return Ok((v, sent));
                }
                Outcome::Fatal { error, healthy } => {
                    self.finish(&mut permit, healthy.then_some(true));
                    return Err(Failed::Fatal(error));
                }
                Outcome::Reauth => {
                    if reauthed {
                        // The fresh token was refused too. Credentials are the token
                        // endpoint's verdict, not this: a transient fault (an IdP and an API
                        // briefly disagreeing), waited out with new tokens. Not GreenLake's
                        // health either.
                        self.finish(&mut permit, None);
                        return Err(fresh_token_refused(call, attempts + 2));
                    }
                    reauthed = true;
                    tracing::debug!(url = %call.url, "401: token invalidated, sending again");
                }
                Outcome::Throttled { wait, body } => {
                    throttles += 1;
                    let elapsed = started.elapsed();
                    if elapsed + wait > rcfg.max_total {
                        self.finish(&mut permit, Some(true));
                        return Err(rate_limit_outlasts_budget(
                            call,
                            attempts + throttles,
                            elapsed,
                            wait,
                            body,
                        ));
                    }
                    inner.pacer.block(call.endpoint, wait);
                    self.emit(ClientEvent::RateLimited {
                        endpoint: call.endpoint.name().to_string(),
                        wait,
                    });
                    tracing::debug!(endpoint = call.endpoint.name(), ?wait, "429: waiting");
                }
                Outcome::Transient {
                    error,
                    reason,
                    hint,
                    why,
                } => {
                    attempts += 1;
                    let hint = hint.map(|h| h.min(MAX_SERVER_WAIT));
                    let delay = hint.unwrap_or_else(|| retry::backoff(rcfg, attempts));
                    let ok = attempts < max_attempts
                        && retry::may_retry(rcfg, attempts, started.elapsed(), delay);
                    if !ok {
                        tracing::warn!(url = %call.url, attempts, %reason, "giving up");
                        self.finish(&mut permit, Some(false));
                        return Err(Failed::Transient(Transient {
                            error: with_attempts(error, attempts),
                            why,
                            hint,
                            probe_busy: false,
                        }));
                    }
                    inner.counters.retries.fetch_add(1, Ordering::Relaxed);
                    if inner.patience.trouble() && delay >= WAIT_SHOWN_FROM {
                        // A long wait inside the call's own budget (a `Retry-After` of
                        // minutes) is waiting for GreenLake too, and shown as such.
                        self.emit(ClientEvent::Waiting {
                            reason: why,
                            retry_in: delay,
                        });
                    }
                    tracing::debug!(url = %call.url, attempt = attempts, ?delay, %reason, "retrying");
                    self.emit(ClientEvent::Retry {
                        attempt: attempts,
                        delay,
                        reason,
                    });
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "132 lines; listed in issue 13's note to split next"
    )]
    async fn attempt<T>(
        &self,
        call: &Call,
        parse: &impl Fn(&Response) -> Result<T, String>,
        permit: &mut Option<Permit>,
    ) -> Outcome<T> {
        let inner = &*self.inner;
        let method = call.method.to_string();
        let url_s = call.url.to_string();
        // Token first (a cold client's first token fetch must not eat into the slot), then
        // the slot, then the token again (cached; refreshed if the slot wait was long).
        if let Err(e) = inner.auth.token().await {
            return self.token_failure(e, method, url_s, permit);
        }
        inner.pacer.acquire(call.endpoint).await;
        let token = match inner.auth.token().await {
            Ok(t) => t,
            Err(e) => return self.token_failure(e, method, url_s, permit),
        };
        inner.counters.requests.fetch_add(1, Ordering::Relaxed);
        let mut rb = inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.bearer());
        match &call.body {
            Some(Body::Json(b)) => {
                rb = rb.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            Some(Body::MergePatch(b)) => {
                rb = rb
                    .header(CONTENT_TYPE, "application/merge-patch+json")
                    .body(b.clone());
            }
            None => {}
        }
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(e) => {
                let d = describe_reqwest(&e);
                return Outcome::Transient {
                    error: GlpError::Unreachable {
                        method,
                        url: url_s,
                        attempts: 0,
                        detail: d.clone(),
                    },
                    reason: d,
                    hint: None,
                    why: WaitReason::Outage,
                };
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let rh = RateHeaders::parse(&headers);
        inner.pacer.observe(call.endpoint, &rh);
        let body = match resp.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let d = describe_reqwest(&e);
                return Outcome::Transient {
                    error: GlpError::Unreachable {
                        method,
                        url: url_s,
                        attempts: 0,
                        detail: d.clone(),
                    },
                    reason: d,
                    hint: None,
                    why: WaitReason::Outage,
                };
            }
        };
        let r = Response {
            status,
            headers,
            body,
        };
        if status.is_success() {
            return match parse(&r) {
                Ok(v) => Outcome::Done(v),
                Err(m) => Outcome::Transient {
                    error: GlpError::Malformed {
                        method,
                        url: url_s,
                        attempts: 0,
                        detail: m.clone(),
                    },
                    reason: format!("malformed response: {m}"),
                    hint: None,
                    why: WaitReason::Outage,
                },
            };
        }
        let api = ApiErrorBody::parse(&r.body);
        match status.as_u16() {
            401 => {
                inner.auth.invalidate(&token);
                Outcome::Reauth
            }
            429 => {
                inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
                let wait = rh
                    .reset
                    .or(rh.retry_after)
                    .or(api.retry_after)
                    .unwrap_or_else(|| {
                        let n = inner.counters.throttled.load(Ordering::Relaxed);
                        retry::ceiling(&inner.cfg.retry, (n % 8) as u32 + 1)
                    });
                Outcome::Throttled { wait, body: api }
            }
            408 | 500..=599 => {
                let reason = format!("HTTP {} {}", status.as_u16(), api);
                Outcome::Transient {
                    // The header is what a gateway in front of a service in maintenance
                    // sets to when it ends; the body's advice may be a generic constant.
                    hint: rh.retry_after.or(api.retry_after),
                    why: WaitReason::Outage,
                    error: GlpError::Http {
                        method,
                        url: url_s,
                        status: status.as_u16(),
                        body: Box::new(api),
                        attempts: 0,
                    },
                    reason,
                }
            }
            s => Outcome::Fatal {
                error: GlpError::Http {
                    method,
                    url: url_s,
                    status: s,
                    body: Box::new(api),
                    attempts: 1,
                },
                healthy: true,
            },
        }
    }

    fn token_failure<T>(
        &self,
        e: TokenError,
        method: String,
        url: String,
        permit: &mut Option<Permit>,
    ) -> Outcome<T> {
        match e {
            TokenError::Fatal(e) => {
                // Bad credentials say nothing about the API's health.
                self.finish(permit, None);
                Outcome::Fatal {
                    error: e,
                    healthy: false,
                }
            }
            TokenError::Transient {
                detail,
                retry_after,
            } => Outcome::Transient {
                error: GlpError::Unreachable {
                    method,
                    url,
                    attempts: 1,
                    detail: detail.clone(),
                },
                reason: detail,
                hint: retry_after,
                why: WaitReason::SignIn,
            },
        }
    }

    /// A completion sequence number (orders pages by when they were answered).
    pub(crate) fn next_seq(&self) -> u64 {
        self.inner.seq.fetch_add(1, Ordering::Relaxed)
    }
}

/// Set the attempt count on an error produced by [`Client::execute`]'s last attempt.
/// The API refused a token just issued: a transient disagreement between the IdP and the
/// API, waited out with new tokens (see [`Client::execute_once`]).
fn fresh_token_refused(call: &Call, attempts: u32) -> Failed {
    Failed::Transient(Transient {
        error: GlpError::Http {
            method: call.method.to_string(),
            url: call.url.to_string(),
            status: 401,
            body: Box::new(ApiErrorBody {
                message: Some("the API refused a freshly issued token".into()),
                ..ApiErrorBody::default()
            }),
            attempts,
        },
        why: WaitReason::SignIn,
        hint: None,
        probe_busy: false,
    })
}

/// A 429 whose wait would end after the call's total budget: given up, with the wait as the
/// hint for whoever retries the whole call.
fn rate_limit_outlasts_budget(
    call: &Call,
    attempts: u32,
    waited: Duration,
    wait: Duration,
    body: ApiErrorBody,
) -> Failed {
    Failed::Transient(Transient {
        error: GlpError::RateLimited {
            method: call.method.to_string(),
            url: call.url.to_string(),
            attempts,
            waited,
            body: Box::new(body),
        },
        why: WaitReason::RateLimited,
        hint: Some(wait),
        probe_busy: false,
    })
}

pub(crate) fn with_attempts(e: GlpError, n: u32) -> GlpError {
    match e {
        GlpError::Unreachable {
            method,
            url,
            detail,
            ..
        } => GlpError::Unreachable {
            method,
            url,
            attempts: n,
            detail,
        },
        GlpError::Malformed {
            method,
            url,
            detail,
            ..
        } => GlpError::Malformed {
            method,
            url,
            attempts: n,
            detail,
        },
        GlpError::Http {
            method,
            url,
            status,
            body,
            ..
        } => GlpError::Http {
            method,
            url,
            status,
            body,
            attempts: n,
        },
        other => other,
    }
}
