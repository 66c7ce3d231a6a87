//! Progress of a running apply, folded from its events (the progress screen draws it).

use std::collections::{HashMap, HashSet, VecDeque};

use chrono::{DateTime, Utc};

use crate::assign::apply::ApplyEvent;
use crate::assign::plan::Phase;
use crate::assign::report::OpStatus;

/// Progress of the running apply, from its [`ApplyEvent`]s.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyProgress {
    pub run_id: Option<i64>,
    pub dry_run: bool,
    /// Calls (batches of ≤ 25 devices) in the plan, and how many reached their end.
    pub calls: usize,
    pub done: usize,
    pub calls_failed: usize,
    pub devices: usize,
    pub devices_ok: usize,
    pub devices_failed: usize,
    pub phase: Option<Phase>,
    pub phase_calls: usize,
    /// What is happening now, as a line of text.
    pub current: String,
    /// The latest results, newest last.
    pub log: VecDeque<String>,
    pub cancelling: bool,
    /// When the apply was started (for the elapsed time and the estimate).
    pub started: Option<DateTime<Utc>>,
    pub resyncing: bool,
    /// Serials per call (from the plan), to count devices when their calls end.
    per_call: HashMap<usize, Vec<String>>,
    /// Calls still open per serial.
    open: HashMap<String, usize>,
    failed: HashSet<String>,
    /// Devices a call reported as failed without naming them.
    failed_unnamed: usize,
}

impl ApplyProgress {
    /// Progress for `plan`, before the first event.
    pub fn for_plan(plan: &crate::assign::plan::Plan, dry_run: bool) -> ApplyProgress {
        let mut p = ApplyProgress {
            dry_run,
            calls: plan.steps.len(),
            devices: plan.devices.len(),
            current: "starting…".into(),
            ..ApplyProgress::default()
        };
        for (i, s) in plan.steps.iter().enumerate() {
            p.per_call.insert(i, s.serials.clone());
            for serial in &s.serials {
                *p.open.entry(serial.clone()).or_default() += 1;
            }
        }
        p
    }

    fn recount(&mut self) {
        self.devices_failed = (self.failed.len() + self.failed_unnamed).min(self.devices.max(1));
        self.devices_ok = self
            .open
            .iter()
            .filter(|(s, n)| **n == 0 && !self.failed.contains(*s))
            .count()
            .saturating_sub(self.failed_unnamed);
    }

    fn push_log(&mut self, line: String) {
        self.log.push_back(line);
        while self.log.len() > 50 {
            self.log.pop_front();
        }
    }

    /// Fold one event in.
    pub fn on_event(&mut self, ev: &ApplyEvent) {
        match ev {
            ApplyEvent::Started {
                run_id,
                calls,
                devices,
            } => {
                self.run_id = Some(*run_id);
                self.calls = *calls;
                self.devices = *devices;
                self.current = format!("run {run_id} started: {calls} calls for {devices} devices");
            }
            ApplyEvent::PhaseStarted { phase, calls } => {
                self.phase = Some(*phase);
                self.phase_calls = *calls;
                self.current = format!("{}: sending {calls} calls", phase.as_str());
            }
            ApplyEvent::Sent {
                seq,
                phase,
                devices,
                accepted,
            } => {
                self.current = format!(
                    "{}: call #{seq} for {devices} device{} {}",
                    phase.as_str(),
                    if *devices == 1 { "" } else { "s" },
                    if *accepted {
                        "accepted, waiting for GreenLake"
                    } else {
                        "refused"
                    }
                );
            }
            ApplyEvent::OperationDone {
                seq,
                phase,
                status,
                failed_devices,
                error,
                done,
                total,
            } => {
                self.done = *done;
                self.calls = *total;
                let serials = self.per_call.get(seq).cloned().unwrap_or_default();
                for s in &serials {
                    if let Some(n) = self.open.get_mut(s) {
                        *n = n.saturating_sub(1);
                    }
                }
                match status {
                    OpStatus::Succeeded => self.failed_unnamed += failed_devices,
                    _ => {
                        self.calls_failed += 1;
                        self.failed.extend(serials);
                    }
                }
                self.recount();
                self.push_log(format!(
                    "#{seq} {} {}{}",
                    phase.as_str(),
                    status.as_str(),
                    error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
                ));
            }
            ApplyEvent::PhaseFinished { phase } => {
                self.current = format!("{} done", phase.as_str());
            }
            ApplyEvent::Cancelling => {
                self.cancelling = true;
                self.current = "cancelling: waiting for the calls already sent".into();
            }
            ApplyEvent::Resyncing { devices } => {
                self.resyncing = true;
                self.current = format!("fetching the {devices} touched devices again");
            }
            ApplyEvent::Finished { status, .. } => {
                self.current = format!("finished: {}", status.as_str());
            }
        }
    }
}
