//! The sync engine: one engine, two front ends (TUI and `--sync-only`).
//!
//! UI → engine: a bounded `mpsc` of [`SyncCommand`]. Engine → UI: a bounded `mpsc` of
//! [`SyncEvent`] plus a `watch` of the latest [`EngineStatus`] for values where only the newest
//! matters (design.md §1). The engine never imports ratatui or crossterm.

mod audit_log;
pub mod engine;
pub mod events;
pub mod fleet;
mod lock_watch;
mod meter;
mod mode;
mod probe;
mod record;
pub mod refresh;
pub mod roster;
mod stop;
pub mod tenants;

pub use events::*;
