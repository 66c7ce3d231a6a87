//! Running an operation: registering it, waiting out its delay, then carrying out its work
//! device by device (or subscription by subscription) and recording the outcome.

use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use serde_json::{Value, json};

use super::apply::{apply_patch, merge_tags};
use super::model::{Op, Patch, Work};
use crate::sim::audit_store::Actor;
use crate::sim::data::{NewDevice, ts};
use crate::sim::state::{Shared, lock, read, write};

impl Shared {
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
            let data = read(&self.data);
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
        // `tenantWorkspaceId` is applied by `place_device` (it knows the MSP world).
        let (patch, tenant) = match patch {
            Patch::Device(p) if p.tenant.is_some() => {
                let mut p = p.clone();
                let t = p.tenant.take();
                (Patch::Device(p), t)
            }
            other => (other.clone(), None),
        };
        // (before, after) of every changed device, for the other views that hold it.
        let mut changed: Vec<(Value, Value)> = Vec::new();
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
            let before = dev.clone();
            let outcome = match &tenant {
                Some(t) => self.place_device(&mut dev, t),
                None => Ok(()),
            }
            .and_then(|()| apply_patch(&mut dev, &patch, &data, &mut quantity_changes));
            match outcome {
                Err(reason) => failed.push(json!({"id": id, "reason": reason})),
                Ok(()) => {
                    if !dry_run {
                        let now = ts(self.now_ts());
                        dev["updatedAt"] = json!(now);
                        changed.push((before, dev.clone()));
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
        drop(data);
        for (before, after) in &changed {
            self.mirror_device(Some(before), Some(after));
            self.audit_device(Actor::ApiClient, Some(before), Some(after));
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
        let mut added = Vec::new();
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
                added.push(v.clone());
                data.devices.push(v);
            }
        }
        drop(data);
        for v in &added {
            self.mirror_device(None, Some(v));
            self.audit_device(Actor::ApiClient, None, Some(v));
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
        let mut tagged: Vec<(Value, Value)> = Vec::new();
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
                        let before = entry.value.clone();
                        if let Some(after) = data.subscriptions.modify(id, |v| {
                            v["tags"] = merged;
                            v["updatedAt"] = json!(now);
                            v.clone()
                        }) {
                            tagged.push((before, after));
                        }
                    }
                    ok.push(json!({"id": id, "key": key}));
                }
            }
        }
        drop(data);
        for (before, after) in &tagged {
            self.audit_subscription(Actor::ApiClient, before, after);
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
}
