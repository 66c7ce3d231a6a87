//! Progress of a running apply, folded from its events (the progress screen draws it).

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::assign::apply::ApplyEvent;
use crate::assign::plan::Phase;
use crate::assign::report::Counts;

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
    /// Dry run: devices whose check depends on an earlier phase of the plan.
    pub devices_not_checkable: usize,
}

impl ApplyProgress {
    /// Progress for `plan`, before the first event.
    pub fn for_plan(plan: &crate::assign::plan::Plan, dry_run: bool) -> ApplyProgress {
        ApplyProgress {
            dry_run,
            calls: plan.steps.len(),
            devices: plan.devices.len(),
            current: "starting…".into(),
            ..ApplyProgress::default()
        }
    }

    /// Take the run's own counts: the apply counts as its report does, so the screen shows
    /// what the report and the run list will show.
    fn take_counts(&mut self, c: &Counts) {
        self.devices_ok = c.devices_succeeded;
        self.devices_failed = c.devices_failed;
        self.devices_not_checkable = c.devices_not_checkable;
        self.calls_failed = c.operations_failed;
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
                error,
                done,
                total,
                counts,
                ..
            } => {
                self.done = *done;
                self.calls = *total;
                self.take_counts(counts);
                self.push_log(format!(
                    "#{seq} {} {}{}",
                    phase.as_str(),
                    status.as_str(),
                    error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
                ));
            }
            ApplyEvent::PhaseFinished { phase, counts } => {
                self.take_counts(counts);
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
            ApplyEvent::Finished { status, counts, .. } => {
                self.take_counts(counts);
                self.current = format!("finished: {}", status.as_str());
            }
        }
    }
}
