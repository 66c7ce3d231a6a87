//! Applying a [`Plan`] over HTTP: audited, paced, cancellable, and idempotent on re-run.
//!
//! Phases run in plan order (add → application → subscription → tags → unassign). Within a
//! phase the calls are sent one after another as fast as the client's pacer allows (the
//! pacer spaces them at the endpoint's rate, so no sleep is added here), and every accepted
//! call's async operation is polled by its own task while the next calls go out. A phase
//! ends when all its operations reached a terminal state, so GreenLake has the application
//! before the subscription of the same device. A failed call or operation is recorded and
//! the run goes on; cancelling stops sending after the call in flight, and the operations
//! already sent are still followed to their end and recorded.
//!
//! Before anything is sent the run, every call and every device (with its values before
//! and the values asked for) are written to the audit tables; each call's result and each
//! device's outcome follow. After the run the touched devices are fetched again and stored
//! (`assign::refresh`, through the sync engine), so the console — and the next plan — see the new state: running
//! the same sheet again after a partial failure sends only what is still missing.
//!
//! A TUI drives it with [`start`]: events arrive on an `mpsc` channel, the
//! `CancellationToken` stops it, and the join handle returns the [`ApplyReport`].

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::diff::describe;
use super::phases::{Run, Track, emit, state_json};
use super::plan::{DeviceState, Phase, Plan, UndoRecord, changed_tag_keys, plan_undo};
pub use super::refresh::resync_serials;
use super::refresh::resync_via;
use super::report::{
    ApplyReport, Counts, DeviceReport, DeviceStatus, OpStatus, OperationReport, RunStatus,
};
use crate::glp::client::Client;
use crate::glp::ops::DEFAULT_POLL_INTERVAL;
use crate::store::audit::{DeviceOutcome, NewDeviceRow, NewOperation, NewRun, RunKind};
use crate::store::{Store, StoreError};
use crate::sync::SyncCommand;

/// How an apply behaves.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Send every call with `dry-run=true`: GreenLake validates, changes nothing.
    pub dry_run: bool,
    /// Wait before the first poll of an operation (then its `suggestedPollingIntervalSeconds`).
    pub first_poll: Duration,
    /// Give up following an operation after this long (its outcome is then unknown).
    pub op_timeout: Duration,
    /// Fetch the touched devices again and store them afterwards.
    pub resync: bool,
    /// The running sync engine, when there is one (the console): the refresh goes to it as
    /// a command, so it shows like any run. `None`: the same refresh runs on this task.
    pub engine: Option<mpsc::Sender<SyncCommand>>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            dry_run: false,
            first_poll: DEFAULT_POLL_INTERVAL,
            op_timeout: Duration::from_secs(300),
            resync: true,
            engine: None,
        }
    }
}

/// What to apply, and what to record about it.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub plan: Plan,
    pub run: NewRun,
}

/// Progress of a run, for a progress bar and a live log.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum ApplyEvent {
    Started {
        run_id: i64,
        calls: usize,
        devices: usize,
    },
    PhaseStarted {
        phase: Phase,
        calls: usize,
    },
    /// GreenLake accepted (or refused) call `seq`.
    Sent {
        seq: usize,
        phase: Phase,
        devices: usize,
        accepted: bool,
    },
    /// Call `seq` reached its end.
    OperationDone {
        seq: usize,
        phase: Phase,
        status: OpStatus,
        failed_devices: usize,
        error: Option<String>,
        done: usize,
        total: usize,
    },
    PhaseFinished {
        phase: Phase,
    },
    /// The cancel was seen; waiting for the operations already sent.
    Cancelling,
    Resyncing {
        devices: usize,
    },
    Finished {
        run_id: i64,
        status: RunStatus,
        counts: Counts,
    },
}

/// Why a run could not start or an undo cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("recording the assignment run in the database failed: {0}")]
    Store(#[from] StoreError),
    #[error(
        "assignment run {0} does not exist; list runs with `glp-console status` or the Assign tab's history"
    )]
    NoSuchRun(i64),
    #[error("run {0} was a dry run and changed nothing; there is nothing to undo")]
    UndoDryRun(i64),
    #[error("the apply task ended abnormally: {0}")]
    Task(String),
}

/// A running apply, for a front end.
pub struct ApplyHandle {
    pub run_events: mpsc::Receiver<ApplyEvent>,
    pub cancel: CancellationToken,
    pub join: JoinHandle<Result<ApplyReport, ApplyError>>,
}

/// Start [`apply`] on its own task.
pub fn start(client: Client, store: Store, req: ApplyRequest, opts: ApplyOptions) -> ApplyHandle {
    let (tx, rx) = mpsc::channel(256);
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let join = tokio::spawn(async move { apply(&client, &store, req, &opts, &tx, &c).await });
    ApplyHandle {
        run_events: rx,
        cancel,
        join,
    }
}

/// The calls and devices a run records before anything is sent.
fn audit_rows(plan: &Plan) -> (Vec<NewOperation>, Vec<NewDeviceRow>) {
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
fn device_outcomes(
    plan: &Plan,
    tracks: &mut BTreeMap<String, Track>,
    dry_run: bool,
) -> (Vec<DeviceReport>, Vec<DeviceOutcome>) {
    let mut devices = Vec::new();
    let mut outcomes = Vec::new();
    for d in &plan.devices {
        let t = tracks.remove(&d.serial).unwrap_or_default();
        let (status, error) = if !t.errors.is_empty() {
            (DeviceStatus::Failed, Some(t.errors.join("; ")))
        } else if t.unsent > 0 && t.ok == 0 {
            (
                DeviceStatus::Skipped,
                Some("cancelled before its calls were sent".to_string()),
            )
        } else if t.unsent > 0 {
            (
                DeviceStatus::Failed,
                Some("cancelled: only part of its changes were sent".to_string()),
            )
        } else {
            (DeviceStatus::Succeeded, None)
        };
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

/// Apply `req.plan`: audit, send, poll, record, resync. Only a failure to record the run
/// at the start is an error; everything else ends up in the report.
#[allow(
    clippy::too_many_lines,
    reason = "162 lines; listed in issue 13's note to split next"
)]
pub async fn apply(
    client: &Client,
    store: &Store,
    req: ApplyRequest,
    opts: &ApplyOptions,
    events: &mpsc::Sender<ApplyEvent>,
    cancel: &CancellationToken,
) -> Result<ApplyReport, ApplyError> {
    let started_at = Utc::now();
    let t0 = Instant::now();
    let mut run_meta = req.run.clone();
    if opts.dry_run && run_meta.kind == RunKind::Apply {
        run_meta.kind = RunKind::DryRun;
    }
    let plan = req.plan;
    let (new_ops, rows) = audit_rows(&plan);
    // Held until the end is recorded: while it lives, other processes see the run as alive.
    let owned = store.audit_start(&run_meta, &new_ops, &rows).await?;
    let run_id = owned.id;
    let mut notes = plan.notes.clone();
    if opts.dry_run && plan.steps.iter().any(|s| s.phase != plan.steps[0].phase) {
        notes.push(
            "dry run: each call is validated against the devices as they are now, so a later \
             phase (e.g. a subscription for a device only getting its application in this plan) \
             may be reported as failing although the real run would succeed"
                .into(),
        );
    }
    emit(
        events,
        ApplyEvent::Started {
            run_id,
            calls: plan.steps.len(),
            devices: plan.devices.len(),
        },
    )
    .await;

    let mut tracks: BTreeMap<String, Track> = BTreeMap::new();
    for d in &plan.devices {
        tracks.entry(d.serial.clone()).or_default().device_id = d.device_id.clone();
    }
    let ops = plan
        .steps
        .iter()
        .enumerate()
        .map(|(seq, s)| OperationReport {
            seq,
            phase: s.phase,
            method: s.method,
            path: s.path.clone(),
            body: s.body.clone(),
            serials: s.serials.clone(),
            device_ids: s.device_ids.clone(),
            http_status: None,
            operation_id: None,
            status: OpStatus::Skipped,
            error: None,
            failed_devices: Vec::new(),
            duration_ms: None,
        })
        .collect();
    let mut run = Run {
        client,
        store,
        opts,
        events,
        run_id,
        steps: plan.steps.clone(),
        ops,
        sent_at: vec![None; plan.steps.len()],
        tracks,
        notes,
        done: 0,
    };

    // Phases in plan order (the plan sorts its steps by phase).
    let mut phases: Vec<(Phase, Vec<usize>)> = Vec::new();
    for (i, s) in plan.steps.iter().enumerate() {
        match phases.last_mut() {
            Some((p, v)) if *p == s.phase => v.push(i),
            _ => phases.push((s.phase, vec![i])),
        }
    }
    let mut announced_cancel = false;
    for (phase, seqs) in &phases {
        if cancel.is_cancelled() {
            if !announced_cancel {
                announced_cancel = true;
                emit(events, ApplyEvent::Cancelling).await;
            }
            for &s in seqs {
                run.skip(s, "cancelled before it was sent");
            }
            continue;
        }
        if *phase != Phase::Add {
            run.resolve_adds(seqs).await;
        }
        let live: Vec<usize> = seqs
            .iter()
            .copied()
            .filter(|s| !(run.ops[*s].status == OpStatus::Skipped && run.ops[*s].error.is_some()))
            .collect();
        emit(
            events,
            ApplyEvent::PhaseStarted {
                phase: *phase,
                calls: live.len(),
            },
        )
        .await;
        // A successful add names no id: adds are one device each, so a device whose add
        // left no error is looked up by serial before the next phase.
        run.run_phase(&live, cancel).await;
        emit(events, ApplyEvent::PhaseFinished { phase: *phase }).await;
    }
    let cancelled = cancel.is_cancelled();
    if cancelled && !announced_cancel {
        emit(events, ApplyEvent::Cancelling).await;
    }

    let (devices, outcomes) = device_outcomes(&plan, &mut run.tracks, opts.dry_run);
    let resync = if opts.resync && !opts.dry_run && !plan.devices.is_empty() {
        let serials: Vec<String> = plan.devices.iter().map(|d| d.serial.clone()).collect();
        emit(
            events,
            ApplyEvent::Resyncing {
                devices: serials.len(),
            },
        )
        .await;
        Some(resync_via(opts.engine.as_ref(), client, store, &serials).await)
    } else {
        None
    };

    let mut report = ApplyReport {
        run_id,
        kind: run_meta.kind,
        undo_of: run_meta.undo_of,
        dry_run: opts.dry_run,
        status: RunStatus::Succeeded,
        started_at,
        finished_at: Utc::now(),
        duration_secs: t0.elapsed().as_secs_f64(),
        counts: Counts::default(),
        operations: run.ops,
        devices,
        notes: run.notes,
        resync,
    };
    report.finalize(cancelled);
    if let Err(e) = store
        .audit_finish(
            owned,
            report.status.as_str(),
            &report.summary_json(),
            &outcomes,
        )
        .await
    {
        report.notes.push(format!(
            "the end of run {run_id} could not be recorded: {e}"
        ));
    }
    emit(
        events,
        ApplyEvent::Finished {
            run_id,
            status: report.status,
            counts: report.counts.clone(),
        },
    )
    .await;
    Ok(report)
}

/// The plan that undoes run `run_id`: every device it changed (fully or in part) goes back
/// to its recorded values before. The current values come from the store (resync first
/// for the freshest state); only tag keys the run changed are considered, matched exactly,
/// so tags added since by someone else, and case variants of a changed key, stay.
pub async fn plan_undo_run(store: &Store, run_id: i64) -> Result<Plan, ApplyError> {
    let run = store
        .audit_run(run_id)
        .await?
        .ok_or(ApplyError::NoSuchRun(run_id))?;
    if run.kind == RunKind::DryRun {
        return Err(ApplyError::UndoDryRun(run_id));
    }
    let rows: Vec<_> = store
        .audit_devices(run_id)
        .await?
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

/// What the headless command and the TUI record as "requested" for a run.
pub fn requested_json(
    file: Option<&str>,
    choices: &super::options::WizardChoices,
    extra: Value,
) -> Value {
    json!({
        "file": file,
        "application": choices.application,
        "subscription_id": choices.subscription_id,
        "tags": choices.tags,
        "extra": extra,
    })
}
