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
use crate::assign::report::{FailedDevice, OpStatus, OperationReport};
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

    pub(super) fn skip(&mut self, seq: usize, why: &str) {
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
