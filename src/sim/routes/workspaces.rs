//! `GET /workspaces/v1/msp-tenants` and `GET /workspaces/v1/workspaces/{id}` (glp-api.md §11).
//!
//! Only the MSP's token lists tenants (a tenant's or a standalone workspace's token: 403).
//! The tenant list pages (`limit` 1..300, default 300) and filters like the other lists; an
//! `id` filter matches either spelling of the id. A workspace's details are served for the
//! token's own workspace, and to the MSP for each of its tenants.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::sim::errors::{ApiError, json_bytes, ok_json};
use crate::sim::list;
use crate::sim::msp::{dashless, workspace_json};
use crate::sim::state::{Shared, lock};

/// Largest (and default) page of the tenant list.
const TENANTS_PAGE_MAX: u32 = 300;

pub(super) async fn msp_tenants(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some(dir) = sh.directory().filter(|_| sh.is_msp()) else {
        return ApiError::forbidden("only an MSP workspace has tenants").into_response();
    };
    let lq = match list::parse(&q, TENANTS_PAGE_MAX, TENANTS_PAGE_MAX, false) {
        Ok(lq) => lq,
        Err(e) => return e.into_response(),
    };
    let listed: Vec<Vec<u8>> = dir
        .tenants
        .iter()
        .filter(|t| {
            dir.member(&t.id)
                .is_some_and(|m| !lock(&m.tenant_faults).unlisted)
        })
        .map(|t| t.tenant_json())
        .filter(|v| {
            lq.filter.as_ref().is_none_or(|f| {
                let mut alt = v.clone();
                alt["id"] = Value::String(t_dashless(v));
                f.matches(v) || f.matches(&alt)
            })
        })
        .map(|v| serde_json::to_vec(&v).unwrap_or_default())
        .collect();
    let total = listed.len();
    let start = lq.offset.min(total);
    let end = start.saturating_add(lq.limit).min(total);
    let items: Vec<&[u8]> = listed[start..end].iter().map(Vec::as_slice).collect();
    json_bytes(StatusCode::OK, list::envelope(&items, lq.offset, total))
}

fn t_dashless(v: &Value) -> String {
    dashless(v["id"].as_str().unwrap_or_default())
}

pub(super) async fn workspace(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let own = dashless(&sh.cfg.workspace_id);
    let want = dashless(&id);
    let Some(dir) = sh.directory() else {
        return if want == own {
            ok_json(&workspace_json(
                &own,
                "Simulated workspace",
                "STANDARD_ENTERPRISE",
                "2024-01-01T00:00:00.000Z",
            ))
        } else {
            ApiError::forbidden("the token is not for this workspace").into_response()
        };
    };
    if want == dir.msp_id && (sh.is_msp() || want == own) {
        return ok_json(&workspace_json(
            &want,
            "Simulated MSP",
            "MSP",
            "2023-01-01T00:00:00.000Z",
        ));
    }
    match dir.tenant(&want) {
        Some(t) if sh.is_msp() || want == own => {
            ok_json(&workspace_json(&t.id, &t.name, "MSP_TENANT", &t.created_at))
        }
        Some(_) => ApiError::forbidden("the token is not for this workspace").into_response(),
        None if sh.is_msp() => ApiError::not_found("workspace").into_response(),
        None => ApiError::forbidden("the token is not for this workspace").into_response(),
    }
}
