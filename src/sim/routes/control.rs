//! `/_sim/…`: control endpoints for tests and benchmarks in other processes (no auth).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::sim::faults::Faults;
use crate::sim::limits::Limits;
use crate::sim::state::{Shared, lock, read};

pub(super) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/stats", get(stats).delete(reset_stats))
        .route("/reset-stats", post(reset_stats))
        .route("/faults", get(get_faults).put(put_faults))
        .route("/limits", get(get_limits).put(put_limits))
        .route("/expire-tokens", post(expire))
        .route("/devices", post(add_devices))
        .route("/health", get(health))
}

async fn stats(State(sh): State<Arc<Shared>>) -> Response {
    Json(lock(&sh.stats).stats.clone()).into_response()
}

async fn reset_stats(State(sh): State<Arc<Shared>>) -> Response {
    lock(&sh.stats).reset();
    Json(json!({"reset": true})).into_response()
}

async fn get_faults(State(sh): State<Arc<Shared>>) -> Response {
    Json(lock(&sh.faults).faults.clone()).into_response()
}

async fn put_faults(State(sh): State<Arc<Shared>>, Json(f): Json<Faults>) -> Response {
    lock(&sh.faults).set(f.clone());
    Json(f).into_response()
}

async fn get_limits(State(sh): State<Arc<Shared>>) -> Response {
    Json(lock(&sh.limiter).as_ref().map(|l| l.limits.clone())).into_response()
}

async fn put_limits(State(sh): State<Arc<Shared>>, Json(l): Json<Option<Limits>>) -> Response {
    sh.set_limits(l.clone());
    Json(l).into_response()
}

async fn expire(State(sh): State<Arc<Shared>>) -> Response {
    sh.expire_tokens();
    Json(json!({"expired": true})).into_response()
}

#[derive(Deserialize)]
struct AddQuery {
    count: Option<usize>,
}

async fn add_devices(State(sh): State<Arc<Shared>>, Query(q): Query<AddQuery>) -> Response {
    let ids = sh.add_devices(q.count.unwrap_or(1));
    Json(json!({"ids": ids})).into_response()
}

async fn health(State(sh): State<Arc<Shared>>) -> Response {
    let d = read(&sh.data);
    Json(json!({"devices": d.devices.len(), "subscriptions": d.subscriptions.len()}))
        .into_response()
}
