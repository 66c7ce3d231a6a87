//! Device writes and async operations (glp-api.md §2.4–2.6, §9.5–9.7, §9.9).
//!
//! Synchronous validation (ids, body shape, mixing rules, tag syntax, application/region
//! pairs) answers 400. Everything that depends on a device's current state is decided when
//! the operation runs and is reported per device in the operation: a subscription for a device
//! without an application, assigning an archived device, a used-up subscription, a tag key
//! clash. The operation is `FAILED` when any device failed (the others are still changed),
//! `SUCCEEDED` otherwise. Subscription tag PATCHes run the same way on the subscription
//! service's own async-operations path.
//!
//! An operation is `INITIALIZED` for the first half of its delay, then `RUNNING` (or first
//! `PAUSED` for the `ops_paused_ms` fault: a state the spec lists as not terminal), then
//! ends; the `time_out_ops_for` fault ends it `TIMEDOUT` with nothing changed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::data::{NewDevice, sub_ref, ts};
use super::errors::ApiError;
use super::state::{Shared, lock, write};

/// A validated device PATCH (v2beta1).
#[derive(Debug, Clone)]
pub(crate) enum Patch {
    Device(DevicePatch),
    Archive(bool),
    Subscriptions(Vec<String>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DevicePatch {
    /// `Some(Some(id))` assign, `Some(None)` unassign.
    pub application: Option<Option<String>>,
    pub region: Option<String>,
    pub tenant: Option<Value>,
    pub tags: Option<Vec<(String, Option<String>)>>,
    pub location: Option<Value>,
    pub contact: Option<Value>,
    pub warranty: Option<Value>,
}

/// What an operation does when it runs.
#[derive(Debug, Clone)]
pub(crate) enum Work {
    Patch {
        ids: Vec<String>,
        patch: Patch,
    },
    Add {
        devices: Vec<NewDevice>,
    },
    /// `PATCH /subscriptions/v1/subscriptions`: tags to set (`None` deletes the key).
    SubscriptionTags {
        ids: Vec<String>,
        tags: Vec<(String, Option<String>)>,
    },
}

impl Work {
    /// Which service's async-operations path serves the operation.
    fn kind(&self) -> OpKind {
        match self {
            Work::SubscriptionTags { .. } => OpKind::Subscriptions,
            _ => OpKind::Devices,
        }
    }

    /// Device or subscription ids and device serials the operation touches (for the
    /// `fail_ops_for` / `time_out_ops_for` faults).
    fn targets(&self, data: &super::data::Data) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        match self {
            Work::Patch { ids, .. } => {
                for id in ids {
                    out.push(id.to_ascii_uppercase());
                    if let Some(s) = data
                        .devices
                        .get(id)
                        .and_then(|e| e.value["serialNumber"].as_str().map(str::to_string))
                    {
                        out.push(s.to_ascii_uppercase());
                    }
                }
            }
            Work::Add { devices } => {
                out.extend(devices.iter().map(|d| d.serial.to_ascii_uppercase()));
            }
            Work::SubscriptionTags { ids, .. } => {
                out.extend(ids.iter().map(|i| i.to_ascii_uppercase()));
            }
        }
        out
    }
}

/// Which async-operations endpoint an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// `/devices/v1/async-operations/{id}`, `type: devices/asyncOperation`.
    Devices,
    /// `/subscriptions/v1/async-operations/{id}`, `type: subscriptions/asyncOperation`.
    Subscriptions,
}

/// A finished operation: (ended at, ended instant, status, result, error message).
pub(crate) type Done = (DateTime<Utc>, Instant, &'static str, Value, Option<String>);

/// One async operation.
#[derive(Debug)]
pub(crate) struct Op {
    pub id: String,
    pub started_at: DateTime<Utc>,
    pub created: Instant,
    pub delay: Duration,
    /// Extra time in `PAUSED` after the first half of `delay` (fault `ops_paused_ms`).
    pub paused: Duration,
    pub kind: OpKind,
    pub dry_run: bool,
    pub result_type: &'static str,
    pub work: Option<Work>,
    /// Set when done: (ended_at, ended instant, status, result, error message)
    pub done: Option<Done>,
}

const TAG_CHARS: &str = " _.:=+-@";

fn valid_tag_key(k: &str) -> Result<(), String> {
    let n = k.chars().count();
    if !(1..=128).contains(&n) {
        return Err(format!("tag key '{k}' must be 1 to 128 characters"));
    }
    if let Some(c) = k
        .chars()
        .find(|c| !(c.is_alphanumeric() || TAG_CHARS.contains(*c)))
    {
        return Err(format!(
            "tag key '{k}' contains '{c}'; allowed: letters, digits, spaces and _ . : = + - @"
        ));
    }
    Ok(())
}

fn valid_tag_value(k: &str, v: &str) -> Result<(), String> {
    if v.chars().count() > 256 {
        return Err(format!("tag '{k}' value is longer than 256 characters"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_alphanumeric() || TAG_CHARS.contains(*c)))
    {
        return Err(format!(
            "tag '{k}' value contains '{c}'; allowed: letters, digits, spaces and _ . : = + - @"
        ));
    }
    Ok(())
}

/// Validate a `tags` object of a PATCH (null values delete) or POST (`allow_null` false).
pub(crate) fn parse_tags(
    v: &Value,
    allow_null: bool,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let Some(obj) = v.as_object() else {
        return Err(ApiError::bad_field(
            "tags",
            "tags must be an object of strings",
        ));
    };
    if obj.len() > 50 {
        return Err(ApiError::bad_field("tags", "at most 50 tags per device"));
    }
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (k, val) in obj {
        valid_tag_key(k).map_err(|e| ApiError::bad_field("tags", e))?;
        let lower = k.to_lowercase();
        if seen.contains(&lower) {
            return Err(ApiError::bad_field(
                "tags",
                format!("tag key '{k}' given twice (keys are case-insensitive)"),
            ));
        }
        seen.push(lower);
        match val {
            Value::String(s) => {
                valid_tag_value(k, s).map_err(|e| ApiError::bad_field("tags", e))?;
                out.push((k.clone(), Some(s.clone())));
            }
            Value::Null if allow_null => out.push((k.clone(), None)),
            _ => {
                return Err(ApiError::bad_field(
                    "tags",
                    format!("tag '{k}' value must be a string"),
                ));
            }
        }
    }
    Ok(out)
}

const DEVICE_OPS: &[&str] = &[
    "application",
    "region",
    "tenantWorkspaceId",
    "tags",
    "location",
    "contact",
    "warranty/currentSupportLevel",
];

/// Validate a v2beta1 PATCH body against the mixing rules (§2.4).
pub(crate) fn parse_patch(body: &Value, sh: &Shared) -> Result<Patch, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_field(
            "body",
            "the body must be a JSON object",
        ));
    };
    if obj.is_empty() {
        return Err(ApiError::bad_field("body", "the body names no operation"));
    }
    if let Some(k) = obj
        .keys()
        .find(|k| !DEVICE_OPS.contains(&k.as_str()) && *k != "archived" && *k != "subscription")
    {
        return Err(ApiError::bad_field(k, format!("unknown field '{k}'")));
    }
    let has_device_op = obj.keys().any(|k| DEVICE_OPS.contains(&k.as_str()));
    if let Some(a) = obj.get("archived") {
        if obj.len() > 1 {
            return Err(ApiError::bad_field(
                "archived",
                "archived must be the only operation in the request",
            ));
        }
        let Some(b) = a.as_bool() else {
            return Err(ApiError::bad_field(
                "archived",
                "archived must be true or false",
            ));
        };
        return Ok(Patch::Archive(b));
    }
    if let Some(s) = obj.get("subscription") {
        if has_device_op {
            return Err(ApiError::bad_field(
                "subscription",
                "a subscription operation cannot be combined with device operations",
            ));
        }
        return Ok(Patch::Subscriptions(subscription_ids(s, sh)?));
    }
    let mut p = DevicePatch::default();
    if let Some(app) = obj.get("application") {
        let Some(o) = app.as_object() else {
            return Err(ApiError::bad_field(
                "application",
                "application must be an object {id}",
            ));
        };
        match o.get("id") {
            Some(Value::Null) => {
                if obj.get("region").is_some_and(|r| !r.is_null()) {
                    return Err(ApiError::bad_field(
                        "region",
                        "region must be null when unassigning the application",
                    ));
                }
                p.application = Some(None);
            }
            Some(Value::String(id)) => {
                let Some(region) = obj.get("region").and_then(Value::as_str) else {
                    return Err(ApiError::bad_field(
                        "region",
                        "region is required when assigning an application",
                    ));
                };
                if !sh.data_catalog_knows(id) {
                    return Err(ApiError::bad_field(
                        "application.id",
                        format!("application '{id}' is not a known service manager"),
                    ));
                }
                if !sh.data_catalog_provisioned(id, region) {
                    return Err(ApiError::bad_field(
                        "region",
                        format!("application '{id}' is not provisioned in region '{region}'"),
                    ));
                }
                p.application = Some(Some(id.clone()));
                p.region = Some(region.to_string());
            }
            _ => {
                return Err(ApiError::bad_field(
                    "application.id",
                    "application.id is required (a UUID, or null to unassign)",
                ));
            }
        }
    } else if obj.get("region").is_some() {
        return Err(ApiError::bad_field(
            "region",
            "region can only be sent with application",
        ));
    }
    if let Some(t) = obj.get("tenantWorkspaceId") {
        p.tenant = Some(t.clone());
    }
    if let Some(t) = obj.get("tags") {
        p.tags = Some(parse_tags(t, true)?);
    }
    object_fields(obj, &mut p)?;
    if k_location_bad(&p) {
        return Err(ApiError::bad_field(
            "location.id",
            "location needs an id ({} removes it)",
        ));
    }
    Ok(Patch::Device(p))
}

/// The ids of a `subscription` operation: each a UUID of a subscription that exists.
fn subscription_ids(s: &Value, sh: &Shared) -> Result<Vec<String>, ApiError> {
    let Some(arr) = s.as_array() else {
        return Err(ApiError::bad_field(
            "subscription",
            "subscription must be an array of {id}",
        ));
    };
    let mut ids = Vec::new();
    for e in arr {
        let Some(id) = e.get("id").and_then(Value::as_str) else {
            return Err(ApiError::bad_field(
                "subscription.id",
                "each subscription needs an id",
            ));
        };
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_field(
                "subscription.id",
                format!("subscription ID '{id}' is not a valid UUID."),
            ));
        }
        if super::state::read(&sh.data).subscriptions.get(id).is_none() {
            return Err(ApiError::bad_field(
                "subscription.id",
                format!("subscription '{id}' does not exist"),
            ));
        }
        ids.push(id.to_string());
    }
    Ok(ids)
}

/// `location`, `contact` and `warranty/currentSupportLevel`: objects (`{}` removes one).
fn object_fields(
    obj: &serde_json::Map<String, Value>,
    p: &mut DevicePatch,
) -> Result<(), ApiError> {
    for (k, slot) in [
        ("location", &mut p.location),
        ("contact", &mut p.contact),
        ("warranty/currentSupportLevel", &mut p.warranty),
    ] {
        if let Some(v) = obj.get(k) {
            if !v.is_object() {
                return Err(ApiError::bad_field(
                    k,
                    format!("{k} must be an object ({{}} removes it)"),
                ));
            }
            *slot = Some(v.clone());
        }
    }
    Ok(())
}

fn k_location_bad(p: &DevicePatch) -> bool {
    p.location.as_ref().is_some_and(|l| {
        l.as_object()
            .is_some_and(|o| !o.is_empty() && !o.get("id").is_some_and(Value::is_string))
    })
}

impl Shared {
    fn data_catalog_knows(&self, app: &str) -> bool {
        super::state::read(&self.data).catalog.knows(app)
    }
    fn data_catalog_provisioned(&self, app: &str, region: &str) -> bool {
        super::state::read(&self.data)
            .catalog
            .is_provisioned(app, region)
    }

    /// Register an operation and run it after the configured delay.
    pub fn start_op(
        self: &Arc<Self>,
        work: Work,
        dry_run: bool,
        result_type: &'static str,
    ) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let paused = lock(&self.faults).faults.ops_paused.unwrap_or_default();
        let total = self.cfg.op_delay + paused;
        let op = Op {
            id: id.clone(),
            started_at: Utc::now(),
            created: Instant::now(),
            delay: self.cfg.op_delay,
            paused,
            kind: work.kind(),
            dry_run,
            result_type,
            work: Some(work),
            done: None,
        };
        {
            let mut ops = lock(&self.ops);
            let keep = self.cfg.op_retention;
            ops.retain(|_, o| o.done.as_ref().is_none_or(|d| d.1.elapsed() <= keep));
            ops.insert(id.clone(), op);
        }
        if total.is_zero() {
            self.finish_op(&id);
        } else {
            let sh = Arc::clone(self);
            let oid = id.clone();
            let delay = total;
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                sh.finish_op(&oid);
            });
        }
        id
    }

    /// Carry out an operation's work and record its outcome.
    pub fn finish_op(&self, id: &str) {
        let (work, dry_run) = {
            let mut ops = lock(&self.ops);
            let Some(op) = ops.get_mut(id) else { return };
            (op.work.take(), op.dry_run)
        };
        let Some(work) = work else { return };
        let fail_for: Vec<String> = lock(&self.faults)
            .faults
            .fail_ops_for
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
        let time_out: Vec<String> = lock(&self.faults)
            .faults
            .time_out_ops_for
            .iter()
            .map(|s| s.to_ascii_uppercase())
            .collect();
        let timed_out = !time_out.is_empty() && {
            let data = super::state::read(&self.data);
            work.targets(&data).iter().any(|t| time_out.contains(t))
        };
        let (status, result, error) = if timed_out {
            (
                "TIMEDOUT",
                json!({}),
                Some("the operation did not finish within its timeout".to_string()),
            )
        } else {
            match work {
                Work::Patch { ids, patch } => self.run_patch(&ids, &patch, dry_run, &fail_for),
                Work::Add { devices } => self.run_add(devices, dry_run, &fail_for),
                Work::SubscriptionTags { ids, tags } => {
                    self.run_subscription_tags(&ids, &tags, dry_run, &fail_for)
                }
            }
        };
        if let Some(op) = lock(&self.ops).get_mut(id) {
            op.done = Some((Utc::now(), Instant::now(), status, result, error));
        }
    }

    fn run_patch(
        &self,
        ids: &[String],
        patch: &Patch,
        dry_run: bool,
        fail_for: &[String],
    ) -> (&'static str, Value, Option<String>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        let mut data = write(&self.data);
        for id in ids {
            let Some(entry) = data.devices.get(id) else {
                failed.push(json!({"id": id, "reason": "device not found"}));
                continue;
            };
            let mut dev = entry.value.clone();
            let serial = dev["serialNumber"]
                .as_str()
                .unwrap_or_default()
                .to_ascii_uppercase();
            if fail_for.contains(&id.to_ascii_uppercase()) || fail_for.contains(&serial) {
                failed.push(json!({"id": id, "reason": "simulated failure (fail_ops_for)"}));
                continue;
            }
            // Subscription bookkeeping: (subscription id, change of availableQuantity)
            let mut quantity_changes: Vec<(String, i64)> = Vec::new();
            let outcome = apply_patch(&mut dev, patch, &data, &mut quantity_changes);
            match outcome {
                Err(reason) => failed.push(json!({"id": id, "reason": reason})),
                Ok(()) => {
                    if !dry_run {
                        let now = ts(self.now_ts());
                        dev["updatedAt"] = json!(now);
                        data.devices.modify(id, |v| *v = dev);
                        for (sid, delta) in quantity_changes {
                            data.subscriptions.modify(&sid, |s| {
                                let cur = match &s["availableQuantity"] {
                                    Value::Number(n) => n.as_i64().unwrap_or(0),
                                    Value::String(x) => x.parse().unwrap_or(0),
                                    _ => 0,
                                };
                                let new = cur + delta;
                                s["availableQuantity"] = if s["availableQuantity"].is_string() {
                                    json!(new.to_string())
                                } else {
                                    json!(new)
                                };
                                s["updatedAt"] = json!(now);
                            });
                        }
                    }
                    ok.push(json!({"id": id}));
                }
            }
        }
        let error = (!failed.is_empty())
            .then(|| format!("{} of {} devices failed", failed.len(), ids.len()));
        let status = if failed.is_empty() {
            "SUCCEEDED"
        } else {
            "FAILED"
        };
        (
            status,
            json!({"succeededDevices": ok, "failedDevices": failed}),
            error,
        )
    }

    fn run_add(
        &self,
        devices: Vec<NewDevice>,
        dry_run: bool,
        fail_for: &[String],
    ) -> (&'static str, Value, Option<String>) {
        let mut data = write(&self.data);
        let mut failed = Vec::new();
        let mut seen = Vec::new();
        for d in devices {
            let up = d.serial.to_ascii_uppercase();
            if data.serial_taken(&d.serial) || fail_for.contains(&up) || seen.contains(&up) {
                failed.push(d.serial.clone());
                continue;
            }
            seen.push(up);
            if !dry_run {
                let now = self.now_ts();
                let v = data.posted_device(d, now);
                data.devices.push(v);
            }
        }
        if failed.is_empty() {
            ("SUCCEEDED", json!("SUCCEEDED"), None)
        } else {
            let msg = format!("{} device(s) could not be added", failed.len());
            ("FAILED", json!({"failedDevicesSerial": failed}), Some(msg))
        }
    }

    fn run_subscription_tags(
        &self,
        ids: &[String],
        tags: &[(String, Option<String>)],
        dry_run: bool,
        fail_for: &[String],
    ) -> (&'static str, Value, Option<String>) {
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        let mut data = write(&self.data);
        for id in ids {
            let Some(entry) = data.subscriptions.get(id) else {
                failed.push(json!({"id": id, "reason": "subscription not found"}));
                continue;
            };
            let key = entry.value["key"].as_str().unwrap_or_default().to_string();
            if fail_for.contains(&id.to_ascii_uppercase())
                || fail_for.contains(&key.to_ascii_uppercase())
            {
                failed.push(
                    json!({"id": id, "key": key, "reason": "simulated failure (fail_ops_for)"}),
                );
                continue;
            }
            match merge_tags(&entry.value["tags"], tags, "subscription") {
                Err(reason) => failed.push(json!({"id": id, "key": key, "reason": reason})),
                Ok(merged) => {
                    if !dry_run {
                        let now = ts(self.now_ts());
                        data.subscriptions.modify(id, |v| {
                            v["tags"] = merged;
                            v["updatedAt"] = json!(now);
                        });
                    }
                    ok.push(json!({"id": id, "key": key}));
                }
            }
        }
        let error = (!failed.is_empty())
            .then(|| format!("{} of {} subscriptions failed", failed.len(), ids.len()));
        let status = if failed.is_empty() {
            "SUCCEEDED"
        } else {
            "FAILED"
        };
        (
            status,
            json!({"succeededSubscriptions": ok, "failedSubscriptions": failed}),
            error,
        )
    }

    /// The operation as `GET /devices/v1/async-operations/{id}` (or the subscriptions
    /// path) shows it, whichever service started it; `None` when unknown or gone (24 h after
    /// it ended, by default).
    pub fn op_json(&self, id: &str) -> Option<Value> {
        self.op_json_of(id, None)
    }

    /// [`Shared::op_json`] for one service's path: an operation of the other service is not
    /// found there.
    pub(crate) fn op_json_of(&self, id: &str, kind: Option<OpKind>) -> Option<Value> {
        let ops = lock(&self.ops);
        let op = ops.get(id)?;
        if kind.is_some_and(|k| k != op.kind) {
            return None;
        }
        let legacy = self.cfg.legacy_status_vocab;
        let poll = if op.delay < Duration::from_secs(1) {
            1
        } else {
            2
        };
        let (op_type, source) = match op.kind {
            OpKind::Devices => ("devices/asyncOperation", "/devices/v1/devices"),
            OpKind::Subscriptions => (
                "subscriptions/asyncOperation",
                "/subscriptions/v1/subscriptions",
            ),
        };
        let mut m = Map::new();
        m.insert("id".into(), json!(op.id));
        m.insert("type".into(), json!(op_type));
        m.insert("sourceResourceUri".into(), json!(source));
        m.insert("startedAt".into(), json!(ts(op.started_at)));
        m.insert("suggestedPollingIntervalSeconds".into(), json!(poll));
        m.insert("timeoutMinutes".into(), json!(2));
        m.insert("resultType".into(), json!(op.result_type));
        m.insert("logMessages".into(), json!([]));
        let (status, progress) = match &op.done {
            Some((ended, ended_i, status, result, error)) => {
                if ended_i.elapsed() > self.cfg.op_retention {
                    return None;
                }
                m.insert("endedAt".into(), json!(ts(*ended)));
                m.insert("result".into(), result.clone());
                if let Some(e) = error {
                    // The subscription service's `error` is its general error body; the
                    // device service documents no `error` (a capture shows `{message}`).
                    let body = match op.kind {
                        OpKind::Devices => json!({"message": e}),
                        OpKind::Subscriptions => json!({
                            "httpStatusCode": 422,
                            "errorCode": "HPE_GL_UNPROCESSABLE_CONTENT",
                            "message": e,
                            "debugId": op.id,
                        }),
                    };
                    m.insert("error".into(), body);
                }
                (*status, if *status == "SUCCEEDED" { 100 } else { 0 })
            }
            None => {
                // Not ended: no `endedAt` (the spec types it as a date-time, never null).
                m.insert("result".into(), json!({}));
                let elapsed = op.created.elapsed();
                if elapsed < op.delay / 2 {
                    ("INITIALIZED", 0)
                } else if elapsed < op.delay / 2 + op.paused {
                    ("PAUSED", 50)
                } else {
                    ("RUNNING", 50)
                }
            }
        };
        let status = if legacy {
            match status {
                "INITIALIZED" => "PENDING",
                "RUNNING" => "IN_PROGRESS",
                "SUCCEEDED" => "COMPLETED",
                s => s,
            }
        } else {
            status
        };
        m.insert("status".into(), json!(status));
        m.insert("progressPercent".into(), json!(progress));
        if legacy {
            m.insert("progress".into(), json!(progress));
        }
        if op.dry_run {
            m.insert("dryRun".into(), json!(true));
        }
        Some(Value::Object(m))
    }
}

fn qty(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    }
}

/// Apply a patch to one device (a copy); state-dependent rules fail the device.
fn apply_patch(
    dev: &mut Value,
    patch: &Patch,
    data: &super::data::Data,
    q: &mut Vec<(String, i64)>,
) -> Result<(), String> {
    let archived = dev["archived"].as_bool().unwrap_or(false);
    match patch {
        Patch::Archive(b) => {
            dev["archived"] = json!(b);
        }
        Patch::Subscriptions(ids) => {
            let current: Vec<String> = dev["subscription"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e["id"].as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !ids.is_empty() {
                if archived {
                    return Err(
                        "device is archived: unarchive it before assigning a subscription".into(),
                    );
                }
                if dev["application"]
                    .get("id")
                    .and_then(Value::as_str)
                    .is_none()
                {
                    return Err("device has no application: assign an application (and region) before a subscription".into());
                }
            }
            let mut refs = Vec::new();
            for sid in ids {
                let Some(s) = data.subscriptions.get(sid) else {
                    return Err(format!("subscription {sid} not found"));
                };
                let s = &s.value;
                if !current.contains(sid) {
                    if s["subscriptionStatus"] != "STARTED" {
                        return Err(format!(
                            "subscription {} is {}, not STARTED",
                            s["key"].as_str().unwrap_or(sid),
                            s["subscriptionStatus"].as_str().unwrap_or("?")
                        ));
                    }
                    if qty(&s["availableQuantity"]) <= 0 {
                        return Err(format!(
                            "subscription {} has no available quantity",
                            s["key"].as_str().unwrap_or(sid)
                        ));
                    }
                    q.push((sid.clone(), -1));
                }
                refs.push(sub_ref(s));
            }
            for old in current.iter().filter(|c| !ids.contains(c)) {
                if data.subscriptions.get(old).is_some() {
                    q.push((old.clone(), 1));
                }
            }
            dev["subscription"] = if refs.is_empty() {
                Value::Null
            } else {
                Value::Array(refs)
            };
        }
        Patch::Device(p) => {
            if let Some(app) = &p.application {
                match app {
                    Some(id) => {
                        if archived {
                            return Err(
                                "device is archived: unarchive it before assigning an application"
                                    .into(),
                            );
                        }
                        dev["application"] = json!({"id": id, "resourceUri": format!("/service-catalog/v1beta1/service-managers/{id}")});
                        dev["region"] = json!(p.region);
                        dev["assignedState"] = json!("ASSIGNED_TO_SERVICE");
                    }
                    None => {
                        dev["application"] = Value::Null;
                        dev["region"] = Value::Null;
                        dev["assignedState"] = json!("UNASSIGNED");
                    }
                }
            }
            if let Some(t) = &p.tenant {
                dev["tenantWorkspaceId"] = t.clone();
            }
            if let Some(tags) = &p.tags {
                dev["tags"] = merge_tags(&dev["tags"], tags, "device")?;
            }
            if let Some(l) = &p.location {
                dev["location"] = match l.get("id").and_then(Value::as_str) {
                    Some(id) => {
                        json!({"id": id, "resourceUri": format!("/locations/v1/locations/{id}")})
                    }
                    None => Value::Null,
                };
            }
            if let Some(c) = &p.contact {
                dev["contact"] = if c.as_object().is_some_and(|o| o.is_empty()) {
                    Value::Null
                } else {
                    c.clone()
                };
            }
            if let Some(w) = &p.warranty {
                if !dev["warranty"].is_object() {
                    dev["warranty"] = json!({});
                }
                dev["warranty"]["currentSupportLevel"] = w.clone();
            }
        }
    }
    Ok(())
}

/// Merge-patch `tags` into an item's tags: a new key is added, an existing one (same
/// spelling) updated, `None` deletes; a key differing only in case from an existing one is
/// refused (keys are case-insensitive, glp-api.md §2.4).
fn merge_tags(
    current: &Value,
    tags: &[(String, Option<String>)],
    what: &str,
) -> Result<Value, String> {
    let mut cur: BTreeMap<String, Value> = current
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    for (k, v) in tags {
        // The exact key first: an item can carry case variants (`Owner` and `owner`), and a
        // PATCH naming one must not touch the other.
        let existing = if cur.contains_key(k) {
            Some(k.clone())
        } else {
            cur.keys().find(|e| e.eq_ignore_ascii_case(k)).cloned()
        };
        match (v, existing) {
            (None, Some(e)) => {
                cur.remove(&e);
            }
            (None, None) => {}
            (Some(v), Some(e)) if e == *k => {
                cur.insert(e, json!(v));
            }
            (Some(_), Some(e)) => {
                return Err(format!(
                    "tag key '{k}' clashes with existing key '{e}' (keys are case-insensitive)"
                ));
            }
            (Some(v), None) => {
                cur.insert(k.clone(), json!(v));
            }
        }
    }
    if cur.len() > 50 {
        return Err(format!(
            "{what} would have {} tags; at most 50 are allowed",
            cur.len()
        ));
    }
    Ok(json!(cur))
}
