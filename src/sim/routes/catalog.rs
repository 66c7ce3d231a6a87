//! Service catalog endpoints (glp-api.md §2.7).

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::sim::errors::{ApiError, json_bytes, ok_json};
use crate::sim::list;
use crate::sim::state::{Shared, read};
use crate::sim::store::Entry;

fn page(items: Vec<Value>, q: &[(String, String)]) -> Response {
    // The provisions filter names `serviceManagerId` and `status`; map them onto the item.
    let q: Vec<(String, String)> = q
        .iter()
        .map(|(k, v)| {
            let v = if k == "filter" {
                v.replace("serviceManagerId", "serviceManager.id")
                    .replace("status ", "provisionStatus ")
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    match list::parse(&q, 2000, 2000, false) {
        Ok(lq) => {
            let entries: Vec<Entry> = items.into_iter().map(Entry::new).collect();
            json_bytes(StatusCode::OK, list::render(&entries, &lq))
        }
        Err(e) => e.into_response(),
    }
}

pub(super) async fn managers(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let items = read(&sh.data).catalog.service_managers.clone();
    page(items, &q)
}

pub(super) async fn regions(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let items = read(&sh.data).catalog.regions.clone();
    page(items, &q)
}

pub(super) async fn region(State(sh): State<Arc<Shared>>, Path(code): Path<String>) -> Response {
    let data = read(&sh.data);
    match data
        .catalog
        .regions
        .iter()
        .find(|r| r["id"] == code.as_str())
    {
        Some(r) => ok_json(r),
        None => ApiError::not_found("region").into_response(),
    }
}

pub(super) async fn provisions(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let items = read(&sh.data).catalog.provisions.clone();
    page(items, &q)
}
