//! `GET /subscriptions/v1/subscriptions` (+ `/{id}`).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::sim::errors::{ApiError, json_bytes};
use crate::sim::list;
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
