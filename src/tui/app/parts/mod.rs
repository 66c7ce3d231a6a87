//! The parts `App` is made of (its tables, sync view, workspaces, detail pane, input mode), each a type
//! that never names `App`. The handlers that change them are `impl App` blocks in the
//! sibling files of `app/`, which `App` itself never names: so neither direction closes an
//! import cycle (tests/architecture.rs).

mod changes;
mod detail;
mod help_line;
mod input_mode;
mod overview;
mod sync;
mod tables;
mod workspaces;

pub use changes::ChangesView;
pub use detail::{DetailStyle, DetailView};
pub use help_line::HelpLine;
pub use input_mode::InputMode;
pub use overview::{
    Caps as OverviewCaps, Item as OverviewItem, OverviewView, Panel as OverviewPanel,
    items as overview_items,
};
pub use sync::{ResourceProgress, SyncView};
pub use tables::Scratch;
pub(in crate::tui::app) use tables::Tables;
pub use workspaces::WorkspacesView;
