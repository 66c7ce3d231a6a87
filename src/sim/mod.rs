//! A GreenLake API simulator (axum) following `glp-api.md`, for tests, benchmarks, `--demo`
//! and `glp-console simulate`. Must not be imported by `glp/`.
//!
//! Start one with [`start`]; the returned [`SimHandle`] gives the URLs and credentials to point
//! a client at, switches faults and rate limits mid-run, reads request counters, and changes
//! the data underneath a client (to test incremental sync). The same controls are served over
//! HTTP under `/_sim/…` for other processes.
//!
//! Decisions where GLP's behaviour is unknown (glp-api.md §10) are documented on the items
//! that make them; the main ones: served order is creation order (`createdAt`, then `id`);
//! state-dependent write failures (archived device, no application, used-up subscription, tag
//! key clash) are reported per device in a `FAILED` async operation, not as 400.

mod audit;
mod audit_filter;
mod audit_store;
mod catalog;
mod cli;
mod config;
mod data;
mod errors;
mod faults;
mod filter;
mod handle;
mod handle_msp;
mod hostile;
mod limits;
mod list;
mod mirror;
mod msp;
mod msp_args;
mod ops;
mod routes;
mod server;
mod state;
mod stats;
mod store;
mod world;

pub use audit_store::AuditQuery;
pub use cli::run_cli;
pub use config::SimConfig;
pub use faults::{Faults, Outage};
pub use filter::{Expr as FilterExpr, Target as FilterTarget, parse as parse_filter};
pub use handle::{SimError, SimHandle, start};
pub use limits::Limits;
pub use msp::{LimitScope, MspSim, Ownership, TenantFaults, TenantMeta};
pub use msp_args::MspArgs;
pub use stats::{EndpointStats, LogEntry, Stats};
