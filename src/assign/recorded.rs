//! A recorded run read back from the audit tables: what the console's run detail shows, and
//! its report rebuilt so it can be exported again with the same writer as at the end of the
//! run (`ApplyReport::write`).

use super::plan::{Method, Phase};
use super::report::{
    ApplyReport, Counts, DeviceReport, DeviceStatus, OpStatus, OperationReport, RunStatus,
};
use crate::store::audit::{RunDeviceRow, RunKind, RunOperationRow, RunRow};
use crate::store::{Store, StoreError};

/// One run with its calls and devices, as recorded.
#[derive(Clone, Debug)]
pub struct RecordedRun {
    pub run: RunRow,
    pub operations: Vec<RunOperationRow>,
    pub devices: Vec<RunDeviceRow>,
}

impl RecordedRun {
    /// Run `run_id` with its calls and devices; `None` when there is no such run.
    pub async fn load(store: &Store, run_id: i64) -> Result<Option<RecordedRun>, StoreError> {
        let Some(run) = store.audit_run(run_id).await? else {
            return Ok(None);
        };
        let (operations, devices) = tokio::try_join!(
            store.audit_operation_rows(run_id),
            store.audit_devices(run_id)
        )?;
        Ok(Some(RecordedRun {
            run,
            operations,
            devices,
        }))
    }

    /// Validated only: a dry run (or a dry-run undo, recorded as an undo).
    pub fn dry_run(&self) -> bool {
        self.run.kind == RunKind::DryRun
            || self
                .run
                .requested
                .get("dry_run")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
    }

    /// The run's report as its end wrote it (counts tallied the one way every count is).
    /// A run that never ended (abandoned, or still running) reads as partial, its open
    /// calls as skipped.
    pub fn report(&self) -> ApplyReport {
        let operations: Vec<OperationReport> = self.operations.iter().map(operation).collect();
        let devices: Vec<DeviceReport> = self.devices.iter().map(device).collect();
        let counts = Counts::tally(
            operations.len(),
            operations.iter().map(|o| o.status),
            devices.len(),
            devices.iter().map(|d| d.status),
        );
        let summary = self.run.summary.as_ref();
        let notes = summary
            .and_then(|s| s.get("notes"))
            .and_then(|n| n.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let finished = self.run.finished_at.unwrap_or(self.run.created_at);
        ApplyReport {
            run_id: self.run.id,
            kind: self.run.kind,
            undo_of: self.run.undo_of,
            dry_run: self.dry_run(),
            status: match self.run.status.as_str() {
                "succeeded" => RunStatus::Succeeded,
                "partial" | "running" => RunStatus::Partial,
                "cancelled" => RunStatus::Cancelled,
                _ => RunStatus::Failed,
            },
            started_at: self.run.created_at,
            finished_at: finished,
            duration_secs: (finished - self.run.created_at).num_milliseconds().max(0) as f64
                / 1000.0,
            counts,
            operations,
            devices,
            notes,
            resync: None,
        }
    }
}

fn operation(o: &RunOperationRow) -> OperationReport {
    OperationReport {
        seq: usize::try_from(o.seq).unwrap_or(0),
        phase: match o.kind.as_str() {
            "add" => Phase::Add,
            "application" => Phase::Application,
            "subscription" => Phase::Subscription,
            "unassign_application" => Phase::Unassign,
            "tenant" => Phase::Tenant,
            _ => Phase::Tags,
        },
        method: if o.method.eq_ignore_ascii_case("post") {
            Method::Post
        } else {
            Method::Patch
        },
        path: o.path.clone(),
        body: o.payload.clone().unwrap_or_default(),
        serials: o.serials.clone(),
        device_ids: o.device_ids.clone(),
        http_status: o.http_status.and_then(|s| u16::try_from(s).ok()),
        operation_id: o.operation_id.clone(),
        status: match o.status.as_str() {
            "succeeded" => OpStatus::Succeeded,
            "failed" => OpStatus::Failed,
            "not_checkable" => OpStatus::NotCheckable,
            _ => OpStatus::Skipped,
        },
        error: o.error.clone(),
        failed_devices: Vec::new(),
        duration_ms: match (o.started_at, o.finished_at) {
            (Some(s), Some(f)) => u64::try_from((f - s).num_milliseconds()).ok(),
            _ => None,
        },
    }
}

fn device(d: &RunDeviceRow) -> DeviceReport {
    DeviceReport {
        serial: d.serial.clone(),
        row: d.row_number.and_then(|r| u32::try_from(r).ok()),
        device_id: d.device_id.clone(),
        status: match d.outcome.as_str() {
            "succeeded" | "validated" => DeviceStatus::Succeeded,
            "unchanged" => DeviceStatus::Unchanged,
            "not_checkable" => DeviceStatus::NotCheckable,
            "skipped" => DeviceStatus::Skipped,
            _ => DeviceStatus::Failed,
        },
        error: d.error.clone(),
        changes: Vec::new(),
    }
}
