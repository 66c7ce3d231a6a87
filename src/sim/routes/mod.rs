//! The axum router and the request pipeline every API call goes through:
//! counters → outage → bearer check → rate limit → random faults → handler → body faults.

mod audit;
mod auth;
mod catalog;
mod control;
mod devices;
mod subscriptions;
mod workspaces;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::errors::ApiError;
use super::faults::corrupt;
use super::limits::Verdict;
use super::server::DropConnection;
use super::state::{Shared, lock};
use super::stats::Endpoint;

/// Build the router over the shared state.
pub(crate) fn router(sh: Arc<Shared>) -> Router {
    Router::new()
        .route("/as/token.oauth2", post(auth::token))
        .route("/authorization/v2/oauth2/{ws}/token", post(auth::token))
        .route(
            "/devices/v1/devices",
            get(devices::list_v1)
                .post(devices::post_v1)
                .patch(devices::patch_v1),
        )
        .route("/devices/v1beta1/devices", get(devices::list_v1))
        .route("/devices/v1/devices/{id}", get(devices::get_one))
        .route("/devices/v1beta1/devices/{id}", get(devices::get_one))
        .route(
            "/devices/v2beta1/devices",
            get(devices::list_v2)
                .patch(devices::patch_v2)
                .post(devices::post_v2),
        )
        .route("/devices/v2beta1/devices/{id}", get(devices::get_one))
        .route("/devices/v1/async-operations/{id}", get(devices::async_op))
        .route(
            "/devices/v1beta1/async-operations/{id}",
            get(devices::async_op),
        )
        .route(
            "/subscriptions/v1/subscriptions",
            get(subscriptions::list).patch(subscriptions::patch),
        )
        .route(
            "/subscriptions/v1/async-operations/{id}",
            get(subscriptions::async_op),
        )
        .route(
            "/subscriptions/v1/subscriptions/{id}",
            get(subscriptions::get_one),
        )
        .route(
            "/service-catalog/v1/service-managers",
            get(catalog::managers),
        )
        .route(
            "/service-catalog/v1/per-region-service-managers",
            get(catalog::regions),
        )
        .route(
            "/service-catalog/v1/per-region-service-managers/{code}",
            get(catalog::region),
        )
        .route(
            "/service-catalog/v1/service-manager-provisions",
            get(catalog::provisions),
        )
        .route("/audit-log/v2beta1/logs", get(audit::list))
        .route("/audit-log/v2beta1/logs/{id}", get(audit::get_one))
        .route("/workspaces/v1/msp-tenants", get(workspaces::msp_tenants))
        .route("/workspaces/v1/workspaces/{id}", get(workspaces::workspace))
        .nest("/_sim", control::router())
        .fallback(|| async { ApiError::not_found("path").into_response() })
        .layer(middleware::from_fn_with_state(Arc::clone(&sh), pipeline))
        .with_state(sh)
}

async fn pipeline(State(sh): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let ep = Endpoint::classify(req.method(), req.uri().path());
    if ep == Endpoint::Control {
        return next.run(req).await;
    }
    let method = req.method().as_str().to_string();
    let resp = guarded(&sh, ep, req, next).await;
    let status = if resp.extensions().get::<DropConnection>().is_some() {
        None
    } else {
        Some(resp.status().as_u16())
    };
    lock(&sh.stats).record(ep, &method, status);
    resp
}

fn bearer(req: &Request) -> Option<&str> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn rate_headers(resp: &mut Response, v: &Verdict) {
    let h = resp.headers_mut();
    h.insert("ratelimit-limit", HeaderValue::from(v.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(v.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(v.reset_secs));
}

async fn guarded(sh: &Arc<Shared>, ep: Endpoint, req: Request, next: Next) -> Response {
    let now = Instant::now();
    let (outage, generic_retry) = {
        let mut f = lock(&sh.faults);
        (f.outage(now), f.faults.retry_after_seconds)
    };
    // A tenant in an outage (MSP mode): all of its calls, the token exchange included.
    let outage = outage.or_else(|| {
        lock(&sh.tenant_faults)
            .outage
            .then_some(generic_retry.max(1))
    });
    if let Some(secs) = outage {
        let mut r =
            ApiError::server(StatusCode::SERVICE_UNAVAILABLE, generic_retry).into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return r;
    }
    if ep == Endpoint::Token {
        let fault = lock(&sh.faults).token_fault();
        if let Some(status) = fault {
            return auth::flaky(status, generic_retry);
        }
        return next.run(req).await;
    }
    if let Err(expired) = sh.check_token(bearer(&req)) {
        return ApiError::unauthorized(expired).into_response();
    }
    let verdict = lock(&sh.limiter).as_mut().and_then(|l| l.take(ep, now));
    if let Some(v) = verdict
        && !v.allowed
    {
        let mut r = ApiError::too_many_requests().into_response();
        rate_headers(&mut r, &v);
        if sh.cfg.retry_after_header {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(v.reset_secs));
        }
        return r;
    }
    let plan = lock(&sh.faults).plan(ep, req.method() == axum::http::Method::GET);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    if plan.drop {
        let mut r = Response::new(Body::empty());
        r.extensions_mut().insert(DropConnection);
        return r;
    }
    if let Some((status, retry)) = plan.error {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = ApiError::server(status, retry).into_response();
        if sh.cfg.retry_after_header {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        }
        return r;
    }
    let mut resp = next.run(req).await;
    if let Some(how) = plan.corruption
        && resp.status() == StatusCode::OK
    {
        let (mut parts, body) = resp.into_parts();
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        parts.headers.remove(header::CONTENT_LENGTH);
        resp = Response::from_parts(parts, Body::from(corrupt(&bytes, how)));
    }
    if let Some(v) = verdict {
        rate_headers(&mut resp, &v);
    }
    resp
}
