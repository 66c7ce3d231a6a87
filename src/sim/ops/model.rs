//! What an async operation is: the validated work it carries, which service's path serves
//! it, and its outcome once it has run.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::sim::data::{Data, NewDevice};

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
    pub(super) fn kind(&self) -> OpKind {
        match self {
            Work::SubscriptionTags { .. } => OpKind::Subscriptions,
            _ => OpKind::Devices,
        }
    }

    /// Device or subscription ids and device serials the operation touches (for the
    /// `fail_ops_for` / `time_out_ops_for` faults).
    pub(super) fn targets(&self, data: &Data) -> Vec<String> {
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
