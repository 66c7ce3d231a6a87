//! `GET /audit-log/v2beta1/logs` (and `/{id}`) as `audit-logs.json` specifies: `filter` in the
//! audit grammar (`sim::audit_filter`), `select`, `sort` (default `createdAt desc`), `limit`
//! 1..=2000 (default 50) and `offset`. The answer is `{count, offset, total, remainingRecords,
//! items}`; `total` stops at 10 000 with `remainingRecords: true` beyond, and only the first
//! 10 000 matches can be paged to (a client narrows the time window to read further).

use std::cmp::Ordering;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::sim::audit_filter::{self, Cond};
use crate::sim::audit_store::AuditQuery;
use crate::sim::errors::{ApiError, ok_json};
use crate::sim::state::{Shared, lock};

/// The most matches a query reaches (`total`'s cap).
pub const WINDOW: usize = 10_000;

const SELECTABLE: &[&str] = &[
    "serviceOffer",
    "createdAt",
    "category",
    "hasDetails",
    "workspace",
    "description",
    "username",
    "ipAddress",
    "additionalInfo",
];

const SORTABLE: &[&str] = &["createdAt", "category", "username", "description"];

struct Params {
    conds: Vec<Cond>,
    limit: usize,
    offset: usize,
    sort: (String, bool),
    select: Option<Vec<String>>,
}

fn number(name: &str, v: &str) -> Result<usize, ApiError> {
    v.trim().parse::<usize>().map_err(|_| {
        ApiError::bad_param(
            name,
            format!(
                "Invalid {name} value '{v}' provided. It must be a whole number, 0 or greater."
            ),
        )
    })
}

fn params(q: &[(String, String)]) -> Result<Params, ApiError> {
    let mut p = Params {
        conds: Vec::new(),
        limit: 50,
        offset: 0,
        sort: ("createdAt".into(), true),
        select: None,
    };
    for (k, v) in q {
        match k.as_str() {
            "filter" => p.conds = audit_filter::parse(v)?,
            "limit" => {
                let n = number("limit", v)?;
                if n > 2000 {
                    return Err(ApiError::bad_param(
                        "limit",
                        format!(
                            "Invalid limit value '{n}' provided. Maximum allowed limit is 2000."
                        ),
                    ));
                }
                if n == 0 {
                    return Err(ApiError::bad_param(
                        "limit",
                        "Invalid limit value '0' provided. The limit must be 1 to 2000.",
                    ));
                }
                p.limit = n;
            }
            "offset" => p.offset = number("offset", v)?,
            "sort" => {
                let mut words = v.split_whitespace();
                let key = words.next().unwrap_or_default().to_string();
                let desc = match words.next() {
                    None | Some("desc") => true,
                    Some("asc") => false,
                    Some(other) => {
                        return Err(ApiError::bad_param(
                            "sort",
                            format!("Invalid sort direction '{other}': use asc or desc."),
                        ));
                    }
                };
                if !SORTABLE.contains(&key.as_str()) || words.next().is_some() {
                    return Err(ApiError::bad_param(
                        "sort",
                        format!(
                            "Unsupported sort '{v}'. Sort by one of {} optionally followed by \
                             asc or desc.",
                            SORTABLE.join(", ")
                        ),
                    ));
                }
                p.sort = (key, desc);
            }
            "select" => {
                let attrs: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
                if attrs.iter().any(|a| !SELECTABLE.contains(&a.as_str())) {
                    return Err(ApiError::bad_request(
                        "hpe.greenlake.audit-log",
                        "select",
                        "Unsupported select attributes are passed in query parameter.",
                    ));
                }
                p.select = Some(attrs);
            }
            _ => {}
        }
    }
    Ok(p)
}

fn compare(a: &Value, b: &Value, key: &str) -> Ordering {
    let s = |v: &Value| v[key].as_str().unwrap_or_default().to_string();
    s(a).cmp(&s(b))
}

fn selected(e: &Value, select: Option<&[String]>) -> Value {
    let Some(attrs) = select else {
        return e.clone();
    };
    let mut m = Map::new();
    for k in ["id", "type"]
        .iter()
        .map(|s| s.to_string())
        .chain(attrs.iter().cloned())
    {
        if let Some(v) = e.get(&k) {
            m.insert(k, v.clone());
        }
    }
    Value::Object(m)
}

pub(super) async fn list(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    lock(&sh.audit).queries.push(AuditQuery {
        filter: get("filter"),
        sort: get("sort"),
        offset: get("offset"),
        limit: get("limit"),
    });
    let p = match params(&q) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let log = lock(&sh.audit);
    let mut hits: Vec<&Value> = log
        .entries
        .iter()
        .filter(|e| audit_filter::matches(e, &p.conds))
        .collect();
    let (key, desc) = &p.sort;
    // Stable: equal keys keep creation order (reversed when descending).
    if *desc {
        hits.reverse();
        hits.sort_by(|a, b| compare(b, a, key));
    } else {
        hits.sort_by(|a, b| compare(a, b, key));
    }
    let matched = hits.len();
    let reachable = matched.min(WINDOW);
    let end = (p.offset + p.limit).min(reachable);
    let items: Vec<Value> = hits
        .get(p.offset.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|e| selected(e, p.select.as_deref()))
        .collect();
    ok_json(&json!({
        "count": items.len(),
        "offset": p.offset,
        "total": reachable,
        "remainingRecords": matched > WINDOW,
        "items": items,
    }))
}

pub(super) async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let log = lock(&sh.audit);
    match log.entries.iter().find(|e| e["id"] == id.as_str()) {
        Some(e) => ok_json(e),
        None => ApiError::not_found("audit log").into_response(),
    }
}
