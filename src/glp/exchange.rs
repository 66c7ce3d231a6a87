//! An MSP tenant's token by RFC 8693 token exchange (glp-api.md §11): with the MSP's own
//! token in hand, `POST {base}/authorization/v2/oauth2/{tenant}/token` with
//! `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`, the MSP token as
//! `subject_token` and HTTP Basic with the MSP's client id and secret.
//!
//! * A 401 (other than `invalid_client`) may mean the MSP token went stale on the server's
//!   side: the MSP token is renewed and the exchange sent again, once. A second 401, a 403,
//!   or a 400/404 saying the grant, the client or the target is not acceptable, is the
//!   tenant's refusal: fatal for this tenant, with an error naming it and the URL.
//! * Wrong client credentials (`invalid_client`) are the MSP's bad credentials: fatal.
//! * 408, 429, 5xx and transport failures are transient (the caller retries, after
//!   `Retry-After` when given); so is a transient failure of the MSP's own token.
//!
//! Neither the secret nor a token is put into an error or a log.

use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use crate::config::Secret;
use crate::glp::auth::{
    Auth, DEFAULT_TTL, Exchange, HINT_BAD_CREDENTIALS, HINT_NOT_TOKEN_ENDPOINT, Token, TokenError,
    describe_reqwest,
};
use crate::glp::error::ApiErrorBody;

pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const TOKEN_TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// What to tell the user when a tenant refuses the exchange.
pub const HINT_EXCHANGE_REFUSED: &str = "The MSP's API client may not act for this tenant \
    (the tenant was removed, or the client lacks the MSP role for it): check the tenant in \
    GreenLake (Manage workspace → Tenants) or leave it out of the configuration";

/// The answer of one exchange request.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

impl Auth {
    /// Exchange the MSP's token for the tenant's; see the module documentation.
    pub(crate) async fn fetch_exchange(&self, x: &Exchange) -> Result<Token, TokenError> {
        let mut subject = x.msp.token_boxed().await.map_err(|e| msp_failed(x, e))?;
        let mut renewed = false;
        loop {
            let started = Instant::now();
            let a = self.send_exchange(x, &subject).await?;
            if (200..300).contains(&a.status) {
                return self.exchanged(x, &a, started);
            }
            let (error, detail) = oauth_error(&a.body);
            if a.status == 401 && !renewed && error.as_deref() != Some("invalid_client") {
                tracing::debug!(tenant = %x.tenant, "token exchange got 401: renewing the MSP token");
                x.msp.invalidate(&subject);
                subject = x.msp.token_boxed().await.map_err(|e| msp_failed(x, e))?;
                renewed = true;
                continue;
            }
            return Err(self.refused_exchange(
                x,
                a.status,
                error.as_deref(),
                detail,
                a.retry_after,
            ));
        }
    }

    async fn send_exchange(&self, x: &Exchange, subject: &Token) -> Result<Answer, TokenError> {
        let transient = |e: reqwest::Error| TokenError::Transient {
            detail: format!(
                "token exchange for tenant {} at {} failed: {}",
                x.tenant,
                self.token_url,
                describe_reqwest(&e)
            ),
            retry_after: None,
        };
        let resp = self
            .http
            .post(&self.token_url)
            .basic_auth(&x.client_id, Some(x.secret.expose()))
            .form(&[
                ("grant_type", GRANT_TOKEN_EXCHANGE),
                ("subject_token", subject.bearer()),
                ("subject_token_type", TOKEN_TYPE_ACCESS_TOKEN),
            ])
            .send()
            .await
            .map_err(transient)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::glp::pace::parse_retry_after);
        let body = resp.bytes().await.map_err(transient)?.to_vec();
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// A 2xx answer: an ordinary token response for the tenant.
    fn exchanged(&self, x: &Exchange, a: &Answer, started: Instant) -> Result<Token, TokenError> {
        let v: Value = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        let token = v
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err(TokenError::Fatal(self.auth_error(
                Some(a.status),
                format!(
                    "the token exchange for tenant {} returned no access_token",
                    x.tenant
                ),
                HINT_NOT_TOKEN_ENDPOINT,
            )));
        };
        let ttl = v
            .get("expires_in")
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.trim().parse().ok()))
            .filter(|s| *s > 0)
            .map_or(DEFAULT_TTL, Duration::from_secs);
        Ok(self.mint(Secret::new(token), started, ttl))
    }

    /// A non-2xx answer to the exchange, as fatal (credentials, refusal) or transient.
    fn refused_exchange(
        &self,
        x: &Exchange,
        code: u16,
        error: Option<&str>,
        detail: String,
        retry_after: Option<Duration>,
    ) -> TokenError {
        let refusal = matches!(
            error,
            Some(
                "invalid_grant"
                    | "unauthorized_client"
                    | "invalid_target"
                    | "access_denied"
                    | "invalid_request"
                    | "invalid_scope"
                    | "unsupported_grant_type"
            )
        );
        if error == Some("invalid_client") {
            return TokenError::Fatal(self.auth_error(
                Some(code),
                format!(
                    "the MSP's client credentials were refused exchanging a token for tenant {}: \
                     {detail}",
                    x.tenant
                ),
                HINT_BAD_CREDENTIALS,
            ));
        }
        if matches!(code, 401 | 403 | 404) || (code == 400 && refusal) {
            return TokenError::Fatal(self.auth_error(
                Some(code),
                format!(
                    "the token exchange for tenant {} was refused: {detail}",
                    x.tenant
                ),
                HINT_EXCHANGE_REFUSED,
            ));
        }
        TokenError::Transient {
            detail: format!(
                "token exchange for tenant {} at {} answered HTTP {code}: {detail}",
                x.tenant, self.token_url
            ),
            retry_after,
        }
    }
}

/// The MSP's own token could not be had: the tenant's token cannot either.
fn msp_failed(x: &Exchange, e: TokenError) -> TokenError {
    match e {
        TokenError::Fatal(e) => TokenError::Fatal(e),
        TokenError::Transient {
            detail,
            retry_after,
        } => TokenError::Transient {
            detail: format!("the MSP token for tenant {}: {detail}", x.tenant),
            retry_after,
        },
    }
}

/// `error` and a readable detail of an OAuth (or GreenLake) error body.
fn oauth_error(body: &[u8]) -> (Option<String>, String) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = v
        .get("error")
        .and_then(Value::as_str)
        .map(|e| e.trim().to_ascii_lowercase());
    let desc = v.get("error_description").and_then(Value::as_str);
    let detail = match (&error, desc) {
        (Some(e), Some(d)) => format!("{e} ({d})"),
        (Some(e), None) => e.clone(),
        _ => format!("rejected: {}", ApiErrorBody::parse(body)),
    };
    (error, detail)
}
