//! What an apply tells its front end while it runs, for a progress bar and a live log.

use serde::Serialize;
use tokio::sync::mpsc;

use crate::assign::plan::Phase;
use crate::assign::report::{Counts, OpStatus, RunStatus};

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
        /// The run's counts so far, counted as the report counts them.
        counts: Counts,
    },
    PhaseFinished {
        phase: Phase,
        /// The run's counts so far (a dry run may have found calls not checkable without
        /// sending them, so no `OperationDone` told of them).
        counts: Counts,
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

pub(super) async fn emit(events: &mpsc::Sender<ApplyEvent>, ev: ApplyEvent) {
    // A front end that went away does not stop the run.
    let _ = events.send(ev).await;
}
