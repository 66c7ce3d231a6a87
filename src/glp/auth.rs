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
//!
//! A token comes from one of two sources: client credentials at a token URL (the classic
//! `/as/token.oauth2` or a workspace's `/authorization/v2/oauth2/{id}/token`), or, for an MSP
//! tenant, the RFC 8693 exchange of the MSP's own token ([`Auth::exchange`],
//! `glp::exchange`). Both share the cache, the refresh rule and the single flight above.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    RequestTokenError, TokenResponse, TokenUrl,
};
use rand::Rng;
use tokio::time::Instant;

use crate::config::Secret;
use crate::domain::WorkspaceId;
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
    /// Token endpoint down, slow, or refusing for a reason that is not the credentials:
    /// retry with backoff (after `retry_after` when it said so).
    Transient {
        detail: String,
        retry_after: Option<Duration>,
    },
}

/// What a refusal from the token endpoint means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client id or secret is wrong: exit 2, never retried.
    Credentials,
    /// The URL is not an OAuth2 token endpoint (or one that cannot serve this client).
    NotTokenEndpoint,
    /// Anything else: a flaky endpoint or the gateway in front of it.
    Transient,
}

/// Whether a text about a refusal is about the client's credentials.
fn names_credentials(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "credential",
        "client secret",
        "client_secret",
        "client id",
        "client_id",
        "invalid client",
        "unknown client",
        "client authentication",
    ]
    .iter()
    .any(|w| t.contains(w))
}

/// Classify a non-2xx token answer. Only `invalid_client`/`unauthorized_client` (RFC 6749
/// §5.2), or a 400/401 whose text names the credentials, blame the credentials: a 401
/// `invalid_token` or a 5xx page from a gateway is a transient fault, and reporting it as
/// bad credentials would tell cron's owner to fix something that is not broken. Protocol
/// errors no working token endpoint sends for a client-credentials grant, and 3xx/404/405,
/// mean the URL is wrong.
pub fn refusal(code: u16, error: Option<&str>, detail: &str) -> Refusal {
    let error = error.map(|e| e.trim().to_ascii_lowercase());
    match error.as_deref() {
        Some("invalid_client" | "unauthorized_client") => return Refusal::Credentials,
        _ if matches!(code, 400 | 401) && names_credentials(detail) => {
            return Refusal::Credentials;
        }
        Some("unsupported_grant_type" | "invalid_scope" | "invalid_request") => {
            return Refusal::NotTokenEndpoint;
        }
        _ => {}
    }
    match code {
        300..=399 | 404 | 405 => Refusal::NotTokenEndpoint,
        _ => Refusal::Transient,
    }
}

type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// Where an [`Auth`] gets its tokens.
pub(crate) enum Source {
    /// Client credentials (the id and secret are kept for tenants' token exchanges).
    Credentials {
        oauth: Box<OAuthClient>,
        client_id: String,
        secret: Secret,
    },
    /// RFC 8693 exchange of the MSP's token for `tenant`'s, with the MSP's client.
    Exchange(Exchange),
}

/// What a tenant's token exchange needs.
pub(crate) struct Exchange {
    pub msp: Arc<Auth>,
    pub tenant: WorkspaceId,
    pub client_id: String,
    pub secret: Secret,
}

/// Token cache and single-flight refresher.
pub struct Auth {
    pub(crate) source: Source,
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: String,
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
            source: Source::Credentials {
                oauth: Box::new(oauth),
                client_id: client_id.to_string(),
                secret: Secret::new(secret.expose()),
            },
            http,
            token_url: token_url.to_string(),
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        })
    }

    /// Tokens for MSP tenant `tenant` by exchanging `msp`'s token (which must be a
    /// client-credentials source: its client id and secret authenticate the exchange) at
    /// `{base_url}/authorization/v2/oauth2/{tenant, dashless}/token`. `http` must not follow
    /// redirects.
    pub fn exchange(
        msp: Arc<Auth>,
        base_url: &str,
        tenant: &WorkspaceId,
        http: reqwest::Client,
    ) -> Result<Auth, GlpError> {
        let Source::Credentials {
            client_id, secret, ..
        } = &msp.source
        else {
            return Err(GlpError::Config(format!(
                "tenant {tenant}: a token exchange needs the MSP's own client credentials,                  not another tenant's token"
            )));
        };
        let (client_id, secret) = (client_id.clone(), Secret::new(secret.expose()));
        Ok(Auth {
            source: Source::Exchange(Exchange {
                msp,
                tenant: tenant.clone(),
                client_id,
                secret,
            }),
            http,
            token_url: workspace_token_url(base_url, tenant),
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            generation: AtomicU64::new(0),
            fetches: AtomicU64::new(0),
        })
    }

    /// The URL tokens are asked for at (no secret in it).
    pub fn token_url(&self) -> &str {
        &self.token_url
    }

    /// The tenant this source exchanges tokens for; `None` for client credentials.
    pub fn tenant(&self) -> Option<&WorkspaceId> {
        match &self.source {
            Source::Exchange(x) => Some(&x.tenant),
            Source::Credentials { .. } => None,
        }
    }

    /// A token fetched now (`started`: when it was asked for) from an answer.
    pub(crate) fn mint(&self, secret: Secret, started: Instant, ttl: Duration) -> Token {
        Token {
            secret,
            generation: self.generation.fetch_add(1, Ordering::Relaxed) + 1,
            expires_at: started + ttl,
            buffer: refresh_buffer(ttl),
        }
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

    /// [`Auth::token`] as a boxed future: a tenant's exchange awaits the MSP's token from
    /// inside its own fetch, and an `async fn` cannot await itself unboxed.
    pub(crate) fn token_boxed(
        &self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Arc<Token>, TokenError>> + Send + '_>,
    > {
        Box::pin(self.token())
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
        match &self.source {
            Source::Credentials { oauth, .. } => self.fetch_credentials(oauth).await,
            Source::Exchange(x) => self.fetch_exchange(x).await,
        }
    }

    async fn fetch_credentials(&self, oauth: &OAuthClient) -> Result<Token, TokenError> {
        let status = Arc::new(AtomicU16::new(0));
        // `Retry-After` of the answer in ms + 1 (0: none), for a 503/429 from the endpoint.
        let retry_after = Arc::new(AtomicU64::new(0));
        let http = self.http.clone();
        let status_w = status.clone();
        let retry_w = retry_after.clone();
        let adapter = move |req: HttpRequest| {
            let http = http.clone();
            let status_ref = status_w.clone();
            let retry_ref = retry_w.clone();
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
                if let Some(d) = resp
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(crate::glp::pace::parse_retry_after)
                {
                    retry_ref.store(d.as_millis() as u64 + 1, Ordering::Relaxed);
                }
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
        let res = oauth
            .exchange_client_credentials()
            .request_async(&adapter)
            .await;
        let code = status.load(Ordering::Relaxed);
        let retry_after = match retry_after.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms - 1)),
        };
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
                // Count the lifetime from when we asked: the server started it then.
                Ok(self.mint(secret, started, ttl))
            }
            Err(RequestTokenError::Request(e)) => Err(TokenError::Transient {
                detail: format!("token request to {} failed: {e}", self.token_url),
                retry_after: None,
            }),
            Err(RequestTokenError::ServerResponse(r)) => {
                let error = r.error().to_string();
                let detail = match r.error_description() {
                    Some(d) => format!("{error} ({d})"),
                    None => error.clone(),
                };
                Err(self.refused(code, Some(&error), detail, retry_after))
            }
            Err(RequestTokenError::Parse(e, body)) => {
                if (200..300).contains(&code) {
                    return Err(TokenError::Fatal(self.auth_error(
                        Some(code),
                        format!("the response has no usable access_token ({})", e.path()),
                        HINT_NOT_TOKEN_ENDPOINT,
                    )));
                }
                let body = crate::glp::error::ApiErrorBody::parse(&body);
                let error = body.error_code.clone();
                Err(self.refused(
                    code,
                    error.as_deref(),
                    format!("rejected: {body}"),
                    retry_after,
                ))
            }
            Err(RequestTokenError::Other(m)) => Err(self.refused(code, None, m, retry_after)),
        }
    }

    /// A non-2xx answer of the token endpoint, as fatal or transient (see [`refusal`]).
    fn refused(
        &self,
        code: u16,
        error: Option<&str>,
        detail: String,
        retry_after: Option<Duration>,
    ) -> TokenError {
        match refusal(code, error, &detail) {
            Refusal::Credentials => {
                TokenError::Fatal(self.auth_error(Some(code), detail, HINT_BAD_CREDENTIALS))
            }
            Refusal::NotTokenEndpoint => {
                TokenError::Fatal(self.auth_error(Some(code), detail, HINT_NOT_TOKEN_ENDPOINT))
            }
            Refusal::Transient => TokenError::Transient {
                detail: format!(
                    "token endpoint {} answered HTTP {code}: {detail}",
                    self.token_url
                ),
                retry_after,
            },
        }
    }

    pub(crate) fn auth_error(
        &self,
        code: Option<u16>,
        detail: String,
        hint: &'static str,
    ) -> GlpError {
        GlpError::Auth {
            token_url: self.token_url.clone(),
            status: code.filter(|c| *c != 0),
            detail,
            hint,
        }
    }
}

/// `{base}/authorization/v2/oauth2/{workspace, dashless}/token`: a workspace's own token URL.
pub fn workspace_token_url(base_url: &str, workspace: &WorkspaceId) -> String {
    format!(
        "{}/authorization/v2/oauth2/{}/token",
        base_url.trim().trim_end_matches('/'),
        workspace.as_str()
    )
}

pub(crate) const HINT_BAD_CREDENTIALS: &str = "The client id or secret is wrong, revoked or expired: \
    check GLP_CLIENT_ID and the client secret (create a new secret in GreenLake → Manage \
    workspace → Personal API clients if needed)";
pub(crate) const HINT_NOT_TOKEN_ENDPOINT: &str = "This does not look like a working OAuth2 token \
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

    #[test]
    fn only_credential_refusals_blame_the_credentials() {
        use Refusal::*;
        let r = refusal;
        assert_eq!(
            r(
                401,
                Some("invalid_client"),
                "Invalid client or Invalid client credentials"
            ),
            Credentials
        );
        assert_eq!(
            r(400, Some("unauthorized_client"), "unauthorized_client"),
            Credentials
        );
        assert_eq!(
            r(400, None, "rejected: bad client credentials"),
            Credentials
        );
        // A gateway's 401 about a token, a flaky IdP, HTML error pages: transient.
        assert_eq!(
            r(
                401,
                Some("invalid_token"),
                "invalid_token (The access token provided is expired)"
            ),
            Transient
        );
        assert_eq!(
            r(400, Some("temporarily_unavailable"), "try later"),
            Transient
        );
        assert_eq!(r(500, Some("server_error"), "server_error"), Transient);
        assert_eq!(
            r(502, None, "rejected: body: <html>502 Bad Gateway</html>"),
            Transient
        );
        assert_eq!(r(403, None, "Forbidden"), Transient);
        assert_eq!(r(401, Some("invalid_grant"), "invalid_grant"), Transient);
        // Not a token endpoint at all.
        assert_eq!(r(404, None, "rejected: Not Found"), NotTokenEndpoint);
        assert_eq!(
            r(400, Some("unsupported_grant_type"), "x"),
            NotTokenEndpoint
        );
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
