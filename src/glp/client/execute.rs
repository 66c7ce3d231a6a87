//! Carrying a call through: the retries of one breaker permit's worth of attempts, and,
//! with a patience set, waiting out an outage across permits.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::attempt::Outcome;
use super::call::{Call, Response};
use super::events::ClientEvent;
use super::handle::Client;
use crate::glp::error::{ApiErrorBody, GlpError};
use crate::glp::health::RequestOutcome;
use crate::glp::pace::MAX_SERVER_WAIT;
use crate::glp::patience::{Verdict, WaitReason};
use crate::glp::retry;

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

impl Client {
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
                    inner.health.record(RequestOutcome::Ok);
                    self.finish(&mut permit, Some(true));
                    return Ok((v, sent));
                }
                Outcome::Fatal { error, healthy } => {
                    if healthy {
                        inner.health.record(RequestOutcome::Ok);
                    }
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
                    inner.health.record(RequestOutcome::Throttled);
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
                    inner.health.record(if ok {
                        RequestOutcome::Retried
                    } else {
                        RequestOutcome::Failed
                    });
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
}

impl Client {
    /// One request to see whether GreenLake is back while the breaker is open or half-open
    /// (`GET /devices/v1/devices?limit=1`): a single attempt as the breaker's probe, no
    /// patience. `None` when the breaker let nothing through (still cooling down, or
    /// another call is the probe). The sync engine sends it when the cool-down ends, so an
    /// idle console learns that GreenLake is back without a key press.
    pub async fn probe(&self) -> Option<Result<(), GlpError>> {
        let call = Call {
            method: reqwest::Method::GET,
            endpoint: crate::glp::pace::Endpoint::DevicesGet,
            url: match self.url("/devices/v1/devices", &[("limit", "1".to_string())]) {
                Ok(u) => u,
                Err(e) => return Some(Err(e)),
            },
            body: None,
        };
        match self.execute_once(&call, &|_| Ok(())).await {
            Ok(((), _)) => Some(Ok(())),
            Err(Failed::Fatal(e)) => Some(Err(e)),
            Err(Failed::Transient(Transient {
                error: GlpError::BreakerOpen { .. },
                ..
            })) => None,
            Err(Failed::Transient(t)) => Some(Err(t.error)),
        }
    }
}

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

/// Set the attempt count on an error produced by [`Client::execute`]'s last attempt.
fn with_attempts(e: GlpError, n: u32) -> GlpError {
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
