//! The phases of an apply: sending a phase's calls, following their async operations, and
//! recording each call's and each device's outcome in the audit tables as they end.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::events::{ApplyEvent, emit};
use super::request::ApplyOptions;
use crate::assign::plan::{Method, Plan, Step};
use crate::assign::refresh::fetch_by_serials;
use crate::assign::report::{
    Counts, DeviceStatus, FailedDevice, NOT_CHECKABLE_BEFORE_ADD, NOT_CHECKABLE_BEFORE_APPLICATION,
    OpStatus, OperationReport,
};
use crate::glp::client::Client;
use crate::glp::error::GlpError;
use crate::glp::ops::{
    Accepted, DEFAULT_POLL_INTERVAL, DeviceKind, NewDevice, OperationOutcome, OperationState,
    gone_or,
};
use crate::store::Store;
use crate::store::audit::OperationUpdate;

/// Per device: what happened so far.
#[derive(Default)]
pub(super) struct Track {
    pub(super) device_id: Option<String>,
    pub(super) errors: Vec<String>,
    pub(super) sent: usize,
    pub(super) ok: usize,
    pub(super) unsent: usize,
    /// Calls of the plan that name the device.
    pub(super) planned: usize,
    /// Calls that reached their end for the device (ok or not).
    pub(super) ended: usize,
    /// Dry run: why some of its calls could not be checked.
    pub(super) not_checkable: Vec<String>,
}

impl Track {
    /// Every planned call of the device has ended, was left unsent or could not be checked:
    /// its outcome will not change any more, so the live counts may count it.
    pub(super) fn settled(&self) -> bool {
        self.ended + self.unsent + self.not_checkable.len() >= self.planned
    }

    /// How the device ended, and why. The report, the audit and the live counts all
    /// classify a device here.
    pub(super) fn outcome(&self) -> (DeviceStatus, Option<String>) {
        if !self.errors.is_empty() {
            (DeviceStatus::Failed, Some(self.errors.join("; ")))
        } else if self.unsent > 0 && self.ok == 0 {
            (
                DeviceStatus::Skipped,
                Some("cancelled before its calls were sent".to_string()),
            )
        } else if self.unsent > 0 {
            (
                DeviceStatus::Failed,
                Some("cancelled: only part of its changes were sent".to_string()),
            )
        } else if !self.not_checkable.is_empty() {
            let mut why = self.not_checkable.clone();
            why.dedup();
            (DeviceStatus::NotCheckable, Some(why.join("; ")))
        } else {
            (DeviceStatus::Succeeded, None)
        }
    }
}

pub(super) struct Run<'a> {
    pub(super) client: &'a Client,
    pub(super) store: &'a Store,
    pub(super) opts: &'a ApplyOptions,
    pub(super) events: &'a mpsc::Sender<ApplyEvent>,
    pub(super) run_id: i64,
    pub(super) steps: Vec<Step>,
    pub(super) ops: Vec<OperationReport>,
    pub(super) sent_at: Vec<Option<Instant>>,
    pub(super) tracks: BTreeMap<String, Track>,
    pub(super) notes: Vec<String>,
    pub(super) done: usize,
    /// Per call: it reached its end (or was skipped, or found not checkable).
    pub(super) settled: Vec<bool>,
    /// Devices already as asked (counted as unchanged).
    pub(super) unchanged: usize,
}

pub(super) type PollResult = (usize, Result<OperationOutcome, GlpError>);

/// Poll one operation: first after `first`, then at the interval it suggests.
pub(super) async fn follow(
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
pub(super) fn new_device(body: &Value) -> NewDevice {
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

impl Run<'_> {
    pub(super) async fn audit(&mut self, seq: usize, u: OperationUpdate) {
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
    pub(super) async fn finish(&mut self, seq: usize, result: Result<OperationOutcome, GlpError>) {
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
            t.ended += 1;
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
        self.settled[seq] = true;
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
                counts: self.live_counts(),
            },
        )
        .await;
    }

    /// The counts so far: calls that ended and devices whose outcome is settled.
    pub(super) fn live_counts(&self) -> Counts {
        let ops = self
            .ops
            .iter()
            .zip(&self.settled)
            .filter(|(_, s)| **s)
            .map(|(o, _)| o.status);
        let devs = self
            .tracks
            .values()
            .filter(|t| t.settled())
            .map(|t| t.outcome().0)
            .chain(std::iter::repeat_n(DeviceStatus::Unchanged, self.unchanged));
        Counts::tally(
            self.ops.len(),
            ops,
            self.tracks.len() + self.unchanged,
            devs,
        )
    }

    /// Dry run: leave out of a phase's calls the devices whose check depends on an earlier
    /// phase of this plan — GreenLake checks a call against the device as it is now, and a
    /// dry run never changes it. `needs_app` are the devices that only get an application
    /// from this plan, so their subscription cannot be checked. A call left with no device
    /// is not sent and reported as not checkable.
    pub(super) fn defer_unverifiable(&mut self, seqs: &[usize], needs_app: &HashSet<String>) {
        for &seq in seqs {
            let step = &self.steps[seq];
            let assigns = step.phase == crate::assign::plan::Phase::Subscription
                && step
                    .body
                    .get("subscription")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty());
            if !assigns || !step.serials.iter().any(|s| needs_app.contains(s)) {
                continue;
            }
            let (mut keep_ids, mut keep_serials) = (Vec::new(), Vec::new());
            for (i, serial) in step.serials.iter().enumerate() {
                if needs_app.contains(serial) {
                    self.tracks
                        .entry(serial.clone())
                        .or_default()
                        .not_checkable
                        .push(format!("subscription: {NOT_CHECKABLE_BEFORE_APPLICATION}"));
                } else {
                    keep_serials.push(serial.clone());
                    if let Some(id) = step.device_ids.get(i) {
                        keep_ids.push(id.clone());
                    }
                }
            }
            self.set_devices(seq, keep_ids, keep_serials);
            if self.steps[seq].serials.is_empty() {
                self.not_checkable(seq, NOT_CHECKABLE_BEFORE_APPLICATION);
            }
        }
    }

    fn set_devices(&mut self, seq: usize, ids: Vec<String>, serials: Vec<String>) {
        self.ops[seq].device_ids = ids.clone();
        self.ops[seq].serials = serials.clone();
        self.steps[seq].device_ids = ids;
        self.steps[seq].serials = serials;
    }

    /// Call `seq` is not sent: a dry run cannot check it.
    fn not_checkable(&mut self, seq: usize, why: &str) {
        self.ops[seq].status = OpStatus::NotCheckable;
        self.ops[seq].error = Some(why.to_string());
        self.settled[seq] = true;
        // It will not end later: the progress bar counts it as done now.
        self.done += 1;
    }

    pub(super) fn skip(&mut self, seq: usize, why: &str) {
        self.settled[seq] = true;
        self.ops[seq].status = OpStatus::Skipped;
        self.ops[seq].error = Some(why.to_string());
        for s in &self.steps[seq].serials {
            self.tracks.entry(s.clone()).or_default().unsent += 1;
        }
    }

    /// Send call `seq` (waiting for its pace slot) while handling finished polls.
    pub(super) async fn send(
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

    pub(super) async fn joined(&mut self, j: Result<PollResult, tokio::task::JoinError>) {
        match j {
            Ok((seq, r)) => self.finish(seq, r).await,
            Err(e) => self
                .notes
                .push(format!("a polling task ended abnormally: {e}")),
        }
    }

    pub(super) async fn run_phase(&mut self, seqs: &[usize], cancel: &CancellationToken) {
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
    pub(super) async fn resolve_adds(&mut self, seqs: &[usize]) {
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
            let dry = self.opts.dry_run;
            for s in &dropped {
                let t = self.tracks.entry(s.clone()).or_default();
                if dry && t.errors.is_empty() {
                    // Its add was validated; what follows needs the device to exist.
                    let phase = self.steps[seq].phase.as_str();
                    t.not_checkable
                        .push(format!("{phase}: {NOT_CHECKABLE_BEFORE_ADD}"));
                    continue;
                }
                t.unsent += 1;
                if t.errors.is_empty() {
                    t.errors.push(
                        "added, but GreenLake did not list it by serial yet; run the sheet again"
                            .into(),
                    );
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
                    let all_unverifiable = dry
                        && dropped
                            .iter()
                            .all(|s| self.tracks.get(s).is_some_and(|t| t.errors.is_empty()));
                    if all_unverifiable {
                        self.not_checkable(seq, NOT_CHECKABLE_BEFORE_ADD);
                    } else {
                        self.settled[seq] = true;
                        self.ops[seq].status = OpStatus::Skipped;
                        self.ops[seq].error = Some("no device of this call was added".into());
                    }
                }
            }
        }
    }
}
