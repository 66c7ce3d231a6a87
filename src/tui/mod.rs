//! The terminal console (ratatui + crossterm). Never blocks on I/O while drawing.
//!
//! Layers, as in k9s and gitui: `store::views` (queries → records), [`model`] (display rows,
//! sort, filter results, selection), [`view`] (widgets drawing the state), [`app`] (state and
//! pure key/event handlers), [`keymap`] and [`theme`] (data-driven, overridable), and
//! [`run`] (the one `select!` loop) with [`terminal`] (guard, panic hook, signals).
//! [`wizard`] is the Assign tab's assignment wizard: its state and keys, on top of
//! `crate::assign` (the run loop carries out its loads and the apply on tasks).

pub mod app;
pub mod clipboard;
pub mod filter;
pub mod keymap;
pub mod model;
pub mod run;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod wizard;

pub use run::{TuiContext, run};
