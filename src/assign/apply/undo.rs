//! Undoing a recorded run: the plan that puts every device it changed back to its values
//! before.

use tokio::sync::mpsc;

use super::request::ApplyError;
use crate::assign::plan::{DeviceState, Plan, UndoRecord, changed_tag_keys, plan_undo};
use crate::assign::recorded::RecordedRun;
use crate::assign::refresh::resync_via;
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::audit::{NewRun, RunKind};
use crate::sync::SyncCommand;

/// The plan that undoes run `run_id`: every device it changed (fully or in part) goes back
/// to its recorded values before. The current values come from the store (resync first
/// for the freshest state); only tag keys the run changed are considered, matched exactly,
/// so tags added since by someone else, and case variants of a changed key, stay.
pub async fn plan_undo_run(store: &Store, run_id: i64) -> Result<Plan, ApplyError> {
    let run = RecordedRun::load(store, run_id)
        .await?
        .ok_or(ApplyError::NoSuchRun(run_id))?;
    // A dry run, or a dry-run undo (recorded as an undo): it changed nothing to put back.
    if run.dry_run() {
        return Err(ApplyError::UndoDryRun(run_id));
    }
    let rows: Vec<_> = run
        .devices
        .into_iter()
        // `unknown`: the run was abandoned mid-way, so its calls may have been applied.
        .filter(|d| matches!(d.outcome.as_str(), "succeeded" | "failed" | "unknown"))
        .collect();
    let serials: Vec<String> = rows.iter().map(|r| r.serial.clone()).collect();
    let stored = store.devices_by_serials(&serials).await?;
    let mut records = Vec::new();
    let mut notes = Vec::new();
    for r in rows {
        let Some(cur) = stored.iter().find(|d| {
            r.device_id.as_deref() == Some(d.id.as_str())
                || (r.device_id.is_none() && d.serial_number.eq_ignore_ascii_case(&r.serial))
        }) else {
            notes.push(format!(
                "{} is not in the inventory; sync and undo again to restore it",
                r.serial
            ));
            continue;
        };
        let before: Option<DeviceState> = r.before.and_then(|v| serde_json::from_value(v).ok());
        let intended: DeviceState = r
            .intended
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        // Only the tag keys the run changed, exactly as it spelled them: a device may carry
        // `Owner` and `owner`, and the one the run did not touch must stay as it is.
        let changed = changed_tag_keys(before.as_ref(), &intended);
        let mut now = DeviceState::from_stored(cur);
        now.tags.retain(|k, _| changed.contains(k));
        let before = before.map(|mut b| {
            b.tags.retain(|k, _| changed.contains(k));
            // A placement the run did not change stays where it is now.
            if b.tenant == intended.tenant {
                b.tenant = now.tenant.clone();
            }
            b
        });
        records.push(UndoRecord {
            serial: r.serial.clone(),
            device_id: cur.id.clone(),
            before,
            after: now,
        });
    }
    let mut p = plan_undo(&records);
    p.notes.extend(notes);
    Ok(p)
}

/// An undo plan and what the user should know about how it was made.
#[derive(Clone, Debug)]
pub struct UndoPlan {
    pub run_id: i64,
    pub plan: Plan,
    /// The run's devices could not be read again from GreenLake: the plan compares with the
    /// stored values (set when the re-read failed or no client was given).
    pub warning: Option<String>,
}

/// What `assign --undo` and the console's undo share: read the run's devices again from
/// GreenLake (the plan compares with the current values, so fresh ones first; through the
/// console's engine when it runs one), then [`plan_undo_run`]. Without a client the stored
/// values are used and the warning says so.
pub async fn prepare_undo(
    store: &Store,
    client: Option<&Client>,
    engine: Option<&mpsc::Sender<SyncCommand>>,
    run_id: i64,
) -> Result<UndoPlan, ApplyError> {
    let serials: Vec<String> = store
        .audit_devices(run_id)
        .await?
        .into_iter()
        // `unknown`: an abandoned run's devices, whose calls may or may not have gone out.
        .filter(|d| matches!(d.outcome.as_str(), "succeeded" | "failed" | "unknown"))
        .map(|d| d.serial)
        .collect();
    let mut warning = None;
    if !serials.is_empty() {
        warning = match client {
            Some(c) => resync_via(engine, c, store, &serials).await.error.map(|e| {
                format!(
                    "the devices of run {run_id} could not be fetched ({e}); planning from the \
                     stored values"
                )
            }),
            None => Some(format!(
                "no GreenLake client: the devices of run {run_id} were not fetched again; \
                 planning from the stored values"
            )),
        };
    }
    let plan = plan_undo_run(store, run_id).await?;
    Ok(UndoPlan {
        run_id,
        plan,
        warning,
    })
}

/// The audit record of undoing run `run_id` (or validating that undo with a dry run).
pub fn undo_run(run_id: i64, dry_run: bool) -> NewRun {
    NewRun {
        kind: RunKind::Undo,
        undo_of: Some(run_id),
        source_file: None,
        sheet: None,
        requested: serde_json::json!({"undo_of": run_id, "dry_run": dry_run}),
        operator: std::env::var("USER").ok(),
    }
}
