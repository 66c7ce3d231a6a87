//! The workspaces of a database holding several, as the app holds them: the stored list with
//! its figures, what the engine said about each since the console started, and the scope the
//! tabs show (all workspaces, or one). The app's handlers for them are in `app/workspaces.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::domain::WorkspaceId;
use crate::store::views::ViewScope;
use crate::store::workspaces::WorkspaceOverview;
use crate::tui::model::workspaces::{self, Summary, WorkspaceLive};

/// The workspaces part of the app.
#[derive(Debug, Clone, Default)]
pub struct WorkspacesView {
    /// Every stored workspace with its figures, by name (the last reload's).
    pub list: Arc<Vec<WorkspaceOverview>>,
    /// What the engine said about each workspace's sync since the console started.
    pub live: BTreeMap<WorkspaceId, WorkspaceLive>,
    /// What the tabs show: [`ViewScope::Single`] until the database is seen to hold several
    /// workspaces, then all of them (the default) or one.
    pub scope: ViewScope,
    /// The scope of the reload whose data is arriving: a table read for another scope (a
    /// reload still running when the scope changed) is dropped, never shown under the new.
    pub(in crate::tui::app) loading: Option<ViewScope>,
    /// The workspace name of each of the app's subscriptions (same order), when several.
    pub(in crate::tui::app) sub_names: Arc<Vec<Box<str>>>,
    /// Live state changed since the Workspaces tab's rows were built (rebuilt on the tick).
    pub(in crate::tui::app) rows_stale: bool,
}

impl WorkspacesView {
    /// The database holds more than one workspace: the console shows workspaces.
    pub fn multi(&self) -> bool {
        self.list.len() > 1
    }

    /// The workspace the tabs show, if one is chosen.
    pub fn current(&self) -> Option<&WorkspaceOverview> {
        match &self.scope {
            ViewScope::One(id) => self.list.iter().find(|o| o.ws.id == *id),
            _ => None,
        }
    }

    /// The status bar's figures.
    pub fn summary(&self) -> Summary {
        workspaces::summary(&self.list, &self.live)
    }

    /// A workspace's name (its id when it is not stored).
    pub fn name_of(&self, id: &WorkspaceId) -> String {
        self.list
            .iter()
            .find(|o| o.ws.id == *id)
            .map_or_else(|| id.to_string(), |o| o.ws.name.clone())
    }
}
