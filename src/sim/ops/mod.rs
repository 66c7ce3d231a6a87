//! Device writes and async operations (glp-api.md §2.4–2.6, §9.5–9.7, §9.9).
//!
//! Synchronous validation (ids, body shape, mixing rules, tag syntax, application/region
//! pairs) answers 400. Everything that depends on a device's current state is decided when
//! the operation runs and is reported per device in the operation: a subscription for a device
//! without an application, assigning an archived device, a used-up subscription, a tag key
//! clash. The operation is `FAILED` when any device failed (the others are still changed),
//! `SUCCEEDED` otherwise. Subscription tag PATCHes run the same way on the subscription
//! service's own async-operations path.
//!
//! An operation is `INITIALIZED` for the first half of its delay, then `RUNNING` (or first
//! `PAUSED` for the `ops_paused_ms` fault: a state the spec lists as not terminal), then
//! ends; the `time_out_ops_for` fault ends it `TIMEDOUT` with nothing changed.

mod apply;
mod model;
mod run;
mod status;
mod validate;

pub(crate) use model::{Op, OpKind, Work};
pub(crate) use validate::{parse_patch, parse_tags};
