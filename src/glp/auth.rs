//! OAuth2 client credentials (glp-api.md §1) with a cached, proactively refreshed token.
//!
//! * The token is refreshed at `expires_in − clamp(10 %, 30 s, 300 s)` (±10 % jitter drawn on
//!   every check, so many processes sharing a client do not refresh in the same second).
//! * One refresh in flight: callers that find the token stale queue on a mutex and re-check,
//!   so a hundred waiting requests cause one token call.
//! * A 401 from the API invalidates exactly the token that was used (a second 401 for the
//!   same, already replaced token does not throw the new one away).
//! * Bad credentials are an [`GlpError::Auth`] naming the token URL, never retried; a token
//!   endpoint that is down or slow is a transient failure the caller retries.
//!
//! The token lives in a [`Secret`]; nothing here logs or formats it.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    RequestTokenError, TokenResponse, TokenUrl,
};
use rand::Rng;
use tokio::time::Instant;

use crate::config::Secret;
use crate::glp::error::GlpError;

/// Lifetime assumed when the token response has no `expires_in` (GLP tokens last 15 min).
pub const DEFAULT_TTL: Duration = Duration::from_secs(900);

/// The refresh buffer before expiry: 10 % of the lifetime, at least 30 s, at most 300 s, and
/// never more than half the lifetime (a 40 s token is not "always stale").
pub fn refresh_buffer(ttl: Duration) -> Duration {
    let b = ttl
        .mul_f64(0.1)
        .clamp(Duration::from_secs(30), Duration::from_secs(300));
    b.min(ttl / 2)
}

/// A fetched token.
pub struct Token {
    secret: Secret,
    /// Process-local sequence number: safe to log instead of the token.
    pub generation: u64,
    expires_at: Instant,
    buffer: Duration,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Token")
            .field("generation", &self.generation)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Token {
    pub(crate) fn bearer(&self) -> &str {
        self.secret.expose()
    }
    fn fresh(&self, now: Instant) -> bool {
        let jitter: f64 = rand::rng().random_range(-0.1..=0.1);
        let buffer = self.buffer.mul_f64(1.0 + jitter);
        now + buffer < self.expires_at
    }
}

/// Why a token could not be had.
#[derive(Debug)]
pub enum TokenError {
    /// Credentials or URL are wrong: do not retry.
    Fatal(GlpError),
    /// Token endpoint down, slow or answering 5xx/429: retry with backoff.
    Transient(String),
}

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Token cache and single-flight refresher.
pub struct Auth {
    oauth: OAuthClient,
    http: reqwest::Client,
    token_url: String,
    current: RwLock<Option<Arc<Token>>>,
    refresh: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    fetches: AtomicU64,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct TransportError(String);

impl Auth {
    /// `http` must not follow redirects (a redirect would re-post the secret elsewhere).
    pub fn new(
        token_url: &str,
        client_id: &str,
        secret: &Secret,
        http: reqwest::Client,
    ) -> Result<Auth, GlpError> {
        let url = TokenUrl::new(token_url.to_string()).map_err(|e| {
            GlpError::Config(format!(
                "[api] token_url = {token_url:?} is not a valid URL ({e}): use e.g. \
                 https://sso.common.cloud.hpe.com/as/token.oauth2"
            ))
        })?;
        if client_id.trim().is_empty() {
            return Err(GlpError::Config(
                "[api] client_id is empty: set GLP_CLIENT_ID or [api] client_id to the API \
                 client's id from GreenLake (Manage workspace → Personal API clients)"
                    .into(),
            ));
        }
        let oauth = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(secret.expose().to_string()))
            .set_token_uri(url)
            .set_auth_type(AuthType::RequestBody);
        Ok(Auth {
            oauth,
            http,
            token_url: token_url.to_string(),
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        })
    }

    /// How many token requests were sent (tests assert single flight with it).
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Arc<Token>> {
        let g = self.current.read().unwrap_or_else(|p| p.into_inner());
        g.as_ref().filter(|t| t.fresh(Instant::now())).cloned()
    }

    /// A fresh token, fetching one if needed (one fetch at a time).
    pub async fn token(&self) -> Result<Arc<Token>, TokenError> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let _guard = self.refresh.lock().await;
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let t = Arc::new(self.fetch().await?);
        tracing::debug!(generation = t.generation, "fetched an access token");
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(t.clone());
        Ok(t)
    }

    /// Forget `used` if it is still the current token (after a 401).
    pub fn invalidate(&self, used: &Token) {
        let mut g = self.current.write().unwrap_or_else(|p| p.into_inner());
        if g.as_ref().is_some_and(|c| c.generation == used.generation) {
            *g = None;
        }
    }

    async fn fetch(&self) -> Result<Token, TokenError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let status = Arc::new(AtomicU16::new(0));
        let http = self.http.clone();
        let status_w = status.clone();
        let adapter = move |req: HttpRequest| {
            let http = http.clone();
            let status_ref = status_w.clone();
            async move {
                let (parts, body) = req.into_parts();
                let resp = http
                    .request(parts.method, parts.uri.to_string())
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| TransportError(describe_reqwest(&e)))?;
                status_ref.store(resp.status().as_u16(), Ordering::Relaxed);
                let mut out = HttpResponse::new(Vec::new());
                *out.status_mut() = resp.status();
                *out.headers_mut() = resp.headers().clone();
                let bytes = resp
                    .bytes()
                    .await
                    .map_err(|e| TransportError(describe_reqwest(&e)))?;
                *out.body_mut() = bytes.to_vec();
                Ok::<_, TransportError>(out)
            }
        };
        let started = Instant::now();
        let res = self
            .oauth
            .exchange_client_credentials()
            .request_async(&adapter)
            .await;
        let code = status.load(Ordering::Relaxed);
        match res {
            Ok(resp) => {
                let ttl = resp.expires_in().unwrap_or(DEFAULT_TTL);
                let secret = Secret::new(resp.access_token().secret().clone());
                if secret.is_empty() {
                    return Err(TokenError::Fatal(self.auth_error(
                        Some(code),
                        "the token endpoint returned an empty access_token".into(),
                        HINT_NOT_TOKEN_ENDPOINT,
                    )));
                }
                Ok(Token {
                    secret,
                    generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
                    // Count the lifetime from when we asked: the server started it then.
                    expires_at: started + ttl,
                    buffer: refresh_buffer(ttl),
                })
            }
            Err(RequestTokenError::Request(e)) => Err(TokenError::Transient(format!(
                "token request to {} failed: {e}",
                self.token_url
            ))),
            Err(RequestTokenError::ServerResponse(r)) => {
                let detail = match r.error_description() {
                    Some(d) => format!("{} ({d})", r.error()),
                    None => r.error().to_string(),
                };
                if code == 429 || code >= 500 {
                    return Err(TokenError::Transient(format!(
                        "token endpoint {} answered HTTP {code}: {detail}",
                        self.token_url
                    )));
                }
                let hint = match r.error() {
                    BasicErrorResponseType::InvalidClient
                    | BasicErrorResponseType::UnauthorizedClient
                    | BasicErrorResponseType::InvalidGrant => HINT_BAD_CREDENTIALS,
                    _ if code == 401 || code == 403 => HINT_BAD_CREDENTIALS,
                    _ => HINT_NOT_TOKEN_ENDPOINT,
                };
                Err(TokenError::Fatal(self.auth_error(Some(code), detail, hint)))
            }
            Err(RequestTokenError::Parse(e, body)) => {
                if code == 429 || code >= 500 {
                    return Err(TokenError::Transient(format!(
                        "token endpoint {} answered HTTP {code}",
                        self.token_url
                    )));
                }
                let hint = if code == 401 || code == 403 {
                    HINT_BAD_CREDENTIALS
                } else {
                    HINT_NOT_TOKEN_ENDPOINT
                };
                let what = if code == 200 {
                    format!("the response has no usable access_token ({})", e.path())
                } else {
                    let body = crate::glp::error::ApiErrorBody::parse(&body);
                    format!("rejected: {body}")
                };
                Err(TokenError::Fatal(self.auth_error(Some(code), what, hint)))
            }
            Err(RequestTokenError::Other(m)) => {
                if code == 429 || code >= 500 {
                    return Err(TokenError::Transient(format!(
                        "token endpoint {} answered HTTP {code}: {m}",
                        self.token_url
                    )));
                }
                let hint = if code == 401 || code == 403 {
                    HINT_BAD_CREDENTIALS
                } else {
                    HINT_NOT_TOKEN_ENDPOINT
                };
                Err(TokenError::Fatal(self.auth_error(Some(code), m, hint)))
            }
        }
    }

    fn auth_error(&self, code: Option<u16>, detail: String, hint: &'static str) -> GlpError {
        GlpError::Auth {
            token_url: self.token_url.clone(),
            status: code.filter(|c| *c != 0),
            detail,
            hint,
        }
    }
}

const HINT_BAD_CREDENTIALS: &str = "The client id or secret is wrong, revoked or expired: \
    check GLP_CLIENT_ID and the client secret (create a new secret in GreenLake → Manage \
    workspace → Personal API clients if needed)";
const HINT_NOT_TOKEN_ENDPOINT: &str = "This does not look like a working OAuth2 token \
    endpoint: check [api] token_url (GreenLake shows it next to the API client)";

/// A reqwest error in words, without the URL's query (not secret here, but noisy).
pub fn describe_reqwest(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "response body could not be read"
    } else if e.is_request() {
        "request failed"
    } else {
        "HTTP error"
    };
    let mut msg = kind.to_string();
    let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffer_rule() {
        let s = Duration::from_secs;
        assert_eq!(refresh_buffer(s(900)), s(90));
        assert_eq!(refresh_buffer(s(7200)), s(300));
        assert_eq!(refresh_buffer(s(100)), s(30));
        assert_eq!(refresh_buffer(s(40)), s(20));
    }

    #[tokio::test(start_paused = true)]
    async fn freshness_with_jitter() {
        let t = Token {
            secret: Secret::new("S3CR3T"),
            generation: 1,
            expires_at: Instant::now() + Duration::from_secs(900),
            buffer: Duration::from_secs(90),
        };
        let now = Instant::now();
        // Buffer 90 s ± 10 % jitter = 81..=99 s before expiry: outside that band the answer
        // is certain whatever the jitter draws.
        for _ in 0..100 {
            assert!(t.fresh(now + Duration::from_secs(800)));
            assert!(!t.fresh(now + Duration::from_secs(820)));
        }
        assert!(!format!("{t:?}").contains("S3CR3T"));
    }
}
