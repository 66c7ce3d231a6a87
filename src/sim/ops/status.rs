//! An operation as the async-operations endpoints show it: status (in either vocabulary),
//! progress, result and error.

use std::time::Duration;

use serde_json::{Map, Value, json};

use super::model::OpKind;
use crate::sim::data::ts;
use crate::sim::state::{Shared, lock};

impl Shared {
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
