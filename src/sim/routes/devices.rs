//! Device endpoints: list/get (v1, v1beta1, v2beta1), PATCH and POST (v2beta1), POST v1 and
//! async operations.

use std::collections::HashSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::sim::data::NewDevice;
use crate::sim::errors::{ApiError, json_bytes, ok_json};
use crate::sim::list;
use crate::sim::ops::{OpKind, Work, parse_patch, parse_tags};
use crate::sim::state::{Shared, lock, read, write};

fn list_devices(
    sh: &Shared,
    q: &[(String, String)],
    default: u32,
    max: u32,
    tags: bool,
) -> Response {
    let cap = lock(&sh.faults).faults.page_cap;
    let lq = match list::parse_capped(q, default, max, cap, tags) {
        Ok(lq) => lq,
        Err(e) => return e.into_response(),
    };
    if lq.offset > 0 {
        let fire = {
            let mut f = lock(&sh.faults);
            std::mem::take(&mut f.faults.insert_between_pages)
        };
        if fire {
            let now = sh.now_ts();
            let d = write(&sh.data).extra_device(now);
            write(&sh.data).devices.insert_front(d.clone());
            sh.mirror_device(None, Some(&d));
        }
    }
    let body = list::render(read(&sh.data).devices.entries(), &lq);
    json_bytes(StatusCode::OK, body)
}

pub(super) async fn list_v1(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    list_devices(&sh, &q, 2000, 2000, true)
}

pub(super) async fn list_v2(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    list_devices(&sh, &q, 100, 500, false)
}

pub(super) async fn get_one(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match read(&sh.data).devices.get(&id) {
        Some(e) => json_bytes(StatusCode::OK, e.bytes.to_vec()),
        None => ApiError::not_found("device").into_response(),
    }
}

pub(super) async fn async_op(State(sh): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match sh.op_json_of(&id, Some(OpKind::Devices)) {
        Some(v) => ok_json(&v),
        None => ApiError::not_found("async-operation").into_response(),
    }
}

fn accepted(id: &str) -> Response {
    let mut r = (
        StatusCode::ACCEPTED,
        axum::Json(json!({"code": 202, "status": "202 ACCEPTED", "transactionId": id})),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/devices/v1/async-operations/{id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(super) fn dry_run(q: &[(String, String)]) -> Result<bool, ApiError> {
    match q
        .iter()
        .rev()
        .find(|(k, _)| k == "dry-run")
        .map(|(_, v)| v.as_str())
    {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(ApiError::bad_param(
            "dry-run",
            format!("dry-run must be true or false (got '{v}')"),
        )),
    }
}

pub(super) fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_field("body", format!("the body is not valid JSON: {e}")))
}

/// `PATCH /devices/v2beta1/devices?id=…&id=…[&dry-run=true]` (merge-patch).
pub(super) async fn patch_v2(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match patch_inner(&sh, &q, &headers, &body, false) {
        Ok(id) => accepted(&id),
        Err(e) => e.into_response(),
    }
}

/// `PATCH /devices/v1/devices?id=…` (merge-patch): application/region or subscription only,
/// one operation per call, at most 5 ids.
pub(super) async fn patch_v1(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match patch_inner(&sh, &q, &headers, &body, true) {
        Ok(id) => accepted(&id),
        Err(e) => e.into_response(),
    }
}

fn patch_inner(
    sh: &Arc<Shared>,
    q: &[(String, String)],
    headers: &HeaderMap,
    body: &Bytes,
    v1: bool,
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
        .flat_map(|(_, v)| v.split(',').map(|s| s.trim().to_string()))
        .filter(|s| !s.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ApiError::bad_param(
            "id",
            "at least one device id is required",
        ));
    }
    let max = if v1 { 5 } else { 25 };
    if ids.len() > max {
        return Err(ApiError::bad_param(
            "id",
            format!("at most {max} devices per request ({} given).", ids.len()),
        ));
    }
    let mut seen = HashSet::new();
    for id in &ids {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_param(
                "id",
                format!("device ID '{id}' is not a valid UUID."),
            ));
        }
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(ApiError::bad_param(
                "id",
                format!("device ID '{id}' is given more than once."),
            ));
        }
    }
    let dry = dry_run(q)?;
    let mut v = json_body(body)?;
    if v1 {
        v = v1_body(v)?;
    }
    let patch = parse_patch(&v, sh)?;
    Ok(sh.start_op(Work::Patch { ids, patch }, dry, "PatchDeviceResponseV2"))
}

/// Check a v1 PATCH body (application/region, or subscription, never both) and rename
/// `tenantPlatformCustomerId` to the v2beta1 `tenantWorkspaceId`.
fn v1_body(mut v: Value) -> Result<Value, ApiError> {
    let Some(obj) = v.as_object_mut() else {
        return Err(ApiError::bad_field(
            "body",
            "the body must be a JSON object",
        ));
    };
    if let Some(k) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "application" | "region" | "subscription" | "tenantPlatformCustomerId"
        )
    }) {
        return Err(ApiError::bad_field(
            k,
            format!("'{k}' is not accepted by the v1 PATCH"),
        ));
    }
    if obj.contains_key("subscription") && obj.contains_key("application") {
        return Err(ApiError::bad_field(
            "subscription",
            "only one operation per call",
        ));
    }
    if let Some(t) = obj.remove("tenantPlatformCustomerId") {
        obj.insert("tenantWorkspaceId".into(), t);
    }
    Ok(v)
}

fn is_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// One device entry of a POST body; `category` is known from the context.
fn new_device(v: &Value, category: &str, field: &str) -> Result<NewDevice, ApiError> {
    let serial = v
        .get("serialNumber")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if serial.is_empty() {
        return Err(ApiError::bad_field(
            &format!("{field}serialNumber"),
            "serial number is blank.",
        ));
    }
    let mac = v
        .get("macAddress")
        .and_then(Value::as_str)
        .map(str::to_string);
    let part = v
        .get("partNumber")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .map(str::to_string);
    match category {
        "NETWORK" => match &mac {
            None => {
                return Err(ApiError::bad_field(
                    &format!("{field}macAddress"),
                    "MAC address is required for NETWORK devices.",
                ));
            }
            Some(m) if !is_mac(m) => {
                return Err(ApiError::bad_field(
                    &format!("{field}macAddress"),
                    format!("MAC address '{m}' must look like 3C:E8:6E:C1:8A:B0."),
                ));
            }
            _ => {}
        },
        _ => {
            if part.is_none() {
                return Err(ApiError::bad_field(
                    &format!("{field}partNumber"),
                    format!("part number is required for {category} devices."),
                ));
            }
        }
    }
    let tags = match v.get("tags") {
        None | Some(Value::Null) => None,
        Some(t) => {
            parse_tags(t, false)?;
            Some(t.clone())
        }
    };
    let location_id = v
        .get("location")
        .and_then(|l| l.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(NewDevice {
        serial: serial.to_string(),
        category: category.to_string(),
        mac,
        part_number: part,
        tags,
        location_id,
    })
}

/// `POST /devices/v2beta1/devices`: one device.
pub(super) async fn post_v2(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    let r = (|| {
        let dry = dry_run(&q)?;
        let v = json_body(&body)?;
        if !v.is_object() {
            return Err(ApiError::bad_field(
                "body",
                "the body must be one device object",
            ));
        }
        let cat = match v.get("deviceType").and_then(Value::as_str) {
            Some(c @ ("NETWORK" | "COMPUTE" | "STORAGE")) => c.to_string(),
            Some(o) => {
                return Err(ApiError::bad_field(
                    "deviceType",
                    format!("deviceType must be NETWORK, COMPUTE or STORAGE (got '{o}')"),
                ));
            }
            None => return Err(ApiError::bad_field("deviceType", "deviceType is required")),
        };
        let d = new_device(&v, &cat, "")?;
        Ok(sh.start_op(Work::Add { devices: vec![d] }, dry, "postDevicesResponse"))
    })();
    match r {
        Ok(id) => accepted(&id),
        Err(e) => e.into_response(),
    }
}

/// `POST /devices/v1/devices`: `{network:[], compute:[], storage:[]}`, at most 5 devices.
pub(super) async fn post_v1(
    State(sh): State<Arc<Shared>>,
    Query(q): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Response {
    let r = (|| {
        let dry = dry_run(&q)?;
        let v = json_body(&body)?;
        let missing: Vec<String> = ["network", "compute", "storage"]
            .iter()
            .filter(|k| !v.get(**k).is_some_and(Value::is_array))
            .map(|k| format!("{k}: must not be null"))
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::bad_field("body", missing.join("; ")));
        }
        let mut devices = Vec::new();
        for (k, cat) in [
            ("network", "NETWORK"),
            ("compute", "COMPUTE"),
            ("storage", "STORAGE"),
        ] {
            for (i, e) in v[k].as_array().into_iter().flatten().enumerate() {
                devices.push(new_device(e, cat, &format!("{k}[{i}]."))?);
            }
        }
        if devices.is_empty() {
            return Err(ApiError::bad_field(
                "body",
                "at least one device is required",
            ));
        }
        if devices.len() > 5 {
            return Err(ApiError::bad_field(
                "body",
                format!("at most 5 devices per request ({} given)", devices.len()),
            ));
        }
        Ok(sh.start_op(Work::Add { devices }, dry, "postDevicesResponse"))
    })();
    match r {
        Ok(id) => accepted(&id),
        Err(e) => e.into_response(),
    }
}
