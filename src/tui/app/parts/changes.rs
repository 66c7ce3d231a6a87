//! The Changes view as the app holds it: the window asked for, where `:changes` came from
//! (Esc goes back there) and, for Enter, the record each row is about. The app's handlers
//! are in `app/changes.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::tui::model::changes::{ChangeTarget, ChangeWindow};
use crate::tui::model::table_id::TableId;

/// The Changes view's state (its table is one of the app's tables, [`TableId::Changes`]).
#[derive(Debug, Clone, Default)]
pub struct ChangesView {
    /// The window shown; `None` until `:changes` first opens the view (nothing is read
    /// before, and a sync landing reloads it only once it is open).
    pub window: Option<ChangeWindow>,
    /// Where `:changes` was typed: Esc goes back there. As a tab id, so this part never
    /// names the app's own types.
    pub(in crate::tui::app) from: Option<TableId>,
    /// Each row's record, by row id.
    pub targets: Arc<HashMap<Box<str>, ChangeTarget>>,
    /// The last read returned its limit: "latest N", not "N".
    pub capped: bool,
    /// A read for the window shown is on its way.
    pub loading: bool,
}
