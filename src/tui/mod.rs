//! The terminal console (ratatui + crossterm). Never blocks on I/O while drawing.
//!
//! Layers, as in k9s and gitui: `store::views` (queries → records), [`model`] (display rows,
//! sort, filter results, selection), [`view`] (widgets drawing the state), [`app`] (state and
//! pure key/event handlers), [`keys`] and [`theme`] (data-driven, overridable), and
//! [`run`](mod@run) (the one `select!` loop, with `effects` carrying out what the app asks and
//! `loaders` the tasks) with [`terminal`] (guard, panic hook, signals) and [`output`] (what a frame costs on the
//! wire: scroll regions, nothing for an unchanged frame, ASCII for a non-UTF-8 locale).
//! [`wizard`] is the Assign tab's assignment wizard, a component with its own state, lists,
//! keys and messages, on top of `crate::assign` (the run loop carries out its loads and the
//! apply on tasks). [`toast`] and [`model`] are leaves both the app and the wizard use.

pub mod app;
pub mod clipboard;
mod effects;
pub mod filter;
#[cfg(test)]
mod key_texts;
pub mod keys;
pub mod line_edit;
mod loaders;
pub mod model;
pub mod output;
pub mod run;
mod run_loaders;
pub mod saved_views;
mod suspend;
pub mod targets;
pub mod terminal;
pub mod theme;
pub mod toast;
pub mod view;
pub mod wizard;

pub use run::{TuiContext, run};
pub use targets::WorkspaceTargets;
