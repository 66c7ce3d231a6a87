//! OAuth2 token endpoints (glp-api.md §1, §9.1, §11): client credentials (form body or HTTP
//! Basic) and, in MSP mode, the RFC 8693 token exchange that turns the MSP's token into a
//! tenant's.
//!
//! In MSP mode client credentials get a token for the MSP workspace only (at
//! `/as/token.oauth2` or the MSP's own per-workspace URL); a tenant's token comes from the
//! exchange at the tenant's URL. Answers: bad client credentials 401 `invalid_client`; a
//! subject token that is not a live MSP token 401 `invalid_grant`; a tenant the client may not
//! act for (fault `exchange_refused`) 401/403 `unauthorized_client`; a workspace id in the URL
//! that names no workspace 404 `invalid_request`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use crate::sim::msp::dashless;
use crate::sim::state::{Shared, lock};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

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
    uri: Uri,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|f| f.0).unwrap_or_default();
    let path_ws = uri
        .path()
        .strip_prefix("/authorization/v2/oauth2/")
        .and_then(|r| r.strip_suffix("/token"))
        .map(dashless);
    if let Some(ws) = &path_ws
        && sh.directory().is_some()
        && *ws != dashless(&sh.cfg.workspace_id)
    {
        // Dispatch sends a known workspace's URL to that workspace: this one is unknown.
        return oauth_error(
            StatusCode::NOT_FOUND,
            "invalid_request",
            &format!("no workspace {ws}"),
        );
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(TOKEN_EXCHANGE) => return exchange(&sh, &headers, &form),
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only client_credentials and token-exchange are supported",
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
    if sh.tenant_meta().is_some() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "this client belongs to the MSP workspace: get a tenant's token by token exchange",
        );
    }
    if !good_client(&sh, &headers, &form) {
        return invalid_client();
    }
    token_response(&sh)
}

fn token_response(sh: &Shared) -> Response {
    let token = sh.issue_token();
    Json(json!({"access_token": token, "token_type": "Bearer",
        "issued_token_type": ACCESS_TOKEN_TYPE, "expires_in": sh.cfg.token_ttl.as_secs()}))
    .into_response()
}

fn invalid_client() -> Response {
    oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        "Invalid client or Invalid client credentials",
    )
}

/// The credentials (HTTP Basic, or the form body) are this simulator's client's.
fn good_client(sh: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let creds = basic(headers).or_else(|| {
        Some((
            form.get("client_id")?.clone(),
            form.get("client_secret")?.clone(),
        ))
    });
    matches!(creds, Some((id, secret)) if id == sh.cfg.client_id && secret == sh.cfg.client_secret)
}

/// RFC 8693 token exchange at a tenant's token URL: the MSP's client (HTTP Basic) trades a
/// live MSP access token for one of the tenant.
fn exchange(sh: &Shared, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    let Some(dir) = sh.directory() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "token exchange is only for MSP tenants",
        );
    };
    let Some(tenant) = sh.tenant_meta() else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "token exchange targets a tenant workspace, not the MSP's own",
        );
    };
    let Some(msp) = dir.member(&dir.msp_id) else {
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "the MSP workspace is gone",
        );
    };
    if !good_client(&msp, headers, form) {
        return invalid_client();
    }
    if form.get("subject_token_type").map(String::as_str) != Some(ACCESS_TOKEN_TYPE) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            &format!("subject_token_type must be {ACCESS_TOKEN_TYPE}"),
        );
    }
    if msp
        .check_token(form.get("subject_token").map(String::as_str))
        .is_err()
    {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_grant",
            "the subject token is invalid or expired",
        );
    }
    if let Some(status) = lock(&sh.tenant_faults).exchange_refused {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        return oauth_error(
            status,
            "unauthorized_client",
            &format!(
                "the API client may not act for tenant {} ({})",
                tenant.name, tenant.id
            ),
        );
    }
    token_response(sh)
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
