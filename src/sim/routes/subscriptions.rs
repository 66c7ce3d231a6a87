//! `GET /subscriptions/v1/subscriptions` (+ `/{id}`), `PATCH` of their tags, and the
//! subscription service's async operations.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::devices::{dry_run, json_body};
use crate::sim::errors::{ApiError, json_bytes, ok_json};
use crate::sim::list;
use crate::sim::ops::{OpKind, Work, parse_tags};
use crate::sim::state::{Shared, lock, read};

pub(super) async fn list(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let cap = lock(&sh.faults).faults.page_cap;
    let lq = match list::parse_capped(
        &q,
        50.min(sh.cfg.subscription_page_max),
        sh.cfg.subscription_page_max,
        cap,
        true,
    ) {
        Ok(lq) => lq,
        Err(e) => return e.into_response(),
    };
    let body = list::render(read(&sh.data).subscriptions.entries(), &lq);
    json_bytes(StatusCode::OK, body)
}

pub(super) async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match read(&sh.data).subscriptions.get(&id) {
        Some(e) => json_bytes(StatusCode::OK, e.bytes.to_vec()),
        None => ApiError::not_found("subscription").into_response(),
    }
}

/// `GET /subscriptions/v1/async-operations/{id}`.
pub(super) async fn async_op(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match sh.op_json_of(&id, Some(OpKind::Subscriptions)) {
        Some(v) => ok_json(&v),
        None => ApiError::not_found("async-operation").into_response(),
    }
}

/// `PATCH /subscriptions/v1/subscriptions?id=…[&dry-run=true]` (merge-patch): the only
/// change the API offers is `tags` (a `null` value deletes the key).
pub(super) async fn patch(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match patch_inner(&sh, &q, &headers, &body) {
        Ok(id) => {
            let mut r = (
                StatusCode::ACCEPTED,
                axum::Json(json!({"code": 202, "status": "202 ACCEPTED", "transactionId": id})),
            )
                .into_response();
            if let Ok(v) =
                HeaderValue::from_str(&format!("/subscriptions/v1/async-operations/{id}"))
            {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Err(e) => e.into_response(),
    }
}

fn patch_inner(
    sh: &Arc<Shared>,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<String, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/merge-patch+json")
    {
        return Err(ApiError::unsupported_media("application/merge-patch+json"));
    }
    let ids: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_param(
            "id",
            "at least one subscription id is required",
        ));
    }
    let mut seen = HashSet::new();
    for id in &ids {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_param(
                "id",
                format!("subscription ID '{id}' is not a valid UUID."),
            ));
        }
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(ApiError::bad_param(
                "id",
                format!("subscription ID '{id}' is given more than once."),
            ));
        }
    }
    let dry = dry_run(q)?;
    let v = json_body(body)?;
    let Some(obj) = v.as_object() else {
        return Err(ApiError::bad_field(
            "body",
            "the body must be a JSON object",
        ));
    };
    if let Some(k) = obj.keys().find(|k| *k != "tags") {
        return Err(ApiError::bad_field(
            k,
            format!("'{k}' cannot be changed: the subscription PATCH takes only tags"),
        ));
    }
    let tags = match obj.get("tags") {
        Some(t @ Value::Object(_)) => parse_tags(t, true)?,
        _ => return Err(ApiError::bad_field("tags", "tags is required (an object)")),
    };
    Ok(sh.start_op(
        Work::SubscriptionTags { ids, tags },
        dry,
        "PatchSubscriptionsResponse",
    ))
}
