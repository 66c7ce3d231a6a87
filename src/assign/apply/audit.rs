//! What an apply writes to the audit tables: the calls and devices before anything is sent,
//! each device's outcome at the end, and what was asked for.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::phases::Track;
use crate::assign::diff::describe;
use crate::assign::options::WizardChoices;
use crate::assign::plan::{DeviceState, Plan};
use crate::assign::report::{DeviceReport, DeviceStatus};
use crate::store::audit::{DeviceOutcome, NewDeviceRow, NewOperation};

/// A device's values as the audit stores them (`before`, `intended`).
fn state_json(s: &DeviceState) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

/// The calls and devices a run records before anything is sent.
pub(super) fn audit_rows(plan: &Plan) -> (Vec<NewOperation>, Vec<NewDeviceRow>) {
    let new_ops: Vec<NewOperation> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| NewOperation {
            seq: i as i32,
            kind: s.phase.as_str().into(),
            method: s.method.as_str().into(),
            path: s.path.clone(),
            payload: s.body.clone(),
            device_ids: s.device_ids.clone(),
            serials: s.serials.clone(),
        })
        .collect();
    let mut rows: Vec<NewDeviceRow> = plan
        .devices
        .iter()
        .map(|d| NewDeviceRow {
            serial: d.serial.clone(),
            device_id: d.device_id.clone(),
            row_number: d.row.map(|r| r as i32),
            before: d.before.as_ref().map(state_json),
            intended: Some(state_json(&d.after)),
            outcome: "pending".into(),
        })
        .collect();
    rows.extend(plan.unchanged.iter().map(|s| NewDeviceRow {
        serial: s.clone(),
        device_id: None,
        row_number: None,
        before: None,
        intended: None,
        outcome: "unchanged".into(),
    }));
    (new_ops, rows)
}

/// Each device's outcome from what happened to its calls: for the report, and for the
/// audit (a dry run's successes are recorded as `validated`).
pub(super) fn device_outcomes(
    plan: &Plan,
    tracks: &mut BTreeMap<String, Track>,
    dry_run: bool,
) -> (Vec<DeviceReport>, Vec<DeviceOutcome>) {
    let mut devices = Vec::new();
    let mut outcomes = Vec::new();
    for d in &plan.devices {
        let t = tracks.remove(&d.serial).unwrap_or_default();
        let (status, error) = t.outcome();
        let device_id = t.device_id.clone().or_else(|| d.device_id.clone());
        outcomes.push(DeviceOutcome {
            serial: d.serial.clone(),
            device_id: device_id.clone(),
            outcome: status.as_str().into(),
            error: error.clone(),
        });
        devices.push(DeviceReport {
            serial: d.serial.clone(),
            row: d.row,
            device_id,
            status,
            error,
            changes: d.changes.iter().map(describe).collect(),
        });
    }
    devices.extend(plan.unchanged.iter().map(|s| DeviceReport {
        serial: s.clone(),
        row: None,
        device_id: None,
        status: DeviceStatus::Unchanged,
        error: None,
        changes: Vec::new(),
    }));
    if dry_run {
        for o in outcomes.iter_mut() {
            if o.outcome == "succeeded" {
                // A dry run changes nothing; keep undo away from it.
                o.outcome = "validated".into();
            }
        }
    }

    (devices, outcomes)
}

/// What the headless command and the TUI record as "requested" for a run.
pub fn requested_json(file: Option<&str>, choices: &WizardChoices, extra: Value) -> Value {
    json!({
        "file": file,
        "application": choices.application,
        "subscription_id": choices.subscription_id,
        "tags": choices.tags,
        "extra": extra,
    })
}
