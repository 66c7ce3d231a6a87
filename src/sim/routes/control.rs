//! `/_sim/…`: control endpoints for tests and benchmarks in other processes (no auth).
//!
//! In MSP mode these act on the MSP workspace; `/_sim/ws/{id}/…` reaches the same endpoints
//! of another workspace, and `/_sim/tenants[/{id}]` reads and sets each tenant's faults
//! (refused token exchange, outage, left out of the tenant list). `/_sim/audit-log` shows the
//! audit log and the requests for it; `PUT /_sim/audit-user` names who the control changes
//! are attributed to.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Json, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::sim::errors::ApiError;
use crate::sim::faults::Faults;
use crate::sim::limits::Limits;
use crate::sim::msp::TenantFaults;
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
        .route("/audit-log", get(audit_log))
        .route("/audit-user", axum::routing::put(put_audit_user))
        .route("/tenants", get(tenants))
        .route("/tenants/{id}", get(get_tenant).put(put_tenant))
}

/// Every tenant with its ownership and faults.
async fn tenants(State(sh): State<Arc<Shared>>) -> Response {
    let Some(dir) = sh.directory() else {
        return Json(json!([])).into_response();
    };
    let items: Vec<_> = dir
        .tenants
        .iter()
        .map(|t| {
            let faults = dir
                .member(&t.id)
                .map(|m| lock(&m.tenant_faults).clone())
                .unwrap_or_default();
            json!({"id": t.id, "name": t.name, "inventoryOwnership": t.ownership.as_str(),
                "faults": faults})
        })
        .collect();
    Json(items).into_response()
}

fn tenant_state(sh: &Shared, id: &str) -> Option<Arc<Shared>> {
    let dir = sh.directory()?;
    dir.tenant(id)?;
    dir.member(id)
}

async fn get_tenant(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match tenant_state(&sh, &id) {
        Some(t) => Json(lock(&t.tenant_faults).clone()).into_response(),
        None => ApiError::not_found("tenant").into_response(),
    }
}

async fn put_tenant(
    State(sh): State<Arc<Shared>>,
    Path(id): Path<String>,
    Json(f): Json<TenantFaults>,
) -> Response {
    match tenant_state(&sh, &id) {
        Some(t) => {
            *lock(&t.tenant_faults) = f.clone();
            Json(f).into_response()
        }
        None => ApiError::not_found("tenant").into_response(),
    }
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

/// This workspace's audit entries and the audit-log requests it received.
async fn audit_log(State(sh): State<Arc<Shared>>) -> Response {
    let a = lock(&sh.audit);
    Json(json!({"user": a.user, "entries": a.entries, "queries": a.queries})).into_response()
}

#[derive(Deserialize)]
struct AuditUser {
    user: String,
}

/// Who this workspace's control changes (`POST /_sim/devices`) are attributed to.
async fn put_audit_user(State(sh): State<Arc<Shared>>, Json(u): Json<AuditUser>) -> Response {
    lock(&sh.audit).user = u.user.clone();
    Json(json!({"user": u.user})).into_response()
}
