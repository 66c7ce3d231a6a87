//! Typed errors of the GreenLake client.
//!
//! `Display` is written for the person at the terminal: what failed, the URL (never a token or
//! secret), what GreenLake said (`errorCode`, `message`, `debugId`, details) and what to do.
//! [`GlpError::kind`] classifies for exit codes and UI wording.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

/// Coarse classification, stable for exit codes and for the sync engine's failure kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Credentials rejected, token endpoint unusable, or a 401/403 that persists.
    Auth,
    /// Connection refused, DNS, TLS, timeouts — the API could not be reached.
    Unreachable,
    /// The circuit breaker is open: calls fail fast until the cool-down ends.
    BreakerOpen,
    /// 400/422: the request was rejected as invalid.
    BadRequest,
    /// 404.
    NotFound,
    /// Other 4xx (403, 409, …).
    Client,
    /// 429s continued past the retry budget.
    RateLimited,
    /// 5xx after all retries.
    Server,
    /// A 2xx whose body could not be understood, after all retries.
    Malformed,
    /// The caller asked for something the API cannot do (checked before sending).
    Invalid,
    /// An async operation did not finish in time.
    Timeout,
    /// Unusable configuration (bad URL, …).
    Config,
}

/// The parts of a GreenLake error body (glp-api.md §5.3) worth showing. All optional: bodies
/// from proxies and load balancers are not GreenLake's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiErrorBody {
    pub error_code: Option<String>,
    pub message: Option<String>,
    pub debug_id: Option<String>,
    /// `errorDetails[]` flattened to readable lines (`subject: description`, metadata values).
    pub details: Vec<String>,
    /// `errorDetails[].retryAfterSeconds`, if any.
    pub retry_after: Option<Duration>,
    /// Start of a non-JSON body, for bodies that are not GreenLake's.
    pub text: Option<String>,
}

/// Keys whose values are never shown, whatever the server echoes back.
const REDACT: &[&str] = &[
    "access_token",
    "token",
    "password",
    "secret",
    "client_secret",
    "authorization",
    "bearer",
    "api_key",
    "apikey",
];

fn redact_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    REDACT.iter().any(|r| k == *r)
}

fn short(s: &str, n: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n).collect();
        out.push('…');
        out
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ApiErrorBody {
    /// Parse a response body leniently; never fails.
    pub fn parse(body: &[u8]) -> ApiErrorBody {
        let mut out = ApiErrorBody::default();
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
            let text = String::from_utf8_lossy(body);
            if !text.trim().is_empty() {
                out.text = Some(short(&text, 300));
            }
            return out;
        };
        out.error_code = map
            .get("errorCode")
            .or_else(|| map.get("error"))
            .and_then(scalar);
        out.message = map
            .get("message")
            .or_else(|| map.get("error_description"))
            .or_else(|| map.get("detail"))
            .and_then(scalar)
            .map(|m| short(&m, 500));
        out.debug_id = map.get("debugId").and_then(scalar);
        if let Some(Value::Array(details)) = map.get("errorDetails") {
            for d in details {
                let Value::Object(d) = d else { continue };
                if let Some(secs) = d.get("retryAfterSeconds").and_then(|v| match v {
                    Value::Number(n) => n.as_f64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                }) && secs.is_finite()
                    && secs >= 0.0
                {
                    out.retry_after = Some(Duration::from_secs_f64(secs.min(3600.0)));
                }
                if let Some(Value::Array(issues)) = d.get("issues") {
                    for i in issues {
                        let subject = i.get("subject").and_then(scalar);
                        let desc = i.get("description").and_then(scalar);
                        match (subject, desc) {
                            (Some(s), Some(d)) => {
                                out.details.push(short(&format!("{s}: {d}"), 300))
                            }
                            (None, Some(d)) => out.details.push(short(&d, 300)),
                            _ => {}
                        }
                    }
                }
                if let Some(Value::Object(meta)) = d.get("metadata") {
                    for (k, v) in meta {
                        if redact_key(k) {
                            continue;
                        }
                        if let Some(v) = scalar(v) {
                            out.details.push(short(&format!("{k}: {v}"), 300));
                        }
                    }
                }
            }
        }
        out
    }
}

impl fmt::Display for ApiErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(c) = &self.error_code {
            parts.push(c.clone());
        }
        if let Some(m) = &self.message {
            parts.push(format!("\"{m}\""));
        }
        if !self.details.is_empty() {
            parts.push(format!("({})", self.details.join("; ")));
        }
        if let Some(t) = &self.text
            && parts.is_empty()
        {
            parts.push(format!("body: {t}"));
        }
        if let Some(d) = &self.debug_id {
            parts.push(format!("[debugId {d}]"));
        }
        f.write_str(&parts.join(" "))
    }
}

/// Everything the client can fail with. No variant holds a token or secret.
///
/// The reason comes first and the call (`— METHOD URL`) last: a message cut to a table
/// cell or a toast keeps what went wrong, not a URL (issue 14).
#[derive(Debug, thiserror::Error)]
pub enum GlpError {
    /// The token endpoint refused the credentials (or is not a token endpoint). Not retried.
    #[error(
        "authentication failed at the token URL {token_url}{}: {detail}. {hint}",
        status.map(|s| format!(" (HTTP {s})")).unwrap_or_default()
    )]
    Auth {
        token_url: String,
        status: Option<u16>,
        detail: String,
        hint: &'static str,
    },
    /// The API could not be reached (connect, TLS, timeout), after retries.
    #[error(
        "GreenLake could not be reached after {attempts} attempt(s): {detail}. Check the \
         network/proxy and [api] base_url; the sync will be retried — {method} {url}"
    )]
    Unreachable {
        method: String,
        url: String,
        attempts: u32,
        detail: String,
    },
    /// The breaker is open: the call was not sent.
    #[error(
        "GreenLake API calls are paused after {failures} consecutive failures (circuit breaker \
         open){}; nothing was sent. Wait, or check https://status.greenlake.hpe.com",
        match retry_in { Some(d) => format!(", next try in {}s", d.as_secs().max(1)), None => ", a probe request is in flight".to_string() }
    )]
    BreakerOpen {
        retry_in: Option<Duration>,
        failures: u32,
    },
    /// A non-retryable HTTP error (4xx other than 401/429) or a 5xx/401 that outlasted retries.
    #[error("HTTP {status} {body}{}. {} — {method} {url}", attempts_note(*attempts), hint_for(*status))]
    Http {
        method: String,
        url: String,
        status: u16,
        body: Box<ApiErrorBody>,
        attempts: u32,
    },
    /// 429s did not stop within the retry budget.
    #[error(
        "still rate limited (HTTP 429) after {attempts} attempt(s) over {}s {body}. Another \
         client may be using this workspace's quota; lower [api] rate_limits or retry later — \
         {method} {url}",
        waited.as_secs()
    )]
    RateLimited {
        method: String,
        url: String,
        attempts: u32,
        waited: Duration,
        body: Box<ApiErrorBody>,
    },
    /// GreenLake stayed away for the whole patience (`[sync] patience`) the calls waited.
    #[error(
        "gave up after waiting {} for GreenLake to come back ([sync] patience = {}); pages \
         already stored are kept. Last error: {} — {method} {url}",
        fmt_wait(*waited),
        crate::config::format_duration(*patience),
        without_call(last, method, url)
    )]
    Outage {
        method: String,
        url: String,
        waited: Duration,
        patience: Duration,
        last: Box<GlpError>,
    },
    /// A 2xx body that could not be understood, after retries.
    #[error(
        "GreenLake sent a response that could not be read after {attempts} attempt(s): \
         {detail}. This is usually transient; retry later — {method} {url}"
    )]
    Malformed {
        method: String,
        url: String,
        attempts: u32,
        detail: String,
    },
    /// Rejected before sending: the request breaks a documented API rule.
    #[error("{0}")]
    Invalid(String),
    /// An async operation was still running when the wait ended.
    #[error(
        "async operation {location} was still {last_status} after {}s; it may still finish — \
         check it later in GreenLake or re-run to see its effect",
        waited.as_secs()
    )]
    OperationTimeout {
        location: String,
        last_status: String,
        waited: Duration,
    },
    /// An async operation that was seen running answered 404 later: GreenLake forgets an
    /// operation 24 h after it ends, so it did end — how is unknown (glp-api.md §12).
    #[error(
        "async operation {location} was {last_status} and is now gone (404): GreenLake keeps \
         finished operations for 24 hours only, so it ended but its outcome is unknown — check \
         the devices' current state (a resync shows it)"
    )]
    OperationGone {
        location: String,
        last_status: String,
    },
    /// The configuration cannot produce a working client.
    #[error("{0}")]
    Config(String),
}

/// An error's text without the trailing ` — METHOD URL` it shares with the error around it.
fn without_call(e: &GlpError, method: &str, url: &str) -> String {
    let text = e.to_string();
    match text.strip_suffix(&format!(" — {method} {url}")) {
        Some(rest) => rest.to_string(),
        None => text,
    }
}

/// `42s`, `3m 05s`.
fn fmt_wait(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

fn hint_for(status: u16) -> &'static str {
    match status {
        400 | 422 => {
            "GreenLake rejected the request as invalid: check the values named in the message"
        }
        401 => {
            "The token was rejected even after a fresh one was fetched: check that the API \
                client belongs to this workspace"
        }
        403 => {
            "The API client lacks the permission for this call: give it the needed role \
                (e.g. device-management edit) in GreenLake"
        }
        404 => "Not found: the id or path does not exist (or an async operation expired)",
        409 => "Conflict: the resource changed or already exists; reload and retry",
        500..=599 => "GreenLake had a server error; retry later",
        _ => "See GreenLake's message above",
    }
}

impl GlpError {
    /// Classify for exit codes and UI wording.
    pub fn kind(&self) -> ErrorKind {
        match self {
            GlpError::Auth { .. } => ErrorKind::Auth,
            GlpError::Unreachable { .. } => ErrorKind::Unreachable,
            GlpError::BreakerOpen { .. } => ErrorKind::BreakerOpen,
            GlpError::Http { status, .. } => match *status {
                400 | 422 => ErrorKind::BadRequest,
                401 | 403 => ErrorKind::Auth,
                404 => ErrorKind::NotFound,
                500..=599 => ErrorKind::Server,
                _ => ErrorKind::Client,
            },
            GlpError::RateLimited { .. } => ErrorKind::RateLimited,
            // A fresh token refused again and again was waited out as transient: not a
            // credentials verdict (only the token endpoint gives that).
            GlpError::Outage { last, .. } => match last.kind() {
                ErrorKind::Auth => ErrorKind::Server,
                k => k,
            },
            GlpError::Malformed { .. } => ErrorKind::Malformed,
            GlpError::Invalid(_) => ErrorKind::Invalid,
            GlpError::OperationTimeout { .. } => ErrorKind::Timeout,
            GlpError::OperationGone { .. } => ErrorKind::NotFound,
            GlpError::Config(_) => ErrorKind::Config,
        }
    }

    /// HTTP status, when the error came from one.
    pub fn status(&self) -> Option<u16> {
        match self {
            GlpError::Http { status, .. } => Some(*status),
            GlpError::RateLimited { .. } => Some(429),
            GlpError::Auth { status, .. } => *status,
            GlpError::Outage { last, .. } => last.status(),
            _ => None,
        }
    }

    /// GreenLake's error body, when there was one.
    pub fn api_body(&self) -> Option<&ApiErrorBody> {
        match self {
            GlpError::Http { body, .. } | GlpError::RateLimited { body, .. } => Some(body),
            GlpError::Outage { last, .. } => last.api_body(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bad_request_body() {
        let b = br#"{"httpStatusCode":400,"errorCode":"HPE_GL_ERROR_BAD_REQUEST","message":"Bad Request",
            "debugId":"dbg-1","errorDetails":[{"type":"hpe.greenlake.bad_request",
            "issues":[{"source":"query.parameter","subject":"limit","description":"Must be <= 50"}]}]}"#;
        let e = ApiErrorBody::parse(b);
        assert_eq!(e.error_code.as_deref(), Some("HPE_GL_ERROR_BAD_REQUEST"));
        assert_eq!(e.details, vec!["limit: Must be <= 50".to_string()]);
        let err = GlpError::Http {
            method: "GET".into(),
            url: "http://x/devices".into(),
            status: 400,
            body: Box::new(e),
            attempts: 1,
        };
        let s = err.to_string();
        assert!(
            s.contains("HPE_GL_ERROR_BAD_REQUEST") && s.contains("dbg-1") && s.contains("limit")
        );
        assert_eq!(err.kind(), ErrorKind::BadRequest);
    }

    #[test]
    fn retry_after_seconds_and_redaction() {
        let b = br#"{"errorCode":"X","message":"m","errorDetails":[{"type":"hpe.greenlake.retry_info","retryAfterSeconds":30},
            {"type":"hpe.greenlake.metadata","metadata":{"access_token":"SECRET","why":"because"}}]}"#;
        let e = ApiErrorBody::parse(b);
        assert_eq!(e.retry_after, Some(Duration::from_secs(30)));
        assert!(!e.to_string().contains("SECRET"));
        assert!(e.to_string().contains("because"));
    }

    #[test]
    fn an_outage_says_how_long_it_waited_and_names_the_call_once() {
        let url = "https://glp.example/devices/v1/devices?offset=0&limit=100";
        let e = GlpError::Outage {
            method: "GET".into(),
            url: url.into(),
            waited: Duration::from_millis(65_400),
            patience: Duration::from_secs(60),
            last: Box::new(GlpError::Http {
                method: "GET".into(),
                url: url.into(),
                status: 503,
                body: Box::default(),
                attempts: 1,
            }),
        };
        let s = e.to_string();
        assert!(s.contains("gave up after waiting 1m 05s"), "{s}");
        assert!(s.contains("[sync] patience = 1m"), "{s}");
        assert_eq!(s.matches(url).count(), 1, "{s}");
        assert_eq!(e.kind(), ErrorKind::Server);
    }

    #[test]
    fn the_reason_comes_first_and_the_call_last() {
        // Seen in the wizard's report: `tags: PATCH http://127.0.0.1:44161/de…`, the reason
        // cut off after the URL.
        let url = "http://127.0.0.1:44161/devices/v1/devices?id=a,b,c";
        let errors = [
            GlpError::Http {
                method: "PATCH".into(),
                url: url.into(),
                status: 400,
                body: Box::new(ApiErrorBody::parse(br#"{"message":"bad tag key"}"#)),
                attempts: 1,
            },
            GlpError::Unreachable {
                method: "PATCH".into(),
                url: url.into(),
                attempts: 3,
                detail: "connection refused".into(),
            },
            GlpError::Malformed {
                method: "PATCH".into(),
                url: url.into(),
                attempts: 2,
                detail: "expected value".into(),
            },
            GlpError::RateLimited {
                method: "PATCH".into(),
                url: url.into(),
                attempts: 5,
                waited: Duration::from_secs(70),
                body: Box::default(),
            },
        ];
        for e in errors {
            let s = e.to_string();
            let first40: String = s.chars().take(40).collect();
            assert!(!first40.contains("http"), "the reason is not first: {s}");
            assert!(
                s.ends_with(&format!(" — PATCH {url}")),
                "the call is not last: {s}"
            );
        }
    }

    #[test]
    fn non_json_body_is_kept_short() {
        let e = ApiErrorBody::parse(&vec![b'x'; 1000]);
        assert!(e.text.unwrap().chars().count() <= 301);
    }
}
