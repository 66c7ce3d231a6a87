//! Why a run (or one resource's phase of it) stopped early, and how each reason is
//! reported: the engine's full syncs and the targeted refresh classify stops alike.

use super::events::FailureKind;
use crate::glp::error::{ErrorKind, GlpError};
use crate::store::StoreError;
use crate::store::fence::RunFence;

/// Why a resource stopped early.
pub(super) enum Stop {
    Cancelled,
    /// The workspace lock is gone (see `store::fence`); the reason.
    LostLock(String),
    Api(GlpError),
    Db(StoreError),
}

impl Stop {
    /// Whether this ends the whole run, not just the resource's phase. A cancel is asked for;
    /// after a lost lock another sync may be writing; rejected credentials would be rejected
    /// for the other resource too. An outage, bad data or a failing statement stay with the
    /// resource that met them: the resources share nothing but the process.
    pub(super) fn ends_run(&self) -> bool {
        match self {
            Stop::Cancelled | Stop::LostLock(_) => true,
            Stop::Api(e) => failure_kind(e) == FailureKind::Auth,
            Stop::Db(_) => false,
        }
    }

    pub(super) fn kind(&self) -> FailureKind {
        match self {
            Stop::Cancelled => FailureKind::Cancelled,
            Stop::LostLock(_) => FailureKind::LostLock,
            Stop::Api(e) => failure_kind(e),
            Stop::Db(_) => FailureKind::Database,
        }
    }

    pub(super) fn message(&self) -> String {
        match self {
            Stop::Cancelled => "cancelled before it finished; pages already stored are kept".into(),
            Stop::LostLock(why) => format!(
                "lost lock: {why}; pages it stored are kept, nothing was marked removed — the \
                 next sync redoes its work"
            ),
            Stop::Api(e) => e.to_string(),
            Stop::Db(e) => e.to_string(),
        }
    }

    /// A store error as a stop: a lost lock stays one; any other database error is checked
    /// against the lock first, since a server restart shows up as a failed statement before
    /// anything else (and then the lock is gone too).
    pub(super) async fn from_store(e: StoreError, fence: &RunFence) -> Stop {
        match e {
            StoreError::LostLock(why) => Stop::LostLock(why),
            other => match fence.check().await {
                Err(StoreError::LostLock(why)) => Stop::LostLock(why),
                _ => Stop::Db(other),
            },
        }
    }
}

pub(super) fn failure_kind(e: &GlpError) -> FailureKind {
    match e.kind() {
        ErrorKind::Auth | ErrorKind::Config => FailureKind::Auth,
        _ => FailureKind::Api,
    }
}
