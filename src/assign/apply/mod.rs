//! Applying a [`Plan`](super::plan::Plan) over HTTP: audited, paced, cancellable, and
//! idempotent on re-run.
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
//! (`assign::refresh`, through the sync engine), so the console — and the next plan — see
//! the new state: running the same sheet again after a partial failure sends only what is
//! still missing.
//!
//! A TUI drives it with [`start`]: events arrive on an `mpsc` channel, the
//! `CancellationToken` stops it, and the join handle returns the
//! [`ApplyReport`](super::report::ApplyReport).
//!
//! The parts: `request` and `events` are what a caller hands in and hears back (leaves
//! that both the driver and the phases import), `run` drives one apply from its audit to
//! its report, `phases` sends and follows one phase's calls, `audit` turns a plan and its
//! outcome into audit rows, `undo` plans the reversal of a recorded run.

mod audit;
mod events;
mod phases;
mod request;
mod run;
mod undo;

pub use super::refresh::resync_serials;
pub use audit::requested_json;
pub use events::ApplyEvent;
pub use request::{ApplyError, ApplyOptions, ApplyRequest};
pub use run::{ApplyHandle, apply, start};
pub use undo::{UndoPlan, plan_undo_run, prepare_undo, undo_run};
