//! What a caller hands an apply: the plan with its audit record, how to run it, and why it
//! may refuse to start.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::assign::plan::Plan;
use crate::glp::ops::DEFAULT_POLL_INTERVAL;
use crate::store::StoreError;
use crate::store::audit::NewRun;
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
