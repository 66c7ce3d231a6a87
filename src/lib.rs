//! glp-console: a terminal console for HPE GreenLake Platform inventory.
//!
//! The binary is a thin shell over this library so that `tests/` and `benches/` drive the
//! same code the user runs. Module boundaries follow `design.md` §2: `glp` talks HTTP and never
//! touches the database, `store` talks SQL and never HTTP, `sync` joins them without knowing
//! about terminals, and `tui`/`headless` are the two front ends.

pub mod assign;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod glp;
pub mod headless;
pub mod launch;
pub mod logging;
pub mod memory;
pub mod sim;
pub mod store;
pub mod sync;
pub mod tls;
pub mod tui;
