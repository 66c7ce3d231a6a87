//! OAuth2 client-credentials token endpoints (glp-api.md §1, §9.1): form body or HTTP Basic.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::sim::state::Shared;

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn oauth_error(status: StatusCode, error: &str, desc: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": desc})),
    )
        .into_response()
}

/// `POST /as/token.oauth2` and `POST /authorization/v2/oauth2/{workspace}/token`.
pub(super) async fn token(
    State(sh): State<Arc<Shared>>,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or_default();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials is supported",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required",
            );
        }
    }
    let creds = basic(&headers).or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    });
    match creds {
        Some((id, secret)) if id == sh.cfg.client_id && secret == sh.cfg.client_secret => {
            let token = sh.issue_token();
            Json(json!({"access_token": token, "token_type": "Bearer", "expires_in": sh.cfg.token_ttl.as_secs()}))
                .into_response()
        }
        _ => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ),
    }
}

/// A token request failing for a reason that is not the credentials (see
/// `Faults::token_error_statuses`): what identity providers and their gateways answer.
pub(super) fn flaky(status: u16, retry_after_secs: u64) -> Response {
    let retry = |mut r: Response| {
        r.headers_mut()
            .insert(header::RETRY_AFTER, retry_after_secs.into());
        r
    };
    match status {
        401 => {
            let mut r = oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "The access token provided is expired, revoked, malformed, or invalid for other reasons",
            );
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            r
        }
        400 => oauth_error(
            StatusCode::BAD_REQUEST,
            "temporarily_unavailable",
            "The authorization server is temporarily unable to handle the request",
        ),
        429 => retry(oauth_error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "Too many requests",
        )),
        502 | 504 => {
            let s = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            let body = format!(
                "<html><head><title>{s}</title></head><body><center><h1>{s}</h1></center></body></html>"
            );
            (s, [(header::CONTENT_TYPE, "text/html")], body).into_response()
        }
        503 => retry(oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The authorization server is temporarily unable to handle the request",
        )),
        s => oauth_error(
            StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            "server_error",
            "The authorization server encountered an unexpected condition",
        ),
    }
}
