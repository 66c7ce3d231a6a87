//! One apply from start to end: record the run, run its phases in plan order, refresh the
//! touched devices, and record and report how it ended.

use std::collections::{BTreeMap, HashSet};

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::audit::{audit_rows, device_outcomes};
use super::events::{ApplyEvent, emit};
use super::phases::{Run, Track};
use super::request::{ApplyError, ApplyOptions, ApplyRequest};
use crate::assign::plan::{Change, Phase, Plan};
use crate::assign::refresh::resync_via;
use crate::assign::report::{
    ApplyReport, Counts, OpStatus, OperationReport, ResyncReport, RunStatus,
};
use crate::glp::client::Client;
use crate::store::Store;
use crate::store::audit::{DeviceOutcome, NewRun, OperationUpdate, OwnedRun, RunKind};

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

/// Apply `req.plan`: audit, send, poll, record, resync. Only a failure to record the run
/// at the start is an error; everything else ends up in the report.
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
    let run_meta = run_record(&req.run, opts);
    let plan = req.plan;
    let (new_ops, rows) = audit_rows(&plan);
    // Held until the end is recorded: while it lives, other processes see the run as alive.
    let owned = store.audit_start(&run_meta, &new_ops, &rows).await?;
    let run_id = owned.id;
    emit(
        events,
        ApplyEvent::Started {
            run_id,
            calls: plan.steps.len(),
            devices: plan.devices.len(),
        },
    )
    .await;
    let mut run = Run {
        client,
        store,
        opts,
        events,
        run_id,
        steps: plan.steps.clone(),
        ops: skipped_operations(&plan),
        sent_at: vec![None; plan.steps.len()],
        tracks: device_tracks(&plan),
        notes: plan.notes.clone(),
        done: 0,
        settled: vec![false; plan.steps.len()],
        unchanged: plan.unchanged.len(),
    };
    let cancelled = run_phases(&mut run, &plan, cancel).await;
    let (devices, outcomes) = device_outcomes(&plan, &mut run.tracks, opts.dry_run);
    let resync = resync_touched(client, store, opts, events, &plan).await;
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
    record_end(store, owned, &mut report, &outcomes).await;
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

/// The run as recorded: an apply with `dry_run` set is recorded as a dry run.
fn run_record(run: &NewRun, opts: &ApplyOptions) -> NewRun {
    let mut run_meta = run.clone();
    if opts.dry_run && run_meta.kind == RunKind::Apply {
        run_meta.kind = RunKind::DryRun;
    }
    run_meta
}

/// Devices that get an application only from this plan: in a dry run their subscription
/// cannot be checked (GreenLake refuses a subscription for a device without one).
fn needing_application(plan: &Plan) -> HashSet<String> {
    plan.devices
        .iter()
        .filter(|d| {
            d.changes.iter().any(|c| {
                matches!(
                    c,
                    Change::Application {
                        from: None,
                        to: Some(_)
                    }
                )
            })
        })
        .map(|d| d.serial.clone())
        .collect()
}

/// For a dry run that found calls it could not check: why, once.
fn not_checkable_note(run: &mut Run<'_>) {
    if run.ops.iter().any(|o| o.status == OpStatus::NotCheckable)
        || run.tracks.values().any(|t| !t.not_checkable.is_empty())
    {
        run.notes.push(
            "dry run: GreenLake checks each call against the devices as they are now, and a dry \
             run changes nothing; calls that depend on an earlier phase of this plan (a \
             subscription for a device only getting its application here, anything for a \
             device being added) were not sent and are shown as not checkable — neither ok \
             nor failed"
                .into(),
        );
    }
}

/// One track per planned device, knowing its id when the plan does.
fn device_tracks(plan: &Plan) -> BTreeMap<String, Track> {
    let mut tracks: BTreeMap<String, Track> = BTreeMap::new();
    for d in &plan.devices {
        tracks.entry(d.serial.clone()).or_default().device_id = d.device_id.clone();
    }
    for s in plan.steps.iter().flat_map(|s| &s.serials) {
        tracks.entry(s.clone()).or_default().planned += 1;
    }
    tracks
}

/// Every call's report before it is sent: skipped until a phase says otherwise.
fn skipped_operations(plan: &Plan) -> Vec<OperationReport> {
    plan.steps
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
        .collect()
}

/// The plan's calls grouped by phase, in plan order (the plan sorts its steps by phase).
fn phases_of(plan: &Plan) -> Vec<(Phase, Vec<usize>)> {
    let mut phases: Vec<(Phase, Vec<usize>)> = Vec::new();
    for (i, s) in plan.steps.iter().enumerate() {
        match phases.last_mut() {
            Some((p, v)) if *p == s.phase => v.push(i),
            _ => phases.push((s.phase, vec![i])),
        }
    }
    phases
}

/// Run the phases one after another; after a cancel the remaining ones are skipped.
/// `true` when the run was cancelled.
async fn run_phases(run: &mut Run<'_>, plan: &Plan, cancel: &CancellationToken) -> bool {
    let events = run.events;
    let mut announced_cancel = false;
    let needs_app = if run.opts.dry_run {
        needing_application(plan)
    } else {
        HashSet::new()
    };
    for (phase, seqs) in &phases_of(plan) {
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
        if run.opts.dry_run {
            run.defer_unverifiable(seqs, &needs_app);
            for &s in seqs {
                if run.ops[s].status == OpStatus::NotCheckable {
                    let update = OperationUpdate {
                        status: OpStatus::NotCheckable.as_str().into(),
                        error: run.ops[s].error.clone(),
                        finished_at: Some(Utc::now()),
                        ..OperationUpdate::default()
                    };
                    run.audit(s, update).await;
                }
            }
        }
        let live: Vec<usize> = seqs.iter().copied().filter(|s| !run.settled[*s]).collect();
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
        let counts = run.live_counts();
        emit(
            events,
            ApplyEvent::PhaseFinished {
                phase: *phase,
                counts,
            },
        )
        .await;
    }
    not_checkable_note(run);
    let cancelled = cancel.is_cancelled();
    if cancelled && !announced_cancel {
        emit(events, ApplyEvent::Cancelling).await;
    }
    cancelled
}

/// Fetch the touched devices again and store them (not after a dry run, which changed
/// nothing, nor when the options say not to).
async fn resync_touched(
    client: &Client,
    store: &Store,
    opts: &ApplyOptions,
    events: &mpsc::Sender<ApplyEvent>,
    plan: &Plan,
) -> Option<ResyncReport> {
    if !opts.resync || opts.dry_run || plan.devices.is_empty() {
        return None;
    }
    let serials: Vec<String> = plan.devices.iter().map(|d| d.serial.clone()).collect();
    emit(
        events,
        ApplyEvent::Resyncing {
            devices: serials.len(),
        },
    )
    .await;
    Some(resync_via(opts.engine.as_ref(), client, store, &serials).await)
}

/// Record the end of the run; a failure to do so becomes a note of the report.
async fn record_end(
    store: &Store,
    owned: OwnedRun,
    report: &mut ApplyReport,
    outcomes: &[DeviceOutcome],
) {
    let run_id = report.run_id;
    if let Err(e) = store
        .audit_finish(
            owned,
            report.status.as_str(),
            &report.summary_json(),
            outcomes,
        )
        .await
    {
        report.notes.push(format!(
            "the end of run {run_id} could not be recorded: {e}"
        ));
    }
}
