//! Write operations for the assignment flow (glp-api.md §2.4–2.6): PATCH devices
//! (merge-patch, ≤ 25 ids), POST devices (v2beta1 one device, v1 batch of ≤ 5), and polling of
//! the async operation GreenLake answers with.
//!
//! The API's rules are checked before sending (id count, `archived` alone, device vs
//! subscription operations not mixed, MAC/part number present), so the user gets a precise
//! message instead of a 400. Terminal states follow the spec, not GLP-Sync-2:
//! `SUCCEEDED`/`COMPLETED` succeed, `FAILED`/`TIMEDOUT`/`TIMEOUT` fail, everything else
//! (`INITIALIZED`, `RUNNING`, `PAUSED`, …) keeps polling at
//! `suggestedPollingIntervalSeconds`.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::LOCATION;
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::glp::client::{Body, Call, Client, Response};
use crate::glp::error::GlpError;
use crate::glp::pace::Endpoint;
use crate::glp::page::path_segment;

/// Most ids one `PATCH /devices/v2beta1/devices` accepts.
pub const MAX_PATCH_IDS: usize = 25;
/// Most devices one `POST /devices/v1/devices` accepts (all three arrays together).
pub const MAX_V1_POST_DEVICES: usize = 5;
/// Poll interval when the operation does not suggest one.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// GreenLake accepted a write (202) and will carry it out asynchronously.
#[derive(Debug, Clone, PartialEq)]
pub struct Accepted {
    pub status: u16,
    /// Path of the async operation (`/devices/v1/async-operations/{id}`), when given.
    pub location: Option<String>,
    /// `transactionId`, or the last segment of `location`.
    pub operation_id: Option<String>,
    pub body: Value,
}

/// The device families POST accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Network,
    Compute,
    Storage,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Network => "NETWORK",
            DeviceKind::Compute => "COMPUTE",
            DeviceKind::Storage => "STORAGE",
        }
    }
}

/// A device to add to the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDevice {
    pub serial_number: String,
    pub kind: DeviceKind,
    /// Required for network devices.
    pub mac_address: Option<String>,
    /// Required for compute and storage devices.
    pub part_number: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub location_id: Option<String>,
}

impl NewDevice {
    fn validate(&self) -> Result<(), GlpError> {
        let serial = self.serial_number.trim();
        if serial.is_empty() {
            return Err(GlpError::Invalid(
                "a device to add has an empty serial number".into(),
            ));
        }
        let blank = |o: &Option<String>| o.as_deref().is_none_or(|s| s.trim().is_empty());
        match self.kind {
            DeviceKind::Network if blank(&self.mac_address) => Err(GlpError::Invalid(format!(
                "device {serial}: a NETWORK device needs its MAC address to be added"
            ))),
            DeviceKind::Compute | DeviceKind::Storage if blank(&self.part_number) => {
                Err(GlpError::Invalid(format!(
                    "device {serial}: a {} device needs its part number to be added",
                    self.kind.as_str()
                )))
            }
            _ => Ok(()),
        }
    }

    fn v1_entry(&self) -> Value {
        let mut m = Map::new();
        m.insert("serialNumber".into(), json!(self.serial_number.trim()));
        match self.kind {
            DeviceKind::Network => {
                m.insert("macAddress".into(), json!(self.mac_address));
            }
            _ => {
                m.insert("partNumber".into(), json!(self.part_number));
            }
        }
        if !self.tags.is_empty() {
            m.insert("tags".into(), json!(self.tags));
        }
        Value::Object(m)
    }

    fn v2_body(&self) -> Value {
        let mut m = Map::new();
        m.insert("serialNumber".into(), json!(self.serial_number.trim()));
        m.insert("deviceType".into(), json!(self.kind.as_str()));
        if let Some(mac) = &self.mac_address {
            m.insert("macAddress".into(), json!(mac));
        }
        if let Some(pn) = &self.part_number {
            m.insert("partNumber".into(), json!(pn));
        }
        if !self.tags.is_empty() {
            m.insert("tags".into(), json!(self.tags));
        }
        if let Some(loc) = &self.location_id {
            m.insert("location".into(), json!({ "id": loc }));
        }
        Value::Object(m)
    }
}

/// How an async operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    Succeeded,
    Failed,
}

/// Map a GreenLake operation status to a terminal state; `None` while it is still running.
pub fn terminal_state(status: &str) -> Option<OperationState> {
    match status.trim().to_ascii_uppercase().as_str() {
        "SUCCEEDED" | "COMPLETED" => Some(OperationState::Succeeded),
        "FAILED" | "TIMEDOUT" | "TIMEOUT" => Some(OperationState::Failed),
        _ => None,
    }
}

/// One device's result inside an operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceResult {
    pub id: Option<String>,
    pub serial_number: Option<String>,
    pub reason: Option<String>,
}

/// An async operation as last seen.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationStatus {
    pub id: Option<String>,
    /// As GreenLake spelled it (`INITIALIZED`, `RUNNING`, `SUCCEEDED`, …).
    pub status: String,
    pub progress: Option<u64>,
    pub suggested_poll: Option<Duration>,
    pub raw: Value,
}

/// The finished operation with per-device results.
#[derive(Debug, Clone, PartialEq)]
pub struct OperationOutcome {
    pub id: Option<String>,
    pub status: String,
    pub state: OperationState,
    pub succeeded: Vec<DeviceResult>,
    /// Failed devices (by id, or by serial for POST: `failedDevicesSerial`).
    pub failed: Vec<DeviceResult>,
    /// GreenLake's error text, when it gave one.
    pub message: Option<String>,
    pub raw: Value,
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => ["message", "errorMessage", "error", "detail", "description"]
            .iter()
            .find_map(|k| o.get(*k).and_then(message_of)),
        Value::Array(a) => {
            let msgs: Vec<String> = a.iter().filter_map(message_of).collect();
            (!msgs.is_empty()).then(|| msgs.join("; "))
        }
        other => str_of(other),
    }
}

fn device_results(v: Option<&Value>) -> Vec<DeviceResult> {
    let Some(Value::Array(a)) = v else {
        return Vec::new();
    };
    a.iter()
        .map(|e| match e {
            Value::Object(o) => DeviceResult {
                id: ["id", "deviceId", "device_id"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(str_of)),
                serial_number: o.get("serialNumber").and_then(str_of),
                reason: [
                    "reason",
                    "error",
                    "message",
                    "errorMessage",
                    "failureReason",
                    "errorDetails",
                    "detail",
                    "description",
                ]
                .iter()
                .find_map(|k| o.get(*k).and_then(message_of)),
            },
            other => DeviceResult {
                id: str_of(other),
                ..DeviceResult::default()
            },
        })
        .collect()
}

impl OperationStatus {
    fn parse(raw: Value) -> OperationStatus {
        let status = raw
            .get("status")
            .and_then(str_of)
            .unwrap_or_else(|| "UNKNOWN".into());
        let progress = raw
            .get("progressPercent")
            .or_else(|| raw.get("progress"))
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
        let suggested_poll = raw
            .get("suggestedPollingIntervalSeconds")
            .and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(|s| Duration::from_secs_f64(s.clamp(1.0, 60.0)));
        OperationStatus {
            id: raw.get("id").and_then(str_of),
            status,
            progress,
            suggested_poll,
            raw,
        }
    }

    /// `Some` once the operation reached a terminal state.
    pub fn outcome(&self) -> Option<OperationOutcome> {
        let state = terminal_state(&self.status)?;
        let result = self.raw.get("result");
        let mut succeeded = device_results(result.and_then(|r| r.get("succeededDevices")));
        succeeded.extend(device_results(result.and_then(|r| r.get("succeeded"))));
        let mut failed = device_results(result.and_then(|r| r.get("failedDevices")));
        failed.extend(device_results(result.and_then(|r| r.get("failed"))));
        if let Some(Value::Array(serials)) = result.and_then(|r| r.get("failedDevicesSerial")) {
            failed.extend(serials.iter().filter_map(str_of).map(|s| {
                DeviceResult {
                    serial_number: Some(s),
                    reason: Some(
                        "GreenLake did not add this serial (already claimed, unknown, or \
                               serial/MAC mismatch)"
                            .into(),
                    ),
                    ..DeviceResult::default()
                }
            }));
        }
        let message = ["error", "errorMessage", "message", "detail", "errors"]
            .iter()
            .find_map(|k| self.raw.get(*k).and_then(message_of))
            .or_else(|| result.and_then(|r| r.get("errors")).and_then(message_of))
            .or_else(|| {
                failed
                    .iter()
                    .find_map(|f| f.reason.clone())
                    .filter(|_| state == OperationState::Failed)
            })
            .or_else(|| {
                (state == OperationState::Failed)
                    .then(|| format!("operation {} without a message", self.status))
            });
        Some(OperationOutcome {
            id: self.id.clone(),
            status: self.status.clone(),
            state,
            succeeded,
            failed,
            message,
            raw: self.raw.clone(),
        })
    }
}

fn accepted(r: &Response) -> Result<Accepted, String> {
    let location = r
        .headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let body: Value = if r.body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&r.body).unwrap_or(Value::Null)
    };
    let operation_id = body
        .get("transactionId")
        .and_then(str_of)
        .or_else(|| {
            location
                .as_deref()
                .and_then(|l| l.trim_end_matches('/').rsplit('/').next())
                .map(str::to_string)
        })
        .filter(|s| !s.is_empty());
    Ok(Accepted {
        status: r.status.as_u16(),
        location,
        operation_id,
        body,
    })
}

/// Which kind of PATCH a body is, for the mixing rules.
fn check_patch_body(body: &Value) -> Result<(), GlpError> {
    let Value::Object(m) = body else {
        return Err(GlpError::Invalid(
            "a device PATCH body must be a JSON object".into(),
        ));
    };
    if m.is_empty() {
        return Err(GlpError::Invalid(
            "a device PATCH body must change something".into(),
        ));
    }
    if m.contains_key("archived") && m.len() > 1 {
        return Err(GlpError::Invalid(
            "GreenLake requires `archived` to be the only change in its PATCH call; send the \
             other changes separately"
                .into(),
        ));
    }
    if m.contains_key("subscription") && m.len() > 1 {
        return Err(GlpError::Invalid(
            "GreenLake does not allow a subscription change in the same PATCH call as a device \
             change (application, region, tags, …); send them separately"
                .into(),
        ));
    }
    Ok(())
}

impl Client {
    /// `PATCH /devices/v2beta1/devices?id=…` with a merge-patch body (glp-api.md §2.4).
    /// 1–25 unique ids; `dry_run` asks GreenLake to validate only.
    pub async fn patch_devices(
        &self,
        ids: &[String],
        body: &Value,
        dry_run: bool,
    ) -> Result<Accepted, GlpError> {
        if ids.is_empty() {
            return Err(GlpError::Invalid(
                "PATCH devices: no device ids given".into(),
            ));
        }
        if ids.len() > MAX_PATCH_IDS {
            return Err(GlpError::Invalid(format!(
                "PATCH devices: {} ids given, GreenLake accepts at most {MAX_PATCH_IDS} per call; \
                 split them into batches",
                ids.len()
            )));
        }
        let mut seen = HashSet::new();
        let mut q = Vec::with_capacity(ids.len() + 1);
        for id in ids {
            let id = path_segment(id)?;
            if !seen.insert(id.to_ascii_lowercase()) {
                return Err(GlpError::Invalid(format!(
                    "PATCH devices: id {id} is listed twice; GreenLake requires unique ids"
                )));
            }
            q.push(("id", id.to_string()));
        }
        check_patch_body(body)?;
        if dry_run {
            q.push(("dry-run", "true".into()));
        }
        let call = Call {
            method: Method::PATCH,
            endpoint: Endpoint::DevicesPatch,
            url: self.url("/devices/v2beta1/devices", &q)?,
            body: Some(Body::MergePatch(serde_json::to_vec(body).map_err(|e| {
                GlpError::Invalid(format!("PATCH body cannot be serialised: {e}"))
            })?)),
        };
        self.execute(&call, accepted).await
    }

    /// `PATCH /subscriptions/v1/subscriptions?id=…` with a merge-patch `{"tags": …}` body:
    /// the only change the subscription API offers (a `None` value deletes the key).
    /// 1–25 unique ids per call, like the device PATCH.
    pub async fn patch_subscription_tags(
        &self,
        ids: &[String],
        tags: &BTreeMap<String, Option<String>>,
        dry_run: bool,
    ) -> Result<Accepted, GlpError> {
        if ids.is_empty() || ids.len() > MAX_PATCH_IDS {
            return Err(GlpError::Invalid(format!(
                "PATCH subscriptions: {} ids given, send 1 to {MAX_PATCH_IDS} per call",
                ids.len()
            )));
        }
        if tags.is_empty() {
            return Err(GlpError::Invalid(
                "PATCH subscriptions: no tags to change".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut q = Vec::with_capacity(ids.len() + 1);
        for id in ids {
            let id = path_segment(id)?;
            if !seen.insert(id.to_ascii_lowercase()) {
                return Err(GlpError::Invalid(format!(
                    "PATCH subscriptions: id {id} is listed twice; GreenLake requires unique ids"
                )));
            }
            q.push(("id", id.to_string()));
        }
        if dry_run {
            q.push(("dry-run", "true".into()));
        }
        let body = json!({ "tags": tags });
        let call = Call {
            method: Method::PATCH,
            endpoint: Endpoint::SubscriptionsPatch,
            url: self.url("/subscriptions/v1/subscriptions", &q)?,
            body: Some(Body::MergePatch(body.to_string().into_bytes())),
        };
        self.execute(&call, accepted).await
    }

    /// `POST /devices/v2beta1/devices`: add one device.
    pub async fn add_device_v2(
        &self,
        device: &NewDevice,
        dry_run: bool,
    ) -> Result<Accepted, GlpError> {
        device.validate()?;
        let q: Vec<(&str, String)> = if dry_run {
            vec![("dry-run", "true".into())]
        } else {
            Vec::new()
        };
        let call = Call {
            method: Method::POST,
            endpoint: Endpoint::DevicesPost,
            url: self.url("/devices/v2beta1/devices", &q)?,
            body: Some(Body::Json(device.v2_body().to_string().into_bytes())),
        };
        self.execute(&call, accepted).await
    }

    /// `POST /devices/v1/devices`: add up to five devices in one call (all three arrays are
    /// always sent; GreenLake rejects a body that leaves one out).
    pub async fn add_devices_v1(&self, devices: &[NewDevice]) -> Result<Accepted, GlpError> {
        if devices.is_empty() || devices.len() > MAX_V1_POST_DEVICES {
            return Err(GlpError::Invalid(format!(
                "POST devices (v1): {} devices given, GreenLake accepts 1 to {MAX_V1_POST_DEVICES} \
                 per call",
                devices.len()
            )));
        }
        let mut network = Vec::new();
        let mut compute = Vec::new();
        let mut storage = Vec::new();
        for d in devices {
            d.validate()?;
            match d.kind {
                DeviceKind::Network => network.push(d.v1_entry()),
                DeviceKind::Compute => compute.push(d.v1_entry()),
                DeviceKind::Storage => storage.push(d.v1_entry()),
            }
        }
        let body = json!({ "network": network, "compute": compute, "storage": storage });
        let call = Call {
            method: Method::POST,
            endpoint: Endpoint::DevicesPost,
            url: self.url("/devices/v1/devices", &[])?,
            body: Some(Body::Json(body.to_string().into_bytes())),
        };
        self.execute(&call, accepted).await
    }

    /// Read an async operation once. `location` may be the `Location` header (relative or
    /// absolute: only its path and query are used, against the configured base URL).
    pub async fn operation(&self, location: &str) -> Result<OperationStatus, GlpError> {
        let path = operation_path(location)?;
        let url = reqwest::Url::parse(&format!(
            "{}{}",
            self.config().base_url.trim_end_matches('/'),
            path
        ))
        .map_err(|e| GlpError::Invalid(format!("operation location {location:?}: {e}")))?;
        let call = Call {
            method: Method::GET,
            endpoint: operation_endpoint(&path),
            url,
            body: None,
        };
        self.execute(&call, |r| {
            let v: Value =
                serde_json::from_slice(&r.body).map_err(|e| format!("not JSON ({e})"))?;
            if !v.is_object() {
                return Err("not a JSON object".into());
            }
            Ok(OperationStatus::parse(v))
        })
        .await
    }

    /// Poll an async operation until it ends or `timeout` passes, at the interval the
    /// operation suggests (2 s if none; clamped to 1–60 s).
    pub async fn wait_operation(
        &self,
        location: &str,
        timeout: Duration,
    ) -> Result<OperationOutcome, GlpError> {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut last: Option<String> = None;
        loop {
            let st = match self.operation(location).await {
                Ok(st) => st,
                Err(e) => return Err(gone_or(e, location, last)),
            };
            if let Some(out) = st.outcome() {
                return Ok(out);
            }
            let wait = st.suggested_poll.unwrap_or(DEFAULT_POLL_INTERVAL);
            if Instant::now() + wait > deadline {
                return Err(GlpError::OperationTimeout {
                    location: location.to_string(),
                    last_status: st.status,
                    waited: started.elapsed(),
                });
            }
            last = Some(st.status);
            tokio::time::sleep(wait).await;
        }
    }
}

/// A poll's error, read with what was seen before: a 404 for an operation already seen
/// running means it ended more than GreenLake's 24 h retention ago ([`GlpError::OperationGone`]),
/// not that it never existed.
pub fn gone_or(e: GlpError, location: &str, last_status: Option<String>) -> GlpError {
    match last_status {
        Some(last_status) if e.status() == Some(404) => GlpError::OperationGone {
            location: location.to_string(),
            last_status,
        },
        _ => e,
    }
}

/// The pacing bucket of an operation poll: the subscription service allows 30 polls a
/// minute, the device service 90.
fn operation_endpoint(path: &str) -> Endpoint {
    if path.starts_with("/subscriptions/") {
        Endpoint::SubscriptionAsyncOperationsGet
    } else {
        Endpoint::AsyncOperationsGet
    }
}

/// The path (and query) of an operation location.
fn operation_path(location: &str) -> Result<String, GlpError> {
    let l = location.trim();
    if l.is_empty() {
        return Err(GlpError::Invalid(
            "GreenLake accepted the change but sent no operation location to follow".into(),
        ));
    }
    let path = if l.starts_with("http://") || l.starts_with("https://") {
        let u = reqwest::Url::parse(l)
            .map_err(|e| GlpError::Invalid(format!("operation location {l:?}: {e}")))?;
        match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        }
    } else if l.starts_with('/') {
        l.to_string()
    } else {
        format!("/{l}")
    };
    if path.contains("..") {
        return Err(GlpError::Invalid(format!(
            "operation location {l:?} is not a plain path"
        )));
    }
    Ok(path)
}

#[cfg(test)]
mod tests;
