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

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::diff::describe;
use super::plan::{
    DeviceState, Method, Phase, Plan, Step, UndoRecord, changed_tag_keys, plan_undo,
};
pub use super::refresh::resync_serials;
use super::refresh::{fetch_by_serials, resync_via};
use super::report::{
    ApplyReport, Counts, DeviceReport, DeviceStatus, FailedDevice, OpStatus, OperationReport,
    RunStatus,
};
use crate::glp::client::Client;
use crate::glp::error::GlpError;
use crate::glp::ops::{
    Accepted, DEFAULT_POLL_INTERVAL, DeviceKind, NewDevice, OperationOutcome, OperationState,
    gone_or,
};
use crate::store::audit::{
    DeviceOutcome, NewDeviceRow, NewOperation, NewRun, OperationUpdate, RunKind,
};
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

/// Per device: what happened so far.
#[derive(Default)]
struct Track {
    device_id: Option<String>,
    errors: Vec<String>,
    sent: usize,
    ok: usize,
    unsent: usize,
}

struct Run<'a> {
    client: &'a Client,
    store: &'a Store,
    opts: &'a ApplyOptions,
    events: &'a mpsc::Sender<ApplyEvent>,
    run_id: i64,
    steps: Vec<Step>,
    ops: Vec<OperationReport>,
    sent_at: Vec<Option<Instant>>,
    tracks: BTreeMap<String, Track>,
    notes: Vec<String>,
    done: usize,
}

type PollResult = (usize, Result<OperationOutcome, GlpError>);

async fn emit(events: &mpsc::Sender<ApplyEvent>, ev: ApplyEvent) {
    // A front end that went away does not stop the run.
    let _ = events.send(ev).await;
}

/// Poll one operation: first after `first`, then at the interval it suggests.
async fn follow(
    client: Client,
    location: String,
    first: Duration,
    timeout: Duration,
) -> Result<OperationOutcome, GlpError> {
    let started = Instant::now();
    tokio::time::sleep(first).await;
    let mut last: Option<String> = None;
    loop {
        let st = match client.operation(&location).await {
            Ok(st) => st,
            Err(e) => return Err(gone_or(e, &location, last)),
        };
        if let Some(o) = st.outcome() {
            return Ok(o);
        }
        let wait = st.suggested_poll.unwrap_or(DEFAULT_POLL_INTERVAL);
        if started.elapsed() + wait > timeout {
            return Err(GlpError::OperationTimeout {
                location,
                last_status: st.status,
                waited: started.elapsed(),
            });
        }
        last = Some(st.status);
        tokio::time::sleep(wait).await;
    }
}

/// The device an add step's body describes.
fn new_device(body: &Value) -> NewDevice {
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    NewDevice {
        serial_number: s("serialNumber").unwrap_or_default(),
        kind: match s("deviceType").as_deref() {
            Some("COMPUTE") => DeviceKind::Compute,
            Some("STORAGE") => DeviceKind::Storage,
            _ => DeviceKind::Network,
        },
        mac_address: s("macAddress"),
        part_number: s("partNumber"),
        tags: body
            .get("tags")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default(),
        location_id: None,
    }
}

fn state_json(s: &DeviceState) -> Value {
    serde_json::to_value(s).unwrap_or(Value::Null)
}

impl Run<'_> {
    async fn audit(&mut self, seq: usize, u: OperationUpdate) {
        if let Err(e) = self
            .store
            .audit_operation(self.run_id, seq as i32, &u)
            .await
        {
            self.notes.push(format!(
                "the audit of call #{seq} could not be written: {e}"
            ));
        }
    }

    /// Record the end of call `seq` for the call and each of its devices.
    async fn finish(&mut self, seq: usize, result: Result<OperationOutcome, GlpError>) {
        let step = &self.steps[seq];
        let phase = step.phase;
        let started = self.sent_at[seq];
        let mut failed: Vec<FailedDevice> = Vec::new();
        let (status, error, raw) = match result {
            Err(e) => (OpStatus::Failed, Some(e.to_string()), None),
            Ok(o) => {
                for f in &o.failed {
                    failed.push(FailedDevice {
                        serial: f.serial_number.clone().or_else(|| {
                            let i = step
                                .device_ids
                                .iter()
                                .position(|d| Some(d) == f.id.as_ref())?;
                            step.serials.get(i).cloned()
                        }),
                        device_id: f.id.clone(),
                        reason: f
                            .reason
                            .clone()
                            .or_else(|| o.message.clone())
                            .unwrap_or_else(|| "failed".into()),
                    });
                }
                match o.state {
                    OperationState::Succeeded => (OpStatus::Succeeded, None, Some(o.raw)),
                    OperationState::Failed => (
                        OpStatus::Failed,
                        Some(
                            o.message
                                .clone()
                                .unwrap_or_else(|| format!("operation {}", o.status)),
                        ),
                        Some(o.raw),
                    ),
                }
            }
        };
        // Devices: those named as failed, or all of them when the call failed as a whole.
        let whole = status == OpStatus::Failed && failed.is_empty();
        for (i, serial) in step.serials.iter().enumerate() {
            let id = step.device_ids.get(i);
            let hit = failed.iter().find(|f| {
                f.serial.as_ref() == Some(serial) || (id.is_some() && f.device_id.as_ref() == id)
            });
            let t = self.tracks.entry(serial.clone()).or_default();
            if let Some(f) = hit {
                t.errors.push(format!("{}: {}", phase.as_str(), f.reason));
            } else if whole {
                t.errors.push(format!(
                    "{}: {}",
                    phase.as_str(),
                    error.clone().unwrap_or_default()
                ));
            } else {
                t.ok += 1;
            }
        }
        let op = &mut self.ops[seq];
        op.status = status;
        op.error = error.clone();
        op.failed_devices = failed;
        op.duration_ms = started.map(|s| s.elapsed().as_millis() as u64);
        let failed_devices = if whole {
            op.serials.len()
        } else {
            op.failed_devices.len()
        };
        self.done += 1;
        let update = OperationUpdate {
            status: status.as_str().into(),
            error: error.clone(),
            result: raw,
            finished_at: Some(Utc::now()),
            ..OperationUpdate::default()
        };
        self.audit(seq, update).await;
        emit(
            self.events,
            ApplyEvent::OperationDone {
                seq,
                phase,
                status,
                failed_devices,
                error,
                done: self.done,
                total: self.steps.len(),
            },
        )
        .await;
    }

    fn skip(&mut self, seq: usize, why: &str) {
        self.ops[seq].status = OpStatus::Skipped;
        self.ops[seq].error = Some(why.to_string());
        for s in &self.steps[seq].serials {
            self.tracks.entry(s.clone()).or_default().unsent += 1;
        }
    }

    /// Send call `seq` (waiting for its pace slot) while handling finished polls.
    async fn send(
        &mut self,
        seq: usize,
        polls: &mut JoinSet<PollResult>,
    ) -> Result<Accepted, GlpError> {
        let step = self.steps[seq].clone();
        let client = self.client.clone();
        let dry = self.opts.dry_run;
        let fut = async move {
            match step.method {
                Method::Patch => {
                    client
                        .patch_devices(&step.device_ids, &step.body, dry)
                        .await
                }
                Method::Post => client.add_device_v2(&new_device(&step.body), dry).await,
            }
        };
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => return r,
                Some(j) = polls.join_next(), if !polls.is_empty() => self.joined(j).await,
            }
        }
    }

    async fn joined(&mut self, j: Result<PollResult, tokio::task::JoinError>) {
        match j {
            Ok((seq, r)) => self.finish(seq, r).await,
            Err(e) => self
                .notes
                .push(format!("a polling task ended abnormally: {e}")),
        }
    }

    async fn run_phase(&mut self, seqs: &[usize], cancel: &CancellationToken) {
        let mut polls: JoinSet<PollResult> = JoinSet::new();
        for &seq in seqs {
            if cancel.is_cancelled() {
                self.skip(seq, "cancelled before it was sent");
                continue;
            }
            let phase = self.steps[seq].phase;
            let n = self.steps[seq].serials.len();
            let res = self.send(seq, &mut polls).await;
            self.sent_at[seq] = Some(Instant::now());
            for s in &self.steps[seq].serials {
                self.tracks.entry(s.clone()).or_default().sent += 1;
            }
            match res {
                Ok(acc) => {
                    let location = acc.location.clone().or_else(|| {
                        acc.operation_id
                            .as_ref()
                            .map(|id| format!("/devices/v1/async-operations/{id}"))
                    });
                    self.ops[seq].http_status = Some(acc.status);
                    self.ops[seq].operation_id = acc.operation_id.clone();
                    let update = OperationUpdate {
                        status: "accepted".into(),
                        http_status: Some(i32::from(acc.status)),
                        operation_id: acc.operation_id.clone(),
                        started_at: Some(Utc::now()),
                        device_ids: Some(self.steps[seq].device_ids.clone()),
                        serials: Some(self.steps[seq].serials.clone()),
                        ..OperationUpdate::default()
                    };
                    self.audit(seq, update).await;
                    emit(
                        self.events,
                        ApplyEvent::Sent {
                            seq,
                            phase,
                            devices: n,
                            accepted: true,
                        },
                    )
                    .await;
                    match location {
                        Some(loc) => {
                            let c = self.client.clone();
                            let (first, timeout) = (self.opts.first_poll, self.opts.op_timeout);
                            polls.spawn(async move { (seq, follow(c, loc, first, timeout).await) });
                        }
                        None => {
                            let e = GlpError::Invalid(
                                "GreenLake accepted the call but named no async operation to follow; \
                                 the resync shows whether it took effect"
                                    .into(),
                            );
                            self.finish(seq, Err(e)).await;
                        }
                    }
                }
                Err(e) => {
                    self.ops[seq].http_status = e.status();
                    emit(
                        self.events,
                        ApplyEvent::Sent {
                            seq,
                            phase,
                            devices: n,
                            accepted: false,
                        },
                    )
                    .await;
                    self.finish(seq, Err(e)).await;
                }
            }
        }
        while let Some(j) = polls.join_next().await {
            self.joined(j).await;
        }
    }

    /// After the adds: fill in the ids of the new devices (looked up by serial) in the
    /// steps that wait for them; drop serials whose add failed.
    async fn resolve_adds(&mut self, seqs: &[usize]) {
        let waiting: Vec<String> = seqs
            .iter()
            .filter(|s| self.steps[**s].awaits_add)
            .flat_map(|s| self.steps[*s].serials.clone())
            .collect::<HashSet<_>>()
            .into_iter()
            .filter(|s| self.tracks.get(s).is_some_and(|t| t.errors.is_empty()))
            .collect();
        let mut ids: HashMap<String, String> = self
            .tracks
            .iter()
            .filter_map(|(s, t)| Some((s.clone(), t.device_id.clone()?)))
            .collect();
        let missing: Vec<String> = waiting
            .iter()
            .filter(|s| !ids.contains_key(*s))
            .cloned()
            .collect();
        if !missing.is_empty() && !self.opts.dry_run {
            match fetch_by_serials(self.client, &missing).await {
                Ok(items) => {
                    for it in items {
                        let Some(serial) = it.data.serial_number.as_ref().map(|s| s.to_uppercase())
                        else {
                            continue;
                        };
                        if let Some(t) = self.tracks.get_mut(&serial) {
                            t.device_id = Some(it.data.id.clone());
                        }
                        ids.insert(serial, it.data.id.clone());
                    }
                }
                Err(e) => self.notes.push(format!(
                    "the added devices could not be looked up ({e}); their application and \
                     subscription were not sent — run the same sheet again after a sync"
                )),
            }
        }
        for &seq in seqs {
            if !self.steps[seq].awaits_add {
                continue;
            }
            let mut p = Plan {
                steps: vec![self.steps[seq].clone()],
                ..Plan::default()
            };
            let dropped = p.resolve_added(&ids);
            for s in &dropped {
                let t = self.tracks.entry(s.clone()).or_default();
                t.unsent += 1;
                if t.errors.is_empty() {
                    t.errors.push(if self.opts.dry_run {
                        "dry run: a device being added cannot be assigned until it exists".into()
                    } else {
                        "added, but GreenLake did not list it by serial yet; run the sheet again"
                            .into()
                    });
                }
            }
            match p.steps.pop() {
                Some(step) => {
                    self.ops[seq].device_ids = step.device_ids.clone();
                    self.ops[seq].serials = step.serials.clone();
                    self.steps[seq] = step;
                }
                None => {
                    self.steps[seq].awaits_add = false;
                    self.ops[seq].status = OpStatus::Skipped;
                    self.ops[seq].error = Some("no device of this call was added".into());
                }
            }
        }
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
    let mut run_meta = req.run.clone();
    if opts.dry_run && run_meta.kind == RunKind::Apply {
        run_meta.kind = RunKind::DryRun;
    }
    let plan = req.plan;
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

    // Per-device outcomes.
    let mut devices = Vec::new();
    let mut outcomes = Vec::new();
    for d in &plan.devices {
        let t = run.tracks.remove(&d.serial).unwrap_or_default();
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
    if opts.dry_run {
        for o in outcomes.iter_mut() {
            if o.outcome == "succeeded" {
                // A dry run changes nothing; keep undo away from it.
                o.outcome = "validated".into();
            }
        }
    }

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
