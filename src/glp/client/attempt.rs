//! One request of a call: a token, the endpoint's pacer slot, the request sent, and its
//! answer classified into what the retry loop does next.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::header::CONTENT_TYPE;

use super::call::{Body, Call, Response};
use super::handle::Client;
use crate::glp::auth::{Token, TokenError, describe_reqwest};
use crate::glp::breaker::Permit;
use crate::glp::error::{ApiErrorBody, GlpError};
use crate::glp::pace::RateHeaders;
use crate::glp::patience::WaitReason;
use crate::glp::retry;

/// How one attempt ended, for [`Client::execute_once`] to act on.
pub(super) enum Outcome<T> {
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
    /// One request of `call`: token, pacer slot, send, classify. Never sleeps for a retry;
    /// the caller decides what an [`Outcome`] leads to.
    pub(super) async fn attempt<T>(
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
        let (r, rh) = match self.send(call, &token).await {
            Ok(answer) => answer,
            Err(detail) => return unreachable(method, url_s, detail),
        };
        if r.status.is_success() {
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
        self.classify_failure(&r, &rh, &token, method, url_s)
    }

    /// Send the request with `token` and read the whole answer; the pacer learns the
    /// answer's rate headers. `Err` is a transport failure, described for the user.
    async fn send(&self, call: &Call, token: &Token) -> Result<(Response, RateHeaders), String> {
        let inner = &*self.inner;
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
        let resp = rb.send().await.map_err(|e| describe_reqwest(&e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let rh = RateHeaders::parse(&headers);
        inner.pacer.observe(call.endpoint, &rh);
        let body = resp.bytes().await.map_err(|e| describe_reqwest(&e))?;
        let r = Response {
            status,
            headers,
            body: body.to_vec(),
        };
        Ok((r, rh))
    }

    /// A non-2xx answer: 401 sends again with a new token, 429 waits, 408 and 5xx are
    /// transient, any other status is GreenLake's final word.
    fn classify_failure<T>(
        &self,
        r: &Response,
        rh: &RateHeaders,
        token: &Token,
        method: String,
        url_s: String,
    ) -> Outcome<T> {
        let inner = &*self.inner;
        let status = r.status;
        let api = ApiErrorBody::parse(&r.body);
        match status.as_u16() {
            401 => {
                inner.auth.invalidate(token);
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

    /// The token endpoint failed: bad credentials end the call (and say nothing of the
    /// API's health), anything else is waited out as a sign-in trouble.
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
}

/// The request could not be sent or its answer not read: GreenLake is unreachable for now.
fn unreachable<T>(method: String, url: String, detail: String) -> Outcome<T> {
    Outcome::Transient {
        error: GlpError::Unreachable {
            method,
            url,
            attempts: 0,
            detail: detail.clone(),
        },
        reason: detail,
        hint: None,
        why: WaitReason::Outage,
    }
}
